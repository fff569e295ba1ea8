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

from datetime import datetime, timedelta, timezone
from fractions import Fraction
from http import HTTPStatus
from math import ceil
from typing import Any
from zoneinfo import ZoneInfo

from twisted.internet.interfaces import IReactorTime

from .._clock import ClockHealth
from .._time import (
    DISAMBIGUATIONS,
    LOCAL_TIME,
    LONGEST_RANGE,
    STATE_FIELDS,
    ZoneCatalogue,
    chosenInstant,
    localInstants,
    localTime,
    timeDocument,
    transitionsJSON,
)
from ._answer import Answer, Ask, Fields, queryArgs
from ._api import (
    JSON_FORM,
    QueryError,
    TimeResource,
    badParameter,
    instantFromQuery,
    queryValue,
    zoneFromQuery,
)
from ._openapi import (
    TIME_DOCUMENT,
    Fragment,
    error,
    instantParameter,
    jsonContent,
    operation,
    ref,
    zoneParameter,
    zoneParts,
)
from ._resource import JSON_FIELDS, TIME_FIELDS, jsonBody

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
#: The fields of such an answer in JSON: L{PUBLIC_FIELDS} in place of
#: L{TIME_FIELDS}' C{Cache-Control}, and no C{Clock-Status}, since the
#: server's clock plays no part in it.
_PUBLIC_JSON_FIELDS: Fields = (
    (b"Cache-Control", PUBLIC_FIELDS[0][1]),
    *TIME_FIELDS[1:],
    *JSON_FIELDS,
)

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

    def answerAllowed(self, ask: Ask) -> Answer:
        args = queryArgs(ask)
        try:
            source = zoneFromQuery(args, self._catalogue, None, "from")
            target = zoneFromQuery(args, self._catalogue, None, "to")
            text = queryValue(args, "time")
            if text is None:
                raise badParameter("time", "required")
            local = localTime(text)
            if local is None:
                raise badParameter(
                    "time",
                    "a local date-time without offset, like 2024-03-31T02:30:00, "
                    "in the years 1000 to 9998",
                )
            how = queryValue(args, "disambiguate")
            if how is None:
                how = "reject"
            elif how not in DISAMBIGUATIONS:
                raise badParameter("disambiguate", "earlier, later or reject")
        except QueryError as e:
            return self.queryError(JSON_FORM, e)
        found = localInstants(source, local)
        micros = chosenInstant(found, how)
        if micros is None:
            return _reject(source, text, found.kind, found.earlier, found.later)
        body = jsonBody(
            {
                "from": _side(source, micros),
                "to": _side(target, micros),
                "local_time": found.kind,
                "utc_datetime": (_EPOCH + timedelta(microseconds=micros)).isoformat(
                    timespec="microseconds"
                ),
                "unixtime": micros // 1_000_000,
                "unixtime_ms": micros // 1000,
            }
        )
        return Answer(200, _PUBLIC_JSON_FIELDS, body)


