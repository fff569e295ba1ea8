"""
Tests for L{clocksvc._time._leapseconds}, the leap-second list, and
C{/api/leap-seconds}, which serves it.
"""

from __future__ import annotations

import json
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import Resource

from clocksvc._time import (
    LeapSecondList,
    findLeapSecondLists,
    leapSecondList,
    parseLeapSeconds,
)
from clocksvc._web import buildSite
from clocksvc._web._leap import LeapSeconds

from ._helpers import BILLENNIUM, clockAt, stubTreq, synchronized

URL = "http://127.0.0.1"

_LIST = (
    "# Leap seconds, as the tz database writes them\n"
    "Leap\t1972\tJun\t30\t23:59:60\t+\tS\n"
    "Leap\t1972\tDec\t31\t23:59:60\t+\tS\n"
    "Leap\t2001\tSep\t30\t23:59:59\t-\tS\n"
    "#updated 1000000000 (2001-09-09 01:46:40 UTC)\n"
    "#expires 1100000000 (2004-11-09 11:33:20 UTC)\n"
)

#: 1972-07-01T00:00:00Z, the midnight after the first leap second.
_FIRST = 78_796_800


class ParseTests(SynchronousTestCase):
    """
    L{parseLeapSeconds} reads the tz database's C{leapseconds} file.
    """

    def test_parse(self) -> None:
        """
        Each C{Leap} line is a leap second with TAI - UTC after it (10 s
        before the first); C{#expires} and C{#updated} are read.
        """
        found = parseLeapSeconds(_LIST, "package", "2026f")
        self.assertEqual(
            [
                (leap.after, leap.correction, leap.taiMinusUTC)
                for leap in found.leapSeconds
            ],
            [(_FIRST, 1, 11), (_FIRST + 184 * 86400, 1, 12), (1001894400, -1, 11)],
        )
        self.assertEqual((found.expires, found.updated), (1_100_000_000, 1_000_000_000))
        self.assertEqual((found.source, found.version), ("package", "2026f"))

    def test_expiresLine(self) -> None:
        """
        Without C{#expires}, the older C{Expires} line (commented or not)
        gives the expiry; with neither, there is none.
        """
        found = parseLeapSeconds("#Expires 2027\tJun\t28\t00:00:00\n")
        self.assertEqual(found.expires, 1_814_140_800)
        self.assertIsNone(parseLeapSeconds("").expires)

    def test_broken(self) -> None:
        """
        A C{Leap} line that cannot be read, one at a time that is not a leap
        second's, or not on a month's last day, or out of order, is a
        ValueError naming its line.
        """
        for text in (
            "Leap 1972 Jun 30\n",
            "Leap\t1972\tFoo\t30\t23:59:60\t+\tS\n",
            "Leap\t1972\tJun\t30\t23:59:59\t+\tS\n",
            "Leap\t1972\tJun\t29\t23:59:60\t+\tS\n",
            "Leap\t1973\tJun\t30\t23:59:60\t+\tS\nLeap\t1972\tJun\t30\t23:59:60\t+\tS\n",
        ):
            with self.assertRaises(ValueError) as raised:
                parseLeapSeconds(text)
            self.assertIn("line ", str(raised.exception))

    def test_installed(self) -> None:
        """
        The tzdata package's list reads, with 27 leap seconds (the last at
        the end of 2016) and an expiry.
        """
        found = [lst for lst in findLeapSecondLists([]) if lst.source == "package"]
        self.assertEqual(len(found), 1)
        self.assertEqual(len(found[0].leapSeconds), 27)
        self.assertEqual(found[0].leapSeconds[-1].asJSON()["date"], "2016-12-31")
        self.assertIsNotNone(found[0].expires)


class ChoiceTests(SynchronousTestCase):
    """
    L{leapSecondList} takes the list that expires last.
    """

    def directory(self, text: str) -> str:
        """
        @return: a zone directory with C{text} as its C{leapseconds}.
        """
        path = Path(self.mktemp())
        path.mkdir()
        (path / "leapseconds").write_text(text)
        return str(path)

    def test_newerSystem(self) -> None:
        """
        A system list that expires after the package's is chosen.
        """
        later = self.directory("#expires 4000000000\n")
        found = leapSecondList([later])
        assert found is not None
        self.assertEqual((found.source, found.expires), ("system", 4_000_000_000))

    def test_olderSystem(self) -> None:
        """
        A system list that expires before the package's is not.
        """
        earlier = self.directory("#expires 1000000000\n")
        found = leapSecondList([earlier])
        assert found is not None
        self.assertEqual(found.source, "package")

    def test_unreadable(self) -> None:
        """
        A broken system list is passed over.
        """
        broken = self.directory("Leap 1972\n")
        found = [lst.source for lst in findLeapSecondLists([broken])]
        self.assertEqual(found, ["package"])


