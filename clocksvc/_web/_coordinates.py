# -*- test-case-name: tests.test_coordinates -*-
"""
The zone of a point on the earth, from its latitude and longitude; and
C{/api/coordinates?lat=&lon=}, the time document for that zone.

The zone boundaries are those of timezone-boundary-builder, as the
C{tzfpy} package ships them (its C{data_version()} names the release; see
C{docs/explanation/coordinates.md} for why this package, and its cost): a
lookup is a few hundred nanoseconds, and the data takes some 35 MiB of
memory, so it is loaded on the first lookup, not when the server starts.
Points at sea get the nautical zone of their longitude, C{Etc/GMT-5} for
75 degrees east, as the boundary data has it; where the package gives no
zone (the poles, the antimeridian, on some releases), the same rule is
applied here (L{nauticalZoneName}).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.web.http import NOT_IMPLEMENTED

from .._clock import ClockHealth
from .._time import ZoneCatalogue, defaultCatalogue
from ._answer import Answer, Ask, queryArgs
from ._api import (
    QueryError,
    TimeResource,
    addressIP,
    badParameter,
    queryValue,
)
from ._openapi import Fragment

__all__ = [
    "LATITUDE",
    "LONGITUDE",
    "NO_FINDER",
    "NUMBER",
    "Coordinates",
    "CoordinatesUnavailable",
    "ZoneFinder",
    "coordinatesOpenAPI",
    "defaultFinder",
    "nauticalZoneName",
    "parseCoordinate",
    "pointFromQuery",
]

#: A coordinate as the server reads it: a JSON number (RFC 8259's grammar:
#: no sign but a minus, no leading zeros, an exponent allowed), as clients
#: and fuzzers write a float, of at most 40 characters.
NUMBER = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_NUMBER = re.compile(NUMBER)
_LONGEST_NUMBER = 40

#: The bounds of each coordinate, in degrees: from -bound to bound.
LATITUDE = 90
LONGITUDE = 180

#: The error of a lookup on a server without the C{tzfpy} package, with
#: 501 Not Implemented, as C{/api/ip} answers without a database.
NO_FINDER = "no coordinate lookup: the tzfpy package is not installed"

_serviceLog = Logger(namespace="clocksvc.service")


def parseCoordinate(text: str | None, name: str, bound: int) -> float:
    """
    @param text: a coordinate as a client wrote it, or L{None} if absent.
    @param name: its parameter's name, for the error.
    @param bound: its bound, L{LATITUDE} or L{LONGITUDE}.
    @return: it, in degrees.
    @raise QueryError: 400 naming the parameter if it is absent, not a
        number (L{NUMBER}), or out of bounds.
    """
    if text is None:
        raise badParameter(name, "required")
    if len(text) <= _LONGEST_NUMBER and _NUMBER.fullmatch(text):
        value = float(text)
        if -bound <= value <= bound:
            return value
    raise badParameter(name, f"a number of degrees from -{bound} to {bound}")


#: The points that queries named, by the query and the names of its
#: parameters: a device sends the same query each time.
_points: dict[tuple[bytes, str, str], tuple[float, float]] = {}
#: How many it keeps, and the longest query it keeps, as the queries parsed
#: are kept (L{parseQuery<clocksvc._web._answer.parseQuery>}).
_POINTS_KEPT = 256
_LONGEST_QUERY = 1024


def pointFromQuery(
    ask: Ask, latitudeName: str, longitudeName: str
) -> tuple[float, float]:
    """
    @param ask: a request.
    @param latitudeName: the name of its latitude's query parameter.
    @param longitudeName: the name of its longitude's.
    @return: the point they name, as L{parseCoordinate} reads each: its
        latitude and longitude, in degrees; kept, for the next request with
        the same query (a bounded number, emptied when full).
    @raise QueryError: naming the first parameter that is absent or
        malformed.
    """
    key = (ask.query, latitudeName, longitudeName)
    point = _points.get(key)
    if point is None:
        args = queryArgs(ask)
        point = (
            parseCoordinate(queryValue(args, latitudeName), latitudeName, LATITUDE),
            parseCoordinate(queryValue(args, longitudeName), longitudeName, LONGITUDE),
        )
        if len(ask.query) <= _LONGEST_QUERY:
            if len(_points) >= _POINTS_KEPT:
                _points.clear()
            _points[key] = point
    return point


def nauticalZoneName(longitude: float) -> str:
    """
    @param longitude: degrees east, from -180 to 180.
    @return: the nautical zone of a ship at that longitude: the hour of its
        15-degree band, from C{Etc/GMT+12} west of 172.5 W to C{Etc/GMT-12}
        east of 172.5 E (POSIX's sign: C{Etc/GMT-5} is five hours ahead of
        UTC), and C{Etc/GMT} within 7.5 degrees of Greenwich.
    """
    hours = max(-12, min(12, math.floor((longitude + 7.5) / 15)))
    if hours == 0:
        return "Etc/GMT"
    return f"Etc/GMT{-hours:+d}"


class CoordinatesUnavailable(Exception):
    """
    The server has no boundary data to look coordinates up in.
    """


#: A lookup: the name of the zone at a longitude and a latitude, in that
#: order (tzfpy's); empty where the data has none.
LookUp = Callable[[float, float], str]


def _loadTzfpy() -> tuple[LookUp, str]:
    """
    @return: tzfpy's lookup, and the boundary release its data is of.
    @raise CoordinatesUnavailable: if the package is not installed.
    """
    try:
        import tzfpy
    except ImportError:
        raise CoordinatesUnavailable(NO_FINDER) from None
    lookUp: LookUp = tzfpy.get_tz
    release: str = tzfpy.data_version()
    return lookUp, release


class ZoneFinder:
    """
    The zone at a point: a lookup in the boundary data, loaded on first
    use, with the nautical zone where the data gives none; each point's
    kept, as devices send the same point each time.
    """

    #: How many points' zones it keeps: no client can grow it past this
    #: (1.2 MiB with the zones they keep alive, measured:
    #: docs/explanation/hardening.md); emptied
    #: when full, as the GeoIP database's addresses are.
    _KEPT = 4096

    def __init__(
        self,
        catalogue: ZoneCatalogue = defaultCatalogue,
        load: Callable[[], tuple[LookUp, str]] = _loadTzfpy,
    ) -> None:
        """
        @param catalogue: the zones that the data's names are looked up in,
            as C{/api/timezone/NAME} looks them up.
        @param load: loads the data: its lookup, and the release it is of.
        """
        self._catalogue = catalogue
        self._load = load
        self._lookUp: LookUp | None = None
        self._release: str | None = None
        self._zones: dict[tuple[float, float], ZoneInfo] = {}

    def _loaded(self) -> LookUp:
        if self._lookUp is None:
            started = time.perf_counter()
            self._lookUp, self._release = self._load()
            _serviceLog.info(
                "coordinates: zone boundaries {release} loaded in {ms:.0f} ms",
                event="coordinates_loaded",
                release=self._release,
                ms=(time.perf_counter() - started) * 1000,
            )
        return self._lookUp

    def release(self) -> str:
        """
        @return: the boundary release of the data, such as C{2026a}.
        @raise CoordinatesUnavailable: if there is no data.
        """
        self._loaded()
        return str(self._release)

    def zoneAt(self, latitude: float, longitude: float) -> ZoneInfo:
        """
        @param latitude: degrees north, from -90 to 90.
        @param longitude: degrees east, from -180 to 180.
        @return: the zone there: the boundary data's, in the zone
            database's spelling; at sea, and wherever the data has no zone
            or one the zone database does not know (a zone newer than it),
            the nautical zone of the longitude.
        @raise CoordinatesUnavailable: if there is no data.
        """
        # -0.0 is 0.0 here: the two are one key of the points kept, so both
        # are looked up as 0.0, kept or not.
        point = (latitude + 0.0, longitude + 0.0)
        try:
            return self._zones[point]
        except KeyError:
            pass
        zone = self._uncachedZoneAt(*point)
        if len(self._zones) >= self._KEPT:
            self._zones.clear()
        self._zones[point] = zone
        return zone

    def _uncachedZoneAt(self, latitude: float, longitude: float) -> ZoneInfo:
        """
        @return: the zone at a point, looked up (L{zoneAt}).
        """
        name = self._loaded()(longitude, latitude)
        zone = self._catalogue.zone(name) if name else None
        if zone is None:
            zone = self._catalogue.zone(nauticalZoneName(longitude))
        if zone is None:  # pragma: no cover (every zone database has Etc/)
            raise CoordinatesUnavailable(f"no zone {nauticalZoneName(longitude)}")
        return zone


#: The finder every site of the process shares: the data is loaded once.
defaultFinder = ZoneFinder()


class Coordinates(TimeResource):
    """
    C{/api/coordinates?lat=&lon=}: the time document, now, for the zone at
    that point (L{ZoneFinder.zoneAt}), in JSON; 400 naming a malformed or
    missing coordinate, 501 without boundary data. As every resource of the
    API: 404 below the path, 405 for a method but C{GET} and C{HEAD},
    C{OPTIONS} and CORS preflights answered.
    """

    def __init__(
        self,
        wallClock: IReactorTime,
        finder: ZoneFinder = defaultFinder,
        *,
        health: ClockHealth | None = None,
    ) -> None:
        """
        @param wallClock: where the time of day comes from.
        @param finder: where zones are looked up.
        @param health: the server clock's state, for C{Clock-Status}.
        """
        super().__init__("json", health=health)
        self._wallClock = wallClock
        self._finder = finder

    def answerAllowed(self, ask: Ask) -> Answer:
        now = self._wallClock.seconds()
        form = self.formOf(ask)
        try:
            latitude, longitude = pointFromQuery(ask, "lat", "lon")
        except QueryError as e:
            return self.queryError(form, e)
        try:
            zone = self._finder.zoneAt(latitude, longitude)
        except CoordinatesUnavailable as e:
            return self.error(form, NOT_IMPLEMENTED, str(e))
        return self.documentAnswer(form, zone, now, addressIP(ask.client))


def coordinateParameter(name: str, bound: int, example: float) -> dict[str, object]:
    """
    @return: a coordinate's query parameter in C{/openapi.json}: a number
        within its bounds, as L{parseCoordinate} reads it.
    """
    what = "north" if bound == LATITUDE else "east"
    return {
        "name": name,
        "in": "query",
        "required": True,
        "description": f"Degrees {what}, from -{bound} to {bound}",
        "schema": {
            "type": "number",
            "minimum": -bound,
            "maximum": bound,
            "example": example,
        },
    }


def coordinatesOpenAPI() -> dict[str, object]:
    """
    @return: C{/api/coordinates}'s path item in C{/openapi.json}.
    """

    def error(description: str) -> dict[str, object]:
        return {
            "description": description,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
            },
        }

    summary = (
        "The time document, now, for the zone at a point: from the zone "
        "boundaries of timezone-boundary-builder; at sea, the nautical zone "
        "(Etc/GMT-5 for 75 degrees east)"
    )
    get = {
        "summary": summary,
        "parameters": [
            coordinateParameter("lat", LATITUDE, 52.52),
            coordinateParameter("lon", LONGITUDE, 13.405),
        ],
        "responses": {
            "200": {
                "description": "The document",
                "headers": {
                    "Clock-Status": {"$ref": "#/components/headers/Clock-Status"}
                },
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/TimeDocument"}
                    }
                },
            },
            "400": error("A coordinate missing, malformed or out of bounds: named"),
            "501": error("The server has no zone boundaries (no tzfpy package)"),
        },
    }
    head = dict(get, summary=summary + " (headers only)")
    return {"get": get, "head": head}


def coordinatesFragment() -> Fragment:
    """
    @return: the description of C{/api/coordinates} (L{Coordinates}).
    """
    return Fragment({"/api/coordinates": coordinatesOpenAPI()})
