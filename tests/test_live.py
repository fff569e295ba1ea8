"""
Tests for L{clocksvc._web._live}: the C{/live} page and its files, in memory.
"""

from __future__ import annotations

import re

from twisted.trial.unittest import SynchronousTestCase

from clocksvc._web._clockhealth import UNKNOWN, ClockState
from clocksvc._web._live import livePage
from clocksvc._web._site import buildRoot

from ._helpers import BILLENNIUM, SYNCHRONIZED, UNSYNCHRONIZED, clockAt, stubTreq

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
        Without JavaScript, the page shows the server's time in UTC, and
        carries it to the millisecond for the script's first guess.
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
        ]:
            response = self.successResultOf(self.treq.get(URL + path))
            self.assertEqual(response.code, 404, path)
            body = self.successResultOf(response.content())
            self.assertNotIn(b"<html", body, path)


class ServerClockTests(SynchronousTestCase):
    """
    C{/live} says how good the server's clock is, before any script runs.
    """

    def page(self, state: ClockState) -> str:
        treq = stubTreq(buildRoot(clockAt(BILLENNIUM), readClock=lambda: state))
        response = self.successResultOf(treq.get(URL + "live"))
        return self.successResultOf(response.content()).decode()

    def test_states(self) -> None:
        """
        Synchronized, with its bound; not synchronized, with how far off it
        may be; or unknown; with the state and bound as data for the script.
        """
        self.assertIn(
            '<p id="server-clock" data-synchronized="true" '
            'data-max-error-ms="1.25">The server&#x27;s clock is synchronized, '
            "to within ±2 ms.</p>",
            self.page(SYNCHRONIZED),
        )
        self.assertIn(
            '<p id="server-clock" data-synchronized="false" '
            'data-max-error-ms="16000">The server&#x27;s clock is not '
            "synchronized: it may be off by up to 16000 ms.</p>",
            self.page(UNSYNCHRONIZED),
        )
        self.assertIn(
            '<p id="server-clock" data-synchronized="unknown" '
            'data-max-error-ms="">The server cannot tell how good its clock '
            "is.</p>",
            self.page(UNKNOWN),
        )
