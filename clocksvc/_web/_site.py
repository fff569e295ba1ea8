# -*- test-case-name: tests.test_site,tests.test_network -*-
"""
The clocksvc site: the routes' resource tree, with its quick answers and
reporters, on clocksvc's HTTP server; and L{listen}, which puts it on a TCP
port of the caller's reactor.
"""

from __future__ import annotations

from collections.abc import Callable
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from twisted.internet.interfaces import IListeningPort, IReactorTCP, IReactorTime
from twisted.web.resource import Resource

from .._clock import (
    ClockHealth,
    ClockState,
    StepWatch,
    WallClock,
    defaultReactor,
    readKernelClock,
)
from .._http import ClockSite, Forwarding, IReporter, Limits, TrustedProxies
from .._time import (
    LeapSecondList,
    ZoneCatalogue,
    defaultCatalogue,
    leapSecondList,
    serverZoneName,
)
from ._access import AccessLog
from ._geoip import GeoIP
from ._health import Readiness
from ._metrics import SiteMetrics
from ._quick import QuickAnswers
from ._renamed import clockRenamed, wallClockOf
from ._routes import ROUTES, Parts, buildTree, metricLabellers, metricLabels
from ._signedtime import RoughtimeService, reportRoughtime
from ._sntp import NTPStatus

__all__ = [
    "buildAdminSite",
    "buildRoot",
    "buildSite",
    "clockStateOf",
    "listen",
    "makeParts",
    "metricsOf",
    "partsOf",
    "resolveZone",
]


#: What each site L{buildSite} built was made of, for its admin site.
_parts: WeakKeyDictionary[ClockSite, Parts] = WeakKeyDictionary()


def resolveZone(
    name: str | None, catalogue: ZoneCatalogue = defaultCatalogue
) -> ZoneInfo:
    """
    @param name: a zone name in any letter case; L{None} for the process's
        local zone (or UTC, if it has no name: L{serverZoneName}).
    @return: the zone.
    @raise ValueError: if there is no zone of that name.
    """
    return ZoneInfo(serverZoneName(name, catalogue)[0])


def metricsOf(site: ClockSite) -> SiteMetrics | None:
    """
    @return: the metrics that C{site} reports to, if it has them.
    """
    for reporter in site.reporters:
        if isinstance(reporter, SiteMetrics):
            return reporter
    return None


def makeParts(
    wallClock: IReactorTime,
    timers: IReactorTime,
    timezone: str | None = None,
    limits: Limits | None = None,
    *,
    readClock: Callable[[], ClockState] = readKernelClock,
    draining: Callable[[], bool] = lambda: False,
    readiness: Readiness | None = None,
    geoip: GeoIP | None = None,
    roughtime: RoughtimeService | None = None,
    leapSeconds: LeapSecondList | None = None,
) -> Parts:
    """
    Make what a tree of clocksvc's resources is made of: the one watch of
    the wall clock's steps, the one reader of the clock's state, which the
    metrics report, and the SNTP status beside them.

    @param wallClock: where every resource reads the time of day.
    @param timers: where timers run (the stream's ticker), and what tells
        how old a reading of the clock's state is.
    @param timezone: the server's zone, by name; by default the process's
        local zone.
    @param limits: the limits; by default L{Limits}'s defaults.
    @param readClock: reads the state of the server's clock; by default
        from the kernel.
    @param draining: says whether the site is shutting down; by default
        never.
    @param readiness: when C{/readyz} says ready; by default whenever the
        site is not draining.
    @param geoip: the IP geolocation database of C{/api/ip}, if any.
    @param roughtime: the Roughtime server, if any, whose counts the
        metrics report.
    @param leapSeconds: the leap-second list; by default the one installed
        that expires last.
    @return: the parts.
    @raise ValueError: if C{timezone} names no zone.
    """
    metrics = SiteMetrics(metricLabels(), metricLabellers())
    watch = StepWatch(wallClock, timers)
    health = ClockHealth(timers, readClock, watch, wallClock)
    metrics.reportClock(health, watch)
    if roughtime is not None:
        reportRoughtime(metrics.registry, roughtime.responder.stats)
    if leapSeconds is None:
        leapSeconds = leapSecondList()
    return Parts(
        wallClock=wallClock,
        catalogue=defaultCatalogue,
        defaultZone=resolveZone(timezone),
        limits=Limits() if limits is None else limits,
        draining=draining,
        metrics=metrics,
        timers=timers,
        health=health,
        watch=watch,
        readiness=Readiness() if readiness is None else readiness,
        geoip=geoip,
        roughtime=roughtime,
        leapSeconds=leapSeconds,
        ntp=NTPStatus(wallClock, timers, health, leapSeconds),
    )


