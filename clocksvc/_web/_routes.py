# -*- test-case-name: tests.test_site,tests.test_openapi,tests.test_metrics -*-
"""
clocksvc's routes, declared once: each endpoint's first path segment, its
label in C{/metrics}, its paths in C{/openapi.json}, and how its resource is
made. The resource tree, the metrics' labels, the OpenAPI paths, and the
quick answers are all derived from L{ROUTES}; adding an endpoint is one
entry here, plus its resource and tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from twisted.internet.interfaces import IReactorTime
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, Resource

from .._http import Limits
from .._time import LeapSecondList, ZoneCatalogue
from ._api import APIDirectory, Format, NegotiatedRoot, Now, Timezones
from ._clockhealth import ClockHealth, StepWatch
from ._conversions import Convert, Transitions
from ._coordinates import Coordinates
from ._geoip import GeoIP, IPZone
from ._health import Health, Readiness, Ready
from ._leap import LeapSeconds
from ._live import FAVICON_CACHE, LivePage, StaticFile
from ._metrics import MetricsPage, SiteMetrics
from ._openapi import OpenAPI
from ._page import ClockPage
from ._resource import NotFound
from ._signedtime import RoughtimeService, ServerList
from ._sntp import NTPStatus
from ._stream import Stream, Ticker
from ._sync import Timesync, WellKnownTime
from ._timeapi import (
    TimeAPI,
    TimeAPIDirectory,
    TimeAPIResource,
    timeAPILabel,
    timeAPIPaths,
)
from ._timenow import TIME_NOW_PATHS, timeNowDirectory

__all__ = [
    "ROUTES",
    "Parts",
    "Route",
    "buildTree",
    "metricLabellers",
    "metricLabels",
    "mounted",
    "openAPIPaths",
]


@dataclass(frozen=True)
class Parts:
    """
    What the resources are made of.

    @ivar clock: where every resource reads the time.
    @ivar catalogue: the zones.
    @ivar defaultZone: the server's one zone: its page's at C{/}, and that
        of C{/now}, C{/stream} and C{/} when a client names none; the
        server's time at C{/live} is in it (C{defaultZone.key} names it).
    @ivar limits: the site's limits, of which the stream keeps one.
    @ivar draining: says whether the site is shutting down, for C{/healthz}
        and C{/readyz}.
    @ivar metrics: the site's metrics, for C{/metrics}.
    @ivar timers: where timers run (the stream's ticker).
    @ivar health: the server clock's state, for C{Clock-Status},
        C{/healthz} and C{/readyz}.
    @ivar watch: finds steps of the wall clock.
    @ivar readiness: when C{/readyz} says the server is ready.
    @ivar geoip: the IP geolocation database of C{/api/ip}, if the server
        has one.
    @ivar roughtime: the Roughtime server, if there is one.
    @ivar leapSeconds: the leap-second list, if one was found.
    @ivar ntp: the site's SNTP servers, which C{/healthz} reports.
    """

    clock: IReactorTime
    catalogue: ZoneCatalogue
    defaultZone: ZoneInfo
    limits: Limits
    draining: Callable[[], bool]
    metrics: SiteMetrics
    timers: IReactorTime
    health: ClockHealth
    watch: StepWatch
    readiness: Readiness
    geoip: GeoIP | None = None
    roughtime: RoughtimeService | None = None
    leapSeconds: LeapSecondList | None = None
    ntp: NTPStatus | None = None


@dataclass(frozen=True)
class Route:
    """
    One endpoint.

    @ivar segment: the first segment of its path, which the resource is
        mounted at; or the first two, as C{b"api/ip"}, to mount it below
        the resource of a route before it.
    @ivar label: its C{endpoint} label in C{/metrics}.
    @ivar paths: its paths in C{/openapi.json}.
    @ivar make: makes its resource.
    @ivar admin: whether it is one of the operator's (C{/healthz},
        C{/metrics}), which C{--admin-listen} moves to a site of their own.
    @ivar deeper: labels in C{/metrics} for paths below the segment, as
        (pattern, label): a pattern C{api/convert} names that path and those
        below it; one with a C{*}, such as C{api/timezone/*/transitions},
        the paths that start with what is before it and end with what is
        after it.
    @ivar quick: the name of the quick answer (in
        L{QuickAnswers<clocksvc._web._quick.QuickAnswers>}) that answers its
        plain C{GET} and C{HEAD} requests from their head, as its resource
        would; L{None} if its resource answers them all.
    @ivar labelOf: gives the label in C{/metrics} of a path (without its
        first slash and its query) by the rule that routes it, where that
        rule is not a pattern of L{deeper}'s (timeapi.io's paths, in any
        letter case); L{None} for a path it does not name.
    """

    segment: bytes
    label: str
    paths: tuple[str, ...]
    make: Callable[[Parts], IResource]
    admin: bool = False
    quick: str | None = None
    deeper: tuple[tuple[bytes, str], ...] = ()
    labelOf: Callable[[bytes], str | None] | None = None


def _now(forced: Format | None) -> Callable[[Parts], Now]:
    """
    @param forced: the form C{/now.json} and C{/now.txt} always answer in;
        L{None} for C{/now}, which negotiates it.
    @return: makes the resource of one of the C{/now} routes (and the one
        that renders C{/}'s document).
    """
    return lambda parts: Now(
        parts.clock, parts.catalogue, parts.defaultZone, forced, health=parts.health
    )


def _timezones(parts: Parts) -> IResource:
    # /api, where timeapi.io's paths (below) are found in any letter case.
    api = TimeAPIDirectory()
    transitions = Transitions(parts.clock)
    api.putChild(
        b"timezone",
        Timezones(
            parts.clock,
            parts.catalogue,
            health=parts.health,
            below={b"transitions": transitions.renderZone},
        ),
    )
    api.putChild(b"convert", Convert(parts.catalogue, health=parts.health))
    api.putChild(
        b"timezone.txt",
        Timezones(parts.clock, parts.catalogue, "text", health=parts.health),
    )
    return api


def _wellKnown(parts: Parts) -> IResource:
    wellKnown = APIDirectory()
    wellKnown.putChild(b"time", WellKnownTime(parts.clock, health=parts.health))
    return wellKnown


def _stream(parts: Parts) -> IResource:
    stream = Stream(
        Ticker(parts.clock, parts.timers, parts.watch),
        parts.catalogue,
        parts.defaultZone,
        parts.limits.stalledStreamSeconds,
        health=parts.health,
    )
    parts.watch.listen(stream.stepped)
    return stream


def _zonePaths() -> tuple[str, ...]:
    paths = ["/api/timezone"]
    for depth in range(1, 4):
        paths.append(
            "/api/timezone/" + "/".join(["{area}", "{location}", "{region}"][:depth])
        )
    zones = tuple(path for plain in paths for path in (plain, plain + ".txt"))
    # A zone's transitions, below a zone of two or three segments.
    return (*zones, *(plain + "/transitions" for plain in paths[2:]))


def _ip(forced: Format | None) -> Callable[[Parts], IResource]:
    def make(parts: Parts) -> IResource:
        return IPZone(
            parts.clock, parts.catalogue, parts.geoip, forced, health=parts.health
        )

    return make


def _leapSeconds(forced: Format | None) -> Callable[[Parts], IResource]:
    def make(parts: Parts) -> IResource:
        return LeapSeconds(parts.clock, parts.leapSeconds, forced, health=parts.health)

    return make


def _timeAPI(segment: bytes) -> Callable[[Parts], IResource]:
    """
    @param segment: a segment below C{/api}, as timeapi.io spells it.
    @return: makes the resource of timeapi.io's endpoints below it.
    """

    def make(parts: Parts) -> IResource:
        api = TimeAPI(parts.catalogue, parts.geoip)
        return TimeAPIResource(api, parts.clock, segment, health=parts.health)

    return make


ROUTES: tuple[Route, ...] = (
    Route(
        b"",
        "/",
        ("/",),
        lambda parts: NegotiatedRoot(
            ClockPage(parts.clock, parts.defaultZone),
            _now(None)(parts),
            parts.clock,
        ),
        quick="root",
    ),
    Route(
        b"now",
        "/now",
        ("/now",),
        _now(None),
        quick="now",
    ),
    Route(
        b"now.json",
        "/now.json",
        ("/now.json",),
        _now("json"),
        quick="now.json",
    ),
    Route(
        b"now.txt",
        "/now.txt",
        ("/now.txt",),
        _now("text"),
        quick="now.txt",
    ),
    Route(
        b"api",
        "/api/timezone",
        (*_zonePaths(), "/api/convert"),
        _timezones,
        quick="zones",
        deeper=(
            (b"api/convert", "/api/convert"),
            (b"api/timezone/*/transitions", "/api/timezone/transitions"),
        ),
    ),
    Route(
        b"api/ip",
        "/api/ip",
        ("/api/ip", "/api/ip/{address}", "/api/ip/{address}.txt"),
        _ip(None),
        quick="ip",
    ),
    Route(b"api/ip.txt", "/api/ip", ("/api/ip.txt",), _ip("text"), quick="ip.txt"),
    Route(
        b"api/leap-seconds",
        "/api/leap-seconds",
        ("/api/leap-seconds",),
        _leapSeconds(None),
    ),
    Route(
        b"api/leap-seconds.txt",
        "/api/leap-seconds",
        ("/api/leap-seconds.txt",),
        _leapSeconds("text"),
    ),
    Route(
        b"api/coordinates",
        "/api/coordinates",
        ("/api/coordinates",),
        lambda parts: Coordinates(parts.clock, health=parts.health),
    ),
    # timeapi.io's API, below /api in any letter case (TimeAPIDirectory).
    *(
        Route(
            b"api/" + segment,
            "/api/" + segment.decode(),
            timeAPIPaths(segment),
            _timeAPI(segment),
            labelOf=timeAPILabel,
        )
        for segment in (b"Time", b"TimeZone", b"Conversion")
    ),
    # time.now's API.
    Route(
        b"developer",
        "/developer/api",
        TIME_NOW_PATHS,
        lambda parts: timeNowDirectory(
            parts.clock, parts.catalogue, parts.geoip, parts.health
        ),
        deeper=(
            (b"developer/api/timezone", "/developer/api/timezone"),
            (b"developer/api/ip", "/developer/api/ip"),
        ),
    ),
    Route(
        b"openapi.json",
        "/openapi.json",
        ("/openapi.json",),
        lambda parts: OpenAPI(openAPIPaths()),
    ),
    Route(
        b"timesync",
        "/timesync",
        ("/timesync",),
        lambda parts: Timesync(parts.clock, health=parts.health),
        quick="timesync",
    ),
    Route(
        b".well-known",
        "/.well-known/time",
        ("/.well-known/time",),
        _wellKnown,
        quick="well-known",
    ),
    Route(
        b"stream",
        "/stream",
        ("/stream",),
        _stream,
    ),
    Route(
        b"live",
        "/live",
        ("/live",),
        # In the zone /now answers in: the server's.
        lambda parts: LivePage(parts.clock, parts.health, parts.defaultZone),
    ),
    Route(
        b"live.js",
        "/live.js",
        ("/live.js",),
        lambda parts: StaticFile("live.js", b"text/javascript; charset=utf-8"),
    ),
    Route(
        b"live.css",
        "/live.css",
        ("/live.css",),
        lambda parts: StaticFile("live.css", b"text/css; charset=utf-8"),
    ),
    Route(
        b"favicon.ico",
        "/favicon.ico",
        ("/favicon.ico",),
        lambda parts: StaticFile(
            "favicon.ico", b"image/vnd.microsoft.icon", FAVICON_CACHE
        ),
    ),
    Route(
        b"roughtime.json",
        "/roughtime.json",
        ("/roughtime.json",),
        lambda parts: ServerList(parts.roughtime),
    ),
    Route(
        b"healthz",
        "/healthz",
        ("/healthz",),
        lambda parts: Health(
            parts.draining,
            parts.health,
            roughtime=parts.roughtime,
            ntp=parts.ntp,
            leapSeconds=parts.leapSeconds,
            clock=parts.clock,
        ),
        admin=True,
    ),
    Route(
        b"readyz",
        "/readyz",
        ("/readyz",),
        lambda parts: Ready(parts.draining, parts.health, parts.readiness, parts.ntp),
        admin=True,
    ),
    Route(
        b"metrics",
        "/metrics",
        ("/metrics",),
        lambda parts: MetricsPage(parts.metrics),
        admin=True,
    ),
)


