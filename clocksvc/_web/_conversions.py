# -*- test-case-name: tests.test_conversions -*-
"""
The calendar side of the API: C{/api/convert}, a local date-time in one zone
as the local date-time in another; and a zone's offset transitions in a
range, at C{/api/timezone/AREA/LOCATION[/REGION]/transitions}.

Both answer about given times, not now (but for the transitions' default
range, which starts now): such answers do not age, so they may be cached,
and they carry no C{Clock-Status}.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from http import HTTPStatus
from math import ceil
from zoneinfo import ZoneInfo

from twisted.internet.interfaces import IReactorTime
from twisted.web.iweb import IRequest

from .._time import (
    DISAMBIGUATIONS,
    LONGEST_RANGE,
    ZoneCatalogue,
    chosenInstant,
    localInstants,
    localTime,
    timeDocument,
    transitionsJSON,
)
from ._api import (
    QueryError,
    TimeResource,
    badParameter,
    instantFromQuery,
    queryValue,
    zoneFromQuery,
)
from ._clockhealth import ClockHealth
from ._resource import JSON_TYPE, fixedHeaders, jsonError, sendJSON

__all__ = [
    "DEFAULT_RANGE",
    "DISAMBIGUATIONS",
    "PUBLIC_FIELDS",
    "SIDE_FIELDS",
    "Convert",
    "Transitions",
    "ambiguity",
]

#: The fields of an answer that depends on its query alone, and not on the
#: client: any cache may keep it for a day (after which a new release of the
#: zone database may have changed it).
PUBLIC_FIELDS = ((b"Cache-Control", b"public, max-age=86400"),)

#: The transitions' range when C{to} is not given: a year of 365 days.
DEFAULT_RANGE = 365 * 86_400

_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)

#: The time document's fields that describe a side of a conversion.
SIDE_FIELDS = ("timezone", "datetime", "utc_offset", "abbreviation", "dst")


def _side(zone: ZoneInfo, micros: int) -> dict[str, object]:
    """
    @return: the instant C{micros} (microseconds since the epoch) in C{zone},
        as the time document describes it.
    """
    document = timeDocument(Fraction(micros, 1_000_000), zone, "")
    return {name: document[name] for name in SIDE_FIELDS}


class Convert(TimeResource):
    """
    C{/api/convert?from=ZONE&to=ZONE&time=LOCAL[&disambiguate=...]}: the
    local date-time C{time} in zone C{from}, in zone C{to}.

    A local time that does not exist (the gap when clocks spring forward) or
    exists twice (the overlap when they fall back) is resolved as
    C{disambiguate} says: C{earlier} or C{later} of the two instants it can
    mean, or, by default, C{reject}: 422 naming the problem, and for an
    overlap both candidates.
    """

    def __init__(
        self, catalogue: ZoneCatalogue, *, health: ClockHealth | None = None
    ) -> None:
        super().__init__("json", health=health)
        self._catalogue = catalogue

    def render_GET(self, request: IRequest) -> bytes:
        try:
            source = zoneFromQuery(request, self._catalogue, None, "from")
            target = zoneFromQuery(request, self._catalogue, None, "to")
            text = queryValue(request, "time")
            if text is None:
                raise badParameter("time", "required")
            local = localTime(text)
            if local is None:
                raise badParameter(
                    "time",
                    "a local date-time without offset, like 2024-03-31T02:30:00, "
                    "in the years 1000 to 9998",
                )
            how = queryValue(request, "disambiguate")
            if how is None:
                how = "reject"
            elif how not in DISAMBIGUATIONS:
                raise badParameter("disambiguate", "earlier, later or reject")
        except QueryError as e:
            return self.sendQueryError(request, "json", e)
        fixedHeaders(request, PUBLIC_FIELDS)
        found = localInstants(source, local)
        micros = chosenInstant(found, how)
        if micros is None:
            return self._reject(
                request, source, text, found.kind, found.earlier, found.later
            )
        return sendJSON(
            request,
            {
                "from": _side(source, micros),
                "to": _side(target, micros),
                "local_time": found.kind,
                "utc_datetime": (_EPOCH + timedelta(microseconds=micros)).isoformat(
                    timespec="microseconds"
                ),
                "unixtime": micros // 1_000_000,
                "unixtime_ms": micros // 1000,
            },
        )

    def _reject(
        self,
        request: IRequest,
        zone: ZoneInfo,
        text: str,
        kind: str,
        earlier: int,
        later: int,
    ) -> bytes:
        """
        @return: the 422 for a local time in a gap or an overlap
            (L{ambiguity}).
        """
        answer = ambiguity(zone, text, kind, earlier, later)
        body = sendJSON(request, answer, HTTPStatus.UNPROCESSABLE_ENTITY)
        # Twisted has no reason phrase for 422: RFC 9110's.
        request.setResponseCode(
            HTTPStatus.UNPROCESSABLE_ENTITY, b"Unprocessable Content"
        )
        return body


def ambiguity(
    zone: ZoneInfo,
    text: str,
    kind: str,
    earlier: int,
    later: int,
    parameter: str = "time",
    choice: str = "disambiguate",
) -> dict[str, object]:
    """
    The body of the 422 for a local time in a gap or an overlap, which
    C{/api/convert} and timeapi.io's conversion both answer.

    @param text: the local time, as the client wrote it.
    @param kind: C{gap} or C{overlap}.
    @param earlier: the earlier instant it can mean, in microseconds.
    @param later: the later one.
    @param parameter: the parameter that gave the local time.
    @param choice: the parameter that chooses the earlier or the later.
    @return: what is wrong, and for an overlap the two instants it can mean.
    """
    if kind == "gap":
        error = (
            f"{text} does not exist in {zone.key}: the clocks skipped it; "
            f"give {choice}=earlier or later"
        )
    else:
        error = f"{text} happens twice in {zone.key}; give {choice}=earlier or later"
    answer: dict[str, object] = {
        "error": error,
        "parameter": parameter,
        "problem": kind,
    }
    if kind == "overlap":
        answer["candidates"] = [_side(zone, earlier), _side(zone, later)]
    return answer


class Transitions:
    """
    A zone's transitions in a range: C{?from=INSTANT&to=INSTANT}, from now
    and for L{DEFAULT_RANGE} by default, at most
    L{LONGEST_RANGE<clocksvc._time.LONGEST_RANGE>} long.

    It renders below L{Timezones<clocksvc._web._api.Timezones>}, which finds
    the zone and sets the time headers.
    """

    def __init__(self, clock: IReactorTime) -> None:
        self._clock = clock

    def renderZone(self, request: IRequest, zone: ZoneInfo) -> bytes:
        """
        @return: the transitions of C{zone} that C{request} asks for, as JSON;
            or a 400 if its range is malformed, empty or too long.
        """
        try:
            start = instantFromQuery(request, "from")
            end = instantFromQuery(request, "to")
        except QueryError as e:
            return jsonError(request, e.code, e.message, **e.detail)
        given = start is not None
        if start is None:
            start = Fraction(self._clock.seconds())
        if end is None:
            end = start + DEFAULT_RANGE
        error = None
        if end <= start:
            error = badParameter("to", "after from")
        elif end - start > LONGEST_RANGE:
            error = badParameter("to", "at most 100 years after from")
        if error is not None:
            return jsonError(request, error.code, error.message, **error.detail)
        if given:
            # A range that starts at a given instant does not move with the
            # clock.
            fixedHeaders(request, PUBLIC_FIELDS)
        # Transitions happen at whole seconds: those from start on and
        # before end are those from its ceiling on and before end's.
        first, last = ceil(start), ceil(end)
        # sendJSON's body, but that the transitions come encoded already
        # (transitionsJSON), as encoding a century's dicts takes a few
        # tenths of a millisecond more.
        head = json.dumps(
            {"timezone": zone.key, "from": _isoUTC(start), "to": _isoUTC(end)},
            separators=(",", ":"),
        )
        request.setResponseCode(HTTPStatus.OK)
        request.setHeader(b"content-type", JSON_TYPE)
        return (
            f'{head[:-1]},"transitions":{transitionsJSON(zone, first, last)}}}'
        ).encode()


def _isoUTC(seconds: Fraction) -> str:
    micros = round(seconds * 1_000_000)
    return (_EPOCH + timedelta(microseconds=micros)).isoformat()
