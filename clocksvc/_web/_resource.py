# -*- test-case-name: tests.test_site,tests.test_api -*-
"""
Building blocks shared by clocksvc's resources: method dispatch that answers
405 rather than Twisted's 501, C{OPTIONS} and the CORS preflight, and short
error responses, in plain text for pages and in JSON for the API.

Twisted's own error pages are HTML documents, and for an unknown method
Twisted answers C{501 Not Implemented}; a time service answers any method it
does not support with C{405 Method Not Allowed} and an C{Allow} header, and
keeps its error bodies short.

Every public endpoint answers C{OPTIONS} (L{answerOptions}), which is how a
browser asks, before a request from another origin that is not "simple" (one
with a header of its own, such as C{X-Request-Id}, or a JSON C{POST}), whether
it may send it: the preflight. The decision is made here, once, for every
resource; the operator's endpoints (C{/healthz}, C{/readyz}, C{/metrics})
opt out (L{MethodResource.crossOrigin}), as no page elsewhere has business
with them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence

from twisted.web import http
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, Resource
from twisted.web.server import NOT_DONE_YET

__all__ = [
    "FIXED_FIELDS",
    "JSON_FIELDS",
    "JSON_TYPE",
    "MAX_PREFLIGHT_HEADERS",
    "PREFLIGHT_MAX_AGE",
    "STRICTEST_POLICY",
    "TEXT_TYPE",
    "TIME_FIELDS",
    "VARY_FIELDS",
    "MethodResource",
    "NotFound",
    "allowField",
    "answerOptions",
    "fixedHeaders",
    "jsonError",
    "noContent",
    "pageFields",
    "pageHeaders",
    "plainError",
    "preflightFields",
    "requestedHeaders",
    "sendJSON",
    "sendText",
    "setFields",
    "timeHeaders",
]

JSON_TYPE = b"application/json; charset=utf-8"
TEXT_TYPE = b"text/plain; charset=utf-8"
#: The fields of a JSON answer.
JSON_FIELDS = ((b"Content-Type", JSON_TYPE),)


def plainError(request: IRequest, code: int) -> bytes:
    """
    Set up C{request} as a plain-text error response.

    @param request: the request to answer.
    @param code: the HTTP status code, which must be one Twisted knows.
    @return: the body: the status code and its reason phrase on one line.
    """
    request.setResponseCode(code)
    request.setHeader(b"content-type", TEXT_TYPE)
    return b"%d %s\n" % (code, http.RESPONSES[code])


#: For pages that load nothing at all, such as the lesson's.
STRICTEST_POLICY = (
    b"default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


#: The fields of every time answer: the time now is stale at once, so
#: nothing may cache it; and any web page may read it, and how good the
#: server's clock is (C{Clock-Status}, which follows them). The resources set
#: them (L{timeHeaders}); the quick answers write them as they are here.
TIME_FIELDS = (
    (b"Cache-Control", b"no-store"),
    (b"Access-Control-Allow-Origin", b"*"),
    (b"Access-Control-Expose-Headers", b"Clock-Status"),
)


#: The fields that replace L{TIME_FIELDS}' C{Cache-Control} on an answer
#: about a given instant rather than now, which does not age: a private
#: cache may keep it (the time document holds the client's address) for a
#: day, after which a new release of the zone database may have changed it.
FIXED_FIELDS = ((b"Cache-Control", b"private, max-age=86400"),)


#: The fields of an answer that C{Accept} chose the form of.
VARY_FIELDS = ((b"Vary", b"accept"),)


def pageFields(policy: bytes = STRICTEST_POLICY) -> tuple[tuple[bytes, bytes], ...]:
    """
    @return: the fields of an HTML page: its type, a Content-Security-Policy,
        no type sniffing and no referrer.
    """
    return (
        (b"Content-Type", b"text/html; charset=utf-8"),
        (b"Content-Security-Policy", policy),
        (b"X-Content-Type-Options", b"nosniff"),
        (b"Referrer-Policy", b"no-referrer"),
    )


def setFields(request: IRequest, fields: Iterable[tuple[bytes, bytes]]) -> None:
    """
    Set each of C{fields} on C{request}'s response.
    """
    for name, value in fields:
        request.setHeader(name, value)


def pageHeaders(request: IRequest, policy: bytes = STRICTEST_POLICY) -> None:
    """
    Set the headers of an HTML page (L{pageFields}).

    @param policy: the page's Content-Security-Policy.
    """
    setFields(request, pageFields(policy))


def timeHeaders(request: IRequest, clockStatus: bytes | None = None) -> None:
    """
    Set the headers every time answer carries (L{TIME_FIELDS}), and then
    C{Clock-Status}.

    @param clockStatus: the C{Clock-Status} field, if the answer has one.
    """
    setFields(request, TIME_FIELDS)
    if clockStatus is not None:
        request.setHeader(b"clock-status", clockStatus)


def fixedHeaders(
    request: IRequest, fields: Iterable[tuple[bytes, bytes]] = FIXED_FIELDS
) -> None:
    """
    Make a time answer one about a given instant rather than now: cacheable
    (C{fields}, L{FIXED_FIELDS} by default), and without C{Clock-Status},
    since the server's clock plays no part in it.
    """
    setFields(request, fields)
    request.responseHeaders.removeHeader(b"clock-status")


def noContent(request: IRequest) -> int:
    """
    Finish C{request} as C{204 No Content}.

    Returning C{b""} from C{render} would make Twisted add
    C{Content-Length: 0}, which RFC 9110 (section 8.6) forbids on a 204; so
    the response is finished here instead.

    @return: C{NOT_DONE_YET}, for C{render} to return.
    """
    request.setResponseCode(http.NO_CONTENT)
    request.finish()
    return NOT_DONE_YET


#: How long, in seconds, a browser may keep a preflight's answer: a day.
#: Browsers cap it (Chromium at two hours, Firefox at a day); within that,
#: one preflight serves every request of a page to the same URL.
PREFLIGHT_MAX_AGE = 86400

#: The most header names a preflight's answer allows: pages ask for one or
#: two. With names of at most 64 bytes (L{_FIELD_NAME}), the field that
#: echoes them is at most 2,110 bytes.
MAX_PREFLIGHT_HEADERS = 32

#: field-name = token = 1*tchar (RFC 9110 sections 5.1 and 5.6.2), here of
#: at most 64 characters: longer names are no header a page sends.
_FIELD_NAME = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")


def requestedHeaders(values: Sequence[bytes]) -> bytes | None:
    """
    Read a preflight's C{Access-Control-Request-Headers}: the names of the
    headers the page means to send, as a comma-separated list (the Fetch
    standard; browsers write them in lower case, sorted).

    @param values: the field's values, one for each line it came on.
    @return: the names, in lower case, once each, joined by C{", "}, for
        C{Access-Control-Allow-Headers} to echo; L{None} if there are none,
        or more than L{MAX_PREFLIGHT_HEADERS}, or one is not a field name:
        then none is allowed, and the browser does not send the request.
    """
    names: dict[bytes, None] = {}
    for value in values:
        # The list rules allow empty elements and white space around each.
        for element in value.split(b","):
            name = element.strip(b" \t")
            if not name:
                continue
            if _FIELD_NAME.fullmatch(name) is None:
                return None
            names[name.lower()] = None
            if len(names) > MAX_PREFLIGHT_HEADERS:
                return None
    return b", ".join(names) or None


def preflightFields(
    methods: Iterable[bytes], requested: Sequence[bytes] = ()
) -> tuple[tuple[bytes, bytes], ...]:
    """
    The fields of the answer to a CORS preflight: that a page of any origin
    may send C{methods}, with the headers it asked for.

    A preflight only asks whether the request may be sent; whether the page
    may then read the answer is for the answer's own
    C{Access-Control-Allow-Origin} to say, as L{TIME_FIELDS} say it for the
    API's, and the pages' do not. Nothing here has an effect that a request
    from another origin could misuse: no cookies, no credentials, no state.

    @param methods: the methods the resource allows.
    @param requested: the request's C{Access-Control-Request-Headers}
        values (L{requestedHeaders}).
    """
    fields = [
        (b"Access-Control-Allow-Origin", b"*"),
        (b"Access-Control-Allow-Methods", b", ".join(methods)),
        (b"Access-Control-Max-Age", b"%d" % (PREFLIGHT_MAX_AGE,)),
    ]
    headers = requestedHeaders(requested)
    if headers is not None:
        fields.append((b"Access-Control-Allow-Headers", headers))
    return tuple(fields)


def allowField(methods: Sequence[bytes], crossOrigin: bool) -> bytes:
    """
    @param methods: the methods a resource allows.
    @param crossOrigin: whether it answers C{OPTIONS} too
        (L{MethodResource.crossOrigin}).
    @return: its C{Allow} field.
    """
    return b", ".join((*methods, b"OPTIONS") if crossOrigin else methods)


def answerOptions(request: IRequest, methods: Sequence[bytes]) -> int:
    """
    Answer C{OPTIONS} for a resource that allows C{methods}: C{204} with
    C{Allow}; and if it is a CORS preflight (it has C{Origin} and
    C{Access-Control-Request-Method}), with L{preflightFields} too.

    @return: C{NOT_DONE_YET}, for C{render} to return.
    """
    request.setHeader(b"allow", allowField(methods, True))
    headers = request.requestHeaders
    if headers.hasHeader(b"origin") and headers.hasHeader(
        b"access-control-request-method"
    ):
        requested = headers.getRawHeaders(b"access-control-request-headers", [])
        setFields(request, preflightFields(methods, requested))
    return noContent(request)


def sendJSON(request: IRequest, value: object, code: int = http.OK) -> bytes:
    """
    @return: C{value} as the compact JSON body of the response.
    """
    request.setResponseCode(code)
    request.setHeader(b"content-type", JSON_TYPE)
    return json.dumps(value, separators=(",", ":")).encode()


def sendText(request: IRequest, body: bytes, code: int = http.OK) -> bytes:
    """
    @return: C{body} as the plain-text body of the response.
    """
    request.setResponseCode(code)
    request.setHeader(b"content-type", TEXT_TYPE)
    return body


def jsonError(request: IRequest, code: int, message: str, **detail: str) -> bytes:
    """
    Set up C{request} as a JSON error response: C{{"error": message}}, as
    worldtimeapi.org answers, with any further fields in C{detail}.

    @return: the body.
    """
    return sendJSON(request, {"error": message, **detail}, code)


class MethodResource(Resource):
    """
    A resource that dispatches C{GET}, C{HEAD} and whichever other methods it
    lists in C{allowedMethods} to its C{render_METHOD} methods, answers
    C{OPTIONS} and CORS preflights (L{answerOptions}) unless it says
    otherwise, and answers every other method with C{405 Method Not
    Allowed}.

    C{HEAD} is rendered by C{render_GET}: Twisted then sends the headers,
    including the C{Content-Length} of the body it leaves out.

    @cvar allowedMethods: the methods this resource answers, but for
        C{OPTIONS}.
    @cvar crossOrigin: whether it answers C{OPTIONS}, and so CORS preflights
        from pages of other origins: every public endpoint does, the
        operator's do not (C{405}).
    """

    allowedMethods: Sequence[bytes] = (b"GET", b"HEAD")
    crossOrigin: bool = True

    def render(self, request: IRequest) -> bytes | int:
        """
        Dispatch C{request} by its method.

        @param request: the request to answer.
        @return: the response body, or C{NOT_DONE_YET}.
        """
        method = request.method
        if method == b"OPTIONS" and self.crossOrigin:
            return answerOptions(request, self.allowedMethods)
        if method not in self.allowedMethods:
            request.setHeader(
                b"allow", allowField(self.allowedMethods, self.crossOrigin)
            )
            return self.renderError(request, http.NOT_ALLOWED, "method not allowed")
        if method == b"HEAD":
            method = b"GET"
        renderer = getattr(self, "render_" + method.decode("ascii"))
        body: bytes | int = renderer(request)
        return body

    def renderError(self, request: IRequest, code: int, message: str) -> bytes:
        """
        Answer with an error; plain text unless a subclass says otherwise.

        @param request: the request to answer.
        @param code: the status code.
        @param message: what went wrong, for formats that carry it.
        @return: the body.
        """
        return plainError(request, code)

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        """
        Answer any path below this resource with 404.
        """
        return NotFound()


class NotFound(Resource):
    """
    The answer to any path that names no resource: C{404 Not Found}, whatever
    the method, with a one-line body.
    """

    isLeaf = True

    def render(self, request: IRequest) -> bytes:
        """
        @param request: the request to answer.
        @return: the short body.
        """
        return plainError(request, http.NOT_FOUND)
