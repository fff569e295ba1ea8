# -*- test-case-name: tests.test_site -*-
"""
Building blocks shared by clocksvc's resources: method dispatch that answers
405 rather than Twisted's 501, and short error responses.

Twisted's own error pages are HTML documents, and for an unknown method
Twisted answers C{501 Not Implemented}; a time service answers any method it
does not support with C{405 Method Not Allowed} and an C{Allow} header, and
keeps its error bodies short.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.web import http
from twisted.web.iweb import IRequest
from twisted.web.resource import Resource

__all__ = ["MethodResource", "NotFound", "plainError"]


def plainError(request: IRequest, code: int) -> bytes:
    """
    Set up C{request} as a plain-text error response.

    @param request: the request to answer.
    @param code: the HTTP status code, which must be one Twisted knows.
    @return: the body: the status code and its reason phrase on one line.
    """
    request.setResponseCode(code)
    request.setHeader(b"content-type", b"text/plain; charset=utf-8")
    return b"%d %s\n" % (code, http.RESPONSES[code])


class MethodResource(Resource):
    """
    A resource that dispatches C{GET}, C{HEAD} and whichever other methods it
    lists in C{allowedMethods} to its C{render_METHOD} methods, and answers
    every other method with C{405 Method Not Allowed}.

    C{HEAD} is rendered by C{render_GET}: Twisted then sends the headers,
    including the C{Content-Length} of the body it leaves out.

    @cvar allowedMethods: the methods this resource answers.
    """

    allowedMethods: Sequence[bytes] = (b"GET", b"HEAD")

    def render(self, request: IRequest) -> bytes | int:
        """
        Dispatch C{request} by its method.

        @param request: the request to answer.
        @return: the response body, or C{NOT_DONE_YET}.
        """
        method = request.method
        if method not in self.allowedMethods:
            request.setHeader(b"allow", b", ".join(self.allowedMethods))
            return plainError(request, http.NOT_ALLOWED)
        if method == b"HEAD":
            method = b"GET"
        renderer = getattr(self, "render_" + method.decode("ascii"))
        body: bytes | int = renderer(request)
        return body


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
