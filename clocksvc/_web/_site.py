# -*- test-case-name: tests.test_site,tests.test_network -*-
"""
The clocksvc site: the routes' resource tree, with its quick answers and
reporters, on clocksvc's HTTP server; and L{listen}, which puts it on a TCP
port of the caller's reactor.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from twisted.internet.interfaces import IListeningPort, IReactorTCP, IReactorTime
from twisted.web.resource import Resource

from .._http import ClockSite, Forwarding, IReporter, Limits, TrustedProxies
from .._time import ZoneCatalogue, defaultCatalogue
from ._access import AccessLog
from ._metrics import SiteMetrics
from ._quick import QuickAnswers
from ._reactors import defaultReactor
from ._routes import ROUTES, Parts, buildTree, metricLabels

__all__ = [
    "accessLogged",
    "buildAdminSite",
    "buildRoot",
    "buildSite",
    "listen",
    "metricsOf",
    "resolveZone",
]


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


def metricsOf(site: ClockSite) -> SiteMetrics | None:
    """
    @return: the metrics that C{site} reports to, if it has them.
    """
    for reporter in site.reporters:
        if isinstance(reporter, SiteMetrics):
            return reporter
    return None


def accessLogged(site: ClockSite) -> bool:
    """
    @return: whether C{site} logs each request it answers.
    """
    return any(isinstance(reporter, AccessLog) for reporter in site.reporters)


def buildRoot(
    clock: IReactorTime, timezone: str = "UTC", limits: Limits | None = None
) -> Resource:
    """
    Build clocksvc's public resource tree, without C{/healthz} and
    C{/metrics}, which need a site: to mount in a tree of one's own, or to
    test with C{StubTreq}.

    @param clock: where every resource reads the time.
    @param timezone: the zone of C{/now} and C{/} when a client names none.
    @param limits: the limits, of which the stream keeps one.
    @return: the root resource.
    @raise ValueError: if C{timezone} names no zone.
    """
    parts = Parts(
        clock,
        defaultCatalogue,
        resolveZone(timezone),
        Limits() if limits is None else limits,
        lambda: False,
        SiteMetrics(metricLabels()),
    )
    return buildTree(parts, [route for route in ROUTES if not route.admin])


def buildSite(
    clock: IReactorTime,
    timezone: str = "UTC",
    limits: Limits | None = None,
    *,
    accessLog: bool = False,
    adminResources: bool = True,
    trustedProxies: TrustedProxies | None = None,
) -> ClockSite:
    """
    Build the site that serves clocksvc's routes (L{ROUTES}).

    @param clock: where every resource reads the time; the site also runs its
        connection timeouts on it, so that a test's clock drives them too.
    @param timezone: the zone of C{/now} and C{/} when a client names none.
    @param limits: the limits to keep; by default L{Limits}'s defaults.
    @param accessLog: whether each answered request is logged.
    @param adminResources: whether C{/healthz} and C{/metrics} are served
        here; if not, serve them with L{buildAdminSite}.
    @param trustedProxies: the proxies whose forwarding fields give a
        request's client address and scheme; by default none.
    @return: the site, ready to listen with.
    @raise ValueError: if C{timezone} names no zone.
    """
    limits = Limits() if limits is None else limits
    metrics = SiteMetrics(metricLabels())
    site: ClockSite | None = None
    parts = Parts(
        clock,
        defaultCatalogue,
        resolveZone(timezone),
        limits,
        lambda: site is not None and site.draining,
        metrics,
    )
    root = buildTree(
        parts, [route for route in ROUTES if adminResources or not route.admin]
    )
    reporters: list[IReporter] = [metrics]
    if accessLog:
        reporters.append(AccessLog())
    quick = QuickAnswers(clock, root, parts.defaultZone)
    forwarding = (
        Forwarding(trustedProxies, metrics.forwardedInvalid.inc)
        if trustedProxies
        else None
    )
    site = ClockSite(root, clock, limits, reporters, quick.answer, forwarding)
    stream = root.getStaticEntity(b"stream")
    site.whenDraining(stream.closeAll)
    built = site
    metrics.connections.set_function(lambda: built.openConnections)
    metrics.streamClients.set_function(lambda: stream.clientCount)
    return site


def buildAdminSite(site: ClockSite) -> ClockSite:
    """
    Build a site of its own for C{site}'s C{/healthz} and C{/metrics}, so
    that they need not be public.

    @param site: the site they describe.
    @return: the admin site.
    """
    metrics = metricsOf(site)
    if metrics is None:
        raise ValueError("the site has no metrics to serve")
    parts = Parts(
        site.reactor,
        defaultCatalogue,
        resolveZone("UTC"),
        site.limits,
        lambda: site.draining,
        metrics,
    )
    root = buildTree(parts, [route for route in ROUTES if route.admin])
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
