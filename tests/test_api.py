"""
Tests for L{clocksvc._web._api}: the time API, in memory through L{StubTreq}, at
instants fixed with L{task.Clock}. Every response is also checked against
C{/openapi.json}.
"""

from __future__ import annotations

import itertools
import json
import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from treq.response import _Response
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._clock._health import ClockState
from clocksvc._time import documentJSON, documentText, timeDocument
from clocksvc._time._zones import defaultCatalogue
from clocksvc._web._api import exchange, notAbove, zoneListBody
from clocksvc._web._site import buildRoot

from ._helpers import BILLENNIUM, clockAt, stubTreq, synchronized, useTimezone
from ._openapi import validateResponse

# A quarter second past the billennium: a fraction that floats hold exactly,
# so the microsecond and millisecond fields have known digits.
INSTANT = BILLENNIUM + 0.25

#: The document for INSTANT in UTC.
UTC_DOCUMENT = {
    "abbreviation": "UTC",
    "client_ip": "127.0.0.1",
    "datetime": "2001-09-09T01:46:40.250000+00:00",
    # 2001-09-09 was a Sunday, which worldtimeapi numbers 0.
    "day_of_week": 0,
    # 31+28+31+30+31+30+31+31 days to the end of August, then 9.
    "day_of_year": 252,
    "dst": False,
    "dst_from": None,
    "dst_offset": 0,
    "dst_until": None,
    "raw_offset": 0,
    "timezone": "UTC",
    "unixtime": 1000000000,
    "unixtime_ms": 1000000000250,
    "utc_datetime": "2001-09-09T01:46:40.250000+00:00",
    "utc_offset": "+00:00",
    # ISO week 36 of 2001 ran from Monday 3 to Sunday 9 September.
    "week_number": 36,
}

#: The document for INSTANT in Berlin: summer time, which in 2001 ran from
#: the last Sunday of March to the last Sunday of October, 01:00 UTC both.
BERLIN_DOCUMENT = {
    **UTC_DOCUMENT,
    "abbreviation": "CEST",
    "datetime": "2001-09-09T03:46:40.250000+02:00",
    "dst": True,
    "dst_from": "2001-03-25T01:00:00+00:00",
    "dst_offset": 3600,
    "dst_until": "2001-10-28T01:00:00+00:00",
    "raw_offset": 3600,
    "timezone": "Europe/Berlin",
    "utc_offset": "+02:00",
}

# worldtimeapi's text form leaves nothing after the colon for null.
UTC_TEXT = b"".join(
    line + b"\n"
    for line in [
        b"abbreviation: UTC",
        b"client_ip: 127.0.0.1",
        b"datetime: 2001-09-09T01:46:40.250000+00:00",
        b"day_of_week: 0",
        b"day_of_year: 252",
        b"dst: false",
        b"dst_from: ",
        b"dst_offset: 0",
        b"dst_until: ",
        b"raw_offset: 0",
        b"timezone: UTC",
        b"unixtime: 1000000000",
        b"unixtime_ms: 1000000000250",
        b"utc_datetime: 2001-09-09T01:46:40.250000+00:00",
        b"utc_offset: +00:00",
        b"week_number: 36",
    ]
)

JSON_TYPE = [b"application/json; charset=utf-8"]
TEXT_TYPE = [b"text/plain; charset=utf-8"]


