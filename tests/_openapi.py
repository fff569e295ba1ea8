"""
Check an HTTP response against clocksvc's OpenAPI document, so that every
HTTP test also proves that C{/openapi.json} tells the truth.

L{validateResponse} finds the path template, the operation, the response
for the status code and the media type the document gives, and validates a
JSON body against its schema, formats (C{date-time}) included; and each
event of a C{text/event-stream} body against its C{itemSchema}, with the
JSON that an event's C{data} holds checked against its C{contentSchema}.
Anything the document does not describe raises L{SpecMismatch}.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

# jsonschema ships no type information (no py.typed, and typeshed's
# types-jsonschema is not a dependency); its few names are used only here.
from jsonschema import (  # type: ignore[import-untyped]
    Draft202012Validator,
    FormatChecker,
    validators,
)
from jsonschema.exceptions import (  # type: ignore[import-untyped]
    ValidationError,
    best_match,
)

from clocksvc._web._routes import openAPIDocument

__all__ = ["SpecMismatch", "serverSentEvents", "validateResponse"]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_TEMPLATE_PARAMETER = re.compile(r"\{([^{}/]+)\}")


class SpecMismatch(AssertionError):
    """
    A response that the OpenAPI document does not describe.
    """


def _contentSchema(
    validator: Any, contentSchema: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[Any]:
    """
    Hold a string whose C{contentMediaType} is JSON to its C{contentSchema}.

    JSON Schema 2020-12 makes both keywords annotations that a validator
    need not check; OpenAPI 3.2 describes an event's JSON C{data} with them,
    and schemathesis checks them, so the tests do too.
    """
    if schema.get("contentMediaType") != "application/json" or not isinstance(
        instance, str
    ):
        return
    try:
        content = json.loads(instance)
    except ValueError as e:
        yield ValidationError(f"{instance[:40]!r}... is not JSON: {e}")
        return
    yield from validator.descend(content, contentSchema, schema_path="contentSchema")


#: Draft 2020-12 with C{contentSchema} checked, for JSON content.
_Validator = validators.extend(Draft202012Validator, {"contentSchema": _contentSchema})
_EVENT_STREAM = "text/event-stream"


@dataclass(frozen=True)
class _Route:
    """
    One entry of the document's C{paths}.

    @ivar template: the path template, such as C{/api/timezone/{area}.txt}.
    @ivar regex: matches the paths of the template, one group per parameter.
    @ivar patterns: the C{pattern} of each parameter's schema, if it has one.
    @ivar pathItem: the path item.
    """

    template: str
    regex: re.Pattern[str]
    patterns: Mapping[str, re.Pattern[str]]
    pathItem: Mapping[str, Any]

    @property
    def literal(self) -> bool:
        """
        Whether the template has no parameters.
        """
        return not _TEMPLATE_PARAMETER.search(self.template)

    def matches(self, path: str) -> bool:
        """
        @return: whether C{path} is one of this template's paths.
        """
        match = self.regex.fullmatch(path)
        if match is None:
            return False
        # Twisted unquotes each segment after splitting the path, so that is
        # the value the server sees and the pattern is about.
        return all(
            pattern.search(unquote(match.group(name)))
            for name, pattern in self.patterns.items()
        )


def _parameterPatterns(pathItem: Mapping[str, Any]) -> dict[str, re.Pattern[str]]:
    """
    @return: the C{pattern} of each path parameter that has one, from the
        path item's parameters and its operations'.
    """
    parameters = list(pathItem.get("parameters", []))
    for method in _METHODS:
        parameters.extend(pathItem.get(method, {}).get("parameters", []))
    return {
        parameter["name"]: re.compile(parameter["schema"]["pattern"])
        for parameter in parameters
        if parameter["in"] == "path" and "pattern" in parameter.get("schema", {})
    }


def _route(template: str, pathItem: Mapping[str, Any]) -> _Route:
    """
    @return: the route of one path template.
    """
    regex = ""
    end = 0
    for match in _TEMPLATE_PARAMETER.finditer(template):
        regex += re.escape(template[end : match.start()])
        # A group name must be an identifier and a parameter's name need not
        # be, so the group is named after it, hex-encoded.
        regex += f"(?P<{_groupName(match.group(1))}>[^/]+)"
        end = match.end()
    regex += re.escape(template[end:])
    patterns = {
        _groupName(name): pattern
        for name, pattern in _parameterPatterns(pathItem).items()
    }
    return _Route(template, re.compile(regex), patterns, pathItem)


def _groupName(parameter: str) -> str:
    """
    @return: a regular expression group name for a parameter name.
    """
    return "p_" + parameter.encode().hex()


@dataclass
class _Spec:
    """
    An OpenAPI document, ready to check responses against: its routes
    compiled, and a schema validator for each media type that has a schema.
    """

    document: Mapping[str, Any]
    routes: list[_Route] = field(init=False)
    _validators: dict[tuple[str, str, str, str, str], Any] = field(init=False)

    def __post_init__(self) -> None:
        routes = [
            _route(template, pathItem)
            for template, pathItem in self.document["paths"].items()
        ]
        # OpenAPI matches concrete paths before templated ones; among
        # templates, the one with the most literal text is the most specific.
        routes.sort(
            key=lambda route: (
                not route.literal,
                -len(_TEMPLATE_PARAMETER.sub("", route.template)),
            )
        )
        self.routes = routes
        self._validators = {}
        components = self.document.get("components", {})
        for route in routes:
            for method in _METHODS:
                operation = route.pathItem.get(method, {})
                for status, response in operation.get("responses", {}).items():
                    for mediaType, media in response.get("content", {}).items():
                        # OpenAPI 3.2: itemSchema describes each item of a
                        # sequential media type, such as an event stream's
                        # events; schema, the whole body.
                        for keyword in ("schema", "itemSchema"):
                            if keyword not in media:
                                continue
                            # Wrapped so that "#/components/..." references
                            # resolve against the wrapper's copy of
                            # components.
                            schema = {
                                "allOf": [media[keyword]],
                                "components": components,
                            }
                            _Validator.check_schema(schema)
                            key = (route.template, method, status, mediaType, keyword)
                            self._validators[key] = _Validator(
                                schema, format_checker=FormatChecker()
                            )

    def validate(
        self,
        method: str,
        path: str,
        status: int,
        contentType: str | None,
        body: bytes,
    ) -> None:
        """
        See L{validateResponse}.
        """

        def mismatch(problem: str) -> SpecMismatch:
            # One line, whatever the problem's text holds.
            return SpecMismatch(
                " ".join(f"{method} {path} {status}: {problem}".split())
            )

        route = next((route for route in self.routes if route.matches(path)), None)
        if route is None:
            if status == 404:
                return
            raise mismatch("no path in the document matches")
        operation = route.pathItem.get(method.lower())
        if operation is None:
            if status == 405:
                # The right answer to a method the path does not document.
                return
            raise mismatch(f"{route.template} documents no {method}")
        responses = operation.get("responses", {})
        statusKey = next(
            (
                key
                for key in (str(status), f"{status // 100}XX", "default")
                if key in responses
            ),
            None,
        )
        if statusKey is None:
            raise mismatch(
                f"{route.template} documents no response for status {status}"
            )
        content = responses[statusKey].get("content", {})
        if method.upper() == "HEAD" and body:
            raise mismatch(f"HEAD response has a body of {len(body)} bytes")
        if not content:
            if body:
                raise mismatch("the document gives no body, but there is one")
            return
        if contentType is None:
            raise mismatch("no Content-Type")
        mediaType = _mediaType(contentType, content)
        if mediaType is None:
            raise mismatch(
                f"Content-Type {contentType} is not one of {', '.join(content)}"
            )
        if method.upper() == "HEAD":
            return
        key = (route.template, method.lower(), statusKey, mediaType)
        itemValidator = self._validators.get((*key, "itemSchema"))
        if itemValidator is not None and mediaType.lower() == _EVENT_STREAM:
            for index, event in enumerate(serverSentEvents(body)):
                error = best_match(itemValidator.iter_errors(event))
                if error is not None:
                    raise mismatch(
                        f"event {index} at {error.json_path}: {error.message}"
                    )
        validator = self._validators.get((*key, "schema"))
        if validator is None or not _isJSON(mediaType):
            return
        try:
            instance = json.loads(body)
        except ValueError as e:
            raise mismatch(f"body is not JSON: {e}") from None
        # best_match picks the same error every run, and looks inside oneOf
        # for the alternative that came closest, rather than saying that
        # none matched.
        error = best_match(validator.iter_errors(instance))
        if error is not None:
            raise mismatch(f"body at {error.json_path}: {error.message}")


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_RETRY = re.compile(r"[0-9]+")


def serverSentEvents(body: bytes) -> list[dict[str, Any]]:
    """
    Parse an event stream as the HTML standard does, into the objects that
    OpenAPI 3.2's C{itemSchema} describes.

    An event is a block of lines that ends with an empty line and has
    C{data}: its lines joined with newlines. C{event} is C{"message"}
    unless the block names one. C{id} is the last one the stream set, if
    any (one with a NUL in it is ignored). C{retry} is an integer, and only
    for its own block. Comment lines (C{:}) are skipped, and so is a last
    block that no empty line ends.

    @param body: the stream's bytes, UTF-8.
    @return: the events, in order.
    """
    events: list[dict[str, Any]] = []
    lastID: str | None = None
    fields: dict[str, Any] = {}
    data: list[str] = []
    for line in _LINE_BREAK.split(body.decode("utf-8").removeprefix("\ufeff")):
        if not line:
            if data:
                event = {**fields, "data": "\n".join(data)}
                event["event"] = fields.get("event") or "message"
                if lastID is not None:
                    event["id"] = lastID
                events.append(event)
            fields, data = {}, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            fields["event"] = value
        elif name == "id" and "\0" not in value:
            lastID = value
        elif name == "retry" and _RETRY.fullmatch(value):
            fields["retry"] = int(value)
    return events


def _isJSON(mediaType: str) -> bool:
    """
    @return: whether C{mediaType} is JSON: C{application/json} or a
        C{+json} type.
    """
    return mediaType == "application/json" or mediaType.endswith("+json")


def _mediaType(contentType: str, content: Mapping[str, Any]) -> str | None:
    """
    @param contentType: a Content-Type header value.
    @param content: a response's C{content}.
    @return: the key of C{content} that C{contentType} falls under, exact
        types before C{type/*} and C{*/*}; or L{None}.
    """
    given = contentType.split(";", 1)[0].strip().lower()
    kind = given.split("/", 1)[0]
    for candidate in (given, f"{kind}/*", "*/*"):
        for key in content:
            if key.lower() == candidate:
                return key
    return None


_SPEC = _Spec(openAPIDocument("3.2.0"))


def validateResponse(
    method: str, path: str, status: int, contentType: str | None, body: bytes
) -> None:
    """
    Check a response against clocksvc's OpenAPI document.

    @param method: the request's method, such as C{"GET"}.
    @param path: the request's URL path, without the query string.
    @param status: the response's status code.
    @param contentType: the response's C{Content-Type} header, or L{None}.
    @param body: the response's body.
    @raise SpecMismatch: if the document does not describe the response. A
        path it does not describe is fine with status 404, and a method a
        path does not document with status 405.
    """
    _SPEC.validate(method, path, status, contentType, body)
