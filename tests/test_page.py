"""
Tests for L{clocksvc._web._page}: the lesson's clock page.
"""

from __future__ import annotations

import re
import time
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet import reactor
from twisted.trial.unittest import SynchronousTestCase

from clocksvc import ClockPage
from clocksvc._time import clockPageBody, ctimeIn

from ._helpers import BILLENNIUM, clockAt, stubTreq, useTimezone

# The last second of 9999, less a day, so that the local time stays within
# year 9999 (which ctime and strptime can both spell) in any time zone.
LAST_INSTANT = 253_402_300_799 - 86_400

PAGE_SHAPE = re.compile(
    rb"<html><body>[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}"
    rb"</body></html>"
)


class ClockPageBodyTests(SynchronousTestCase):
    """
    L{clockPageBody} is the lesson's page for one instant.
    """

    def test_billennium(self) -> None:
        """
        In UTC, one billion seconds after the epoch is Sunday 9 September
        2001, 01:46:40; ctime pads the day of the month with a space.
        """
        useTimezone(self, "UTC")
        self.assertEqual(
            clockPageBody(BILLENNIUM),
            b"<html><body>Sun Sep  9 01:46:40 2001</body></html>",
        )

    def test_localTime(self) -> None:
        """
        The page shows local time, as the lesson's C{time.ctime()} does: Tokyo
        is nine hours ahead of UTC.
        """
        useTimezone(self, "Asia/Tokyo")
        self.assertEqual(
            clockPageBody(BILLENNIUM),
            b"<html><body>Sun Sep  9 10:46:40 2001</body></html>",
        )

    def test_fractionTruncated(self) -> None:
        """
        Fractions of a second are dropped, not rounded: 0.999 s before the
        next second is still this second.
        """
        useTimezone(self, "UTC")
        self.assertEqual(
            clockPageBody(BILLENNIUM + 0.999),
            b"<html><body>Sun Sep  9 01:46:40 2001</body></html>",
        )

    @given(st.integers(min_value=0, max_value=LAST_INSTANT))
    def test_roundTrip(self, seconds: int) -> None:
        """
        For any instant from the epoch to the year 9999, the body has the
        lesson's shape, and parsing its time gives back the local time of that
        instant, to the second.
        """
        body = clockPageBody(seconds)
        self.assertRegex(body, PAGE_SHAPE)
        text = body[len(b"<html><body>") : -len(b"</body></html>")].decode()
        parsed = time.strptime(text, "%a %b %d %H:%M:%S %Y")
        self.assertEqual(parsed[:7], time.localtime(seconds)[:7])


#: Zones whose rules the C library (from the system's zone files) and
#: zoneinfo (from the newest database) agree on over the years tested:
#: whole and part hours, both hemispheres, half-hour daylight saving.
STABLE_ZONES = [
    "UTC",
    "Asia/Tokyo",
    "Asia/Kathmandu",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
]


class CtimeInTests(SynchronousTestCase):
    """
    L{ctimeIn} is C{time.ctime} in a zone of one's choice.
    """

    def test_billennium(self) -> None:
        """
        One billion seconds after the epoch is 10:46:40 in Tokyo, in ctime's
        format, whatever the local zone is.
        """
        useTimezone(self, "America/New_York")
        self.assertEqual(
            ctimeIn(BILLENNIUM + 0.999, ZoneInfo("Asia/Tokyo")),
            "Sun Sep  9 10:46:40 2001",
        )
        self.assertEqual(
            clockPageBody(BILLENNIUM, ZoneInfo("Asia/Tokyo")),
            b"<html><body>Sun Sep  9 10:46:40 2001</body></html>",
        )

    @given(
        st.integers(min_value=0, max_value=LAST_INSTANT),
        st.sampled_from(STABLE_ZONES),
    )
    def test_asCtime(self, seconds: int, name: str) -> None:
        """
        For any instant from the epoch to the year 9999, it is what
        C{time.ctime} says when the local zone is that zone.
        """
        useTimezone(self, name)
        self.assertEqual(ctimeIn(seconds, ZoneInfo(name)), time.ctime(seconds))
        self.assertEqual(clockPageBody(seconds, ZoneInfo(name)), clockPageBody(seconds))


