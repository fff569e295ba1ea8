"""
Tests for L{clocksvc._web._live}: the C{/live} page and its files, in memory.
"""

from __future__ import annotations

import json
import re
import struct
from zoneinfo import ZoneInfo

from twisted.trial.unittest import SynchronousTestCase

from clocksvc._clock._health import UNKNOWN, ClockState
from clocksvc._web._live import duration, livePage, zoneLabel
from clocksvc._web._site import buildRoot

from ._helpers import (
    BILLENNIUM,
    SYNCHRONIZED,
    UNSYNCHRONIZED,
    StubClient,
    clockAt,
    stubTreq,
    useTimezone,
)

URL = "http://clock.example/"


class LivePageTests(SynchronousTestCase):
    """
    C{/live} is a page that works alone and loads only this server's files.
    """

    def setUp(self) -> None:
        self.treq = stubTreq(buildRoot(clockAt(BILLENNIUM + 0.25)))
        response = self.successResultOf(self.treq.get(URL + "live"))
        self.response = response
        self.page = self.successResultOf(response.content()).decode()

    def test_headers(self) -> None:
        """
        The page is uncached HTML under a policy that allows only this
        server's script, style and API, with no sniffing and no referrer.
        """
        headers = self.response.headers
        self.assertEqual(self.response.code, 200)
        self.assertEqual(
            headers.getRawHeaders(b"content-type"), [b"text/html; charset=utf-8"]
        )
        self.assertEqual(
            headers.getRawHeaders(b"content-security-policy"),
            [
                b"default-src 'none'; script-src 'self'; style-src 'self'; "
                b"connect-src 'self'; img-src 'self'; base-uri 'none'; "
                b"form-action 'none'; frame-ancestors 'none'"
            ],
        )
        self.assertEqual(headers.getRawHeaders(b"x-content-type-options"), [b"nosniff"])
        self.assertEqual(headers.getRawHeaders(b"referrer-policy"), [b"no-referrer"])
        self.assertEqual(headers.getRawHeaders(b"cache-control"), [b"no-store"])

    def test_serverTime(self) -> None:
        """
        Without JavaScript, the page shows the server's time in the server's
        zone (UTC by default), and carries it to the millisecond for the
        script's first guess.
        """
        self.assertIn(
            '<time id="server-time" datetime="2001-09-09T01:46:40.250+00:00" '
            'data-server-ms="1000000000250">01:46:40</time>',
            self.page,
        )
        self.assertIn('<p id="server-date">Sunday 09 September 2001</p>', self.page)
        self.assertIn('<meta http-equiv="refresh" content="10">', self.page)

    def test_api(self) -> None:
        """
        The page says how a program asks for the time: C{/now} with the
        scheme and host the page was asked for with, or the path alone
        without a host.
        """
        self.assertIn(
            '<p id="api">From a program: <code>curl http://clock.example/now</code>',
            self.page,
        )
        self.assertIn(b"<code>curl /now</code>", livePage(0))
        self.assertIn(b"<code>curl a&lt;b/now</code>", livePage(0, "a<b/now"))

    def test_offsetElement(self) -> None:
        """
        The element with id C{offset} is announced to screen readers as it
        changes; the script fills in its data attributes.
        """
        self.assertIn('<p id="offset" aria-live="polite">', self.page)

    def test_onlyOwnFiles(self) -> None:
        """
        Scripts and styles come from this server by absolute path, so that
        they load wherever the page is; nothing is inline and nothing is
        third-party.
        """
        self.assertEqual(
            re.findall(r'<script[^>]*src="([^"]+)"', self.page), ["/live.js"]
        )
        self.assertEqual(
            re.findall(r'<link rel="stylesheet" href="([^"]+)"', self.page),
            ["/live.css"],
        )
        self.assertNotIn("<style", self.page)
        self.assertNotIn(" style=", self.page)
        # The command line in #api is text to copy, not something loaded.
        page = re.sub(r'<p id="api">.*?</p>', "", self.page)
        self.assertNotIn("//", page.replace("<!DOCTYPE html>", ""))
        self.assertEqual(self.page.count("<script"), 1)

    def test_phone(self) -> None:
        """
        The page sets a viewport, for phones.
        """
        self.assertIn(
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            self.page,
        )

    def test_files(self) -> None:
        """
        The script and the style sheet are served with their types, not to be
        sniffed, revalidated on each use.
        """
        for name, contentType, start in [
            ("live.js", b"text/javascript; charset=utf-8", b"// clocksvc's live page"),
            ("live.css", b"text/css; charset=utf-8", b":root {"),
        ]:
            response = self.successResultOf(self.treq.get(URL + name))
            body = self.successResultOf(response.content())
            self.assertEqual(
                response.headers.getRawHeaders(b"content-type"), [contentType]
            )
            self.assertEqual(
                response.headers.getRawHeaders(b"x-content-type-options"), [b"nosniff"]
            )
            self.assertEqual(
                response.headers.getRawHeaders(b"cache-control"), [b"no-cache"]
            )
            self.assertTrue(body.startswith(start), body[:40])

    def test_scriptUsesExchange(self) -> None:
        """
        The script measures with C{/now?t1=} and keeps the lowest round trip,
        and sets the attributes tools read.
        """
        response = self.successResultOf(self.treq.get(URL + "live.js"))
        script = self.successResultOf(response.content()).decode()
        self.assertIn('fetch("/now?t1=" + t1, { cache: "no-store" })', script)
        self.assertIn("next.rtt < best.rtt", script)
        self.assertIn("offsetElement.dataset.offsetMs", script)
        self.assertIn("offsetElement.dataset.rttMs", script)

    def test_onlyItsOwnPath(self) -> None:
        """
        The page and its files answer their own paths only: below them, 404,
        not the page again with its assets resolving under it.
        """
        for path in [
            "live/",
            "live/anything",
            "live/live.js",
            "live.js/",
            "live.css/x",
            "favicon.ico/",
        ]:
            response = self.successResultOf(self.treq.get(URL + path))
            self.assertEqual(response.code, 404, path)
            body = self.successResultOf(response.content())
            self.assertNotIn(b"<html", body, path)