class AtTests(SynchronousTestCase):
    """
    What the list says at an instant.
    """

    def setUp(self) -> None:
        self.list = parseLeapSeconds(_LIST)

    def test_taiMinusUTC(self) -> None:
        """
        TAI - UTC is 10 s before the first leap second, and changes at the
        midnight after each.
        """
        self.assertEqual(self.list.taiMinusUTC(0), 10)
        self.assertEqual(self.list.taiMinusUTC(_FIRST - 1), 10)
        self.assertEqual(self.list.taiMinusUTC(_FIRST), 11)
        self.assertEqual(self.list.taiMinusUTC(BILLENNIUM), 12)
        self.assertEqual(self.list.taiMinusUTC(1001894400), 11)

    def test_pending(self) -> None:
        """
        A leap second is pending through the month it ends, and not in the
        month before nor after it.
        """
        self.assertEqual(self.list.pending(_FIRST - 30 * 86400), 1)
        self.assertEqual(self.list.pending(_FIRST - 1), 1)
        self.assertEqual(self.list.pending(_FIRST - 31 * 86400), 0)
        self.assertEqual(self.list.pending(_FIRST), 0)
        # 2001-09-09: in the month of the removed second.
        self.assertEqual(self.list.pending(BILLENNIUM), -1)
        self.assertEqual(self.list.pending(2e9), 0)

    def test_expired(self) -> None:
        """
        The list has expired from its expiry on; one without never has.
        """
        self.assertFalse(self.list.expired(1_099_999_999))
        self.assertTrue(self.list.expired(1_100_000_000))
        self.assertFalse(LeapSecondList((), None).expired(1e12))


class EndpointTests(SynchronousTestCase):
    """
    C{/api/leap-seconds} serves the list in JSON and text.
    """

    def get(self, path: str, **kwargs: object) -> tuple[int, bytes, list[bytes]]:
        site = buildSite(
            clockAt(BILLENNIUM),
            readClock=synchronized,
            leapSeconds=parseLeapSeconds(_LIST, "package", "2026f"),
        )
        response = self.successResultOf(
            stubTreq(site.resource).get(URL + path, **kwargs)
        )
        body = self.successResultOf(response.content())
        return (
            response.code,
            body,
            response.headers.getRawHeaders(b"content-type", []),
        )

    def test_json(self) -> None:
        """
        JSON: TAI - UTC now, the leap second scheduled, the expiry, the
        source, and each leap second.
        """
        code, body, types = self.get("/api/leap-seconds")
        self.assertEqual((code, types), (200, [b"application/json; charset=utf-8"]))
        found = json.loads(body)
        self.assertEqual(
            {key: found[key] for key in ("tai_minus_utc", "expired", "expires")},
            {"tai_minus_utc": 12, "expired": False, "expires": "2004-11-09T11:33:20Z"},
        )
        self.assertEqual(found["scheduled"]["utc"], "2001-09-30T23:59:59Z")
        self.assertEqual((found["source"], found["version"]), ("package", "2026f"))
        self.assertEqual(
            found["leap_seconds"][0],
            {
                "date": "1972-06-30",
                "utc": "1972-06-30T23:59:60Z",
                "correction": 1,
                "tai_minus_utc": 11,
                "unixtime": _FIRST,
            },
        )

    def test_text(self) -> None:
        """
        Text at C{.txt}, or for C{Accept: text/plain}: a line a field, then
        a line a leap second.
        """
        expected = (
            b"tai_minus_utc: 12\n"
            b"expires: 2004-11-09T11:33:20Z\n"
            b"expired: no\n"
            b"source: package 2026f\n"
            b"leap_second: 1972-06-30T23:59:60Z +1 tai_minus_utc=11\n"
            b"leap_second: 1972-12-31T23:59:60Z +1 tai_minus_utc=12\n"
            b"leap_second: 2001-09-30T23:59:59Z -1 tai_minus_utc=11\n"
        )
        self.assertEqual(self.get("/api/leap-seconds.txt")[:2], (200, expected))
        self.assertEqual(
            self.get("/api/leap-seconds", headers={"Accept": "text/plain"})[:2],
            (200, expected),
        )

    def test_below(self) -> None:
        """
        Nothing is below it: 404 in JSON.
        """
        code, body, _ = self.get("/api/leap-seconds/more")
        self.assertEqual((code, json.loads(body)), (404, {"error": "not found"}))

    def test_noList(self) -> None:
        """
        A server that found no list answers 501, as /api/ip without a
        database does.
        """
        root = Resource()
        root.putChild(b"leap", LeapSeconds(clockAt(BILLENNIUM), None))
        response = self.successResultOf(stubTreq(root).get(URL + "/leap"))
        self.assertEqual(response.code, 501)
        self.assertIn(b"no leap-second list", self.successResultOf(response.content()))

    def test_healthz(self) -> None:
        """
        C{/healthz} says where the list came from, when it expires, and
        whether it has.
        """
        site = buildSite(
            clockAt(1_200_000_000),
            readClock=synchronized,
            leapSeconds=parseLeapSeconds(_LIST, "package", "2026f"),
        )
        response = self.successResultOf(stubTreq(site.resource).get(URL + "/healthz"))
        found = json.loads(self.successResultOf(response.content()))
        self.assertEqual(
            found["leap_seconds"],
            {
                "source": "package",
                "version": "2026f",
                "expires": "2004-11-09T11:33:20Z",
                "updated": "2001-09-09T01:46:40Z",
                "expired": True,
            },
        )