class APITestCase(SynchronousTestCase):
    """
    Requests to a site whose clock says L{INSTANT}.
    """

    timezone = "UTC"

    def setUp(self) -> None:
        useTimezone(self, "UTC")
        self.clock = clockAt(INSTANT)
        self.treq = stubTreq(
            buildRoot(self.clock, self.timezone, readClock=synchronized)
        )

    def request(
        self, path: str, method: str = "GET", accept: str | None = None
    ) -> tuple[_Response, bytes]:
        """
        Make a request, check the response against the OpenAPI description,
        and check the headers every time response carries.

        @return: the response and its body.
        """
        headers = {} if accept is None else {"Accept": accept}
        response = self.successResultOf(
            self.treq.request(method, "http://clock.example" + path, headers=headers)
        )
        body = self.successResultOf(response.content())
        [contentType] = response.headers.getRawHeaders(b"content-type", [b""])
        validateResponse(
            method, urlsplit(path).path, response.code, contentType.decode(), body
        )
        return response, body

    def assertTimeHeaders(self, response: _Response) -> None:
        """
        Assert that nothing may cache C{response} and any page may read it.
        """
        self.assertEqual(
            response.headers.getRawHeaders(b"cache-control"), [b"no-store"]
        )
        self.assertEqual(
            response.headers.getRawHeaders(b"access-control-allow-origin"), [b"*"]
        )

    def assertJSON(
        self, path: str, code: int, expected: object, accept: str | None = None
    ) -> _Response:
        """
        Assert that C{path} answers C{code} with C{expected} as JSON.
        """
        response, body = self.request(path, accept=accept)
        self.assertEqual(response.code, code, body)
        self.assertEqual(response.headers.getRawHeaders(b"content-type"), JSON_TYPE)
        self.assertEqual(json.loads(body), expected)
        self.assertTimeHeaders(response)
        return response

    def assertText(
        self, path: str, code: int, expected: bytes, accept: str | None = None
    ) -> _Response:
        """
        Assert that C{path} answers C{code} with C{expected} as plain text.
        """
        response, body = self.request(path, accept=accept)
        self.assertEqual(response.code, code, body)
        self.assertEqual(response.headers.getRawHeaders(b"content-type"), TEXT_TYPE)
        self.assertEqual(body, expected)
        self.assertTimeHeaders(response)
        return response


class NowTests(APITestCase):
    """
    C{/now} answers the time document.
    """

    def test_default(self) -> None:
        """
        Without C{tz}, the document is for the default zone, in JSON, and it
        varies with C{Accept}.
        """
        response = self.assertJSON("/now", 200, UTC_DOCUMENT)
        self.assertEqual(response.headers.getRawHeaders(b"vary"), [b"accept"])
        self.assertFalse(self.clock.calls)

    def test_compactJSON(self) -> None:
        """
        The JSON is compact, with the fields in worldtimeapi's order.
        """
        _, body = self.request("/now")
        self.assertTrue(body.startswith(b'{"abbreviation":"UTC","client_ip":'), body)
        self.assertEqual(list(json.loads(body)), list(UTC_DOCUMENT))

    def test_timezone(self) -> None:
        """
        C{tz} names the zone, in any letter case; the answer spells it
        canonically.
        """
        self.assertJSON("/now?tz=Europe/Berlin", 200, BERLIN_DOCUMENT)
        self.assertJSON("/now?tz=eUROPE/bERLIN", 200, BERLIN_DOCUMENT)

    def test_followsClock(self) -> None:
        """
        Each request reads the clock anew.
        """
        self.clock.advance(60)
        _, body = self.request("/now")
        self.assertEqual(json.loads(body)["unixtime"], 1000000060)

    def test_acceptText(self) -> None:
        """
        C{Accept: text/plain} gives worldtimeapi's text form.
        """
        self.assertText("/now", 200, UTC_TEXT, accept="text/plain")
        self.assertText("/now", 200, UTC_TEXT, accept="application/json;q=0.5, text/*")

    def test_acceptJSON(self) -> None:
        """
        JSON is the default: for C{*/*}, for JSON, and for types it cannot
        send.
        """
        for accept in ["*/*", "application/json", "text/html", "image/png"]:
            self.assertJSON("/now", 200, UTC_DOCUMENT, accept=accept)

    def test_forcedFormats(self) -> None:
        """
        C{/now.json} and C{/now.txt} answer in their format whatever the
        C{Accept}, and so do not vary with it.
        """
        response = self.assertJSON("/now.json", 200, UTC_DOCUMENT, accept="text/plain")
        self.assertIsNone(response.headers.getRawHeaders(b"vary"))
        response = self.assertText("/now.txt", 200, UTC_TEXT, accept="application/json")
        self.assertIsNone(response.headers.getRawHeaders(b"vary"))

    def test_head(self) -> None:
        """
        HEAD answers GET's headers and no body.
        """
        _, body = self.request("/now?tz=Europe/Berlin")
        head, empty = self.request("/now?tz=Europe/Berlin", "HEAD")
        self.assertEqual(empty, b"")
        self.assertEqual(head.code, 200)
        self.assertEqual(
            head.headers.getRawHeaders(b"content-length"), [b"%d" % len(body)]
        )
        self.assertTimeHeaders(head)

    def test_unknownZone(self) -> None:
        """
        A well-formed name that is no zone is 404 with worldtimeapi's body,
        in the format asked for.
        """
        self.assertJSON("/now?tz=Mars/Olympus_Mons", 404, {"error": "unknown location"})
        self.assertText(
            "/now.txt?tz=Mars/Olympus_Mons", 404, b"error: unknown location\n"
        )
        self.assertText(
            "/now?tz=Atlantis", 404, b"error: unknown location\n", accept="text/plain"
        )

    def test_malformedZone(self) -> None:
        """
        A value that cannot be a zone name is 400 with a JSON error naming
        the parameter; the value is not echoed back.
        """
        for query in [
            "tz=%3Cscript%3Ealert(1)%3C/script%3E",
            "tz=",
            "tz=../../etc/passwd",
            "tz=Europe//Berlin",
            "tz=" + "A" * 41,
            "tz=a/b/c/d",
        ]:
            self.assertJSON(
                "/now?" + query,
                400,
                {
                    "error": "invalid query parameter tz: an IANA time zone name, "
                    "like Europe/Berlin",
                    "parameter": "tz",
                },
            )

    def test_repeatedZone(self) -> None:
        """
        C{tz} given twice is 400: which one did the client mean?
        """
        self.assertJSON(
            "/now?tz=UTC&tz=Europe/Berlin",
            400,
            {"error": "invalid query parameter tz: give it once", "parameter": "tz"},
        )

    def test_zoneNotUTF8(self) -> None:
        """
        A C{tz} that is not UTF-8 is 400.
        """
        self.assertJSON(
            "/now?tz=%FF",
            400,
            {"error": "invalid query parameter tz: not UTF-8", "parameter": "tz"},
        )

    def test_malformedZoneText(self) -> None:
        """
        C{/now.txt} reports a malformed value in text.
        """
        self.assertText(
            "/now.txt?tz=%3C",
            400,
            b"error: invalid query parameter tz: an IANA time zone name, "
            b"like Europe/Berlin\n",
        )

    def test_otherQueryIgnored(self) -> None:
        """
        Parameters it does not know are ignored, as worldtimeapi does.
        """
        self.assertJSON("/now?callback=x&foo", 200, UTC_DOCUMENT)

    def test_otherMethods(self) -> None:
        """
        Methods other than GET, HEAD and OPTIONS are 405 with C{Allow}, in
        JSON.
        """
        for method in ["POST", "PUT", "DELETE", "PATCH", "BREW"]:
            response, body = self.request("/now", method)
            self.assertEqual(response.code, 405, method)
            self.assertEqual(
                response.headers.getRawHeaders(b"allow"), [b"GET, HEAD, OPTIONS"]
            )
            self.assertEqual(json.loads(body), {"error": "method not allowed"})
            self.assertTimeHeaders(response)

    def test_nothingBelow(self) -> None:
        """
        No path below C{/now} exists.
        """
        self.assertJSON("/now/extra", 404, {"error": "not found"})
        self.assertJSON("/now/", 404, {"error": "not found"})


