# -*- test-case-name: tests.test_openapi -*-
"""
C{/openapi.json}: an OpenAPI 3.1 description of every endpoint, so that
clients can be generated, and fuzzers check the server against it.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.web.iweb import IRequest

from ._resource import JSON_TYPE, MethodResource
from ._version import __version__

__all__ = ["OpenAPI", "openAPIDocument"]

_ZONE_PART = "^[A-Za-z0-9_+\\-]{1,40}$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _text() -> dict[str, Any]:
    return {"text/plain": {"schema": {"type": "string"}}}


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
    "the server's zone (UTC unless it was started with --timezone).",
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


def _zonePath(parts: list[str], text: bool) -> dict[str, Any]:
    names = ", ".join(parts)
    parameters = [
        {
            "name": part,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": _ZONE_PART},
        }
        for part in parts
    ]
    body: dict[str, Any]
    if text:
        body = _text()
    else:
        body = _json({"oneOf": [_ref("TimeDocument"), _ref("ZoneList")]})
    return _operation(
        f"The time document for the zone {names}, or the zones of that area",
        {
            "200": {"description": "The document, or a list of zones", "content": body},
            "404": _error("No zone or area has that name", text),
        },
        parameters,
    )


def openAPIDocument() -> dict[str, Any]:
    """
    @return: the OpenAPI description, as a JSON-ready dictionary.
    """
    timeDocument = {
        "type": "object",
        "description": "The current time in one zone, with worldtimeapi.org's "
        "fields, plus unixtime_ms.",
        "additionalProperties": False,
        "required": [
            "abbreviation",
            "client_ip",
            "datetime",
            "day_of_week",
            "day_of_year",
            "dst",
            "dst_from",
            "dst_offset",
            "dst_until",
            "raw_offset",
            "timezone",
            "unixtime",
            "unixtime_ms",
            "utc_datetime",
            "utc_offset",
            "week_number",
        ],
        "properties": {
            "abbreviation": {"type": "string", "example": "CET"},
            "client_ip": {"type": "string"},
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
    documentOrText = {
        "description": "The time document",
        "content": {**_json(_ref("TimeDocument")), **_text()},
    }
    nowResponses = {
        "200": documentOrText,
        "400": _error("A malformed query parameter, named in the body", True),
        "404": _error("No zone has that name", True),
    }
    zoneList = {"description": "Zone names", "content": _json(_ref("ZoneList"))}
    return {
        "openapi": "3.1.0",
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
                            "text/html": {"schema": {"type": "string"}},
                            **_json(_ref("TimeDocument")),
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
                ],
            ),
            "/now": _operation("The current time", nowResponses, [_TZ]),
            "/now.json": _operation("The current time, in JSON", nowResponses, [_TZ]),
            "/now.txt": _operation("The current time, as text", nowResponses, [_TZ]),
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
            "/openapi.json": _operation(
                "This description",
                {"200": {"description": "OpenAPI 3.1", "content": _json({})}},
            ),
        },
        "components": {
            "schemas": {
                "TimeDocument": timeDocument,
                "ZoneList": {"type": "array", "items": {"type": "string"}},
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string"},
                        "parameter": {"type": "string"},
                    },
                },
            }
        },
    }


class OpenAPI(MethodResource):
    """
    C{/openapi.json}.
    """

    def __init__(self) -> None:
        super().__init__()
        self._body = json.dumps(openAPIDocument(), indent=1).encode()

    def render_GET(self, request: IRequest) -> bytes:
        request.setHeader(b"content-type", JSON_TYPE)
        request.setHeader(b"access-control-allow-origin", b"*")
        return self._body
