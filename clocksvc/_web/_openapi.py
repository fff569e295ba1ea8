# -*- test-case-name: tests.test_openapi -*-
"""
The OpenAPI description of every endpoint, so that clients can be
generated, and fuzzers check the server against it: OpenAPI 3.1 at
C{/openapi.json}, which most tools read, and 3.2 at C{/openapi-3.2.json}.

3.2 describes C{/stream} better: its C{itemSchema} is the schema of each
server-sent event, where 3.1 has only a schema for the whole body, a
string. The 3.1 document is the 3.2 one with each C{itemSchema} so
replaced (L{openAPIDocument}). openapi-spec-validator (from 0.8.2) reads
both; schemathesis 4 checks each event against the 3.2 one.

Each route carries its own fragment of the description (L{Fragment}): its
paths, and the schemas only they use, beside the resource that answers
them; here are the pieces they are made of, the schemas several share, and
the assembly of the fragments into one document.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._time import FIELDS, INSTANT, ZONE_NAME, ZONE_SEGMENT
from .._version import __version__
from ._answer import Answer, Ask
from ._resource import JSON_FIELDS, MethodResource

__all__ = [
    "AT",
    "CLOCK_STATUS",
    "TIME_DOCUMENT",
    "TZ",
    "ZONE_NAME_PATTERN",
    "Fragment",
    "OpenAPI",
    "error",
    "html",
    "instantParameter",
    "jsonContent",
    "openAPIDocument",
    "openAPIFragment",
    "operation",
    "ref",
    "text",
    "zoneParameter",
    "zoneParts",
]

#: A path item, or any other object of the description, as JSON.
Item = dict[str, Any]

# What the server takes for a zone name: anything else is answered 400 (in
# ?tz) or 404 (in the path), so the schemas say so, and fuzzers send such
# values as invalid.
_ZONE_PART = f"^{ZONE_SEGMENT}$"
ZONE_NAME_PATTERN = f"^{ZONE_NAME}$"


@dataclass(frozen=True)
class Fragment:
    """
    A route's part of the description.

    @ivar paths: its path items, by path.
    @ivar schemas: the schemas that only its paths use, by name.
    """

    paths: Mapping[str, Item]
    schemas: Mapping[str, Item] = field(default_factory=dict)

    def __add__(self, other: Fragment) -> Fragment:
        """
        @return: both fragments' paths and schemas, C{self}'s first.
        """
        return Fragment(
            {**self.paths, **other.paths}, {**self.schemas, **other.schemas}
        )


def ref(name: str) -> dict[str, str]:
    """
    @return: a reference to the schema C{name} of the components.
    """
    return {"$ref": f"#/components/schemas/{name}"}


def jsonContent(schema: Item) -> Item:
    """
    @return: content in JSON, valid against C{schema}.
    """
    return {"application/json": {"schema": schema}}


def text() -> Item:
    """
    @return: content in plain text.
    """
    return {"text/plain": {"schema": {"type": "string"}}}


def html() -> Item:
    """
    @return: content in HTML.
    """
    return {"text/html": {"schema": {"type": "string"}}}


def error(description: str, inText: bool = False) -> Item:
    """
    @param inText: whether it may be in text too (on paths that answer in
        text), not only in JSON.
    @return: an error response.
    """
    content = jsonContent(ref("Error"))
    if inText:
        content.update(text())
    return {"description": description, "content": content}


#: The C{Clock-Status} field of a response.
CLOCK_STATUS = {"$ref": "#/components/headers/Clock-Status"}

#: C{?tz}, the zone of a time document.
TZ = {
    "name": "tz",
    "in": "query",
    "required": False,
    "description": "An IANA time zone name, in any letter case; by default "
    "the server's zone (--timezone, else the zone of the machine it runs on).",
    "schema": {
        "type": "string",
        "pattern": ZONE_NAME_PATTERN,
        "example": "Europe/Berlin",
    },
}

#: C{?at}, the instant of a time document.
AT = {
    "name": "at",
    "in": "query",
    "required": False,
    "description": "The instant to describe instead of now: an RFC 3339 time "
    "with its offset or Z, or Unix seconds (to the microsecond), in the years "
    "1000 to 9998 as written. Such an answer may be cached (Cache-Control: "
    "private, max-age=86400) and has no Clock-Status. With t1, t1 is ignored "
    "(but for being checked): an exchange is about now.",
    "schema": {
        "type": "string",
        "pattern": f"^{INSTANT}$",
        "example": "2024-03-31T01:30:00Z",
    },
}


def instantParameter(name: str, description: str) -> Item:
    """
    @return: a query parameter C{name} that takes an instant as C{?at=}
        does.
    """
    return {**AT, "name": name, "description": description}


def zoneParameter(name: str, description: str, example: str) -> Item:
    """
    @return: a required query parameter C{name} that names a zone.
    """
    schema = {"type": "string", "pattern": ZONE_NAME_PATTERN, "example": example}
    return {
        **TZ,
        "name": name,
        "required": True,
        "description": description,
        "schema": schema,
    }


#: An existing area or zone for each number of path segments, as examples:
#: so that a client or fuzzer trying them out meets a 200, not only 404s.
_ZONE_EXAMPLES = {
    1: ["Europe"],
    2: ["Europe", "Berlin"],
    3: ["America", "Argentina", "Salta"],
}


def zoneParts(parts: list[str]) -> list[Item]:
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


def operation(
    summary: str, responses: Item, parameters: list[Item] | None = None
) -> Item:
    """
    @return: a path item with the same GET and HEAD operations.
    """
    get: Item = {"summary": summary, "responses": responses}
    if parameters:
        get["parameters"] = parameters
    head = dict(get, summary=summary + " (headers only)")
    return {"get": get, "head": head}


def _preflight(item: Item) -> Item:
    """
    @param item: a public path's item, with its other operations.
    @return: its OPTIONS operation: what it allows, and the answer to a CORS
        preflight (L{answerOptions<clocksvc._web._resource.answerOptions>}),
        with the path's parameters, as its other operations name them; but
        any value of them is answered, by the resource the path leads to,
        whether a C{GET} of it would find anything or not.
    """
    pathParameters = {
        parameter["name"]: {
            **parameter,
            "schema": {"type": "string"},
            "description": "Any value: the answer is the same",
        }
        for operation in item.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    }

    def field(description: str) -> Item:
        return {"description": description, "schema": {"type": "string"}}

    options: Item = {
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
        options["parameters"] = list(pathParameters.values())
    return options


#: The time document, which many paths answer with.
TIME_DOCUMENT: Item = {
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

#: The schemas that paths of several routes use.
_SHARED_SCHEMAS: Item = {
    "TimeDocument": TIME_DOCUMENT,
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

_CLOCK_STATUS_HEADER = {
    "description": "How good the server's clock is, as an RFC 8941 "
    "dictionary: sync (a boolean) and max-error (milliseconds; absent when "
    "unknown), e.g. sync=?1, max-error=1.25",
    "schema": {"type": "string"},
}


def openAPIDocument(
    fragments: Iterable[tuple[Fragment, bool]], version: str = "3.2.0"
) -> Item:
    """
    Assemble the description.

    @param fragments: each route's fragment, and whether its paths are
        public: every public path answers C{OPTIONS} (and CORS preflights),
        the same way, and the operator's do not.
    @param version: the OpenAPI version, C{"3.1.0"} or C{"3.2.0"}: in 3.1,
        which has no C{itemSchema}, an event stream is a string.
    @return: the description, as a JSON-ready dictionary.
    """
    paths: Item = {}
    schemas: Item = dict(_SHARED_SCHEMAS)
    for fragment, public in fragments:
        for path, item in fragment.paths.items():
            item = copy.deepcopy(item)
            if public:
                item["options"] = _preflight(item)
            paths[path] = item
        schemas.update(copy.deepcopy(dict(fragment.schemas)))
    document = {
        "openapi": version,
        "info": {
            "title": "clocksvc",
            "version": __version__,
            "description": "A self-hostable HTTP time service, compatible with "
            "worldtimeapi.org and time.akamai.com clients.",
        },
        "paths": paths,
        "components": {
            "headers": {"Clock-Status": _CLOCK_STATUS_HEADER},
            "schemas": schemas,
        },
    }
    if version != "3.2.0":
        _withoutItemSchemas(paths)
    return document


def _withoutItemSchemas(value: object) -> None:
    """
    Make each media type of C{value} described by its C{itemSchema} (3.2)
    a string, as 3.1 can only describe it.
    """
    if isinstance(value, dict):
        if "itemSchema" in value:
            del value["itemSchema"]
            value["schema"] = {
                "type": "string",
                "description": "A stream of items, each of which "
                "/openapi-3.2.json describes",
            }
        for child in value.values():
            _withoutItemSchemas(child)
    elif isinstance(value, list):
        for child in value:
            _withoutItemSchemas(child)


def openAPIFragment(path: str, version: str) -> Fragment:
    """
    @return: the fragment of the path that serves the description in
        C{version}.
    """
    return Fragment(
        {
            path: operation(
                "This description",
                {
                    "200": {
                        "description": f"OpenAPI {version[:3]}",
                        "content": jsonContent({}),
                    }
                },
            )
        }
    )


#: The fields of a description's answer: any page may read it.
_FIELDS = (*JSON_FIELDS, (b"Access-Control-Allow-Origin", b"*"))


class OpenAPI(MethodResource):
    """
    C{/openapi.json} and C{/openapi-3.2.json}: a description, made once.
    """

    def __init__(self, document: Item) -> None:
        """
        @param document: the description.
        """
        super().__init__()
        self._body = json.dumps(document, indent=1).encode()

    def answerAllowed(self, ask: Ask) -> Answer:
        return Answer(200, _FIELDS, self._body)