class DefaultZoneTests(APITestCase):
    """
    The site's default zone is used where a client names none.
    """

    timezone = "europe/berlin"

    def test_now(self) -> None:
        """
        C{/now} without C{tz} answers for the default zone, spelled
        canonically.
        """
        self.assertJSON("/now", 200, BERLIN_DOCUMENT)

    def test_explicit(self) -> None:
        """
        C{tz} still overrides it.
        """
        self.assertJSON("/now?tz=UTC", 200, UTC_DOCUMENT)

    def test_root(self) -> None:
        """
        The document at C{/} is for the default zone too.
        """
        self.assertJSON("/", 200, BERLIN_DOCUMENT, accept="application/json")

    def test_unknownDefault(self) -> None:
        """
        A site cannot be built for a zone that does not exist.
        """
        with self.assertRaises(ValueError) as raised:
            buildRoot(self.clock, "Mars/Base")
        self.assertEqual(str(raised.exception), "unknown time zone 'Mars/Base'")


class TimezoneTests(APITestCase):
    """
    worldtimeapi.org's C{/api/timezone} tree.
    """

    def test_list(self) -> None:
        """
        C{/api/timezone} lists every zone, sorted.
        """
        names = list(defaultCatalogue.names())
        self.assertIn("Europe/Berlin", names)
        self.assertEqual(names, sorted(names))
        self.assertJSON("/api/timezone", 200, names)

    def test_listKept(self) -> None:
        """
        The 10 KB body of the whole list is made once for the catalogue's
        list, in each form, and kept: the same object each time.
        """
        json = zoneListBody(defaultCatalogue)
        text = zoneListBody(defaultCatalogue, "text")
        self.assertIs(zoneListBody(defaultCatalogue), json)
        self.assertIs(zoneListBody(defaultCatalogue, "text"), text)
        self.assertTrue(json.startswith(b'["'))
        self.assertIn(b"\nEurope/Berlin\n", text)

    def test_listText(self) -> None:
        """
        C{/api/timezone.txt} lists them one a line.
        """
        expected = "".join(name + "\n" for name in defaultCatalogue.names())
        self.assertText("/api/timezone.txt", 200, expected.encode())

    def test_area(self) -> None:
        """
        C{/api/timezone/AREA} lists the zones of that area, in any letter
        case, and C{.txt} does so one a line.
        """
        europe = [n for n in defaultCatalogue.names() if n.startswith("Europe/")]
        self.assertIn("Europe/Berlin", europe)
        self.assertJSON("/api/timezone/Europe", 200, europe)
        self.assertJSON("/api/timezone/europe", 200, europe)
        self.assertText(
            "/api/timezone/EUROPE.txt",
            200,
            "".join(name + "\n" for name in europe).encode(),
        )

    def test_subArea(self) -> None:
        """
        An area of an area lists its zones too.
        """
        response, body = self.request("/api/timezone/america/argentina")
        self.assertEqual(response.code, 200)
        zones = json.loads(body)
        self.assertIn("America/Argentina/Salta", zones)
        self.assertTrue(
            all(name.startswith("America/Argentina/") for name in zones), zones
        )

    def test_zone(self) -> None:
        """
        C{/api/timezone/AREA/LOCATION} is that zone's document, found in any
        letter case; C{.txt} gives the text form.
        """
        self.assertJSON("/api/timezone/Europe/Berlin", 200, BERLIN_DOCUMENT)
        self.assertJSON("/api/timezone/europe/berlin", 200, BERLIN_DOCUMENT)
        response, body = self.request("/api/timezone/europe/berlin.txt")
        self.assertEqual(response.code, 200)
        self.assertIn(b"\ntimezone: Europe/Berlin\n", body)
        self.assertIn(b"\ndatetime: 2001-09-09T03:46:40.250000+02:00\n", body)

    def test_region(self) -> None:
        """
        Three-part names work, as C{/api/timezone/AREA/LOCATION/REGION}.
        """
        response, body = self.request("/api/timezone/America/Argentina/Salta")
        self.assertEqual(response.code, 200)
        document = json.loads(body)
        self.assertEqual(document["timezone"], "America/Argentina/Salta")
        # Argentina has kept -03:00 without daylight saving since 2009.
        self.assertEqual(document["datetime"], "2001-09-08T22:46:40.250000-03:00")

    def test_oneSegmentZone(self) -> None:
        """
        A zone whose name has no area, like C{UTC}, is a document too.
        """
        self.assertJSON("/api/timezone/utc", 200, UTC_DOCUMENT)

    def test_unknown(self) -> None:
        """
        Names that are no zone or area are 404 with worldtimeapi's body.
        """
        for path in [
            "/api/timezone/",
            "/api/timezone/Mars",
            "/api/timezone/Europe/Atlantis",
            "/api/timezone/Eur",
            "/api/timezone/%FF",
            "/api/timezone/Europe/Berlin/Mitte/Kreuzberg",
            "/api/timezone/%3Cb%3E",
        ]:
            self.assertJSON(path, 404, {"error": "unknown location"})
        self.assertText("/api/timezone/Mars.txt", 404, b"error: unknown location\n")
        self.assertText("/api/timezone.txt/Europe", 404, b"error: unknown location\n")

    def test_elsewhereUnderAPI(self) -> None:
        """
        Other paths under C{/api} are 404 in JSON.
        """
        self.assertJSON("/api", 404, {"error": "not found"})
        self.assertJSON("/api/elsewhere", 404, {"error": "not found"})

    def test_otherMethods(self) -> None:
        """
        Methods other than GET, HEAD and OPTIONS are 405 with C{Allow}.
        """
        response, body = self.request("/api/timezone/Europe/Berlin", "POST")
        self.assertEqual(response.code, 405)
        self.assertEqual(
            response.headers.getRawHeaders(b"allow"), [b"GET, HEAD, OPTIONS"]
        )
        self.assertEqual(json.loads(body), {"error": "method not allowed"})


