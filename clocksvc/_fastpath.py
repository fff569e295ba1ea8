# -*- test-case-name: tests.test_fastpath -*-
"""
The fast path: the lesson's page at C{/}, and the time document at C{/now}
and C{/now.json}, answered without Twisted's request machinery, for the
requests that most clients send and that a time service gets most of.

Twisted parses a request line by line, builds a L{Request} with header
objects, traverses the resource tree, and writes the response header by
header; for a page that changes once a second, or a document made in a
couple of microseconds, that is most of the work. A request qualifies for
the fast path only when it is a C{GET} or C{HEAD} of one of those targets
over HTTP/1.1 whose head arrived whole, in the strict grammar of RFC 9112,
with one valid C{Host}, no query, no body and nothing that changes how the
connection is handled. Anything else, including anything malformed, goes to
the general path, which answers or refuses it as before: this module only
has to recognise the plain case, never to judge the others.

The response is the one the general path gives for the same request at the
same instant, byte for byte (L{tests.test_fastpath} compares the two); the
page's is built once per second.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from zoneinfo import ZoneInfo

from twisted.internet.interfaces import IAddress, IReactorTime
from twisted.web.http import datetimeToString
from twisted.web.resource import Resource

from ._api import DOCUMENT_OFFERS, ROOT_OFFERS, addressIP
from ._document import documentJSONAt
from ._limits import Limits
from ._negotiation import preferredType
from ._page import clockPageBody
from ._resource import STRICTEST_POLICY

__all__ = [
    "VALID_HOST",
    "QuickAnswers",
    "QuickHead",
    "httpDate",
    "parseQuickHead",
]

#: The only request lines the fast path takes: their method and target.
_REQUEST_LINES = {
    b"%s %s HTTP/1.1" % (method, target): (method, target)
    for method in (b"GET", b"HEAD")
    for target in (b"/", b"/now", b"/now.json")
}

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
    @ivar target: C{b"/"}, C{b"/now"} or C{b"/now.json"}.
    @ivar accept: the C{Accept} field, if there is one.
    @ivar userAgent: the C{User-Agent} field, if there is one, for the
        access log.
    """

    method: bytes
    target: bytes
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
    requestLine = _REQUEST_LINES.get(lines[0])
    if requestLine is None or len(lines) - 1 > limits.maxHeaders:
        return None
    host = accept = userAgent = None
    for line in lines[1:]:
        if len(line) > limits.maxRequestLine:
            return None
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
    return QuickHead(requestLine[0], requestLine[1], accept, userAgent)


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


class _Negotiator:
    """
    Content negotiation with its answers kept: there are a handful of
    distinct C{Accept} fields in real traffic.
    """

    #: How many distinct C{Accept} fields it keeps answers for: a client
    #: cannot grow it past this.
    _SIZE = 64

    def __init__(self, offers: tuple[str, ...]) -> None:
        self._offers = offers
        self._chosen: dict[bytes, str] = {}

    def choose(self, accept: bytes | None) -> str:
        """
        @return: the offer that C{accept} prefers, as L{preferredType}
            chooses it.
        """
        if accept is None:
            return self._offers[0]
        chosen = self._chosen.get(accept)
        if chosen is None:
            if len(self._chosen) >= self._SIZE:
                self._chosen.clear()
            chosen = preferredType(accept.decode("latin-1"), self._offers)
            self._chosen[accept] = chosen
        return chosen


class QuickAnswers:
    """
    The fast path's answers, for clocksvc's own resource tree: the lesson's
    page at C{/} (for browsers, and anything else the negotiation there
    gives the page), and the time document in JSON at C{/now} and
    C{/now.json} for the default zone. Each is answered only while the
    resource it stands in for is still mounted where it was.
    """

    def __init__(self, clock: IReactorTime, root: Resource, zone: ZoneInfo) -> None:
        """
        @param clock: where the time comes from.
        @param root: the root of clocksvc's resource tree.
        @param zone: the default zone of C{/now}.
        """
        self._clock = clock
        self._children = root.children
        self._mounted = {
            segment: root.children[segment] for segment in (b"", b"now", b"now.json")
        }
        self._zone = zone
        self._root = _Negotiator(ROOT_OFFERS)
        self._now = _Negotiator(DOCUMENT_OFFERS)
        self._second = -1
        self._pageGet = self._pageHead = b""

    def answer(self, head: QuickHead, peer: IAddress) -> tuple[bytes, int] | None:
        """
        The site's fast path.

        @param head: the request.
        @param peer: the client's address.
        @return: the complete response to C{head} and the length of its body;
            or L{None} to leave the request to the resource tree.
        """
        target = head.target
        if self._children.get(target[1:]) is not self._mounted[target[1:]]:
            return None
        if target == b"/":
            if self._root.choose(head.accept) != "text/html":
                return None
            return self._page(head.method)
        vary = target == b"/now"
        if vary and self._now.choose(head.accept) != "application/json":
            return None
        return self._document(head.method, vary, peer)

    def _page(self, method: bytes) -> tuple[bytes, int]:
        now = self._clock.seconds()
        if int(now) != self._second:
            # The page and its date change once a second: so does this.
            self._second = int(now)
            body = clockPageBody(now)
            # The general path's headers, in its order: Server and Date from
            # ClockRequest, then NegotiatedRoot's, then ClockPage's, then the
            # length Twisted adds.
            self._pageHead = (
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
            self._pageGet = self._pageHead + body
        if method == b"HEAD":
            return self._pageHead, 0
        return self._pageGet, len(self._pageGet) - len(self._pageHead)

    def _document(self, method: bytes, vary: bool, peer: IAddress) -> tuple[bytes, int]:
        now = self._clock.seconds()
        # The document has the microsecond and the client's address in it:
        # it is made for each request, as Now makes it.
        body = documentJSONAt(now, self._zone, addressIP(peer))
        # Now's headers, in the general path's order.
        head = (
            b"HTTP/1.1 200 OK\r\n"
            b"Server: clocksvc\r\n"
            b"Date: %s\r\n"
            b"Cache-Control: no-store\r\n"
            b"Access-Control-Allow-Origin: *\r\n"
            b"%s"
            b"Content-Type: application/json; charset=utf-8\r\n"
            b"Content-Length: %d\r\n"
            b"\r\n" % (httpDate(now), b"Vary: accept\r\n" if vary else b"", len(body))
        )
        if method == b"HEAD":
            return head, 0
        return head + body, len(body)
