# -*- test-case-name: tests.test_site,tests.test_openapi,tests.test_metrics -*-
"""
clocksvc's routes, declared once: each endpoint's first path segment, its
label in C{/metrics}, its part of the OpenAPI description, and how its
resource is made. The resource tree, the metrics' labels and the OpenAPI
description (L{openAPIDocument}) are all derived from L{ROUTES}, and the
quick answers go down the tree it builds; adding an endpoint is one entry
here, plus its resource (with its C{answer} and its description's
fragment) and tests.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from twisted.internet.interfaces import IReactorTime
from twisted.web.resource import IResource, Resource

from .._clock import ClockHealth, StepWatch
from .._http import Limits
from .._time import LeapSecondList, ZoneCatalogue
from ._answer import Answering
from ._api import (
    APIDirectory,
    Format,
    NegotiatedRoot,
    Now,
    Timezones,
    nowFragment,
    rootFragment,
    zonesFragment,
)
from ._conversions import Convert, Transitions, convertFragment, transitionsFragment
from ._coordinates import Coordinates, coordinatesFragment
from ._geoip import GeoIP, IPZone, ipFragment
from ._health import Health, Readiness, Ready, healthFragment, readyFragment
from ._leap import LeapSeconds, leapFragment
from ._live import FAVICON_CACHE, LivePage, StaticFile, liveFragment, staticFragment
from ._metrics import MetricsPage, SiteMetrics, metricsFragment
from ._openapi import Fragment, OpenAPI, openAPIFragment
from ._openapi import openAPIDocument as assemble
from ._page import ClockPage
from ._resource import NOWHERE
from ._signedtime import RoughtimeService, ServerList, roughtimeFragment
from ._sntp import NTPStatus
from ._stream import Stream, Ticker, streamFragment
from ._sync import Timesync, WellKnownTime, timesyncFragment, wellKnownFragment
from ._timeapi import (
    TimeAPI,
    TimeAPIDirectory,
    TimeAPIResource,
    timeAPILabel,
)
from ._timeapispec import timeAPIFragment
from ._timenow import timeNowDirectory, timeNowFragment

__all__ = [
    "OPERATOR_PATHS",
    "ROUTES",
    "Parts",
    "Route",
    "buildTree",
    "metricLabellers",
    "metricLabels",
    "openAPIDocument",
    "openAPIPaths",
]


#: Keyword-only fields, where Python has them (3.10): a tree's parts are
#: many, and several of one type, so each is named where it is given. On
#: Python 3.9 (Debian's PyPy) they are positional too; everywhere else a
#: positional one fails at once, as tests.test_site checks.
_KEYWORDS: dict[str, Any] = {"kw_only": True} if sys.version_info >= (3, 10) else {}


@dataclass(frozen=True, **_KEYWORDS)
class Parts:
    """
    What the resources are made of, made by L{makeParts
    <clocksvc._web._site.makeParts>}, with keywords only.

    @ivar wallClock: where every resource reads the time.
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

    wallClock: IReactorTime
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
    @ivar openapi: its part of the OpenAPI description: its paths, and the
        schemas only they use.
    @ivar make: makes its resource.
    @ivar admin: whether it is one of the operator's (C{/healthz},
        C{/metrics}), which C{--admin-listen} moves to a site of their own.
    @ivar deeper: labels in C{/metrics} for paths below the segment, as
        (pattern, label): a pattern C{api/convert} names that path and those
        below it; one with a C{*}, such as C{api/timezone/*/transitions},
        the paths that start with what is before it and end with what is
        after it.
    @ivar labelOf: gives the label in C{/metrics} of a path (without its
        first slash and its query) by the rule that routes it, where that
        rule is not a pattern of L{deeper}'s (timeapi.io's paths, in any
        letter case); L{None} for a path it does not name.
    """

    segment: bytes
    label: str
    openapi: Fragment
    make: Callable[[Parts], IResource]
    admin: bool = False
    deeper: tuple[tuple[bytes, str], ...] = ()
    labelOf: Callable[[bytes], str | None] | None = None

    @property
    def paths(self) -> tuple[str, ...]:
        """
        Its paths in the OpenAPI description.
        """
        return tuple(self.openapi.paths)


def _now(forced: Format | None) -> Callable[[Parts], Now]:
    """
    @param forced: the form C{/now.json} and C{/now.txt} always answer in;
        L{None} for C{/now}, which negotiates it.
    @return: makes the resource of one of the C{/now} routes (and the one
        that renders C{/}'s document).
    """
    return lambda parts: Now(
        parts.wallClock, parts.catalogue, parts.defaultZone, forced, health=parts.health
    )


def _timezones(parts: Parts) -> IResource:
    # /api, where timeapi.io's paths (below) are found in any letter case.
    api = TimeAPIDirectory()
    transitions = Transitions(parts.wallClock)
    api.putChild(
        b"timezone",
        Timezones(
            parts.wallClock,
            parts.catalogue,
            health=parts.health,
            below={b"transitions": transitions.answerZone},
        ),
    )
    api.putChild(b"convert", Convert(parts.catalogue, health=parts.health))
    api.putChild(
        b"timezone.txt",
        Timezones(parts.wallClock, parts.catalogue, "text", health=parts.health),
    )
    return api


def _wellKnown(parts: Parts) -> IResource:
    wellKnown = APIDirectory()
    wellKnown.putChild(b"time", WellKnownTime(parts.wallClock, health=parts.health))
    return wellKnown


def _stream(parts: Parts) -> IResource:
    stream = Stream(
        Ticker(parts.wallClock, parts.timers, parts.watch),
        parts.catalogue,
        parts.defaultZone,
        parts.limits.stalledStreamSeconds,
        health=parts.health,
    )
    parts.watch.listen(stream.stepped)
    return stream


def _ip(forced: Format | None) -> Callable[[Parts], IResource]:
    def make(parts: Parts) -> IResource:
        return IPZone(
            parts.wallClock, parts.catalogue, parts.geoip, forced, health=parts.health
        )

    return make


def _leapSeconds(forced: Format | None) -> Callable[[Parts], IResource]:
    def make(parts: Parts) -> IResource:
        return LeapSeconds(
            parts.wallClock, parts.leapSeconds, forced, health=parts.health
        )

    return make


def _timeAPI(segment: bytes) -> Callable[[Parts], IResource]:
    """
    @param segment: a segment below C{/api}, as timeapi.io spells it.
    @return: makes the resource of timeapi.io's endpoints below it.
    """

    def make(parts: Parts) -> IResource:
        api = TimeAPI(parts.catalogue, parts.geoip)
        return TimeAPIResource(api, parts.wallClock, segment, health=parts.health)

    return make


ROUTES: tuple[Route, ...] = (
    Route(
        b"",
        "/",
        rootFragment(),
        lambda parts: NegotiatedRoot(
            ClockPage(parts.wallClock, parts.defaultZone),
            _now(None)(parts),
            parts.wallClock,
        ),
    ),
    Route(b"now", "/now", nowFragment("/now", "The current time"), _now(None)),
    Route(
        b"now.json",
        "/now.json",
        nowFragment("/now.json", "The current time, in JSON"),
        _now("json"),
    ),
    Route(
        b"now.txt",
        "/now.txt",
        nowFragment("/now.txt", "The current time, as text"),
        _now("text"),
    ),
    Route(
        b"api",
        "/api/timezone",
        zonesFragment() + transitionsFragment() + convertFragment(),
        _timezones,
        deeper=(
            (b"api/convert", "/api/convert"),
            (b"api/timezone/*/transitions", "/api/timezone/transitions"),
        ),
    ),
    Route(b"api/ip", "/api/ip", ipFragment(None), _ip(None)),
    Route(b"api/ip.txt", "/api/ip", ipFragment("text"), _ip("text")),
    Route(
        b"api/leap-seconds",
        "/api/leap-seconds",
        leapFragment(None),
        _leapSeconds(None),
    ),
    Route(
        b"api/leap-seconds.txt",
        "/api/leap-seconds",
        leapFragment("text"),
        _leapSeconds("text"),
    ),
    Route(
        b"api/coordinates",
        "/api/coordinates",
        coordinatesFragment(),
        lambda parts: Coordinates(parts.wallClock, health=parts.health),
    ),
    # timeapi.io's API, below /api in any letter case (TimeAPIDirectory).
    *(
        Route(
            b"api/" + segment,
            "/api/" + segment.decode(),
            timeAPIFragment(segment),
            _timeAPI(segment),
            labelOf=timeAPILabel,
        )
        for segment in (b"Time", b"TimeZone", b"Conversion")
    ),
    # time.now's API.
    Route(
        b"developer",
        "/developer/api",
        timeNowFragment(),
        lambda parts: timeNowDirectory(
            parts.wallClock, parts.catalogue, parts.geoip, parts.health
        ),
        deeper=(
            (b"developer/api/timezone", "/developer/api/timezone"),
            (b"developer/api/ip", "/developer/api/ip"),
        ),
    ),
    Route(
        b"openapi.json",
        "/openapi.json",
        openAPIFragment("/openapi.json", "3.1.0"),
        lambda parts: OpenAPI(openAPIDocument("3.1.0")),
    ),
    Route(
        b"openapi-3.2.json",
        "/openapi-3.2.json",
        openAPIFragment("/openapi-3.2.json", "3.2.0"),
        lambda parts: OpenAPI(openAPIDocument("3.2.0")),
    ),
    Route(
        b"timesync",
        "/timesync",
        timesyncFragment(),
        lambda parts: Timesync(parts.wallClock, health=parts.health),
    ),
    Route(b".well-known", "/.well-known/time", wellKnownFragment(), _wellKnown),
    Route(b"stream", "/stream", streamFragment(), _stream),
    Route(
        b"live",
        "/live",
        liveFragment(),
        # In the zone /now answers in: the server's.
        lambda parts: LivePage(parts.wallClock, parts.health, parts.defaultZone),
    ),
    Route(
        b"live.js",
        "/live.js",
        staticFragment(
            "/live.js",
            "The live page's script",
            "JavaScript",
            {"text/javascript": {"schema": {"type": "string"}}},
        ),
        lambda parts: StaticFile("live.js", b"text/javascript; charset=utf-8"),
    ),
    Route(
        b"live.css",
        "/live.css",
        staticFragment(
            "/live.css",
            "The live page's style sheet",
            "CSS",
            {"text/css": {"schema": {"type": "string"}}},
        ),
        lambda parts: StaticFile("live.css", b"text/css; charset=utf-8"),
    ),
    Route(
        b"favicon.ico",
        "/favicon.ico",
        staticFragment(
            "/favicon.ico",
            "The icon browsers show for this server",
            "An ICO file: a clock face, 16 and 32 pixels square",
            # Binary: no schema (OpenAPI 3.1 and later).
            {"image/vnd.microsoft.icon": {}},
        ),
        lambda parts: StaticFile(
            "favicon.ico", b"image/vnd.microsoft.icon", FAVICON_CACHE
        ),
    ),
    Route(
        b"roughtime.json",
        "/roughtime.json",
        roughtimeFragment(),
        lambda parts: ServerList(parts.roughtime),
    ),
    Route(
        b"healthz",
        "/healthz",
        healthFragment(),
        lambda parts: Health(
            parts.draining,
            parts.health,
            roughtime=parts.roughtime,
            ntp=parts.ntp,
            leapSeconds=parts.leapSeconds,
            wallClock=parts.wallClock,
        ),
        admin=True,
    ),
    Route(
        b"readyz",
        "/readyz",
        readyFragment(),
        lambda parts: Ready(parts.draining, parts.health, parts.readiness, parts.ntp),
        admin=True,
    ),
    Route(
        b"metrics",
        "/metrics",
        metricsFragment(),
        lambda parts: MetricsPage(parts.metrics),
        admin=True,
    ),
)