def buildRoot(
    wallClock: IReactorTime,
    timezone: str | None = None,
    limits: Limits | None = None,
    readClock: Callable[[], ClockState] = readKernelClock,
) -> Resource:
    """
    Build clocksvc's public resource tree, without C{/healthz} and
    C{/metrics}, which need a site: to mount in a tree of one's own, or to
    test with C{StubTreq}.

    @param wallClock: where every resource reads the time of day; and,
        as C{StubTreq} needs no other, where the timers run.
    @param timezone: the server's zone: its page's, and that of C{/now},
        C{/stream} and C{/} when a client names none; by default the
        process's local zone, whose time the lesson's page shows.
    @param limits: the limits, of which the stream keeps one.
    @param readClock: reads the state of the server's clock; by default
        from the kernel.
    @return: the root resource.
    @raise ValueError: if C{timezone} names no zone.
    """
    parts = makeParts(wallClock, wallClock, timezone, limits, readClock=readClock)
    return buildTree(parts, [route for route in ROUTES if not route.admin])


def buildSite(
    wallClock: IReactorTime,
    timezone: str | None = None,
    limits: Limits | None = None,
    *,
    accessLog: bool | Callable[[str], None] = False,
    adminResources: bool = True,
    trustedProxies: TrustedProxies | None = None,
    timers: IReactorTime | None = None,
    readClock: Callable[[], ClockState] = readKernelClock,
    readiness: Readiness | None = None,
    geoip: GeoIP | None = None,
    roughtime: RoughtimeService | None = None,
    leapSeconds: LeapSecondList | None = None,
) -> ClockSite:
    """
    Build the site that serves clocksvc's routes (L{ROUTES}).

    @param wallClock: where every resource reads the time of day; and,
        unless C{timers} is given, where the site runs its timers, so that a
        test's one clock drives both.
    @param timezone: the server's zone: its page's, and that of C{/now},
        C{/stream} and C{/} when a client names none; by default the
        process's local zone, whose time the lesson's page shows.
    @param limits: the limits to keep; by default L{Limits}'s defaults.
    @param accessLog: whether each answered request is logged: C{True} as
        an event of L{accessLog<clocksvc._web.accessLog>}, or a callable to
        write each line to (the log's writer), which costs the reactor
        less.
    @param adminResources: whether C{/healthz}, C{/readyz} and C{/metrics}
        are served here; if not, serve them with L{buildAdminSite}.
    @param timers: where the site runs its timers (connection timeouts, the
        stream's ticker) and times requests: a clock that is never stepped.
    @param readClock: reads the state of the server's clock; by default
        from the kernel.
    @param readiness: when C{/readyz} says ready; by default whenever the
        site is not draining.
    @param trustedProxies: the proxies whose forwarding fields give a
        request's client address and scheme; by default none.
    @param geoip: the IP geolocation database of C{/api/ip}; without one,
        C{/api/ip} knows no address.
    @param roughtime: the Roughtime server, for C{/roughtime.json},
        C{/healthz} and C{/metrics}; without one, C{/roughtime.json} is 501.
    @param leapSeconds: the leap-second list; by default the one installed
        that expires last (L{leapSecondList<clocksvc._time.leapSecondList>}).
    @return: the site, ready to listen with.
    @raise ValueError: if C{timezone} names no zone.
    """
    site: ClockSite | None = None
    parts = makeParts(
        wallClock,
        wallClock if timers is None else timers,
        timezone,
        limits,
        readClock=readClock,
        draining=lambda: site is not None and site.draining,
        readiness=readiness,
        geoip=geoip,
        roughtime=roughtime,
        leapSeconds=leapSeconds,
    )
    metrics = parts.metrics
    routes = [route for route in ROUTES if adminResources or not route.admin]
    root = buildTree(parts, routes)
    reporters: list[IReporter] = [metrics]
    if accessLog:
        reporters.append(AccessLog(None if accessLog is True else accessLog))
    quick = QuickAnswers(wallClock, root)
    forwarding = (
        Forwarding(trustedProxies, metrics.forwardedInvalid.inc)
        if trustedProxies
        else None
    )
    site = ClockSite(
        root,
        parts.timers,
        parts.limits,
        reporters,
        quick.answer,
        forwarding,
        wallClock=wallClock,
        proxyRefused=metrics.proxyRefused,
    )
    _parts[site] = parts
    stream = root.getStaticEntity(b"stream")
    site.whenDraining(stream.closeAll)
    built = site
    metrics.connections.set_function(lambda: built.openConnections)
    metrics.streamClients.set_function(lambda: stream.clientCount)
    return site