def metricLabels() -> dict[bytes, str]:
    """
    @return: each route's label in C{/metrics}, by its first path segment;
        and the labels of paths below them (L{Route.deeper}).
    """
    labels = {route.segment: route.label for route in ROUTES}
    for route in ROUTES:
        labels.update(route.deeper)
    return labels


def metricLabellers() -> dict[bytes, tuple[Callable[[bytes], str | None], ...]]:
    """
    @return: the routes' rules for the labels of paths (L{Route.labelOf}),
        by the first segment of the paths they name, each once.
    """
    labellers: dict[bytes, tuple[Callable[[bytes], str | None], ...]] = {}
    for route in ROUTES:
        if route.labelOf is not None:
            first = route.segment.split(b"/")[0]
            if route.labelOf not in labellers.get(first, ()):
                labellers[first] = (*labellers.get(first, ()), route.labelOf)
    return labellers


def openAPIPaths() -> list[str]:
    """
    @return: every route's paths in C{/openapi.json}, in the routes' order.
    """
    return [path for route in ROUTES for path in route.paths]


class _Root(Resource):
    """
    The root of a tree: the clock page at C{/}, each endpoint as a child,
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


def buildTree(parts: Parts, routes: Iterable[Route]) -> Resource:
    """
    @param parts: what the resources are made of.
    @param routes: the routes to mount.
    @return: a root with each of C{routes} mounted.
    """
    root = _Root()
    for route in routes:
        parent: Resource = root
        *above, segment = route.segment.split(b"/")
        for name in above:
            parent = parent.children[name]
        parent.putChild(segment, route.make(parts))
    return root


def mounted(root: Resource, segment: bytes) -> IResource | None:
    """
    @param root: a tree that L{buildTree} built.
    @param segment: a route's L{Route.segment}.
    @return: the resource mounted there now, if any.
    """
    found: IResource | None = root
    for name in segment.split(b"/"):
        children = getattr(found, "children", {})
        found = children.get(name)
    return found