class ClockPageTests(SynchronousTestCase):
    """
    L{ClockPage} serves the lesson's page for its clock's time, over HTTP.
    """

    def setUp(self) -> None:
        useTimezone(self, "UTC")
        self.clock = clockAt(BILLENNIUM)
        self.treq = stubTreq(ClockPage(self.clock))

    def test_get(self) -> None:
        """
        GET answers 200 with the page for the clock's time, as HTML that no
        cache may keep.
        """
        response = self.successResultOf(self.treq.get("http://clock.example/"))
        self.assertEqual(response.code, 200)
        self.assertEqual(
            self.successResultOf(response.content()),
            b"<html><body>Sun Sep  9 01:46:40 2001</body></html>",
        )
        self.assertEqual(
            response.headers.getRawHeaders(b"content-type"),
            [b"text/html; charset=utf-8"],
        )
        self.assertEqual(
            response.headers.getRawHeaders(b"cache-control"), [b"no-store"]
        )
        self.assertFalse(self.clock.calls)

    def test_followsClock(self) -> None:
        """
        Each GET reads the clock anew: after the clock moves on by a minute
        and a half, so does the page.
        """
        self.clock.advance(90)
        response = self.successResultOf(self.treq.get("http://clock.example/"))
        self.assertEqual(
            self.successResultOf(response.content()),
            b"<html><body>Sun Sep  9 01:48:10 2001</body></html>",
        )

    def test_head(self) -> None:
        """
        HEAD answers GET's headers, including the length of the page it
        leaves out, and no body.
        """
        response = self.successResultOf(self.treq.head("http://clock.example/"))
        self.assertEqual(response.code, 200)
        self.assertEqual(self.successResultOf(response.content()), b"")
        self.assertEqual(response.headers.getRawHeaders(b"content-length"), [b"50"])
        self.assertEqual(
            response.headers.getRawHeaders(b"content-type"),
            [b"text/html; charset=utf-8"],
        )
        self.assertEqual(
            response.headers.getRawHeaders(b"cache-control"), [b"no-store"]
        )

    def test_otherMethods(self) -> None:
        """
        Every other method but OPTIONS, standard or not, is 405 with an
        C{Allow} header
        and a one-line body, where Twisted alone would answer 501 to the ones
        it does not know.
        """
        for method in ["POST", "PUT", "DELETE", "PATCH", "BREW"]:
            response = self.successResultOf(
                self.treq.request(method, "http://clock.example/", data=b"x")
            )
            self.assertEqual(response.code, 405, method)
            self.assertEqual(
                response.headers.getRawHeaders(b"allow"), [b"GET, HEAD, OPTIONS"]
            )
            self.assertEqual(
                self.successResultOf(response.content()), b"405 Method Not Allowed\n"
            )
            self.assertEqual(
                response.headers.getRawHeaders(b"content-type"),
                [b"text/plain; charset=utf-8"],
            )

    def test_leaf(self) -> None:
        """
        Like the lesson's page, it is a leaf: it answers for every path below
        the point it is mounted at.
        """
        response = self.successResultOf(self.treq.get("http://clock.example/a/b"))
        self.assertEqual(
            self.successResultOf(response.content()),
            b"<html><body>Sun Sep  9 01:46:40 2001</body></html>",
        )

    def test_zone(self) -> None:
        """
        Given a zone, the page shows the time there, in the lesson's format,
        whatever the local zone is.
        """
        treq = stubTreq(ClockPage(self.clock, ZoneInfo("Asia/Kathmandu")))
        response = self.successResultOf(treq.get("http://clock.example/"))
        self.assertEqual(
            self.successResultOf(response.content()),
            b"<html><body>Sun Sep  9 07:31:40 2001</body></html>",
        )

    def test_clockDeprecated(self) -> None:
        """
        The old C{clock} keyword is still where the page reads the time,
        and warns that C{wallClock} replaces it.
        """
        page = ClockPage(clock=self.clock)
        [warning] = self.flushWarnings([self.test_clockDeprecated])
        self.assertEqual(warning["category"], DeprecationWarning)
        self.assertIn("'clock' parameter", warning["message"])
        self.assertIn("please use wallClock instead", warning["message"])
        response = self.successResultOf(stubTreq(page).get("http://clock.example/"))
        self.assertEqual(
            self.successResultOf(response.content()),
            b"<html><body>Sun Sep  9 01:46:40 2001</body></html>",
        )

    def test_wallClockKeyword(self) -> None:
        """
        C{wallClock} is a keyword too, which warns of nothing.
        """
        self.assertIs(ClockPage(wallClock=self.clock)._wallClock, self.clock)
        self.assertEqual(self.flushWarnings(), [])

    def test_defaultWallClock(self) -> None:
        """
        Without a clock, the page reads the time from the global reactor.
        """
        before = time.time()
        treq = stubTreq(ClockPage())
        response = self.successResultOf(treq.get("http://clock.example/"))
        after = time.time()
        body = self.successResultOf(response.content())
        self.assertIn(body, {clockPageBody(before), clockPageBody(after)})
        self.assertIs(ClockPage()._wallClock, reactor)