class RootTests(APITestCase):
    """
    C{/} negotiates: the lesson's page for browsers, the document for API
    clients, and time.akamai.com's answers to its queries.
    """

    PAGE = b"<html><body>Sun Sep  9 01:46:40 2001</body></html>"

    def test_page(self) -> None:
        """
        Browsers, C{*/*} and clients without C{Accept} get the lesson's page,
        byte for byte, and a cache is told that it varies with C{Accept}.
        """
        for accept in [
            None,
            "*/*",
            "text/html",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        ]:
            response, body = self.request("/", accept=accept)
            self.assertEqual(response.code, 200)
            self.assertEqual(body, self.PAGE)
            self.assertEqual(
                response.headers.getRawHeaders(b"content-type"),
                [b"text/html; charset=utf-8"],
            )
            self.assertEqual(response.headers.getRawHeaders(b"vary"), [b"accept"])

    def test_document(self) -> None:
        """
        C{Accept: application/json} or C{text/plain} get the document.
        """
        response = self.assertJSON("/", 200, UTC_DOCUMENT, accept="application/json")
        self.assertEqual(response.headers.getRawHeaders(b"vary"), [b"accept"])
        self.assertText("/", 200, UTC_TEXT, accept="text/plain")

    def test_akamai(self) -> None:
        """
        C{?ms}, C{?iso} and C{?iso&ms} answer as time.akamai.com does,
        whatever the C{Accept}.
        """
        cases = {
            "/?ms": b"1000000000.250",
            "/?iso": b"2001-09-09T01:46:40Z",
            "/?iso&ms": b"2001-09-09T01:46:40.250Z",
            "/?ms&iso": b"2001-09-09T01:46:40.250Z",
            "/?iso=&ms=1": b"2001-09-09T01:46:40.250Z",
        }
        for path, expected in cases.items():
            self.assertText(path, 200, expected)
            self.assertText(path, 200, expected, accept="application/json")

    def test_akamaiMilliseconds(self) -> None:
        """
        Milliseconds are rounded down, never up into the next second.
        """
        self.clock.advance(0.7499)
        self.assertText("/?ms", 200, b"1000000000.999")
        self.assertText("/?iso", 200, b"2001-09-09T01:46:40Z")

    def test_otherQuery(self) -> None:
        """
        Other queries leave the page as it is.
        """
        _, body = self.request("/?isotope")
        self.assertEqual(body, self.PAGE)


