"""
Tests for L{clocksvc._web._site}: the resource tree and L{clocksvc.listen}, in
memory.
"""

from __future__ import annotations

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.server import Site

from clocksvc import listen
from clocksvc._web._site import buildRoot, buildSite

from ._helpers import BILLENNIUM, clockAt, siteOf, stubTreq, urlOf, useTimezone

PAGE = b"<html><body>Sun Sep  9 01:46:40 2001</body></html>"


class RootTests(SynchronousTestCase):
    """
    The site serves the clock page at C{/} and 404 everywhere else.
    """

    def setUp(self) -> None:
        useTimezone(self, "UTC")
        self.treq = stubTreq(buildRoot(clockAt(BILLENNIUM)))

    def test_root(self) -> None:
        """
        C{/} is the clock page, with or without a query string.
        """
        for url in ["http://clock.example/", "http://clock.example/?x=1"]:
            response = self.successResultOf(self.treq.get(url))
            self.assertEqual(response.code, 200, url)
            self.assertEqual(self.successResultOf(response.content()), PAGE)

    def test_notFound(self) -> None:
        """
        Any other path is 404 with a one-line plain-text body, whatever the
        method; an empty segment is no way round it.
        """
        for method, path in [
            ("GET", "/nope"),
            ("GET", "/nope/deeper"),
            ("GET", "//"),
            ("GET", "//x"),
            ("GET", "/%00"),
            ("GET", "/openapi.json/more"),
            ("HEAD", "/nope"),
            ("POST", "/nope"),
        ]:
            response = self.successResultOf(
                self.treq.request(method, "http://clock.example" + path)
            )
            self.assertEqual(response.code, 404, (method, path))
            self.assertEqual(
                response.headers.getRawHeaders(b"content-type"),
                [b"text/plain; charset=utf-8"],
            )
            expected = b"" if method == "HEAD" else b"404 Not Found\n"
            self.assertEqual(self.successResultOf(response.content()), expected)


class BuildSiteTests(SynchronousTestCase):
    """
    L{buildSite} builds a L{Site} that keeps its time on the given clock.
    """

    def test_clock(self) -> None:
        """
        The site schedules its timeouts on the clock it is given, so that a
        test's clock drives them.
        """
        clock = clockAt(BILLENNIUM)
        site = buildSite(clock)
        self.assertIsInstance(site, Site)
        self.assertIs(site.reactor, clock)


class ListenTests(SynchronousTestCase):
    """
    L{listen} listens with the given reactor and leaves running it to the
    caller.
    """

    def test_defaults(self) -> None:
        """
        By default it listens on TCP port 8880 on all interfaces, like the
        lesson, and neither runs nor stops the reactor.
        """
        reactor = MemoryReactorClock()
        port = listen(reactor=reactor)
        [(portNumber, factory, _, interface)] = reactor.tcpServers
        self.assertEqual((portNumber, interface), (8880, ""))
        self.assertIsInstance(factory, Site)
        self.assertEqual(urlOf(port), "http://0.0.0.0:8880/")
        self.assertFalse(reactor.hasRun)
        self.assertFalse(reactor.hasStopped)

    def test_portAndInterface(self) -> None:
        """
        The port and the interface are passed to C{listenTCP}.
        """
        reactor = MemoryReactorClock()
        listen(0, "127.0.0.1", reactor=reactor)
        [(portNumber, _, _, interface)] = reactor.tcpServers
        self.assertEqual((portNumber, interface), (0, "127.0.0.1"))

    def test_clockDefaultsToReactor(self) -> None:
        """
        Without a clock, the site reads the time from the reactor.
        """
        reactor = MemoryReactorClock()
        listen(reactor=reactor)
        self.assertIs(siteOf(reactor).reactor, reactor)

    def test_clock(self) -> None:
        """
        With a clock, the site reads the time from that clock and serves the
        page for it.
        """
        useTimezone(self, "UTC")
        reactor = MemoryReactorClock()
        clock = clockAt(BILLENNIUM)
        listen(reactor=reactor, clock=clock)
        site = siteOf(reactor)
        self.assertIs(site.reactor, clock)
        response = self.successResultOf(
            stubTreq(site.resource).get("http://clock.example/")
        )
        self.assertEqual(self.successResultOf(response.content()), PAGE)

    def test_independent(self) -> None:
        """
        Two calls build two sites with trees of their own.
        """
        reactor = MemoryReactorClock()
        listen(reactor=reactor)
        listen(8881, reactor=reactor)
        first, second = siteOf(reactor, 0), siteOf(reactor, 1)
        self.assertIsNot(first, second)
        self.assertIsNot(first.resource, second.resource)