class ServerClockTests(SynchronousTestCase):
    """
    C{/live} says how far the server's clock may be from true time, before
    any script runs: a statement of its own, apart from the visitor's clock.
    """

    def page(self, state: ClockState) -> str:
        treq = stubTreq(buildRoot(clockAt(BILLENNIUM), readClock=lambda: state))
        response = self.successResultOf(treq.get(URL + "live"))
        return self.successResultOf(response.content()).decode()

    def test_states(self) -> None:
        """
        Synchronized, with its bound; not synchronized, with how far off it
        may be, in seconds above one; or unknown; with the state and bound
        as data for the script.
        """
        self.assertIn(
            '<p id="server-clock" data-synchronized="true" '
            'data-max-error-ms="1.25">This server&#x27;s clock is '
            "synchronized: within ±2 ms of true time.</p>",
            self.page(SYNCHRONIZED),
        )
        self.assertIn(
            '<p id="server-clock" data-synchronized="false" '
            'data-max-error-ms="16000">This server&#x27;s clock is not '
            "synchronized: it may be up to 16.0 s from true time.</p>",
            self.page(UNSYNCHRONIZED),
        )
        self.assertIn(
            '<p id="server-clock" data-synchronized="unknown" '
            'data-max-error-ms="">This server cannot tell how far its clock '
            "may be from true time.</p>",
            self.page(UNKNOWN),
        )

    def test_notAboutTheVisitor(self) -> None:
        """
        Before the script measures, the page says nothing of the visitor's
        clock: in particular not that it is right.
        """
        for state in [SYNCHRONIZED, UNSYNCHRONIZED, UNKNOWN]:
            page = self.page(state)
            self.assertNotIn("right", page.replace("Is my clock right?", ""))
            self.assertIn("needs JavaScript", page)


class DurationTests(SynchronousTestCase):
    """
    L{duration} says a bound as live.js does: rounded up, in ms below a
    second, in seconds above.
    """

    def test_durations(self) -> None:
        """
        Whole milliseconds, at least 1, below a second; tenths of a second
        below a minute; whole seconds, in days, hours and minutes, above.
        """
        for milliseconds, text in [
            (0, "1 ms"),
            (0.2, "1 ms"),
            (1.25, "2 ms"),
            (999, "999 ms"),
            # Rounded up to 1000 ms, which is a second.
            (999.4, "1.0 s"),
            (1000, "1.0 s"),
            (5000, "5.0 s"),
            (16000, "16.0 s"),
            (16003, "16.1 s"),
            (59_999, "60.0 s"),
            (60_000, "1 min 0 s"),
            (65_000, "1 min 5 s"),
            (3_600_000, "1 h 0 min 0 s"),
            (90_061_000, "1 d 1 h 1 min 1 s"),
        ]:
            self.assertEqual(duration(milliseconds), text, milliseconds)