class SteppingClock(Clock):
    """
    A clock that moves on by a millisecond each time it is read, to tell the
    reads apart.
    """

    def seconds(self) -> float:
        self.advance(0.001)
        return super().seconds()


class ExchangeTests(APITestCase):
    """
    C{/now?t1=} answers one sample of an NTP-style exchange.
    """

    def test_exchange(self) -> None:
        """
        C{t1} is echoed as sent, and C{t2} and C{t3} are the clock's time in
        milliseconds, on top of the document of that instant; the exchange
        may be timed by pages of any origin.
        """
        response, body = self.request("/now?t1=999999999000")
        self.assertEqual(response.code, 200)
        document = json.loads(body)
        self.assertEqual(
            document,
            {
                **UTC_DOCUMENT,
                "clock_synchronized": True,
                "clock_max_error_ms": 1.25,
                "t1": 999999999000,
                "t2": 1e12 + 250,
                "t3": 1e12 + 250,
            },
        )
        self.assertEqual(list(document)[-3:], ["t1", "t2", "t3"])
        self.assertEqual(
            response.headers.getRawHeaders(b"clock-status"),
            [b"sync=?1, max-error=1.25"],
        )
        self.assertEqual(response.headers.getRawHeaders(b"timing-allow-origin"), [b"*"])
        self.assertEqual(
            response.headers.getRawHeaders(b"server-timing"), [b"app;dur=0.000"]
        )

    def test_fractionalT1(self) -> None:
        """
        A C{t1} with a fraction is echoed as that number.
        """
        _, body = self.request("/now?t1=999999999000.125")
        self.assertEqual(json.loads(body)["t1"], 999999999000.125)

    def test_transmitReadLast(self) -> None:
        """
        C{t2} is read when the request is taken up and C{t3} after all other
        work, so C{t1 <= t2 <= t3} and C{Server-Timing} gives the gap.
        """
        clock = SteppingClock()
        clock.advance(INSTANT)
        treq = stubTreq(buildRoot(clock))
        response = self.successResultOf(treq.get("http://clock.example/now?t1=0"))
        document = json.loads(self.successResultOf(response.content()))
        self.assertLess(document["t2"], document["t3"])
        self.assertEqual(document["t3"], clock.seconds() * 1000 - 1)
        [timing] = response.headers.getRawHeaders(b"server-timing")
        self.assertEqual(timing, b"app;dur=%.3f" % (document["t3"] - document["t2"],))

    def test_text(self) -> None:
        """
        In text, the three times follow the document's lines.
        """
        self.assertText(
            "/now.txt?t1=5",
            200,
            UTC_TEXT + b"clock_synchronized: true\nclock_max_error_ms: 1.25\n"
            b"t1: 5\nt2: 1000000000250.0\nt3: 1000000000250.0\n",
        )

    def test_badT1(self) -> None:
        """
        A C{t1} that is not milliseconds since the epoch is 400, naming it.
        """
        for value in ["abc", "-1", "1e5", "nan", "inf", "", "1.2.3", " 5", "9" * 16]:
            self.assertJSON(
                "/now?t1=" + value,
                400,
                {
                    "error": "invalid query parameter t1: milliseconds since the "
                    "epoch, like 1700000000000.5",
                    "parameter": "t1",
                },
            )

    def test_lastMillisecond(self) -> None:
        """
        The end of year 9999 is the last C{t1} taken.
        """
        response, _ = self.request("/now?t1=253402300799999")
        self.assertEqual(response.code, 200)
        response, _ = self.request("/now?t1=253402300800000")
        self.assertEqual(response.code, 400)

    def test_lastMillisecondFraction(self) -> None:
        """
        Every fraction of the last millisecond is still before the year 10000,
        and taken: the rule is on the digits, not on what a float rounds
        them to (which took .01 but not .5).
        """
        for fraction in ["0", "01", "5", "999999"]:
            response, body = self.request("/now?t1=253402300799999." + fraction)
            self.assertEqual(response.code, 200, fraction)
            self.assertEqual(
                json.loads(body)["t1"], float("253402300799999." + fraction)
            )
        response, _ = self.request("/now?t1=253402300800000.0")
        self.assertEqual(response.code, 400)


