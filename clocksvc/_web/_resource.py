# -*- test-case-name: tests.test_site,tests.test_api -*-
"""
Building blocks shared by clocksvc's resources: answers by method
(L{MethodResource}: each request answered by the resource's C{answer}, 405
rather than Twisted's 501 for a method it does not allow), C{OPTIONS} and
the CORS preflight, and short error answers, in plain text for pages and in
JSON for the API.

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
from collections.abc import Iterable, Sequence

from twisted.web.http import NO_CONTENT, NOT_ALLOWED, NOT_FOUND, RESPONSES
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource
from twisted.web.server import NOT_DONE_YET

from .._http import isToken
from ._answer import Answer, Answering, Ask, Fields, applyAnswer, askOf, bodyFor

__all__ = [
    "FIXED_FIELDS",
    "JSON_FIELDS",
    "JSON_TYPE",
    "MAX_PREFLIGHT_HEADERS",
    "NOWHERE",
    "PREFLIGHT_MAX_AGE",
    "STRICTEST_POLICY",
    "TEXT_FIELDS",
    "TEXT_TYPE",
    "TIME_FIELDS",
    "VARY_FIELDS",
    "MethodResource",
    "NotFound",
    "allowField",
    "answerOptions",
    "jsonBody",
    "noContent",
    "pageFields",
    "pageHeaders",
    "plainErrorAnswer",
    "preflightFields",
    "requestedHeaders",
    "setFields",
    "timeHeaders",
]

JSON_TYPE = b"application/json; charset=utf-8"
TEXT_TYPE = b"text/plain; charset=utf-8"
#: The fields of a JSON answer.
JSON_FIELDS = ((b"Content-Type", JSON_TYPE),)
#: The fields of a plain-text answer.
TEXT_FIELDS = ((b"Content-Type", TEXT_TYPE),)


def jsonBody(value: object) -> bytes:
    """
    @return: C{value} as a compact JSON body.
    """
    return json.dumps(value, separators=(",", ":")).encode()


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


def noContent(request: IRequest) -> int:
    """
    Finish C{request} as C{204 No Content}.

    Returning C{b""} from C{render} would make Twisted add
    C{Content-Length: 0}, which RFC 9110 (section 8.6) forbids on a 204; so
    the response is finished here instead.

    @return: C{NOT_DONE_YET}, for C{render} to return.
    """
    request.setResponseCode(NO_CONTENT)
    request.finish()
    return NOT_DONE_YET


#: How long, in seconds, a browser may keep a preflight's answer: a day.
#: Browsers cap it (Chromium at two hours, Firefox at a day); within that,
#: one preflight serves every request of a page to the same URL.
PREFLIGHT_MAX_AGE = 86400

#: The most header names a preflight's answer allows: pages ask for one or
#: two. With names of at most 64 bytes (L{_MAX_FIELD_NAME}), the field that
#: echoes them is at most 2,110 bytes.
MAX_PREFLIGHT_HEADERS = 32

#: The longest field name a preflight may ask for: longer names are no
#: header a page sends.
_MAX_FIELD_NAME = 64


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
            # field-name = token (RFC 9110 section 5.1), as the HTTP layer
            # reads every field name.
            if len(name) > _MAX_FIELD_NAME or not isToken(name):
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


class MethodResource(Answering):
    """
    A resource that answers each request by its L{answer}: C{GET}, C{HEAD}
    and whichever other methods it lists in C{allowedMethods} by
    L{answerAllowed}, every other method with C{405 Method Not Allowed};
    and C{OPTIONS} and CORS preflights (L{answerOptions}) unless it says
    otherwise.

    C{render} builds the L{Ask} from the request, calls L{answer} and
    applies the L{Answer}; the quick path calls the same L{answer} with the
    same L{Ask} built from a plain request head. A resource whose answer
    needs the request itself (a stream, a page that names the URL the
    client used) answers L{None} for it, and renders it in its
    C{render_METHOD}, on the general path only.

    C{HEAD} is answered as C{GET}: the head, with the C{Content-Length} of
    the body left out.

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
        Answer C{request}: C{OPTIONS} here, anything else by L{answer}.

        @param request: the request to answer.
        @return: the response body, or C{NOT_DONE_YET}.
        """
        if request.method == b"OPTIONS" and self.crossOrigin:
            return self.renderOptions(request)
        answer = self.answer(askOf(request))
        if answer is None:
            method = b"GET" if request.method == b"HEAD" else request.method
            renderer = getattr(self, "render_" + method.decode("ascii"))
            body: bytes | int = renderer(request)
            return body if isinstance(body, int) else bodyFor(request, body)
        return applyAnswer(request, answer)

    def renderOptions(self, request: IRequest) -> int:
        """
        Answer C{OPTIONS}, which only the general path sees.

        @return: C{NOT_DONE_YET}, for C{render} to return.
        """
        return answerOptions(request, self.allowedMethods)

    def answer(self, ask: Ask) -> Answer | None:
        """
        @return: C{405} for a method it does not allow; else its answer
            (L{answerAllowed}).
        """
        if ask.method not in self.allowedMethods:
            allow = (b"Allow", allowField(self.allowedMethods, self.crossOrigin))
            return self.errorAnswer(ask, NOT_ALLOWED, "method not allowed", allow)
        return self.answerAllowed(ask)

    def answerAllowed(self, ask: Ask) -> Answer | None:
        """
        @return: the answer to a request whose method it allows; by
            default L{None}, to render it with its C{render_METHOD}.
        """
        return None

    def errorAnswer(
        self, ask: Ask, code: int, message: str, *before: tuple[bytes, bytes]
    ) -> Answer:
        """
        An error; plain text unless a subclass says otherwise.

        @param code: the status code.
        @param message: what went wrong, for formats that carry it.
        @param before: the fields before its C{Content-Type}.
        """
        return plainErrorAnswer(code, before)

    def missing(self, segment: bytes) -> IResource:
        """
        Answer any path below this resource with 404.
        """
        return NOWHERE


def plainErrorAnswer(code: int, before: Fields = ()) -> Answer:
    """
    @param code: the HTTP status code, which must be one Twisted knows.
    @param before: the fields before its C{Content-Type}.
    @return: a plain-text error: the status code and its reason phrase on
        one line.
    """
    return Answer(code, (*before, TEXT_FIELDS[0]), b"%d %s\n" % (code, RESPONSES[code]))


class NotFound(Answering):
    """
    The answer to any path that names no resource: C{404 Not Found}, whatever
    the method, with a one-line body.
    """

    isLeaf = True

    def render(self, request: IRequest) -> bytes | int:
        """
        @param request: the request to answer.
        @return: the short body.
        """
        return applyAnswer(request, _NOT_FOUND_ANSWER)

    def answer(self, ask: Ask) -> Answer:
        """
        @return: 404, whatever C{ask} is.
        """
        return _NOT_FOUND_ANSWER


_NOT_FOUND_ANSWER = plainErrorAnswer(NOT_FOUND)
#: The one resource for every path that names none.
NOWHERE = NotFound()
