# -*- test-case-name: tests.test_timeapi -*-
"""
timeapi.io's API, for the clients that moved to it from worldtimeapi.org:
the current time by zone, by IP address and by coordinates
(C{/api/Time/current/...}), a zone's offsets and daylight saving
(C{/api/TimeZone/...}), the list of zones, and the conversion of a local
time from one zone to another (C{POST /api/Conversion/ConvertTimeZone}),
in its shapes (L{clocksvc._time._timeapi}).

Its routes, as timeapi.io's (ASP.NET's), match in any letter case:
C{/api/time/current/zone} is C{/api/Time/current/zone}. Which path names
which endpoint is decided once, by L{timeAPIEndpoint}, for the resource
tree (L{TimeAPIDirectory}), the answers (L{TimeAPI}) and C{/metrics}
(L{timeAPILabel}). C{/api/TimeZone/...} and worldtimeapi's
C{/api/timezone/AREA} are the same in lower case; they are told apart by
the segment after it: C{zone}, C{AvailableTimeZones}, C{coordinate} and
C{ip}, alone, name timeapi.io's endpoints, and no zone or area has any of
these names (C{tests.test_timeapi} checks the zone database). The
directory's L{childAt<TimeAPIDirectory.childAt>} sees one segment at a
time, so a segment spelt otherwise than timeapi.io spells it leads to a
resource that tells them apart by the rest of the path (L{_Either}), for
Twisted's traversal and the quick path's alike.

Each request is decided by one pure function, L{TimeAPI.answer}, of its
method, path, query, body, client and the time, which returns its
L{Answer}: the resources (L{TimeAPIResource}) are answering ones, whose
C{answer} both paths call.

Errors are answered as timeapi.io answers them, where its Swagger document
says how: a zone it does not know is C{400} with the JSON string
C{"Invalid Timezone"}; the other endpoints' errors are ASP.NET's problem
details (RFC 9457), which name the parameter, as clocksvc's errors do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from twisted.internet.interfaces import IReactorTime

# Names, not http.NAME: twisted.web.http is a module proxy for its deprecated
# names, and each attribute read through it costs about 1 µs an answer.
from twisted.web.http import BAD_REQUEST, NOT_ALLOWED, NOT_FOUND, NOT_IMPLEMENTED, OK
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, getChildForRequest

from .._clock import ClockHealth
from .._time import (
    LOCAL_TIME,
    ZoneCatalogue,
    chosenInstant,
    conversionResult,
    currentTimeJSONAt,
    isZoneName,
    localInstants,
    localTime,
    netDateTime,
    timeZoneDataJSONAt,
)
from ._answer import Answer, Answering, Ask, Fields, applyAnswer, askOf, queryArgs
from ._api import (
    APIDirectory,
    QueryError,
    TimeResource,
    badParameter,
    queryValue,
    zoneListBody,
)
from ._conversions import PUBLIC_FIELDS, ambiguity
from ._coordinates import (
    CoordinatesUnavailable,
    ZoneFinder,
    defaultFinder,
    pointFromQuery,
)
from ._geoip import NO_DATABASE, GeoIP, parseAddress
from ._resource import (
    JSON_FIELDS,
    TIME_FIELDS,
    allowField,
    answerOptions,
    jsonBody,
)

__all__ = [
    "ENDPOINTS",
    "INVALID_TIMEZONE",
    "LOCAL_DATE_TIME",
    "LOCAL_TIME_FORMAT",
    "PROBLEM_TYPE",
    "REQUIRED_FIELDS",
    "Endpoint",
    "TimeAPI",
    "TimeAPIDirectory",
    "TimeAPIResource",
    "TimeFields",
    "timeAPIEndpoint",
    "timeAPILabel",
    "timeAPIPaths",
]

#: The answer of timeapi.io to a zone it does not know, or to none: a JSON
#: string, with 400.
INVALID_TIMEZONE = "Invalid Timezone"

#: The media type of problem details (RFC 9457), as ASP.NET answers them.
PROBLEM_TYPE = b"application/problem+json; charset=utf-8"
_PROBLEM_FIELDS: Fields = ((b"Content-Type", PROBLEM_TYPE),)

#: The fields of a time answer, given those after its C{Clock-Status}: a
#: resource's L{TimeResource.timeFields}, which reads the server clock's
#: state now.
TimeFields = Callable[[Fields], Fields]

_READS = (b"GET", b"HEAD")
_POSTS = (b"POST",)

#: How many names' zones (or their absence) L{TimeAPI} keeps: no client can
#: grow it past this.
_ZONES_KEPT = 1024
#: How many paths' endpoints (or their absence) L{TimeAPI} keeps, and the
#: longest path it keeps, in bytes: as the quick path keeps paths' ways.
_PATHS_KEPT = 1024
_LONGEST_PATH = 256
#: How many conversions' answers L{TimeAPI} keeps, and the longest body it
#: keeps one for: a quick head's (1 KiB).
_CONVERSIONS_KEPT = 256
_LONGEST_BODY = 1024


class Endpoint(NamedTuple):
    """
    One of timeapi.io's endpoints.

    @ivar path: its path as timeapi.io's Swagger document spells it: its
        path in C{/openapi.json}, and its label in C{/metrics}.
    @ivar methods: the methods it answers (and C{OPTIONS}).
    @ivar name: which of L{TimeAPI}'s decisions answers it.
    """

    path: str
    methods: tuple[bytes, ...]
    name: str

    @property
    def segment(self) -> bytes:
        """
        The first segment of its path below C{/api}, as spelt there: where
        its resource is mounted.
        """
        return self.path.split("/")[2].encode()


#: timeapi.io's endpoints, in its Swagger document's order.
ENDPOINTS = (
    Endpoint("/api/Time/current/zone", _READS, "currentZone"),
    Endpoint("/api/Time/current/coordinate", _READS, "currentCoordinate"),
    Endpoint("/api/Time/current/ip", _READS, "currentIP"),
    Endpoint("/api/TimeZone/AvailableTimeZones", _READS, "availableTimeZones"),
    Endpoint("/api/TimeZone/zone", _READS, "zoneData"),
    Endpoint("/api/TimeZone/coordinate", _READS, "coordinateData"),
    Endpoint("/api/TimeZone/ip", _READS, "ipData"),
    Endpoint("/api/Conversion/ConvertTimeZone", _POSTS, "convert"),
)

#: The endpoints by their segments below C{/api}, in lower case.
_BY_SEGMENTS: dict[tuple[bytes, ...], Endpoint] = {
    tuple(endpoint.path.lower().encode().split(b"/")[2:]): endpoint
    for endpoint in ENDPOINTS
}
_DEEPEST = max(len(segments) for segments in _BY_SEGMENTS)
#: The first segments below C{/api}, by their lower case, as spelt there.
_SEGMENTS = {endpoint.segment.lower(): endpoint.segment for endpoint in ENDPOINTS}


def timeAPIEndpoint(segments: Sequence[bytes]) -> Endpoint | None:
    """
    Match a path below C{/api} to timeapi.io's endpoints, in any letter
    case and with or without a slash at its end, as timeapi.io does.

    @param segments: the path's segments below C{/api}, such as
        C{(b"time", b"current", b"zone")}.
    @return: the endpoint it names, or L{None}.
    """
    if segments and not segments[-1]:
        segments = segments[:-1]
    if not 0 < len(segments) <= _DEEPEST:
        return None
    return _BY_SEGMENTS.get(tuple(segment.lower() for segment in segments))


def timeAPILabel(path: bytes) -> str | None:
    """
    @param path: a request's path, without its first slash and its query,
        as sent.
    @return: its label in C{/metrics}, if it names one of timeapi.io's
        endpoints (L{timeAPIEndpoint}).
    """
    first, _, below = path.partition(b"/")
    if first != b"api":
        return None
    endpoint = timeAPIEndpoint(below.split(b"/"))
    return None if endpoint is None else endpoint.path


def _problemType(code: int) -> str:
    """
    @return: the C{type} of a problem with status C{code}: the section of
        RFC 9110 that defines it, as ASP.NET gives it.
    """
    section = {400: "15.5.1", 404: "15.5.5", 405: "15.5.6", 501: "15.6.2"}[code]
    return f"https://tools.ietf.org/html/rfc9110#section-{section}"


def problem(
    code: int,
    message: str,
    timeFields: TimeFields | None,
    parameter: str | None = None,
    *before: tuple[bytes, bytes],
) -> Answer:
    """
    @param code: the status code.
    @param message: what went wrong.
    @param timeFields: the time fields, with C{Clock-Status}, if the answer
        has them; else it has L{TIME_FIELDS} alone.
    @param parameter: the parameter (or the body's field) at fault, if one
        is.
    @param before: fields before the C{Content-Type}, as C{Allow}.
    @return: an error as ASP.NET's problem details (RFC 9457): C{message}
        as its C{title}; or, for a parameter at fault, as ASP.NET's
        validation problem, C{message} under C{errors}. Then clocksvc's
        C{error} (and C{parameter}) fields too.
    """
    details: dict[str, object] = {"type": _problemType(code), "title": message}
    if parameter is not None:
        details["title"] = "One or more validation errors occurred."
    details["status"] = code
    if parameter is not None:
        details["errors"] = {parameter: [message]}
    details["error"] = message
    if parameter is not None:
        details["parameter"] = parameter
    tail = (*before, *_PROBLEM_FIELDS) if before else _PROBLEM_FIELDS
    fields = (*TIME_FIELDS, *tail) if timeFields is None else timeFields(tail)
    return Answer(code, fields, jsonBody(details))


def _queryProblem(error: QueryError, timeFields: TimeFields) -> Answer:
    return problem(error.code, error.message, timeFields, error.detail["parameter"])


#: The fields of an answer that depends on its request alone, not on the
#: time or the client: as C{/api/convert}'s, which any cache may keep.
_PUBLIC_JSON_FIELDS: Fields = (
    *PUBLIC_FIELDS,
    *TIME_FIELDS[1:],
    *JSON_FIELDS,
)

#: What the conversion's C{dateTime} may be: as timeapi.io documents it,
#: C{yyyy-MM-dd HH:mm:ss[.ffffff]}, or with a C{T} between the date and the
#: time: the local times of C{/api/convert} (L{LOCAL_TIME}), with a space
#: allowed for the C{T}.
LOCAL_DATE_TIME = LOCAL_TIME.replace("[Tt]", "[Tt ]", 1)
LOCAL_TIME_FORMAT = (
    "yyyy-MM-dd HH:mm:ss, with up to 9 digits of seconds, in the years 1000 to 9998"
)


def _localDateTime(text: str) -> datetime | None:
    """
    @return: the local date-time C{text} names (L{LOCAL_DATE_TIME}), as
        L{localTime<clocksvc._time.localTime>} reads it once a space
        between the date and the time is made the C{T} that ISO 8601 has
        there; or L{None}.
    """
    if text[10:11] == " ":
        text = text[:10] + "T" + text[11:]
    return localTime(text)


class TimeAPI:
    """
    timeapi.io's endpoints' decisions: each request answered from its
    parts and the time alone (L{answer}).
    """

    def __init__(
        self,
        catalogue: ZoneCatalogue,
        geoip: GeoIP | None = None,
        finder: ZoneFinder = defaultFinder,
    ) -> None:
        """
        @param catalogue: the zones, as C{/api/timezone/NAME} has them.
        @param geoip: the IP geolocation database (C{--geoip-db}), if any.
        @param finder: where coordinates are looked up.
        """
        self._catalogue = catalogue
        self._geoip = geoip
        self._finder = finder
        self._zones: dict[str, ZoneInfo | None] = {}
        self._endpoints: dict[tuple[bytes, ...], Endpoint | None] = {}
        self._conversions: dict[bytes, Answer] = {}
        self._decisions: dict[str, Callable[[Ask, float, TimeFields], Answer]] = {
            "currentZone": self._currentZone,
            "currentCoordinate": self._currentCoordinate,
            "currentIP": self._currentIP,
            "availableTimeZones": self._availableTimeZones,
            "zoneData": self._zoneData,
            "coordinateData": self._coordinateData,
            "ipData": self._ipData,
            "convert": self._convert,
        }

    def answer(
        self, segment: bytes, ask: Ask, now: float, timeFields: TimeFields
    ) -> Answer:
        """
        @param segment: the first segment of the request's path below
            C{/api}.
        @param ask: the request, its path below that segment.
        @param now: the time now, in seconds since the epoch.
        @param timeFields: the time fields of an answer about now.
        @return: the answer: the endpoint's (L{timeAPIEndpoint}), or 404 for
            a path that names none, or 405 for a method it does not answer.
        """
        endpoint = self._endpointOf((segment, *ask.path))
        if endpoint is None:
            return problem(NOT_FOUND, "not found", None)
        if ask.method not in endpoint.methods:
            allow = (b"Allow", allowField(endpoint.methods, True))
            return problem(NOT_ALLOWED, "method not allowed", timeFields, None, allow)
        return self._decisions[endpoint.name](ask, now, timeFields)

    def _endpointOf(self, segments: tuple[bytes, ...]) -> Endpoint | None:
        """
        @return: L{timeAPIEndpoint}'s endpoint for C{segments}, kept for
            the next request down the same path (a bounded number of paths,
            emptied when full): folding each segment's case costs more than
            the rest of a zone's answer but its body.
        """
        try:
            return self._endpoints[segments]
        except KeyError:
            pass
        endpoint = timeAPIEndpoint(segments)
        if sum(map(len, segments)) + len(segments) <= _LONGEST_PATH:
            if len(self._endpoints) >= _PATHS_KEPT:
                self._endpoints.clear()
            self._endpoints[segments] = endpoint
        return endpoint

    # The decisions shared by the endpoints: the zone each names.

    def _namedZone(self, name: str | None) -> ZoneInfo | None:
        """
        @return: the zone C{name} names, in any letter case, as
            C{/api/timezone/NAME} finds it; L{None} for no name, a malformed
            one or an unknown one, which timeapi.io answers alike. The zones
            found are kept, a bounded number, as the quick answers keep
            theirs.
        """
        if name is None:
            return None
        try:
            return self._zones[name]
        except KeyError:
            pass
        zone = self._catalogue.zone(name) if isZoneName(name) else None
        if len(self._zones) >= _ZONES_KEPT:
            self._zones.clear()
        self._zones[name] = zone
        return zone

    def _queryZone(self, ask: Ask) -> ZoneInfo | None:
        try:
            return self._namedZone(queryValue(queryArgs(ask), "timeZone"))
        except QueryError:
            return None

    def _coordinateZone(self, ask: Ask, timeFields: TimeFields) -> ZoneInfo | Answer:
        """
        @return: the zone at C{?latitude=&longitude=}; or the error.
        """
        try:
            latitude, longitude = pointFromQuery(ask, "latitude", "longitude")
        except QueryError as e:
            return _queryProblem(e, timeFields)
        try:
            return self._finder.zoneAt(latitude, longitude)
        except CoordinatesUnavailable as e:
            return problem(NOT_IMPLEMENTED, str(e), timeFields)

    def _addressZone(self, ask: Ask, timeFields: TimeFields) -> ZoneInfo | Answer:
        """
        @return: the zone of C{?ipAddress=}, as C{/api/ip/ADDRESS} finds it;
            or the error: 501 without a database (whatever the request, as
            C{/api/ip}), 400 for no address or a malformed one, 404 for one
            without a zone.
        """
        if self._geoip is None:
            return problem(NOT_IMPLEMENTED, NO_DATABASE, timeFields)
        try:
            text = queryValue(queryArgs(ask), "ipAddress")
            if text is None:
                raise badParameter("ipAddress", "required")
            try:
                address = parseAddress(text)
            except ValueError:
                raise badParameter("ipAddress", "an IPv4 or IPv6 address") from None
        except QueryError as e:
            return _queryProblem(e, timeFields)
        zone = self._geoip.zoneOf(address)
        if zone is None:
            return problem(NOT_FOUND, "unknown location", timeFields)
        return zone

    # The current time, in CurrentTime's shape.

    def _current(
        self, zone: ZoneInfo | Answer, now: float, timeFields: TimeFields
    ) -> Answer:
        if isinstance(zone, Answer):
            return zone
        body = currentTimeJSONAt(now, zone)
        return Answer(OK, timeFields(JSON_FIELDS), body, (), now)

    def _currentZone(self, ask: Ask, now: float, timeFields: TimeFields) -> Answer:
        zone = self._queryZone(ask)
        if zone is None:
            return _invalidTimezone(timeFields)
        return self._current(zone, now, timeFields)

    def _currentCoordinate(
        self, ask: Ask, now: float, timeFields: TimeFields
    ) -> Answer:
        return self._current(self._coordinateZone(ask, timeFields), now, timeFields)

    def _currentIP(self, ask: Ask, now: float, timeFields: TimeFields) -> Answer:
        return self._current(self._addressZone(ask, timeFields), now, timeFields)

    # A zone's data, in TimeZoneData's shape.

    def _data(
        self, zone: ZoneInfo | Answer, now: float, timeFields: TimeFields
    ) -> Answer:
        if isinstance(zone, Answer):
            return zone
        body = timeZoneDataJSONAt(now, zone)
        return Answer(OK, timeFields(JSON_FIELDS), body, (), now)

    def _zoneData(self, ask: Ask, now: float, timeFields: TimeFields) -> Answer:
        zone = self._queryZone(ask)
        if zone is None:
            return _invalidTimezone(timeFields)
        return self._data(zone, now, timeFields)

    def _coordinateData(self, ask: Ask, now: float, timeFields: TimeFields) -> Answer:
        return self._data(self._coordinateZone(ask, timeFields), now, timeFields)

    def _ipData(self, ask: Ask, now: float, timeFields: TimeFields) -> Answer:
        return self._data(self._addressZone(ask, timeFields), now, timeFields)

    def _availableTimeZones(
        self, ask: Ask, now: float, timeFields: TimeFields
    ) -> Answer:
        """
        Every zone name, as C{/api/timezone} lists them, in the same body.
        """
        body = zoneListBody(self._catalogue)
        return Answer(OK, timeFields(JSON_FIELDS), body)

    # The conversion.

    def _convert(self, ask: Ask, now: float, timeFields: TimeFields) -> Answer:
        """
        C{POST /api/Conversion/ConvertTimeZone} (L{_conversion}), its
        answer kept for the next request with the same body where it
        depends on the body alone: a conversion and its 422, which read no
        clock (the zones are the ones the server started with). The errors,
        whose C{Clock-Status} says the clock's state now, are made each
        time. At most C{_CONVERSIONS_KEPT} answers, emptied when full, for
        bodies of at most C{_LONGEST_BODY} bytes.
        """
        body = ask.body
        kept = self._conversions.get(body)
        if kept is not None:
            return kept
        answer = self._conversion(ask, timeFields)
        if answer.fields is _PUBLIC_JSON_FIELDS and len(body) <= _LONGEST_BODY:
            if len(self._conversions) >= _CONVERSIONS_KEPT:
                self._conversions.clear()
            self._conversions[body] = answer
        return answer

    def _conversion(self, ask: Ask, timeFields: TimeFields) -> Answer:
        """
        C{dateTime}, a local time in C{fromTimeZone}, in C{toTimeZone}. A
        local time in a gap or an overlap is resolved by C{dstAmbiguity}
        as C{/api/convert} resolves it by C{disambiguate}: C{earlier} or
        C{later}; without it (or empty), refused with 422, naming the
        problem.
        """
        fields = _requestFields(ask.body)
        if isinstance(fields, QueryError):
            return _queryProblem(fields, timeFields)
        source = self._namedZone(fields["fromtimezone"])
        target = self._namedZone(fields["totimezone"])
        if source is None or target is None:
            return _invalidTimezone(timeFields)
        text = str(fields["datetime"])
        local = _localDateTime(text)
        if local is None:
            error = _badField("dateTime", LOCAL_TIME_FORMAT)
            return _queryProblem(error, timeFields)
        found = localInstants(source, local)
        micros = chosenInstant(found, fields["dstambiguity"] or "reject")
        if micros is None:
            body = ambiguity(
                source,
                text,
                found.kind,
                found.earlier,
                found.later,
                "dateTime",
                "dstAmbiguity",
            )
            # Twisted has no reason phrase for 422: RFC 9110's.
            return Answer(
                422,
                _PUBLIC_JSON_FIELDS,
                jsonBody(body),
                reason=b"Unprocessable Content",
            )
        return Answer(
            OK,
            _PUBLIC_JSON_FIELDS,
            jsonBody(
                {
                    "fromTimezone": source.key,
                    "fromDateTime": netDateTime(local),
                    "toTimeZone": target.key,
                    "conversionResult": conversionResult(micros, target),
                }
            ),
        )


_INVALID_TIMEZONE_BODY = jsonBody(INVALID_TIMEZONE)


def _invalidTimezone(timeFields: TimeFields) -> Answer:
    return Answer(BAD_REQUEST, timeFields(JSON_FIELDS), _INVALID_TIMEZONE_BODY)


#: The fields a conversion request must have; ASP.NET reads JSON's names
#: in any letter case, and so are they here.
REQUIRED_FIELDS = ("fromTimeZone", "dateTime", "toTimeZone")
#: What C{dstAmbiguity} may be: one of L{DISAMBIGUATIONS<clocksvc._time.
#: DISAMBIGUATIONS>} but C{reject}, which is what it means when it is empty
#: or null (or absent), as timeapi.io's sample requests send it.
_AMBIGUITIES = (None, "", "earlier", "later")


def _badField(name: str, reason: str) -> QueryError:
    """
    @return: the 400 error for a malformed field C{name} of a request's
        body, or for the body itself (C{$}, as ASP.NET names it).
    """
    what = "body" if name == "$" else f"field {name}"
    return QueryError(BAD_REQUEST, f"invalid {what}: {reason}", parameter=name)


def _requestFields(body: bytes) -> dict[str, str | None] | QueryError:
    """
    @param body: a conversion request's body.
    @return: its fields, by their names in lower case: C{fromtimezone},
        C{datetime} and C{totimezone}, each a string; and C{dstambiguity},
        C{earlier}, C{later}, or L{None} if absent, null or empty. Or, if
        the body is not such a JSON object, the error, naming the field at
        fault (C{$} for the body).
    """
    try:
        request = json.loads(body)
    except (ValueError, RecursionError):
        return _badField("$", "a JSON object")
    if not isinstance(request, dict):
        return _badField("$", "a JSON object")
    given = {name.lower(): value for name, value in request.items()}
    fields: dict[str, str | None] = {}
    for name in REQUIRED_FIELDS:
        value = given.get(name.lower())
        if not isinstance(value, str):
            return _badField(name, "required, a string")
        fields[name.lower()] = value
    how = given.get("dstambiguity")
    if how not in _AMBIGUITIES:
        return _badField("dstAmbiguity", "earlier, later, empty or null")
    fields["dstambiguity"] = how or None
    return fields


class TimeAPIResource(TimeResource):
    """
    timeapi.io's endpoints below one segment of C{/api} (C{Time},
    C{TimeZone}, C{Conversion}): each request answered by L{TimeAPI.answer},
    on either path; and C{OPTIONS}, and CORS preflights, answered with the
    methods of the endpoint the path names (a path that names none is 404,
    whatever the method).
    """

    isLeaf = True

    def __init__(
        self,
        api: TimeAPI,
        wallClock: IReactorTime,
        segment: bytes,
        *,
        health: ClockHealth | None = None,
    ) -> None:
        """
        @param api: the decisions.
        @param wallClock: where the time of day comes from.
        @param segment: the segment below C{/api} it is mounted at, as
            timeapi.io spells it (L{Endpoint.segment}); the directory above
            found it in whatever letter case the client wrote it.
        @param health: the server clock's state, for C{Clock-Status}.
        """
        super().__init__(health=health)
        self._api = api
        self._wallClock = wallClock
        self._segment = segment

    def answer(self, ask: Ask) -> Answer:
        """
        @return: L{TimeAPI.answer}'s answer to C{ask}: the endpoint's, or
            the 404 or 405 of its path and method.
        """
        return self._api.answer(
            self._segment, ask, self._wallClock.seconds(), self.timeFields
        )

    def render(self, request: IRequest) -> bytes | int:
        """
        Answer C{request}: C{OPTIONS} for a path that names an endpoint
        here, with its methods (and without the time fields, as no time is
        answered); anything else by L{answer}.
        """
        if request.method == b"OPTIONS":
            endpoint = timeAPIEndpoint((self._segment, *(request.postpath or ())))
            if endpoint is not None:
                return answerOptions(request, endpoint.methods)
        return applyAnswer(request, self.answer(askOf(request)))


class _Either(Answering):
    """
    A segment below C{/api} that timeapi.io's paths have in another letter
    case (C{time}, C{timezone}, C{CONVERSION}): the resource of timeapi.io's
    endpoints below it, if the rest of the path names one of them
    (L{timeAPIEndpoint}); else what the segment names as it is spelt (for
    C{timezone}, worldtimeapi's zones), or nothing. Twisted's traversal and
    the quick path's see a path one segment at a time, so the rest of it is
    read here, by both.
    """

    isLeaf = True

    def __init__(
        self, segment: bytes, endpoints: IResource, otherwise: IResource
    ) -> None:
        """
        @param segment: the segment, as timeapi.io spells it.
        @param endpoints: the resource of timeapi.io's endpoints below it.
        @param otherwise: the resource for any other path.
        """
        super().__init__()
        self._segment = segment
        self._endpoints = endpoints
        self._otherwise = otherwise
        # The last path below and its choice: the quick path keeps this
        # resource for one path, and asks it again for each request.
        self._kept: tuple[Sequence[bytes], IResource] | None = None

    def _chosen(self, path: Sequence[bytes]) -> IResource:
        kept = self._kept
        if kept is not None and kept[0] == path:
            return kept[1]
        found = timeAPIEndpoint((self._segment, *path))
        chosen = self._otherwise if found is None else self._endpoints
        self._kept = (tuple(path), chosen)
        return chosen

    def answer(self, ask: Ask) -> Answer | None:
        chosen = self._chosen(ask.path)
        if isinstance(chosen, Answering) and chosen.isLeaf:
            return chosen.answer(ask)
        # One mounted in place of clocksvc's own, or one with children to
        # go down to, is the general path's (render).
        return None

    def render(self, request: IRequest) -> bytes | int:
        # On down the tree from there, as Twisted's traversal would have
        # gone had it been mounted here (a resource mounted in place of
        # clocksvc's own may have children).
        chosen = self._chosen(request.postpath or ())
        rendered: bytes | int = getChildForRequest(chosen, request).render(request)
        return rendered


class TimeAPIDirectory(APIDirectory):
    """
    C{/api}: its children by name, as L{APIDirectory}; and timeapi.io's
    paths in any letter case, to the resource mounted at their first
    segment as timeapi.io spells it (L{Endpoint.segment}), so that
    C{/api/time/current/zone} reaches C{Time}'s, and
    C{/api/timezone/AvailableTimeZones} C{TimeZone}'s rather than the zones
    of worldtimeapi's C{/api/timezone}.
    """

    def childAt(self, segment: bytes, deeper: bool) -> IResource:
        """
        @return: the resource mounted at C{segment}; or, for a segment of
            timeapi.io's paths spelt otherwise than timeapi.io spells it,
            one that tells its endpoints from the rest by the rest of the
            path (L{_Either}).
        """
        spelt = _SEGMENTS.get(segment.lower())
        endpoints = None if spelt is None else self.children.get(spelt)
        if spelt is None or spelt == segment or endpoints is None:
            return super().childAt(segment, deeper)
        return _Either(spelt, endpoints, super().childAt(segment, deeper))


def timeAPIPaths(segment: bytes) -> tuple[str, ...]:
    """
    @return: the paths of timeapi.io's endpoints below C{/api/SEGMENT}, in
        C{/openapi.json}.
    """
    return tuple(endpoint.path for endpoint in ENDPOINTS if endpoint.segment == segment)
