# -*- test-case-name: tests.test_site,tests.test_network -*-
"""
The clocksvc site: the resource tree behind every listening port, and
L{listen}, which puts it on a TCP port of the caller's reactor.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from twisted.internet.interfaces import IListeningPort, IReactorTCP, IReactorTime
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, Resource

from ._api import APIDirectory, NegotiatedRoot, Now, Timezones
from ._fastpath import QuickAnswers
from ._health import Health
from ._limits import Limits
from ._live import LivePage, StaticFile
from ._metrics import MetricsPage, SiteMetrics
from ._openapi import OpenAPI
from ._page import ClockPage
from ._reactors import defaultReactor
from ._resource import NotFound
from ._server import ClockSite
from ._stream import Stream, Ticker
from ._sync import Timesync, WellKnownTime
from ._zones import ZoneCatalogue, defaultCatalogue

__all__ = ["buildAdminSite", "buildRoot", "buildSite", "listen"]


class _Root(Resource):
    """
    The root of the site: the clock page at C{/}, each endpoint as a child,
    and C{404 Not Found} for every other path.
    """

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        """
        Answer every path no child claims with 404, instead of Twisted's
        HTML error page.
        """
        return NotFound()

    def getChildWithDefault(self, path: bytes, request: IRequest) -> IResource:
        """
        Look up the child for one path segment.

        The page at C{/} is a leaf mounted at the empty segment, so without
        this it would also answer C{//}, C{//anything}: only C{/} itself is.
        """
        if path == b"" and request.postpath:
            return NotFound()
        child: IResource = super().getChildWithDefault(path, request)
        return child


def resolveZone(name: str, catalogue: ZoneCatalogue = defaultCatalogue) -> ZoneInfo:
    """
    @param name: a zone name in any letter case.
    @return: the zone.
    @raise ValueError: if there is no zone of that name.
    """
    zone = catalogue.zone(name)
    if zone is None:
        raise ValueError(f"unknown time zone {name!r}")
    return zone


def buildRoot(
    clock: IReactorTime, timezone: str = "UTC", limits: Limits | None = None
) -> Resource:
    """
    Build clocksvc's resource tree.

    @param clock: where every resource reads the time.
    @param timezone: the zone of C{/now} and C{/} when a client names none.
    @param limits: the limits, of which the stream keeps one.
    @return: the root resource.
    @raise ValueError: if C{timezone} names no zone.
    """
    limits = Limits() if limits is None else limits
    catalogue = defaultCatalogue
    defaultZone = resolveZone(timezone, catalogue)
    now = Now(clock, catalogue, defaultZone)
    api = APIDirectory()
    api.putChild(b"timezone", Timezones(clock, catalogue))
    api.putChild(b"timezone.txt", Timezones(clock, catalogue, "text"))
    wellKnown = APIDirectory()
    wellKnown.putChild(b"time", WellKnownTime(clock))

    root = _Root()
    root.putChild(b"", NegotiatedRoot(ClockPage(clock), now, clock))
    root.putChild(b"now", now)
    root.putChild(b"now.json", Now(clock, catalogue, defaultZone, "json"))
    root.putChild(b"now.txt", Now(clock, catalogue, defaultZone, "text"))
    root.putChild(b"api", api)
    root.putChild(b"openapi.json", OpenAPI())
    root.putChild(b"timesync", Timesync(clock))
    root.putChild(b".well-known", wellKnown)
    root.putChild(
        b"stream",
        Stream(Ticker(clock), catalogue, defaultZone, limits.stalledStreamSeconds),
    )
    root.putChild(b"live", LivePage(clock))
    root.putChild(b"live.js", StaticFile("live.js", b"text/javascript; charset=utf-8"))
    root.putChild(b"live.css", StaticFile("live.css", b"text/css; charset=utf-8"))
    return root


def buildSite(
    clock: IReactorTime,
    timezone: str = "UTC",
    limits: Limits | None = None,
    *,
    accessLog: bool = False,
    adminResources: bool = True,
) -> ClockSite:
    """
    Build the site that serves clocksvc's resource tree.

    @param clock: where every resource reads the time; the site also runs its
        connection timeouts on it, so that a test's clock drives them too.
    @param timezone: the zone of C{/now} and C{/} when a client names none.
    @param limits: the limits to keep; by default L{Limits}'s defaults.
    @param accessLog: whether each answered request is logged.
    @param adminResources: whether C{/healthz} and C{/metrics} are served
        here; if not, serve them with L{buildAdminSite}.
    @return: the site, ready to listen with.
    @raise ValueError: if C{timezone} names no zone.
    """
    limits = Limits() if limits is None else limits
    root = buildRoot(clock, timezone, limits)
    site = ClockSite(root, clock, limits, SiteMetrics(), accessLog)
    site.quickAnswer = QuickAnswers(clock, root, resolveZone(timezone)).answer
    stream = root.getStaticEntity(b"stream")
    site.whenDraining(stream.closeAll)
    if site.metrics is not None:
        site.metrics.streamClients.set_function(lambda: stream.clientCount)
    if adminResources:
        _addAdminResources(root, site)
    return site


def _addAdminResources(root: Resource, site: ClockSite) -> None:
    root.putChild(b"healthz", Health(lambda: site.draining))
    if site.metrics is not None:
        root.putChild(b"metrics", MetricsPage(site.metrics))


def buildAdminSite(site: ClockSite) -> ClockSite:
    """
    Build a site of its own for C{site}'s C{/healthz} and C{/metrics}, so
    that they need not be public.

    @param site: the site they describe.
    @return: the admin site.
    """
    root = _Root()
    _addAdminResources(root, site)
    return ClockSite(root, site.reactor, site.limits)


def listen(
    port: int = 8880,
    interface: str = "",
    *,
    reactor: IReactorTCP | None = None,
    clock: IReactorTime | None = None,
    timezone: str = "UTC",
) -> IListeningPort:
    """
    Serve clocksvc on a TCP port, as the lesson's C{reactor.listenTCP(8880,
    factory)} does, but return the port: the caller owns the reactor, runs it
    and can C{stopListening()}. Nothing here runs or stops the reactor, and
    each call builds a server of its own.

    @param port: the TCP port; C{0} lets the system pick a free one, which
        C{listen(0).getHost().port} tells.
    @param interface: the address to listen on; C{""} means all IPv4
        interfaces, C{"::"} all IPv6 (and, where the system allows, IPv4)
        ones.
    @param reactor: the reactor to listen with; by default the global one.
    @param clock: where the time comes from; by default C{reactor}.
    @param timezone: the zone of C{/now} and C{/} when a client names none,
        as an IANA name in any letter case.
    @return: the listening port.
    @raise ValueError: if C{timezone} names no zone.
    @raise twisted.internet.error.CannotListenError: if the port cannot be
        bound, for example because it is in use.
    """
    if reactor is None:
        reactor = defaultReactor()
    if clock is None:
        clock = IReactorTime(reactor)
    site = buildSite(clock, timezone)
    # Site is a ServerFactory, but Twisted 26.10 annotates its protocol
    # attribute in a way mypy cannot match to listenTCP's parameter type.
    return reactor.listenTCP(port, site, interface=interface)  # type: ignore[arg-type]
