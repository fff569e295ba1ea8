"""
Check an HTTP response against clocksvc's OpenAPI document, so that every
HTTP test also proves that C{/openapi.json} tells the truth.

L{validateResponse} finds the path template, the operation, the response
for the status code and the media type the document gives, and validates a
JSON body against its schema, formats (C{date-time}) included. Anything the
document does not describe raises L{SpecMismatch}.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

# jsonschema ships no type information (no py.typed, and typeshed's
# types-jsonschema is not a dependency); its few names are used only here.
from jsonschema import (  # type: ignore[import-untyped]
    Draft202012Validator,
    FormatChecker,
)
from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

from clocksvc._openapi import openAPIDocument

__all__ = ["SpecMismatch", "validateResponse"]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_TEMPLATE_PARAMETER = re.compile(r"\{([^{}/]+)\}")


class SpecMismatch(AssertionError):
    """
    A response that the OpenAPI document does not describe.
    """


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
    _validators: dict[tuple[str, str, str, str], Any] = field(init=False)

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
                        if "schema" not in media:
                            continue
                        # Wrapped so that "#/components/..." references
                        # resolve against the wrapper's copy of components.
                        schema = {"allOf": [media["schema"]], "components": components}
                        Draft202012Validator.check_schema(schema)
                        self._validators[route.template, method, status, mediaType] = (
                            Draft202012Validator(schema, format_checker=FormatChecker())
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
        validator = self._validators.get(
            (route.template, method.lower(), statusKey, mediaType)
        )
        if method.upper() == "HEAD" or validator is None:
            return
        if not _isJSON(mediaType):
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


_SPEC = _Spec(openAPIDocument())


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