#: The operator's paths, which answer no OPTIONS (their resources'
#: C{crossOrigin}; C{tests.test_cors} checks the two agree).
OPERATOR_PATHS = tuple(path for route in ROUTES if route.admin for path in route.paths)


def openAPIDocument(
    version: str = "3.1.0", routes: Iterable[Route] = ROUTES
) -> dict[str, Any]:
    """
    @param version: the OpenAPI version: C{"3.1.0"}, as C{/openapi.json}
        serves it, or C{"3.2.0"}, as C{/openapi-3.2.json} does.
    @return: the OpenAPI description of C{routes}, assembled from their
        fragments: every public path answers C{OPTIONS}, the operator's
        do not.
    """
    return assemble(((route.openapi, not route.admin) for route in routes), version)


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


class _Root(Answering):
    """
    The root of a tree: the clock page at C{/}, each endpoint as a child,
    and C{404 Not Found} for every other path, rather than Twisted's HTML
    error page.
    """

    def childAt(self, segment: bytes, deeper: bool) -> IResource:
        """
        The page at C{/} is a leaf mounted at the empty segment, so without
        this it would also answer C{//}, C{//anything}: only C{/} itself is.
        """
        if segment or not deeper:
            child: IResource | None = self.children.get(segment)
            if child is not None:
                return child
        return NOWHERE


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