class NotAboveTests(SynchronousTestCase):
    """
    L{notAbove} matches the digit runs no longer than its bound and no
    greater.
    """

    def test_everyRun(self) -> None:
        """
        For several bounds, every run of digits up to one longer than the
        bound, leading zeros included, matches exactly when it is in range.
        """
        for bound in [0, 7, 10, 205, 3050]:
            pattern = re.compile(f"(?:{notAbove(bound)})")
            width = len(str(bound))
            for length in range(1, width + 2):
                for run in itertools.product("0123456789", repeat=length):
                    digits = "".join(run)
                    self.assertEqual(
                        bool(pattern.fullmatch(digits)),
                        length <= width and int(digits) <= bound,
                        (bound, digits),
                    )


class ExchangeBodyTests(SynchronousTestCase):
    """
    L{exchange} writes a sample as the time document with its fields added,
    in the document's own forms.
    """

    @given(
        t1=st.integers(min_value=0, max_value=253402300799999)
        | st.floats(min_value=0, max_value=253402300799999),
        received=st.floats(min_value=0, max_value=253370764799.0),
        later=st.floats(min_value=0, max_value=10),
        synchronized=st.none() | st.booleans(),
        maxErrorMs=st.none() | st.floats(min_value=0, max_value=1e9),
        text=st.booleans(),
    )
    def test_sameAsTheDocument(
        self,
        t1: int | float,
        received: float,
        later: float,
        synchronized: bool | None,
        maxErrorMs: float | None,
        text: bool,
    ) -> None:
        """
        The body is what L{documentJSON} or L{documentText} write of the
        document with the clock's fields, C{t1}, C{t2} and C{t3} added; and
        C{Server-Timing} gives C{t3 - t2}.
        """
        clock = Clock()
        clock.advance(received + later)
        zone = ZoneInfo("Europe/Berlin")
        state = ClockState(synchronized, maxErrorMs, None, "none", "none")
        t2, t3 = received * 1000, clock.seconds() * 1000
        document = {
            **timeDocument(received, zone, "192.0.2.1"),
            "clock_synchronized": synchronized,
            "clock_max_error_ms": maxErrorMs,
            "t1": t1,
            "t2": t2,
            "t3": t3,
        }
        expected = documentText(document) if text else documentJSON(document)
        body, timing = exchange(
            "text" if text else "json", zone, "192.0.2.1", state, t1, received, clock
        )
        self.assertEqual(body, expected)
        self.assertEqual(timing, b"app;dur=%.3f" % (t3 - t2,))