class ZoneTests(SynchronousTestCase):
    """
    C{/live} shows the server's time in the server's zone, the one C{/now}
    answers in, labelled; not UTC, and not the visitor's.
    """

    def fetch(self, treq: StubClient, path: str) -> bytes:
        response = self.successResultOf(treq.get(URL + path))
        body: bytes = self.successResultOf(response.content())
        return body

    def test_serverZone(self) -> None:
        """
        With a zone, the page shows the time there, names the zone as
        C{/now} does, and carries its name, abbreviation and offset for the
        script.
        """
        treq = stubTreq(buildRoot(clockAt(BILLENNIUM + 0.25), "asia/tokyo"))
        page = self.fetch(treq, "live").decode()
        # 01:46:40.250 UTC is 10:46:40.250 in Tokyo, nine hours ahead.
        self.assertIn(
            '<time id="server-time" datetime="2001-09-09T10:46:40.250+09:00" '
            'data-server-ms="1000000000250">10:46:40</time>',
            page,
        )
        self.assertIn(
            '<p id="zone" data-zone="Asia/Tokyo" data-abbreviation="JST" '
            'data-utc-offset-s="32400">Asia/Tokyo (JST), the server&#x27;s '
            "time zone</p>",
            page,
        )
        now = json.loads(self.fetch(treq, "now"))
        self.assertEqual(
            (now["timezone"], now["abbreviation"], now["raw_offset"]),
            ("Asia/Tokyo", "JST", 32400),
        )

    def test_visitorZone(self) -> None:
        """
        The visitor's own zone has a labelled place beside the server's,
        which the script fills in and shows.
        """
        page = livePage(BILLENNIUM).decode()
        self.assertIn(
            '<p id="visitor" hidden>In your time zone, <span id="visitor-zone">'
            '</span>: <time id="visitor-time"></time></p>',
            page,
        )

    def test_localZone(self) -> None:
        """
        Without a zone, the page is in the process's local time, labelled
        with its abbreviation, and leaves the zone's name to the script,
        which takes it from C{/now}.
        """
        useTimezone(self, "Asia/Tokyo")
        page = livePage(BILLENNIUM).decode()
        self.assertIn(">10:46:40</time>", page)
        self.assertIn(
            '<p id="zone" data-zone="" data-abbreviation="JST" '
            'data-utc-offset-s="32400">JST, the server&#x27;s local time</p>',
            page,
        )

    def test_labels(self) -> None:
        """
        A zone whose abbreviation is its name is named once.
        """
        self.assertEqual(zoneLabel("UTC", "UTC"), "UTC, the server's time zone")
        self.assertEqual(
            zoneLabel("Europe/Berlin", "CEST"),
            "Europe/Berlin (CEST), the server's time zone",
        )
        self.assertEqual(zoneLabel("", "JST"), "JST, the server's local time")

    def test_numericAbbreviation(self) -> None:
        """
        A zone of three segments, whose abbreviation is its offset, is named
        and labelled as it is.
        """
        zone = ZoneInfo("America/Argentina/Buenos_Aires")
        page = livePage(BILLENNIUM, zone=zone).decode()
        self.assertIn(
            '<p id="zone" data-zone="America/Argentina/Buenos_Aires" '
            'data-abbreviation="-03" data-utc-offset-s="-10800">'
            "America/Argentina/Buenos_Aires (-03), the server&#x27;s time "
            "zone</p>",
            page,
        )


class FaviconTests(SynchronousTestCase):
    """
    C{/favicon.ico}, which browsers ask for on their own, is an icon, not a
    404.
    """

    def test_icon(self) -> None:
        """
        An ICO file of two PNG images, 16 and 32 pixels square, kept by
        caches for a day.
        """
        treq = stubTreq(buildRoot(clockAt(BILLENNIUM)))
        response = self.successResultOf(treq.get(URL + "favicon.ico"))
        body = self.successResultOf(response.content())
        self.assertEqual(response.code, 200)
        headers = response.headers
        self.assertEqual(
            headers.getRawHeaders(b"content-type"), [b"image/vnd.microsoft.icon"]
        )
        self.assertEqual(
            headers.getRawHeaders(b"cache-control"), [b"public, max-age=86400"]
        )
        self.assertEqual(headers.getRawHeaders(b"x-content-type-options"), [b"nosniff"])
        reserved, kind, count = struct.unpack("<HHH", body[:6])
        self.assertEqual((reserved, kind, count), (0, 1, 2))
        for index, size in enumerate([16, 32]):
            entry = body[6 + 16 * index : 6 + 16 * (index + 1)]
            width, height, _, _, _, bits, length, offset = struct.unpack(
                "<BBBBHHII", entry
            )
            self.assertEqual((width, height, bits), (size, size, 32))
            image = body[offset : offset + length]
            self.assertEqual(image[:8], b"\x89PNG\r\n\x1a\n")
            self.assertEqual(struct.unpack(">II", image[16:24]), (size, size))
        self.assertLess(len(body), 1024)

    def test_linked(self) -> None:
        """
        The page names it, as an icon from this server.
        """
        self.assertIn(b'<link rel="icon" href="/favicon.ico">', livePage(0))
