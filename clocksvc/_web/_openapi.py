# -*- test-case-name: tests.test_openapi -*-
"""
C{/openapi.json}: an OpenAPI 3.2 description of every endpoint, so that
clients can be generated, and fuzzers check the server against it.

3.2 rather than 3.1 for C{/stream}: 3.2's C{itemSchema} describes each
server-sent event, where 3.1 has only a schema for the whole body. The
tools that check this document know 3.2: openapi-spec-validator (from
0.8.2) validates it, and schemathesis 4 checks each event against it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from twisted.web.iweb import IRequest

from .._time import FIELDS, INSTANT, LOCAL_TIME, STATE_FIELDS, ZONE_NAME, ZONE_SEGMENT
from .._version import __version__
from ._api import MILLISECONDS
from ._conversions import SIDE_FIELDS
from ._coordinates import coordinatesOpenAPI
from ._leap import LEAP_LIST_SCHEMA, LEAP_SECONDS_SCHEMA
from ._resource import JSON_TYPE, MethodResource
from ._signedtime import roughtimeOpenAPI
from ._sntp import NTP_STATE_SCHEMA
from ._timeapispec import timeAPIOpenAPI

__all__ = ["OPERATOR_PATHS", "OpenAPI", "openAPIDocument"]

# What the server takes for a zone name: anything else is answered 400 (in
# ?tz) or 404 (in the path), so the schemas say so, and fuzzers send such
# values as invalid.
_ZONE_PART = f"^{ZONE_SEGMENT}$"
_ZONE_NAME = f"^{ZONE_NAME}$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _text() -> dict[str, Any]:
    return {"text/plain": {"schema": {"type": "string"}}}


def _documentOrExchange() -> dict[str, Any]:
    """
    @return: the schema of a time document that carries the exchange's times
        exactly when the request gave C{t1}; as if/then/else rather than
        oneOf, so a validator reports the one alternative that applies.
    """
    return {
        "if": {"required": ["t1"]},
        "then": _ref("ExchangeDocument"),
        "else": _ref("TimeDocument"),
    }


def _html() -> dict[str, Any]:
    return {"text/html": {"schema": {"type": "string"}}}


def _error(description: str, text: bool = False) -> dict[str, Any]:
    content = _json(_ref("Error"))
    if text:
        content.update(_text())
    return {"description": description, "content": content}


_TZ = {
    "name": "tz",
    "in": "query",
    "required": False,
    "description": "An IANA time zone name, in any letter case; by default "
    "the server's zone (--timezone, else the zone of the machine it runs on).",
    "schema": {"type": "string", "pattern": _ZONE_NAME, "example": "Europe/Berlin"},
}

_T1 = {
    "name": "t1",
    "in": "query",
    "required": False,
    "description": "The client's send time, in milliseconds since the epoch "
    "(before the year 10000, to the microsecond at most): the answer then adds "
    "t1 (echoed), t2 (when the server received the request) and t3 (when it "
    "answered), for an NTP-style offset estimate.",
    # The server's own pattern: digits up to 253402300799999, so that a
    # fuzzer's 15-digit t1 past the year 9999 counts as invalid, as it is.
    "schema": {
        "type": "string",
        "pattern": f"^{MILLISECONDS}$",
        "example": "1700000000000",
    },
}

_AT = {
    "name": "at",
    "in": "query",
    "required": False,
    "description": "The instant to describe instead of now: an RFC 3339 time "
    "with its offset or Z, or Unix seconds (to the microsecond), in the years "
    "1000 to 9998 as written. Such an answer may be cached (Cache-Control: "
    "private, max-age=86400) and has no Clock-Status. Not with t1.",
    "schema": {
        "type": "string",
        "pattern": f"^{INSTANT}$",
        "example": "2024-03-31T01:30:00Z",
    },
}


def _instant(name: str, description: str) -> dict[str, Any]:
    return {**_AT, "name": name, "description": description}


def _zoneParameter(name: str, description: str, example: str) -> dict[str, Any]:
    schema = {"type": "string", "pattern": _ZONE_NAME, "example": example}
    return {
        **_TZ,
        "name": name,
        "required": True,
        "description": description,
        "schema": schema,
    }


#: The operator's paths, which answer no OPTIONS (their resources'
#: C{crossOrigin}; C{tests.test_site} checks the two agree with the routes).
OPERATOR_PATHS = ("/healthz", "/readyz", "/metrics")


def _preflight(item: dict[str, Any]) -> dict[str, Any]:
    """
    @param item: a public path's item, with its other operations.
    @return: its OPTIONS operation: what it allows, and the answer to a CORS
        preflight (L{answerOptions<clocksvc._web._resource.answerOptions>}),
        with the path's parameters, as its other operations have them.
    """
    # The preflight is answered whatever a path's segments hold, a zone's
    # name or an address malformed or not (the resource answers OPTIONS for
    # any path below it): so its path parameters are any string, not the
    # pattern a fuzzer would expect it to enforce.
    pathParameters = {
        parameter["name"]: {**parameter, "schema": {"type": "string"}}
        for operation in item.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    }

    def field(description: str) -> dict[str, Any]:
        return {"description": description, "schema": {"type": "string"}}

    operation: dict[str, Any] = {
        "summary": "The methods allowed; with Origin and "
        "Access-Control-Request-Method, a CORS preflight's answer, which lets "
        "pages of any origin send them with the headers they ask for",
        "responses": {
            "204": {
                "description": "No body",
                "headers": {
                    "Allow": field("The methods, OPTIONS included"),
                    "Access-Control-Allow-Origin": field("* (preflights only)"),
                    "Access-Control-Allow-Methods": field(
                        "The methods but OPTIONS (preflights only)"
                    ),
                    "Access-Control-Allow-Headers": field(
                        "The names of Access-Control-Request-Headers, in lower "
                        "case, if they are at most 32 field names of at most "
                        "64 characters (preflights only)"
                    ),
                    "Access-Control-Max-Age": field("86400 (preflights only)"),
                },
            }
        },
    }
    if pathParameters:
        operation["parameters"] = list(pathParameters.values())
    return operation


# At /, ?tz chooses the zone of the time document, as at /now (its 400 and 404
# are /'s); the page and the ?iso and ?ms answers ignore it, whatever it
# holds, so here it has no pattern that a fuzzer would expect enforced.
_ROOT_TZ = {
    **_TZ,
    "description": "For the time document (Accept: application/json or "
    "text/plain), as /now's tz; the page and ?iso, ?ms ignore it.",
    "schema": {"type": "string", "example": "Europe/Berlin"},
}


def _operation(
    summary: str,
    responses: dict[str, Any],
    parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """
    @return: a path item with the same GET and HEAD operations.
    """
    get: dict[str, Any] = {"summary": summary, "responses": responses}
    if parameters:
        get["parameters"] = parameters
    head = dict(get, summary=summary + " (headers only)")
    return {"get": get, "head": head}


#: An existing area or zone for each number of path segments, as examples:
#: so that a client or fuzzer trying them out meets a 200, not only 404s.
_ZONE_EXAMPLES = {
    1: ["Europe"],
    2: ["Europe", "Berlin"],
    3: ["America", "Argentina", "Salta"],
}


def _zoneParts(parts: list[str]) -> list[dict[str, Any]]:
    """
    @return: the path parameters of a zone's name in C{parts}, each with an
        example that exists.
    """
    return [
        {
            "name": part,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": _ZONE_PART},
            "example": example,
        }
        for part, example in zip(parts, _ZONE_EXAMPLES[len(parts)])
    ]


def _zonePath(parts: list[str], text: bool) -> dict[str, Any]:
    names = ", ".join(parts)
    parameters = _zoneParts(parts)
    body: dict[str, Any]
    if text:
        body = _text()
    else:
        body = _json({"oneOf": [_ref("TimeDocument"), _ref("ZoneList")]})
    return _operation(
        f"The time document for the zone {names} (now, or ?at=), or the "
        "zones of that area",
        {
            "200": {"description": "The document, or a list of zones", "content": body},
            "400": _error("A malformed ?at=, for a zone", text),
            "404": _error("No zone or area has that name", text),
        },
        [*parameters, _AT],
    )


def _transitionsPath(parts: list[str]) -> dict[str, Any]:
    parameters = _zoneParts(parts)
    return _operation(
        "The zone's offset transitions from ?from= (by default now) to before "
        "?to= (by default a year of 365 days later), at most 100 years",
        {
            "200": {
                "description": "The transitions, earliest first",
                "content": _json(_ref("Transitions")),
            },
            "400": _error("A malformed instant, or a range empty or too long"),
            "404": _error("No zone has that name"),
        },
        [
            *parameters,
            _instant("from", "The range's first instant, as ?at= takes it"),
            _instant("to", "The instant after the range's last, as ?at= takes it"),
        ],
    )


#: An address in C{/api/ip/{address}}: what the server parses, so that a
#: fuzzer sends anything else as invalid (400).
_IP_ADDRESS = {
    "name": "address",
    "in": "path",
    "required": True,
    "description": "An IPv4 or IPv6 address; the document names it as client_ip.",
    "schema": {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
    "example": "81.2.69.142",
}


def _ipPath(address: bool, text: bool) -> dict[str, Any]:
    """
    @param address: whether the path has the address (else it is the
        client's).
    @param text: whether it answers in text.
    @return: the path item of C{/api/ip}, C{/api/ip/{address}}, or their
        C{.txt}.
    """
    whose = "that address" if address else "the client's address"
    body = _text() if text else _json(_ref("TimeDocument"))
    responses = {
        "200": {"description": "The document", "content": body},
        "404": _error(
            f"The server's IP geolocation database (--geoip-db) has no zone "
            f"for {whose}, or the address is not public: unknown location",
            text,
        ),
        "501": _error(
            "The server has no IP geolocation database (it was started "
            "without --geoip-db), whatever the request: no GeoIP database "
            "configured",
            text,
        ),
    }
    responses["400"] = _error(
        "Not an IP address, or a malformed ?at=" if address else "A malformed ?at=",
        text,
    )
    return _operation(
        f"The time document for the zone of {whose} (now, or ?at=), from the "
        "server's IP geolocation database, as worldtimeapi.org's /api/ip",
        responses,
        [_IP_ADDRESS, _AT] if address else [_AT],
    )


def _jsonData(schema: dict[str, Any]) -> dict[str, Any]:
    """
    @return: the schema of an event's C{data} that holds JSON valid against
        C{schema}.
    """
    return {
        "type": "string",
        "contentMediaType": "application/json",
        "contentSchema": schema,
    }


def _streamEvent() -> dict[str, Any]:
    """
    @return: the schema of one of C{/stream}'s events, as the HTML standard
        parses them (and OpenAPI 3.2's generic C{text/event-stream} schema
        reads them): C{event}, C{id}, C{retry} and C{data}, each a string but
        C{retry}. A block without C{data} is no event, so the stream's first
        block (C{retry: 1000}) is not one; C{id} carries on to the events
        after it that set none, as it does to C{shutdown}.
    """
    return {
        "type": "object",
        "description": "A tick (its id and the document's unixtime are the "
        "second that began), a step of the server's wall clock, or, last, "
        "the shutdown notice.",
        "required": ["event", "data"],
        "properties": {
            "event": {"enum": ["tick", "step", "shutdown"]},
            "id": {"type": "string", "pattern": "^[0-9]+$"},
            "retry": {"type": "integer", "minimum": 0},
            "data": {"type": "string"},
        },
        "additionalProperties": False,
        # As if/then rather than oneOf, so that a validator reports what is
        # wrong with the data of the event it is, not that none matched.
        "allOf": [
            {
                "if": {"properties": {"event": {"const": "tick"}}},
                "then": {
                    "required": ["id"],
                    "properties": {"data": _jsonData(_ref("TimeDocument"))},
                },
            },
            {
                "if": {"properties": {"event": {"const": "step"}}},
                "then": {"properties": {"data": _jsonData(_ref("StepNotice"))}},
            },
            {
                "if": {"properties": {"event": {"const": "shutdown"}}},
                "then": {"properties": {"data": _jsonData(_ref("ShutdownNotice"))}},
            },
        ],
    }


def openAPIDocument() -> dict[str, Any]:
    """
    @return: the OpenAPI description, as a JSON-ready dictionary.
    """
    timeDocument: dict[str, Any] = {
        "type": "object",
        "description": "The current time in one zone, with worldtimeapi.org's "
        "fields, plus unixtime_ms.",
        "additionalProperties": False,
        "required": list(FIELDS),
        "properties": {
            "abbreviation": {"type": "string", "example": "CET"},
            "client_ip": {
                "type": "string",
                "description": "The client's IP address: behind a trusted proxy "
                "(--trusted-proxy), the one its Forwarded or X-Forwarded-For "
                "gives; empty when there is none (a UNIX socket, or a proxy "
                "that hides it)",
            },
            "datetime": {
                "type": "string",
                "description": "Local time, ISO 8601, microseconds and offset",
                "example": "2024-01-15T14:23:45.123456+01:00",
            },
            "day_of_week": {"type": "integer", "minimum": 0, "maximum": 6},
            "day_of_year": {"type": "integer", "minimum": 1, "maximum": 366},
            "dst": {"type": "boolean"},
            "dst_from": {"type": ["string", "null"], "format": "date-time"},
            "dst_offset": {"type": "integer"},
            "dst_until": {"type": ["string", "null"], "format": "date-time"},
            "raw_offset": {"type": "integer"},
            "timezone": {"type": "string", "example": "Europe/Berlin"},
            "unixtime": {"type": "integer"},
            "unixtime_ms": {"type": "integer"},
            "utc_datetime": {"type": "string", "format": "date-time"},
            "utc_offset": {
                "type": "string",
                "pattern": "^[+-][0-9]{2}:[0-9]{2}(:[0-9]{2})?$",
            },
            "week_number": {"type": "integer", "minimum": 1, "maximum": 53},
        },
    }
    milliseconds: dict[str, Any] = {"type": "number", "minimum": 0}
    exchangeDocument = {
        **timeDocument,
        "description": "The time document with an NTP-style exchange's times, "
        "in milliseconds since the epoch.",
        "required": [*timeDocument["required"], "t1", "t2", "t3"],
        "properties": {
            **timeDocument["properties"],
            "t1": {**milliseconds, "description": "The client's t1, echoed"},
            "t2": {**milliseconds, "description": "When the server received it"},
            "t3": {**milliseconds, "description": "When the server answered"},
            "clock_synchronized": {
                "type": ["boolean", "null"],
                "description": "Whether the server's clock is synchronized "
                "(null: unknown)",
            },
            "clock_max_error_ms": {
                "type": ["number", "null"],
                "minimum": 0,
                "description": "The server clock's maximum error, which a "
                "client adds to half the round trip (null: unknown)",
            },
        },
    }
    exchangeDocument["required"] += ["clock_synchronized", "clock_max_error_ms"]
    documentOrText = {
        "description": "The time document; with t1, the exchange's times too",
        "headers": {"Clock-Status": {"$ref": "#/components/headers/Clock-Status"}},
        "content": {
            **_json(_documentOrExchange()),
            **_text(),
        },
    }
    nowResponses = {
        "200": documentOrText,
        "400": _error("A malformed query parameter, named in the body", True),
        "404": _error("No zone has that name", True),
    }
    zoneList = {"description": "Zone names", "content": _json(_ref("ZoneList"))}
    document: dict[str, Any] = {
        "openapi": "3.2.0",
        "info": {
            "title": "clocksvc",
            "version": __version__,
            "description": "A self-hostable HTTP time service, compatible with "
            "worldtimeapi.org and time.akamai.com clients.",
        },
        "paths": {
            "/": _operation(
                "The lesson's clock page; the time document for Accept: "
                "application/json or text/plain; time.akamai.com's answers "
                "for ?iso, ?ms and ?iso&ms",
                {
                    "200": {
                        "description": "The page, the document, or the time",
                        "content": {
                            **_html(),
                            **_json(_documentOrExchange()),
                            **_text(),
                        },
                    },
                    "400": _error("A malformed query parameter", True),
                    "404": _error("No zone has that name", True),
                },
                [
                    {
                        "name": name,
                        "in": "query",
                        "required": False,
                        "allowEmptyValue": True,
                        "description": description,
                        "schema": {"type": "string"},
                    }
                    for name, description in [
                        ("iso", "Answer ISO 8601 in UTC, as time.akamai.com/?iso"),
                        ("ms", "Add milliseconds, as time.akamai.com/?ms"),
                    ]
                ]
                + [_ROOT_TZ, {**_T1, "schema": {"type": "string"}}],
            ),
            "/now": _operation("The current time", nowResponses, [_TZ, _T1, _AT]),
            "/now.json": _operation(
                "The current time, in JSON", nowResponses, [_TZ, _T1, _AT]
            ),
            "/now.txt": _operation(
                "The current time, as text", nowResponses, [_TZ, _T1, _AT]
            ),
            "/api/timezone": _operation("Every zone name", {"200": zoneList}),
            "/api/timezone.txt": _operation(
                "Every zone name, one a line",
                {"200": {"description": "Zone names", "content": _text()}},
            ),
            "/api/timezone/{area}": _zonePath(["area"], False),
            "/api/timezone/{area}.txt": _zonePath(["area"], True),
            "/api/timezone/{area}/{location}": _zonePath(["area", "location"], False),
            "/api/timezone/{area}/{location}.txt": _zonePath(
                ["area", "location"], True
            ),
            "/api/timezone/{area}/{location}/{region}": _zonePath(
                ["area", "location", "region"], False
            ),
            "/api/timezone/{area}/{location}/{region}.txt": _zonePath(
                ["area", "location", "region"], True
            ),
            "/api/timezone/{area}/{location}/transitions": _transitionsPath(
                ["area", "location"]
            ),
            "/api/timezone/{area}/{location}/{region}/transitions": (
                _transitionsPath(["area", "location", "region"])
            ),
            "/api/convert": _operation(
                "A local date-time in one zone, in another",
                {
                    "200": {
                        "description": "The conversion",
                        "content": _json(_ref("Conversion")),
                    },
                    "400": _error("A malformed or missing parameter, named"),
                    "404": _error("No zone has that name: the parameter named"),
                    "422": {
                        "description": "With disambiguate=reject, a local time "
                        "that does not exist (gap) or exists twice (overlap)",
                        "content": _json(_ref("Ambiguity")),
                    },
                },
                [
                    _zoneParameter("from", "The zone of time", "Europe/Berlin"),
                    _zoneParameter(
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
                        "schema": {"enum": ["reject", "earlier", "later"]},
                    },
                ],
            ),
            "/api/ip": _ipPath(False, False),
            "/api/ip.txt": _ipPath(False, True),
            "/api/ip/{address}": _ipPath(True, False),
            "/api/ip/{address}.txt": _ipPath(True, True),
            "/api/leap-seconds": _operation(
                "The leap-second list: TAI - UTC now, the leap second "
                "scheduled, when the list expires, and its source",
                {
                    "200": {
                        "description": "The list, in JSON or (Accept) text",
                        "content": {**_json(_ref("LeapSeconds")), **_text()},
                    },
                    "501": _error("The server found no leap-second list", True),
                },
            ),
            "/api/leap-seconds.txt": _operation(
                "The leap-second list, in text",
                {
                    "200": {"description": "The list", "content": _text()},
                    "501": _error("The server found no leap-second list", True),
                },
            ),
            "/timesync": {
                "post": {
                    "summary": "The npm timesync library's call: the server's "
                    "time in milliseconds",
                    "requestBody": {
                        "required": True,
                        "content": _json(_ref("TimesyncCall")),
                    },
                    "responses": {
                        "200": {
                            "description": "The server's time",
                            "content": _json(_ref("TimesyncAnswer")),
                        },
                        "400": _error("Not a timesync call"),
                        "413": _error("A body over 64 KiB"),
                    },
                },
            },
            "/.well-known/time": _operation(
                "The time in the X-HTTPSTIME header",
                {
                    "204": {
                        "description": "No body",
                        "headers": {
                            "Clock-Status": {
                                "$ref": "#/components/headers/Clock-Status"
                            },
                            "X-HTTPSTIME": {
                                "description": "Seconds since the epoch, with "
                                "microseconds",
                                "schema": {"type": "string"},
                            },
                        },
                    }
                },
            ),
            "/stream": _operation(
                "Server-sent events: a tick event with the time document at "
                "each second boundary",
                {
                    "200": {
                        "description": "An endless event stream: first a "
                        "retry of 1000 ms for reconnecting clients, then a "
                        "tick event each second; a step event when the "
                        "server's wall clock is stepped, after which the "
                        "ticks follow the new time (after a step back, ids "
                        "come again); a shutdown event ends it when the "
                        "server stops",
                        # No schema: in 3.2 it would describe the whole
                        # stream, which never ends; itemSchema is each event.
                        "content": {
                            "text/event-stream": {"itemSchema": _ref("StreamEvent")}
                        },
                    },
                    "400": _error("A malformed query parameter"),
                    "404": _error("No zone has that name"),
                },
                [_TZ],
            ),
            "/live": _operation(
                "A page that shows the server's time, in its zone and in "
                "yours, how far your clock is from the server's, and how far "
                "the server's may be from true time",
                {"200": {"description": "The page", "content": _html()}},
            ),
            "/live.js": _operation(
                "The live page's script",
                {
                    "200": {
                        "description": "JavaScript",
                        "content": {"text/javascript": {"schema": {"type": "string"}}},
                    }
                },
            ),
            "/live.css": _operation(
                "The live page's style sheet",
                {
                    "200": {
                        "description": "CSS",
                        "content": {"text/css": {"schema": {"type": "string"}}},
                    }
                },
            ),
            "/favicon.ico": _operation(
                "The icon browsers show for this server",
                {
                    "200": {
                        "description": "An ICO file: a clock face, 16 and 32 "
                        "pixels square",
                        "content": {
                            # Binary: no schema (OpenAPI 3.1 and later).
                            "image/vnd.microsoft.icon": {}
                        },
                    }
                },
            ),
            "/healthz": _operation(
                "Whether this server takes requests, and how good its clock "
                "is: for load balancers and orchestrators (moved to the admin "
                "listener by --admin-listen)",
                {
                    "200": {"description": "Serving", "content": _json(_ref("Health"))},
                    "503": {
                        "description": "Shutting down: send traffic elsewhere",
                        "content": _json(_ref("Health")),
                    },
                },
            ),
            "/readyz": _operation(
                "Whether to send this server traffic: not while it drains, "
                "nor, with --require-synchronized-clock, while its clock is "
                "unsynchronized or its error above --max-clock-error (moved "
                "to the admin listener by --admin-listen)",
                {
                    "200": {"description": "Ready", "content": _json(_ref("Ready"))},
                    "503": {
                        "description": "Draining, or the clock is not good "
                        "enough: send traffic elsewhere",
                        "content": _json(_ref("Ready")),
                    },
                },
            ),
            "/metrics": _operation(
                "Prometheus metrics (moved to the admin listener by --admin-listen)",
                {
                    "200": {
                        "description": "The Prometheus text format, or "
                        "OpenMetrics to a scraper that asks for it in Accept",
                        "content": {
                            "text/plain": {"schema": {"type": "string"}},
                            "application/openmetrics-text": {
                                "schema": {"type": "string"}
                            },
                        },
                    }
                },
            ),
            "/openapi.json": _operation(
                "This description",
                {"200": {"description": "OpenAPI 3.2", "content": _json({})}},
            ),
        },
        "components": {
            "headers": {
                "Clock-Status": {
                    "description": "How good the server's clock is, as an "
                    "RFC 8941 dictionary: sync (a boolean) and max-error "
                    "(milliseconds; absent when unknown), e.g. "
                    "sync=?1, max-error=1.25",
                    "schema": {"type": "string"},
                }
            },
            "schemas": {
                "TimeDocument": timeDocument,
                "ExchangeDocument": exchangeDocument,
                "ZoneList": {"type": "array", "items": {"type": "string"}},
                "StreamEvent": _streamEvent(),
                "ShutdownNotice": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["reason"],
                    "properties": {"reason": {"type": "string"}},
                },
                "Health": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["status", "clock", "tzdata", "core"],
                    "properties": {
                        "status": {"enum": ["ok", "draining"]},
                        "core": {
                            "description": "Whether the compiled core runs, "
                            "or pure Python (PyPy, a build without a C "
                            "compiler, or CLOCKSVC_NO_EXTENSIONS=1)",
                            "enum": ["compiled", "pure"],
                        },
                        "clock": _ref("ClockState"),
                        "ntp": _ref("NTPState"),
                        "leap_seconds": LEAP_LIST_SCHEMA,
                        "tzdata": {
                            "description": "The zone database answers come "
                            "from (--tzdata): the system's zone files or the "
                            "tzdata package, and its tz release",
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["source", "version"],
                            "properties": {
                                "source": {"enum": ["system", "package"]},
                                "version": {
                                    "type": "string",
                                    "pattern": "^([0-9]{4}[a-z]+|unknown)$",
                                    "example": "2026f",
                                },
                            },
                        },
                    },
                },
                "Ready": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["status", "clock"],
                    "properties": {
                        "status": {"enum": ["ready", "draining", "not ready"]},
                        "reason": {"type": "string"},
                        "clock": _ref("ClockState"),
                        "ntp": _ref("NTPState"),
                    },
                },
                "NTPState": NTP_STATE_SCHEMA,
                "LeapSeconds": LEAP_SECONDS_SCHEMA,
                "ClockState": {
                    "type": "object",
                    "description": "The server clock's state, as the kernel "
                    "tells it (ntp_adjtime on Linux; elsewhere unknown)",
                    "additionalProperties": False,
                    "required": [
                        "synchronized",
                        "max_error_ms",
                        "est_error_ms",
                        "leap",
                        "source",
                    ],
                    "properties": {
                        "synchronized": {"type": ["boolean", "null"]},
                        "max_error_ms": {"type": ["number", "null"], "minimum": 0},
                        "est_error_ms": {"type": ["number", "null"], "minimum": 0},
                        "leap": {
                            "enum": [
                                "none",
                                "insert",
                                "delete",
                                "in-progress",
                                "unknown",
                            ]
                        },
                        "source": {"enum": ["ntp", "pps", "none", "unknown"]},
                    },
                },
                "StepNotice": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["step_ms"],
                    "properties": {
                        "step_ms": {
                            "type": "number",
                            "description": "How far the wall clock was "
                            "stepped, in milliseconds: negative if back",
                        }
                    },
                },
                "TimesyncCall": {
                    "type": "object",
                    "required": ["jsonrpc", "method"],
                    "properties": {
                        "jsonrpc": {"const": "2.0"},
                        "id": {},
                        "method": {"const": "timesync"},
                        "params": {},
                    },
                },
                "TimesyncAnswer": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": [
                        "jsonrpc",
                        "id",
                        "result",
                        "clock_synchronized",
                        "clock_max_error_ms",
                    ],
                    "properties": {
                        "jsonrpc": {"const": "2.0"},
                        "id": {},
                        "result": {"type": "integer", "minimum": 0},
                        "clock_synchronized": {"type": ["boolean", "null"]},
                        "clock_max_error_ms": {
                            "type": ["number", "null"],
                            "minimum": 0,
                        },
                    },
                },
                "ConversionSide": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": list(SIDE_FIELDS),
                    "properties": {
                        name: timeDocument["properties"][name] for name in SIDE_FIELDS
                    },
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
                        "from": _ref("ConversionSide"),
                        "to": _ref("ConversionSide"),
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
                            "items": _ref("ConversionSide"),
                        },
                    },
                },
                "ZoneState": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": list(STATE_FIELDS),
                    "properties": {
                        name: timeDocument["properties"][name] for name in STATE_FIELDS
                    },
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
                                    "before": _ref("ZoneState"),
                                    "after": _ref("ZoneState"),
                                    "dst": {"type": "boolean"},
                                },
                            },
                        },
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string"},
                        "parameter": {"type": "string"},
                    },
                },
            },
        },
    }
    # The zone at a point; timeapi.io's API; and time.now's, which is
    # worldtimeapi's below /developer/api.
    paths = document["paths"]
    paths["/api/coordinates"] = coordinatesOpenAPI()
    timeAPIPaths, timeAPISchemas = timeAPIOpenAPI()
    paths.update(timeAPIPaths)
    document["components"]["schemas"].update(timeAPISchemas)
    paths["/developer/api/timezone"] = _operation("Every zone name", {"200": zoneList})
    for parts in (["area"], ["area", "location"], ["area", "location", "region"]):
        template = "/developer/api/timezone/" + "/".join(f"{{{p}}}" for p in parts)
        paths[template] = _zonePath(parts, False)
    paths["/developer/api/ip"] = _ipPath(False, False)
    # The Roughtime server's list, and its delegation in /healthz.
    roughtimePath, roughtimeSchemas = roughtimeOpenAPI()
    document["paths"]["/roughtime.json"] = roughtimePath
    document["components"]["schemas"].update(roughtimeSchemas)
    health = document["components"]["schemas"]["Health"]["properties"]
    health["roughtime"] = _ref("RoughtimeDelegation")
    # Every public path answers OPTIONS, the same way; the operator's do not.
    for path, item in document["paths"].items():
        if path not in OPERATOR_PATHS:
            item["options"] = _preflight(item)
    return document


class OpenAPI(MethodResource):
    """
    C{/openapi.json}.
    """

    def __init__(self, paths: Iterable[str] | None = None) -> None:
        """
        @param paths: the paths the site serves, which the description then
            lists, in this order; by default every path described.
        @raise KeyError: if one of C{paths} is not described here.
        """
        super().__init__()
        document = openAPIDocument()
        if paths is not None:
            document["paths"] = {path: document["paths"][path] for path in paths}
        self._body = json.dumps(document, indent=1).encode()

    def render_GET(self, request: IRequest) -> bytes:
        request.setHeader(b"content-type", JSON_TYPE)
        request.setHeader(b"access-control-allow-origin", b"*")
        return self._body
