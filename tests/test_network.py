"""
Tests for clocksvc over real sockets: L{clocksvc.listen} on 127.0.0.1 port 0,
requests made with treq.
"""

from __future__ import annotations

import json
import time

import treq
from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.defer import maybeDeferred
from twisted.internet.endpoints import UNIXServerEndpoint
from twisted.internet.interfaces import IListeningPort, IReactorTime
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.http_headers import Headers
from twisted.web.resource import Resource
from twisted.web.server import Site
from zope.interface.verify import verifyObject

from clocksvc import ClockPage, listen
from clocksvc._web._site import buildSite

from ._helpers import BILLENNIUM, UNIXEndpoints, clockAt, urlOf, useTimezone

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
        port = listen(0, "127.0.0.1", wallClock=self.clock)
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
        port = listen(0, "127.0.0.1", wallClock=self.clock)
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
        first = listen(0, "127.0.0.1", wallClock=self.clock)
        second = listen(0, "127.0.0.1", wallClock=later)
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
        # The same Site annotation gap as in clocksvc._web._site.listen.
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
            0, "127.0.0.1", wallClock=clockAt(BILLENNIUM), timezone="Asia/Kathmandu"
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


class SyncNetworkTests(TestCase):
    """
    Clock synchronisation over a real socket, with the real clock.
    """

    def setUp(self) -> None:
        self.pool = HTTPConnectionPool(reactor, persistent=False)
        self.addCleanup(self.pool.closeCachedConnections)
        port = listen(0, "127.0.0.1")
        self.addCleanup(port.stopListening)
        self.url = urlOf(port)

    async def test_exchange(self) -> None:
        """
        Under the real clock, the server's receive and transmit times fall
        between the client's send and receive times: t1 <= t2 <= t3 <= t4.
        """
        t1 = time.time() * 1000
        response = await treq.get(self.url + f"now?t1={t1:.3f}", pool=self.pool)
        answer = json.loads(await response.content())
        t4 = time.time() * 1000
        self.assertEqual(answer["t1"], round(t1, 3))
        self.assertLessEqual(answer["t1"], answer["t2"])
        self.assertLessEqual(answer["t2"], answer["t3"])
        self.assertLessEqual(answer["t3"], t4)

    async def test_keepAlive(self) -> None:
        """
        Samples go over one kept-alive connection: a new connection per
        sample would skew the estimate.
        """
        pool = HTTPConnectionPool(reactor, persistent=True)
        self.addCleanup(pool.closeCachedConnections)
        for _ in range(3):
            response = await treq.get(self.url + "now?t1=0", pool=pool)
            await response.content()
            self.assertIsNone(response.headers.getRawHeaders(b"connection"))
        self.assertEqual(sum(len(c) for c in pool._connections.values()), 1)

    async def test_stream(self) -> None:
        """
        C{/stream} delivers tick events over a real connection, with ids one
        second apart, each carrying the document of its own second; when
        the client hangs up, the server's ticker stops.
        """
        received = b""

        class Enough(Exception):
            """
            Two ticks are in: treq closes the connection on a collector's
            error.
            """

        def collect(data: bytes) -> None:
            nonlocal received
            received += data
            if received.count(b"event: tick") >= 2:
                raise Enough()

        response = await treq.get(self.url + "stream", pool=self.pool, unbuffered=True)
        self.assertEqual(
            response.headers.getRawHeaders(b"content-type"),
            [b"text/event-stream; charset=utf-8"],
        )
        with self.assertRaises(Enough):
            await treq.collect(response, collect)
        self.assertTrue(received.startswith(b"retry: 1000\n\n"), received[:40])
        ticks = [block for block in received.split(b"\n\n") if b"event: tick" in block]
        ids = [int(block.split(b"\n")[0].removeprefix(b"id: ")) for block in ticks]
        self.assertEqual(ids[1], ids[0] + 1)
        document = json.loads(ticks[0].split(b"data: ", 1)[1])
        self.assertEqual(document["unixtime"], ids[0])
        # The server learns of the hang-up on a later turn of the reactor.
        for _ in range(200):
            if not [
                call
                for call in reactor.getDelayedCalls()
                # IDelayedCall does not declare func, which DelayedCall has.
                if getattr(getattr(call, "func", None), "__qualname__", "")
                == "Ticker._tick"
            ]:
                break
            await deferLater(reactor, 0.01)
        else:
            self.fail("the ticker still runs after its last client left")

    async def test_unixSocket(self) -> None:
        """
        Over a UNIX socket, the document's C{client_ip} is empty: the client
        has no IP address.
        """
        path = self.mktemp()
        site = buildSite(IReactorTime(reactor))
        port = await UNIXServerEndpoint(reactor, path).listen(site)
        self.addCleanup(port.stopListening)
        agent = Agent.usingEndpointFactory(reactor, UNIXEndpoints(path), pool=self.pool)
        response = await HTTPClient(agent).get("http://localhost/now")
        document = json.loads(await response.content())
        self.assertEqual(document["client_ip"], "")
        self.assertEqual(document["timezone"], "UTC")
