"""
Tests for clocksvc over real sockets: L{clocksvc.listen} on 127.0.0.1 port 0,
requests made with treq.
"""

from __future__ import annotations

import treq
from twisted.internet import reactor
from twisted.internet.defer import maybeDeferred
from twisted.internet.interfaces import IListeningPort
from twisted.trial.unittest import TestCase
from twisted.web.client import HTTPConnectionPool
from twisted.web.http_headers import Headers
from twisted.web.resource import Resource
from twisted.web.server import Site
from zope.interface.verify import verifyObject

from clocksvc import ClockPage, listen

from ._helpers import BILLENNIUM, clockAt, urlOf, useTimezone

PAGE = b"<html><body>Sun Sep  9 01:46:40 2001</body></html>"


class ListenNetworkTests(TestCase):
    """
    L{listen} serves clocksvc on a real TCP port.
    """

    def setUp(self) -> None:
        useTimezone(self, "UTC")
        self.clock = clockAt(BILLENNIUM)
        # A pool without persistent connections leaves no socket open for
        # trial's clean-reactor check.
        self.pool = HTTPConnectionPool(reactor, persistent=False)
        self.addCleanup(self.pool.closeCachedConnections)

    def listen(self) -> str:
        """
        Listen on a free port of 127.0.0.1, stopped when the test ends.

        @return: the URL of the server's root.
        """
        port = listen(0, "127.0.0.1", clock=self.clock)
        self.addCleanup(port.stopListening)
        return urlOf(port)

    async def test_get(self) -> None:
        """
        A GET answers the page for the clock's time, byte for byte.
        """
        response = await treq.get(self.listen(), pool=self.pool)
        self.assertEqual(response.code, 200)
        self.assertEqual(await response.content(), PAGE)
        self.assertEqual(
            response.headers.getRawHeaders(b"content-type"),
            [b"text/html; charset=utf-8"],
        )

    async def test_notFound(self) -> None:
        """
        Any other path is 404.
        """
        response = await treq.get(self.listen() + "nope", pool=self.pool)
        self.assertEqual(response.code, 404)
        self.assertEqual(await response.content(), b"404 Not Found\n")

    async def test_head(self) -> None:
        """
        HEAD gives the page's length and no body.
        """
        response = await treq.head(self.listen(), pool=self.pool)
        self.assertEqual(response.code, 200)
        self.assertEqual(response.headers.getRawHeaders(b"content-length"), [b"50"])
        self.assertEqual(await response.content(), b"")

    async def test_port(self) -> None:
        """
        The port provides L{IListeningPort}, and port 0 became a real one.
        """
        port = listen(0, "127.0.0.1", clock=self.clock)
        self.addCleanup(port.stopListening)
        self.assertTrue(verifyObject(IListeningPort, port))
        self.assertTrue(urlOf(port).startswith("http://127.0.0.1:"))
        self.assertNotEqual(urlOf(port), "http://127.0.0.1:0/")

    async def test_independent(self) -> None:
        """
        Two calls give two servers, each with its own clock; stopping one
        leaves the other serving.
        """
        later = clockAt(BILLENNIUM + 60)
        first = listen(0, "127.0.0.1", clock=self.clock)
        second = listen(0, "127.0.0.1", clock=later)
        self.addCleanup(second.stopListening)
        await maybeDeferred(first.stopListening)
        response = await treq.get(urlOf(second), pool=self.pool)
        self.assertEqual(
            await response.content(),
            b"<html><body>Sun Sep  9 01:47:40 2001</body></html>",
        )

    async def test_mounted(self) -> None:
        """
        L{ClockPage} mounted in another application's resource tree serves
        the page at its own path, beside the application's other resources.
        """
        root = Resource()
        root.putChild(b"clock", ClockPage(self.clock))
        # The same Site annotation gap as in clocksvc._site.listen.
        port = reactor.listenTCP(0, Site(root), interface="127.0.0.1")  # type: ignore[arg-type]
        self.addCleanup(port.stopListening)
        response = await treq.get(urlOf(port, "/clock"), pool=self.pool)
        self.assertEqual(response.code, 200)
        self.assertEqual(await response.content(), PAGE)
        elsewhere = await treq.get(urlOf(port, "/other"), pool=self.pool)
        self.assertEqual(elsewhere.code, 404)
        await elsewhere.content()


class APINetworkTests(TestCase):
    """
    The time API over a real socket: content negotiation, C{.txt}, HEAD and
    CORS.
    """

    def setUp(self) -> None:
        self.pool = HTTPConnectionPool(reactor, persistent=False)
        self.addCleanup(self.pool.closeCachedConnections)
        port = listen(
            0, "127.0.0.1", clock=clockAt(BILLENNIUM), timezone="Asia/Kathmandu"
        )
        self.addCleanup(port.stopListening)
        self.url = urlOf(port)

    async def test_negotiation(self) -> None:
        """
        C{/} answers the page, JSON or text as C{Accept} asks, each marked as
        varying with C{Accept} and readable by any origin.
        """
        expected = {
            "text/html,*/*;q=0.8": (b"text/html; charset=utf-8", b"<html><body>"),
            "application/json": (b"application/json; charset=utf-8", b'{"abbrev'),
            "text/plain": (b"text/plain; charset=utf-8", b"abbreviation: +0545\n"),
        }
        for accept, (contentType, start) in expected.items():
            response = await treq.get(
                self.url, headers=Headers({"Accept": [accept]}), pool=self.pool
            )
            body = await response.content()
            self.assertEqual(response.code, 200)
            self.assertEqual(
                response.headers.getRawHeaders(b"content-type"), [contentType]
            )
            self.assertTrue(body.startswith(start), body)
            self.assertEqual(response.headers.getRawHeaders(b"vary"), [b"accept"])
            self.assertEqual(
                response.headers.getRawHeaders(b"access-control-allow-origin"), [b"*"]
            )

    async def test_text(self) -> None:
        """
        C{/now.txt} is worldtimeapi's text form for the default zone:
        Kathmandu, 5 h 45 min ahead of UTC.
        """
        response = await treq.get(self.url + "now.txt", pool=self.pool)
        body = await response.content()
        self.assertEqual(response.code, 200)
        self.assertIn(b"\ndatetime: 2001-09-09T07:31:40.000000+05:45\n", body)
        self.assertIn(b"\ntimezone: Asia/Kathmandu\n", body)
        self.assertIn(b"\nclient_ip: 127.0.0.1\n", body)

    async def test_head(self) -> None:
        """
        HEAD on an API path gives GET's length and no body.
        """
        get = await treq.get(self.url + "api/timezone/Europe/Berlin", pool=self.pool)
        body = await get.content()
        head = await treq.head(self.url + "api/timezone/Europe/Berlin", pool=self.pool)
        self.assertEqual(await head.content(), b"")
        self.assertEqual(
            head.headers.getRawHeaders(b"content-length"), [b"%d" % len(body)]
        )
        self.assertEqual(head.headers.getRawHeaders(b"cache-control"), [b"no-store"])

    async def test_cors(self) -> None:
        """
        A cross-origin request, as a browser sends it, is answered with
        C{Access-Control-Allow-Origin: *}, errors included.
        """
        for path in ["now", "api/timezone/Nowhere", "?iso"]:
            response = await treq.get(
                self.url + path,
                headers=Headers({"Origin": ["https://player.example"]}),
                pool=self.pool,
            )
            await response.content()
            self.assertEqual(
                response.headers.getRawHeaders(b"access-control-allow-origin"),
                [b"*"],
                path,
            )