def _reject(zone: ZoneInfo, text: str, kind: str, earlier: int, later: int) -> Answer:
    """
    @return: the 422 for a local time in a gap or an overlap (L{ambiguity}).
    """
    # Twisted has no reason phrase for 422: RFC 9110's.
    return Answer(
        int(HTTPStatus.UNPROCESSABLE_ENTITY),
        _PUBLIC_JSON_FIELDS,
        jsonBody(ambiguity(zone, text, kind, earlier, later)),
        reason=b"Unprocessable Content",
    )


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
    L{LONGEST_RANGE<clocksvc._time.LONGEST_RANGE>} long. A range is from
    C{from} on and before C{to}: C{from} equal to C{to} is the empty range.

    It answers below L{Timezones<clocksvc._web._api.Timezones>}, which finds
    the zone.
    """

    def __init__(self, wallClock: IReactorTime) -> None:
        self._wallClock = wallClock

    def answerZone(self, ask: Ask, zone: ZoneInfo, owner: TimeResource) -> Answer:
        """
        @param owner: the resource it answers below, whose time fields its
            answers about now carry.
        @return: the transitions of C{zone} that C{ask} asks for, as JSON;
            or a 400 if its range is malformed, backwards or too long.
        """
        args = queryArgs(ask)
        try:
            start = instantFromQuery(args, "from")
            end = instantFromQuery(args, "to")
        except QueryError as e:
            return owner.queryError(JSON_FORM, e)
        given = start is not None
        if start is None:
            start = Fraction(self._wallClock.seconds())
        if end is None:
            end = start + DEFAULT_RANGE
        error = None
        if end < start:
            error = badParameter("to", "not before from")
        elif end - start > LONGEST_RANGE:
            error = badParameter("to", "at most 100 years after from")
        if error is not None:
            return owner.queryError(JSON_FORM, error)
        # A range that starts at a given instant does not move with the
        # clock.
        fields = _PUBLIC_JSON_FIELDS if given else owner.timeFields(JSON_FIELDS)
        # Transitions happen at whole seconds: those from start on and
        # before end are those from its ceiling on and before end's.
        first, last = ceil(start), ceil(end)
        # The transitions come encoded already (transitionsJSON): encoding
        # a century's dicts again would take a few tenths of a millisecond.
        head = jsonBody(
            {"timezone": zone.key, "from": _isoUTC(start), "to": _isoUTC(end)}
        )
        body = (
            head[:-1]
            + b',"transitions":'
            + transitionsJSON(zone, first, last).encode()
            + b"}"
        )
        return Answer(200, fields, body)


def _isoUTC(seconds: Fraction) -> str:
    micros = round(seconds * 1_000_000)
    return (_EPOCH + timedelta(microseconds=micros)).isoformat()


# The description of these resources' paths (/openapi.json).


def _transitionsPath(parts: list[str]) -> dict[str, Any]:
    return operation(
        "The zone's offset transitions from ?from= (by default now) to before "
        "?to= (by default a year of 365 days later), at most 100 years; from "
        "equal to to is the empty range",
        {
            "200": {
                "description": "The transitions, earliest first",
                "content": jsonContent(ref("Transitions")),
            },
            "400": error(
                "A malformed instant, or a range backwards (to before from) "
                "or longer than 100 years"
            ),
            "404": error("No zone has that name"),
        },
        [
            *zoneParts(parts),
            instantParameter("from", "The range's first instant, as ?at= takes it"),
            instantParameter(
                "to", "The instant after the range's last, as ?at= takes it"
            ),
        ],
    )


def transitionsFragment() -> Fragment:
    """
    @return: the description of a zone's C{/transitions} (L{Transitions}),
        below a zone of two or three segments.
    """
    zoneState = TIME_DOCUMENT["properties"]
    return Fragment(
        {
            "/api/timezone/"
            + "/".join("{" + part + "}" for part in parts)
            + "/transitions": _transitionsPath(parts)
            for parts in (["area", "location"], ["area", "location", "region"])
        },
        {
            "ZoneState": {
                "type": "object",
                "additionalProperties": False,
                "required": list(STATE_FIELDS),
                "properties": {name: zoneState[name] for name in STATE_FIELDS},
            },
            "Transitions": {
                "type": "object",
                "additionalProperties": False,
                "required": ["timezone", "from", "to", "transitions"],
                "properties": {
                    "timezone": {"type": "string"},
                    "from": {"type": "string", "format": "date-time"},
                    "to": {"type": "string", "format": "date-time"},
                    "transitions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": [
                                "unixtime",
                                "utc_datetime",
                                "before",
                                "after",
                                "dst",
                            ],
                            "properties": {
                                "unixtime": {"type": "integer"},
                                "utc_datetime": {
                                    "type": "string",
                                    "format": "date-time",
                                },
                                "before": ref("ZoneState"),
                                "after": ref("ZoneState"),
                                "dst": {"type": "boolean"},
                            },
                        },
                    },
                },
            },
        },
    )


def convertFragment() -> Fragment:
    """
    @return: the description of C{/api/convert} (L{Convert}).
    """
    side = TIME_DOCUMENT["properties"]
    return Fragment(
        {
            "/api/convert": operation(
                "A local date-time in one zone, in another",
                {
                    "200": {
                        "description": "The conversion",
                        "content": jsonContent(ref("Conversion")),
                    },
                    "400": error("A malformed or missing parameter, named"),
                    "404": error("No zone has that name: the parameter named"),
                    "422": {
                        "description": "With disambiguate=reject, a local time "
                        "that does not exist (gap) or exists twice (overlap)",
                        "content": jsonContent(ref("Ambiguity")),
                    },
                },
                [
                    zoneParameter("from", "The zone of time", "Europe/Berlin"),
                    zoneParameter(
                        "to", "The zone to convert it to", "America/New_York"
                    ),
                    {
                        "name": "time",
                        "in": "query",
                        "required": True,
                        "description": "A local date-time without offset, "
                        "to the nanosecond, in the years 1000 to 9998",
                        "schema": {
                            "type": "string",
                            "pattern": f"^{LOCAL_TIME}$",
                            "example": "2024-03-31T12:00:00",
                        },
                    },
                    {
                        "name": "disambiguate",
                        "in": "query",
                        "required": False,
                        "description": "For a local time in a gap or an "
                        "overlap: the earlier or later instant it can mean, or "
                        "reject (422)",
                        "schema": {"enum": list(DISAMBIGUATIONS)},
                    },
                ],
            )
        },
        {
            "ConversionSide": {
                "type": "object",
                "additionalProperties": False,
                "required": list(SIDE_FIELDS),
                "properties": {name: side[name] for name in SIDE_FIELDS},
            },
            "Conversion": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "from",
                    "to",
                    "local_time",
                    "utc_datetime",
                    "unixtime",
                    "unixtime_ms",
                ],
                "properties": {
                    "from": ref("ConversionSide"),
                    "to": ref("ConversionSide"),
                    "local_time": {
                        "enum": ["unique", "gap", "overlap"],
                        "description": "What time named in from: one "
                        "instant, none (disambiguated), or two "
                        "(disambiguated)",
                    },
                    "utc_datetime": {"type": "string", "format": "date-time"},
                    "unixtime": {"type": "integer"},
                    "unixtime_ms": {"type": "integer"},
                },
            },
            "Ambiguity": {
                "type": "object",
                "additionalProperties": False,
                "required": ["error", "parameter", "problem"],
                "properties": {
                    "error": {"type": "string"},
                    "parameter": {"const": "time"},
                    "problem": {"enum": ["gap", "overlap"]},
                    "candidates": {
                        "type": "array",
                        "minItems": 2,
                        "maxItems": 2,
                        "items": ref("ConversionSide"),
                    },
                },
            },
        },
    )
