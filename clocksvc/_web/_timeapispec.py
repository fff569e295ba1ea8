# -*- test-case-name: tests.test_openapi,tests.test_timeapi -*-
"""
timeapi.io's endpoints in C{/openapi.json}: as its Swagger document
describes them (its C{CurrentTime}, C{TimeZoneData}, C{ConvertRequest} and
C{Conversion}, prefixed C{TimeApi}), with the errors clocksvc answers
(L{clocksvc._web._timeapi}).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, ClassVar

from .._time import ZONE_NAME
from ._coordinates import LATITUDE, LONGITUDE, coordinateParameter
from ._openapi import Fragment
from ._timeapi import (
    INVALID_TIMEZONE,
    LOCAL_DATE_TIME,
    LOCAL_TIME_FORMAT,
    REQUIRED_FIELDS,
    timeAPIPaths,
)

__all__ = ["timeAPIFragment", "timeAPIOpenAPI"]


def timeAPIOpenAPI() -> tuple[dict[str, Any], dict[str, Any]]:
    """
    @return: the path items of timeapi.io's endpoints in C{/openapi.json},
        and the schemas they use.
    """
    return _TimeAPIDescription().build()


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


class _TimeAPIDescription:
    """
    timeapi.io's endpoints in OpenAPI, as its Swagger document describes
    them, with the errors clocksvc answers.
    """

    _problem: ClassVar[dict[str, Any]] = {
        "application/problem+json": {"schema": _ref("TimeApiProblem")}
    }

    def _error(self, description: str) -> dict[str, Any]:
        return {"description": description, "content": self._problem}

    def _invalidTimezone(self) -> dict[str, Any]:
        return {
            "description": "No zone has that name, or none was given",
            "content": {"application/json": {"schema": {"const": INVALID_TIMEZONE}}},
        }

    def _read(
        self,
        summary: str,
        schema: str,
        parameters: list[dict[str, Any]],
        errors: Mapping[str, dict[str, Any]],
    ) -> dict[str, Any]:
        summary += ", as timeapi.io answers it"
        get: dict[str, Any] = {
            "summary": summary,
            "parameters": parameters,
            "responses": {
                "200": {
                    "description": "The answer",
                    "headers": {
                        "Clock-Status": {"$ref": "#/components/headers/Clock-Status"}
                    },
                    "content": {"application/json": {"schema": _ref(schema)}},
                },
                **errors,
            },
        }
        return {
            "get": get,
            "head": dict(get, summary=summary + " (headers only)"),
        }

    def _zone(self) -> list[dict[str, Any]]:
        return [
            {
                "name": "timeZone",
                "in": "query",
                "required": True,
                "description": "An IANA time zone name, in any letter case",
                "schema": {
                    "type": "string",
                    "pattern": f"^{ZONE_NAME}$",
                    "example": "Europe/Amsterdam",
                },
            }
        ]

    def _coordinates(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        parameters = [
            coordinateParameter("latitude", LATITUDE, 38.9),
            coordinateParameter("longitude", LONGITUDE, -77.03),
        ]
        errors = {
            "400": self._error("A coordinate missing, malformed or out of bounds"),
            "501": self._error("The server has no zone boundaries"),
        }
        return parameters, errors

    def _address(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        parameters = [
            {
                "name": "ipAddress",
                "in": "query",
                "required": True,
                "description": "An IPv4 or IPv6 address",
                "schema": {
                    "type": "string",
                    "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}],
                    "example": "81.2.69.142",
                },
            }
        ]
        errors = {
            "400": self._error("No address, or a malformed one"),
            "404": self._error(
                "The IP geolocation database (--geoip-db) has no zone for the "
                "address, or it is not public: unknown location"
            ),
            "501": self._error(
                "The server has no IP geolocation database (no --geoip-db)"
            ),
        }
        return parameters, errors

    def build(self) -> tuple[dict[str, Any], dict[str, Any]]:
        coordinates, coordinateErrors = self._coordinates()
        address, addressErrors = self._address()
        invalid = {"400": self._invalidTimezone()}
        paths = {
            "/api/Time/current/zone": self._read(
                "The current time in a zone",
                "TimeApiCurrentTime",
                self._zone(),
                invalid,
            ),
            "/api/Time/current/coordinate": self._read(
                "The current time at a point, in its zone",
                "TimeApiCurrentTime",
                coordinates,
                coordinateErrors,
            ),
            "/api/Time/current/ip": self._read(
                "The current time in the zone of an IP address",
                "TimeApiCurrentTime",
                address,
                addressErrors,
            ),
            "/api/TimeZone/AvailableTimeZones": self._read(
                "Every zone name", "ZoneList", [], {}
            ),
            "/api/TimeZone/zone": self._read(
                "A zone's offsets and daylight saving",
                "TimeApiTimeZoneData",
                self._zone(),
                invalid,
            ),
            "/api/TimeZone/coordinate": self._read(
                "The offsets and daylight saving of the zone at a point",
                "TimeApiTimeZoneData",
                coordinates,
                coordinateErrors,
            ),
            "/api/TimeZone/ip": self._read(
                "The offsets and daylight saving of the zone of an IP address",
                "TimeApiTimeZoneData",
                address,
                addressErrors,
            ),
            "/api/Conversion/ConvertTimeZone": {"post": self._conversion()},
        }
        return paths, self._schemas()

    def _conversion(self) -> dict[str, Any]:
        return {
            "summary": "A local time in one zone, in another, as timeapi.io "
            "converts it; a local time that a transition skips or repeats "
            "is resolved by dstAmbiguity (earlier or later), or refused "
            "without it (422), as /api/convert does",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": _ref("TimeApiConvertRequest")}
                },
            },
            "responses": {
                "200": {
                    "description": "The conversion",
                    "content": {
                        "application/json": {"schema": _ref("TimeApiConversion")}
                    },
                },
                "400": {
                    "description": "A zone that no zone has the name of, or a "
                    "body that is not such a request (the field named)",
                    "content": {
                        "application/json": {"schema": {"const": INVALID_TIMEZONE}},
                        **self._problem,
                    },
                },
                "422": {
                    "description": "Without dstAmbiguity, a local time that "
                    "does not exist (gap) or exists twice (overlap)",
                    "content": {
                        "application/json": {"schema": _ref("TimeApiAmbiguity")}
                    },
                },
            },
        }

    def _schemas(self) -> dict[str, Any]:
        integer = {"type": "integer"}
        dateTime = {
            "type": "string",
            "description": "Local, without an offset; the fraction of the "
            "second without its trailing zeros, and none for a whole second",
            "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
            r"(\.[0-9]*[1-9])?$",
            "example": "2021-03-14T17:45:00.25",
        }
        fields = {
            "year": integer,
            "month": {"type": "integer", "minimum": 1, "maximum": 12},
            "day": {"type": "integer", "minimum": 1, "maximum": 31},
            "hour": {"type": "integer", "minimum": 0, "maximum": 23},
            "minute": {"type": "integer", "minimum": 0, "maximum": 59},
            "seconds": {"type": "integer", "minimum": 0, "maximum": 59},
            "milliSeconds": {"type": "integer", "minimum": 0, "maximum": 999},
            "dateTime": dateTime,
            "date": {
                "type": "string",
                "description": "MM/dd/yyyy",
                "pattern": "^[0-9]{2}/[0-9]{2}/[0-9]{4}$",
                "example": "03/14/2021",
            },
            "time": {
                "type": "string",
                "description": "HH:mm",
                "pattern": "^[0-9]{2}:[0-9]{2}$",
                "example": "17:45",
            },
            "timeZone": {"type": "string", "example": "Europe/Amsterdam"},
        }
        days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
        current = {
            **fields,
            "dayOfWeek": {"enum": [*days, "Saturday", "Sunday"]},
            "dstActive": {"type": "boolean"},
        }
        result = {**fields, "dstActive": {"type": "boolean"}}
        offset = {
            "type": "object",
            "additionalProperties": False,
            "required": ["seconds", "milliseconds", "ticks", "nanoseconds"],
            "properties": {
                name: integer
                for name in ["seconds", "milliseconds", "ticks", "nanoseconds"]
            },
        }
        number = {"type": "number"}
        durationParts = [
            "days",
            "nanosecondOfDay",
            "hours",
            "minutes",
            "seconds",
            "milliseconds",
            "subsecondTicks",
            "subsecondNanoseconds",
            "bclCompatibleTicks",
        ]
        totals = [
            "totalDays",
            "totalHours",
            "totalMinutes",
            "totalSeconds",
            "totalMilliseconds",
            "totalTicks",
            "totalNanoseconds",
        ]
        utc = {"type": ["string", "null"], "format": "date-time"}
        return {
            "TimeApiCurrentTime": _object(current),
            "TimeApiConversionResult": _object(result),
            "TimeApiOffset": offset,
            "TimeApiDuration": _object(
                {
                    **{name: integer for name in durationParts},
                    **{name: number for name in totals},
                }
            ),
            "TimeApiDstInterval": _object(
                {
                    "dstName": {"type": "string"},
                    "dstOffsetToUtc": _ref("TimeApiOffset"),
                    "dstOffsetToStandardTime": _ref("TimeApiOffset"),
                    "dstStart": utc,
                    "dstEnd": utc,
                    "dstDuration": {
                        "oneOf": [_ref("TimeApiDuration"), {"type": "null"}]
                    },
                }
            ),
            "TimeApiTimeZoneData": _object(
                {
                    "timeZone": {"type": "string"},
                    "currentLocalTime": dateTime,
                    "currentUtcOffset": _ref("TimeApiOffset"),
                    "standardUtcOffset": _ref("TimeApiOffset"),
                    "hasDayLightSaving": {"type": "boolean"},
                    "isDayLightSavingActive": {"type": "boolean"},
                    "dstInterval": {
                        "oneOf": [_ref("TimeApiDstInterval"), {"type": "null"}]
                    },
                }
            ),
            "TimeApiConvertRequest": {
                "type": "object",
                "required": list(REQUIRED_FIELDS),
                "properties": {
                    "fromTimeZone": {
                        "type": "string",
                        "pattern": f"^{ZONE_NAME}$",
                        "example": "Europe/Amsterdam",
                    },
                    "dateTime": {
                        "type": "string",
                        "description": LOCAL_TIME_FORMAT,
                        "pattern": f"^{LOCAL_DATE_TIME}$",
                        "example": "2021-03-14 17:45:00",
                    },
                    "toTimeZone": {
                        "type": "string",
                        "pattern": f"^{ZONE_NAME}$",
                        "example": "America/Los_Angeles",
                    },
                    "dstAmbiguity": {
                        "type": ["string", "null"],
                        "enum": ["", "earlier", "later", None],
                    },
                },
            },
            "TimeApiConversion": _object(
                {
                    "fromTimezone": {"type": "string"},
                    "fromDateTime": dateTime,
                    "toTimeZone": {"type": "string"},
                    "conversionResult": _ref("TimeApiConversionResult"),
                }
            ),
            "TimeApiAmbiguity": {
                "type": "object",
                "additionalProperties": False,
                "required": ["error", "parameter", "problem"],
                "properties": {
                    "error": {"type": "string"},
                    "parameter": {"const": "dateTime"},
                    "problem": {"enum": ["gap", "overlap"]},
                    "candidates": {
                        "type": "array",
                        "minItems": 2,
                        "maxItems": 2,
                        "items": _ref("ConversionSide"),
                    },
                },
            },
            "TimeApiProblem": {
                "type": "object",
                "description": "Problem details (RFC 9457), as ASP.NET "
                "answers them, with clocksvc's error (and parameter) too",
                "required": ["type", "title", "status", "error"],
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "errors": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "array",
                            "items": {"type": "string"},
                        },
                    },
                    "error": {"type": "string"},
                    "parameter": {"type": "string"},
                },
            },
        }


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    """
    @return: the schema of an object with exactly C{properties}, each
        required.
    """
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }


def timeAPIFragment(segment: bytes) -> Fragment:
    """
    @param segment: a segment below C{/api}, as timeapi.io spells it.
    @return: the description of timeapi.io's endpoints below C{/api/SEGMENT}
        (L{TimeAPIResource<clocksvc._web._timeapi.TimeAPIResource>}), with
        the schemas they use.
    """
    paths, schemas = _described()
    return Fragment({path: paths[path] for path in timeAPIPaths(segment)}, schemas)


@lru_cache(maxsize=1)
def _described() -> tuple[dict[str, Any], dict[str, Any]]:
    return timeAPIOpenAPI()