def partsOf(site: ClockSite) -> Parts:
    """
    @param site: a site that L{buildSite} built.
    @return: what it was built of.
    @raise ValueError: if L{buildSite} did not build it.
    """
    parts = _parts.get(site)
    if parts is None:
        raise ValueError("the site was not built by buildSite")
    return parts


def clockStateOf(site: ClockSite) -> ClockState:
    """
    @param site: a site that L{buildSite} built.
    @return: the state of its clock, as its answers report it; read now,
        if it was not within the last second, and logged if it changed.
    @raise ValueError: if L{buildSite} did not build it.
    """
    parts = _parts.get(site)
    if parts is None:
        raise ValueError("the site was not built by buildSite")
    return parts.health.state()


def buildAdminSite(site: ClockSite) -> ClockSite:
    """
    Build a site of its own for C{site}'s C{/healthz}, C{/readyz} and
    C{/metrics}, so
    that they need not be public.

    @param site: the site they describe.
    @return: the admin site.
    """
    # The same parts: the same metrics, clock state and drain.
    parts = _parts.get(site)
    if parts is None or metricsOf(site) is None:
        raise ValueError("the site has no metrics to serve")
    root = buildTree(parts, [route for route in ROUTES if route.admin])
    return ClockSite(
        root,
        site.timers,
        site.limits,
        wallClock=site.wallClock,
        proxyRefused=site.proxyRefused,
    )


@clockRenamed
def listen(
    port: int = 8880,
    interface: str = "",
    *,
    reactor: IReactorTCP | None = None,
    wallClock: IReactorTime | None = None,
    timers: IReactorTime | None = None,
    timezone: str | None = None,
    clock: IReactorTime | None = None,
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
    @param wallClock: where the time of day comes from; by default the
        system's clock (C{time.time()}).
    @param timers: where the site's timers run (idle timeouts, deadlines,
        the stream's ticker), which also time requests; by default
        C{reactor}.
    @param timezone: the server's zone, as an IANA name in any letter case:
        its page's, and that of C{/now}, C{/stream} and C{/} when a client
        names none; by default the process's local zone.
    @param clock: deprecated since clocksvc 0.2.0, for C{wallClock} (and
        C{timers}, unless they are given), which it stands for.
    @return: the listening port.
    @raise ValueError: if C{timezone} names no zone.
    @raise twisted.internet.error.CannotListenError: if the port cannot be
        bound, for example because it is in use.
    """
    if reactor is None:
        reactor = defaultReactor()
    if clock is not None and timers is None:
        # What the deprecated keyword meant: one clock for both.
        timers = clock
    wallClock = wallClockOf(wallClock, clock)
    if timers is None:
        timers = IReactorTime(reactor)
    if wallClock is None:
        # The time of day from the system's clock, whatever the reactor
        # schedules on.
        wallClock = WallClock(timers)
    site = buildSite(wallClock, timezone, timers=timers)
    # Site is a ServerFactory, but Twisted 26.10 annotates its protocol
    # attribute in a way mypy cannot match to listenTCP's parameter type.
    return reactor.listenTCP(port, site, interface=interface)  # type: ignore[arg-type]
