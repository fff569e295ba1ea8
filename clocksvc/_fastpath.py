# -*- test-case-name: tests.test_fastpath -*-
"""
The fast path: the lesson's page at C{/} answered without Twisted's request
machinery, for the request that most clients send and that a time service
gets most of.

Twisted parses a request line by line, builds a L{Request} with header
objects, traverses the resource tree, and writes the response header by
header; for a page that changes once a second that is most of the work. A
request qualifies for the fast path only when it is a C{GET} or C{HEAD} of
C{/} over HTTP/1.1 whose head arrived whole, in the strict grammar of RFC
9112, with one valid C{Host}, no body and nothing that changes how the
connection is handled. Anything else, including anything malformed, goes to
the general path, which answers or refuses it as before: this module only
has to recognise the plain case, never to judge the others.

The response is the one the general path gives for the same request at the
same second, byte for byte (L{tests.test_fastpath} compares the two), and it
is built once per second and method.
"""

from __future__ import annotations

import re
import time
from typing import NamedTuple

from twisted.internet.interfaces import IReactorTime
from twisted.web.http import datetimeToString
from twisted.web.resource import Resource

from ._limits import Limits
from ._negotiation import preferredType
from ._resource import STRICTEST_POLICY

__all__ = [
    "VALID_HOST",
    "QuickHead",
    "RootPageResponses",
    "httpDate",
    "parseQuickHead",
]

#: The only request lines the fast path takes.
_REQUEST_LINES = {b"GET / HTTP/1.1": b"GET", b"HEAD / HTTP/1.1": b"HEAD"}

# field-name ":" OWS field-value OWS (RFC 9110 section 5), in visible ASCII
# only: obs-fold, obs-text and control characters go to the general path.
_FIELD = re.compile(
    rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+):"
    rb"[ \t]*((?:[\x21-\x7e](?:[ \t]*[\x21-\x7e])*)?)[ \t]*"
)

#: host [ ":" port ] (RFC 9110 section 7.2): an IP literal in brackets, or
#: reg-name characters (which cover IPv4 addresses and names).
VALID_HOST = re.compile(
    rb"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]*)(:[0-9]{0,5})?"
)

#: Fields whose presence hands the request to the general path: those that
#: frame a body, ask for an interim response, or change the connection.
_GENERAL_FIELDS = frozenset(
    {b"content-length", b"transfer-encoding", b"expect", b"connection", b"upgrade"}
)


class QuickHead(NamedTuple):
    """
    A request head the fast path can answer.

    @ivar method: C{b"GET"} or C{b"HEAD"}.
    @ivar accept: the C{Accept} field, if there is one.
    @ivar userAgent: the C{User-Agent} field, if there is one, for the
        access log.
    """

    method: bytes
    accept: bytes | None
    userAgent: bytes | None


def parseQuickHead(head: bytes, limits: Limits) -> QuickHead | None:
    """
    Recognise a request the fast path can answer.

    @param head: a request head, without the empty line that ends it.
    @param limits: the limits the general path keeps; a head near them is
        left to it.
    @return: the request, or L{None} if the general path must take it.
    """
    if len(head) > limits.maxHeaderSize:
        return None
    lines = head.split(b"\r\n")
    method = _REQUEST_LINES.get(lines[0])
    if method is None or len(lines) - 1 > limits.maxHeaders:
        return None
    host = accept = userAgent = None
    for line in lines[1:]:
        field = _FIELD.fullmatch(line)
        if field is None:
            return None
        name = field.group(1).lower()
        if name == b"host":
            if host is not None:
                return None
            host = field.group(2)
        elif name == b"accept":
            if accept is not None:
                return None
            accept = field.group(2)
        elif name == b"user-agent":
            userAgent = field.group(2)
        elif name in _GENERAL_FIELDS:
            return None
    if host is None or VALID_HOST.fullmatch(host) is None:
        return None
    return QuickHead(method, accept, userAgent)


_lastDate: tuple[int, bytes] = (-1, b"")


def httpDate(seconds: float) -> bytes:
    """
    @param seconds: seconds since the epoch.
    @return: the HTTP date of that instant, as in a C{Date} header; the last
        one is kept, as every request in a second asks for the same.
    """
    global _lastDate
    whole = int(seconds)
    if _lastDate[0] != whole:
        _lastDate = (whole, datetimeToString(whole))
    return _lastDate[1]


class RootPageResponses:
    """
    The complete responses to C{GET /} and C{HEAD /} from browsers (or
    anything else the negotiation at C{/} gives the lesson's page), kept for
    the second they are true in.
    """

    #: The offers of L{clocksvc._api.NegotiatedRoot}, favourite first.
    _OFFERS = ("text/html", "application/json", "text/plain")
    #: How many distinct C{Accept} fields the negotiation cache holds; there
    #: are a handful in real traffic, and a client cannot grow it past this.
    _ACCEPT_CACHE_SIZE = 64

    def __init__(self, clock: IReactorTime, root: Resource) -> None:
        """
        @param clock: where the time comes from.
        @param root: the root of the resource tree, whose child at C{/} these
            are the answers of: while that child is there.
        """
        self._clock = clock
        self._children = root.children
        self._page = root.children[b""]
        self._second = -1
        self._get = self._head = b""
        self._pageFor: dict[bytes, bool] = {}

    def answer(self, head: QuickHead) -> tuple[bytes, int] | None:
        """
        The site's fast path.

        @return: the complete response to C{head} and the length of its body;
            or L{None} for a request that does not get the page, or if
            someone mounted another resource at C{/}.
        """
        if self._children.get(b"") is not self._page or not self.wantsPage(head.accept):
            return None
        return self.response(head.method)

    def wantsPage(self, accept: bytes | None) -> bool:
        """
        @return: whether a request with this C{Accept} field gets the page.
        """
        if accept is None:
            return True
        page = self._pageFor.get(accept)
        if page is None:
            if len(self._pageFor) >= self._ACCEPT_CACHE_SIZE:
                self._pageFor.clear()
            chosen = preferredType(accept.decode("latin-1"), self._OFFERS)
            page = self._pageFor[accept] = chosen == "text/html"
        return page

    def response(self, method: bytes) -> tuple[bytes, int]:
        """
        @param method: C{b"GET"} or C{b"HEAD"}.
        @return: the whole response for now, and the length of its body.
        """
        now = self._clock.seconds()
        if int(now) != self._second:
            self._build(now)
        if method == b"HEAD":
            return self._head, 0
        return self._get, len(self._get) - len(self._head)

    def _build(self, now: float) -> None:
        self._second = int(now)
        # The lesson's page (clocksvc._page.clockPageBody), for this second.
        body = b"<html><body>" + time.ctime(now).encode() + b"</body></html>"
        # The general path's headers, in its order: Server and Date from
        # ClockRequest, then NegotiatedRoot's, then ClockPage's, then the
        # length Twisted adds.
        self._head = (
            b"HTTP/1.1 200 OK\r\n"
            b"Server: clocksvc\r\n"
            b"Date: %s\r\n"
            b"Cache-Control: no-store\r\n"
            b"Access-Control-Allow-Origin: *\r\n"
            b"Vary: accept\r\n"
            b"Content-Type: text/html; charset=utf-8\r\n"
            b"Content-Security-Policy: %s\r\n"
            b"X-Content-Type-Options: nosniff\r\n"
            b"Referrer-Policy: no-referrer\r\n"
            b"Content-Length: %d\r\n"
            b"\r\n" % (httpDate(now), STRICTEST_POLICY, len(body))
        )
        self._get = self._head + body
