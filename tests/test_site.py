"""
Tests for L{clocksvc._web._site}: the resource tree and L{clocksvc.listen}, in
memory.
"""

from __future__ import annotations

import sys
from dataclasses import fields

from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SkipTest, SynchronousTestCase
from twisted.web.server import Site

from clocksvc import listen
from clocksvc._clock import WallClock
from clocksvc._web._routes import Parts
from clocksvc._web._site import buildRoot, buildSite, makeParts, partsOf

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
        self.assertIs(site.timers, clock)
        self.assertIs(site.wallClock, clock)


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

    def test_clocksDefaultToReactor(self) -> None:
        """
        Without clocks, the site's timers run on the reactor, and it reads
        the time of day from the system's clock beside them.
        """
        reactor = MemoryReactorClock()
        listen(reactor=reactor)
        site = siteOf(reactor)
        self.assertIs(site.timers, reactor)
        self.assertIsInstance(site.wallClock, WallClock)
        self.assertIsNot(site.wallClock, reactor)

    def test_wallClock(self) -> None:
        """
        With a wall clock, the site reads the time of day from it and serves
        the page for it; its timers still run on the reactor.
        """
        useTimezone(self, "UTC")
        reactor = MemoryReactorClock()
        wallClock = clockAt(BILLENNIUM)
        listen(reactor=reactor, wallClock=wallClock)
        site = siteOf(reactor)
        self.assertIs(site.wallClock, wallClock)
        self.assertIs(site.timers, reactor)
        response = self.successResultOf(
            stubTreq(site.resource).get("http://clock.example/")
        )
        self.assertEqual(self.successResultOf(response.content()), PAGE)

    def test_timers(self) -> None:
        """
        With timers, the site runs its timeouts on them, not on the reactor.
        """
        reactor = MemoryReactorClock()
        timers = Clock()
        listen(reactor=reactor, timers=timers)
        site = siteOf(reactor)
        self.assertIs(site.timers, timers)
        self.assertIs(site.reactor, timers)

    def test_clockDeprecated(self) -> None:
        """
        The old C{clock} keyword still gives both clocks, as it did, and
        warns that C{wallClock} replaces it.
        """
        useTimezone(self, "UTC")
        reactor = MemoryReactorClock()
        clock = clockAt(BILLENNIUM)
        listen(reactor=reactor, clock=clock)
        [warning] = self.flushWarnings([self.test_clockDeprecated])
        self.assertEqual(warning["category"], DeprecationWarning)
        self.assertIn("'clock' parameter", warning["message"])
        self.assertIn("please use wallClock instead", warning["message"])
        site = siteOf(reactor)
        self.assertIs(site.wallClock, clock)
        self.assertIs(site.timers, clock)
        response = self.successResultOf(
            stubTreq(site.resource).get("http://clock.example/")
        )
        self.assertEqual(self.successResultOf(response.content()), PAGE)

    def test_clockAndWallClock(self) -> None:
        """
        The old keyword and the new one together are refused.
        """
        with self.assertRaises(TypeError):
            listen(reactor=MemoryReactorClock(), clock=Clock(), wallClock=Clock())
        self.flushWarnings([self.test_clockAndWallClock])

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


class PartsTests(SynchronousTestCase):
    """
    A tree's L{Parts} are made in one place, L{makeParts}, and named where
    they are given.
    """

    def test_keywordsOnly(self) -> None:
        """
        A part given by its position is a L{TypeError}, where Python has
        keyword-only fields (3.10).
        """
        if sys.version_info < (3, 10):
            raise SkipTest("keyword-only fields need Python 3.10")
        parts = makeParts(Clock(), Clock())
        given = [getattr(parts, field.name) for field in fields(parts)]
        self.assertRaises(TypeError, Parts, *given)

    def test_siteParts(self) -> None:
        """
        A site's parts are L{makeParts}'s: its clocks, its metrics, and one
        SNTP status and leap-second list.
        """
        wallClock, timers = clockAt(BILLENNIUM), Clock()
        site = buildSite(wallClock, "UTC", timers=timers)
        parts = partsOf(site)
        self.assertIs(parts.wallClock, wallClock)
        self.assertIs(parts.timers, timers)
        self.assertIs(parts.limits, site.limits)
        self.assertIn(parts.metrics, site.reporters)
        self.assertIsNotNone(parts.ntp)
        self.assertIsNotNone(parts.leapSeconds)
        self.assertEqual(parts.defaultZone.key, "UTC")
        self.assertFalse(parts.draining())
        site.drain()
        self.assertTrue(parts.draining())
