# -*- test-case-name: tests.test_fastpath -*-
"""
Quick answers: the lesson's page at C{/}, and the time document at C{/now}
and C{/now.json}, answered from a request's head alone, for the plain
requests that most clients send and that a time service gets most of.

Twisted builds a L{Request} with header objects, traverses the resource
tree, and writes the response header by header; for a page that changes
once a second, or a document made in a couple of microseconds, that is most
of the work. The HTTP layer hands a head here only when it is plain
(L{QuickHead}): a C{GET} or C{HEAD} over HTTP/1.1, whole, in the strict
grammar, with one valid C{Host}, no body and nothing that changes how the
connection is handled. Anything else, and any target with a query, goes to
the resource tree.

The response is the one the resource gives for the same request at the
same instant, byte for byte (L{tests.test_fastpath} compares the two): its
fields are those the resources set (L{TIME_FIELDS}, L{pageFields}), in the
order they set them. The page's is built once per second.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from twisted.internet.interfaces import IAddress, IReactorTime
from twisted.web.resource import Resource

from .._http import SERVER_HEADER, QuickHead, httpDate, responseHead
from .._time import clockPageBody, documentJSONAt
from ._api import DOCUMENT_OFFERS, ROOT_OFFERS, addressIP
from ._clockhealth import UNKNOWN, ClockHealth
from ._negotiation import preferredType
from ._resource import JSON_FIELDS, TIME_FIELDS, VARY_FIELDS, pageFields

__all__ = ["QuickAnswers"]


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


def _head(now: float, *fields: tuple[bytes, bytes]) -> list[tuple[bytes, bytes]]:
    """
    @return: a 200 answer's fields: C{Server} and C{Date}, which
        L{ClockRequest<clocksvc._http.ClockRequest>} sets first, then
        C{fields}.
    """
    return [(b"Server", SERVER_HEADER), (b"Date", httpDate(now)), *fields]


class QuickAnswers:
    """
    The quick answers for clocksvc's own resource tree: the lesson's page at
    C{/} (for browsers, and anything else the negotiation there gives the
    page), and the time document in JSON at C{/now} and C{/now.json} for the
    default zone. Each is answered only while the resource it stands in for
    is still mounted where it was.
    """

    #: The targets answered here.
    TARGETS = (b"/", b"/now", b"/now.json")

    def __init__(
        self,
        clock: IReactorTime,
        root: Resource,
        zone: ZoneInfo,
        health: ClockHealth | None = None,
    ) -> None:
        """
        @param clock: where the time comes from.
        @param root: the root of clocksvc's resource tree.
        @param zone: the default zone of C{/now}.
        @param health: the server clock's state, for C{Clock-Status}, as the
            resources give it.
        """
        self._clock = clock
        self._health = health
        self._status = UNKNOWN.structuredField()
        self._children = root.children
        self._mounted = {
            target[1:]: root.children[target[1:]] for target in self.TARGETS
        }
        self._zone = zone
        self._root = _Negotiator(ROOT_OFFERS)
        self._now = _Negotiator(DOCUMENT_OFFERS)
        self._second = -1
        self._pageStatus = b""
        self._pageGet = self._pageHead = b""
        # The document's head but its length, by whether it varies on
        # Accept, with the second it was made for (its Date changes once a
        # second) and its Clock-Status.
        self._documentHeads: dict[bool, tuple[int, bytes, bytes]] = {}

    def answer(self, head: QuickHead, peer: IAddress) -> tuple[bytes, int] | None:
        """
        The site's quick answer.

        @param head: the request.
        @param peer: the client's address.
        @return: the complete response to C{head} and the length of its body;
            or L{None} to leave the request to the resource tree.
        """
        if head.target not in self.TARGETS:
            return None
        segment = head.target[1:]
        if self._children.get(segment) is not self._mounted[segment]:
            return None
        if segment == b"":
            if self._root.choose(head.accept) != "text/html":
                return None
            return self._page(head.method)
        vary = segment == b"now"
        if vary and self._now.choose(head.accept) != "application/json":
            return None
        return self._document(head.method, vary, peer)

    def _clockStatus(self) -> bytes:
        # The same bytes object while the state holds: compared by identity.
        return self._status if self._health is None else self._health.field()

    def _page(self, method: bytes) -> tuple[bytes, int]:
        now = self._clock.seconds()
        status = self._clockStatus()
        if int(now) != self._second or status is not self._pageStatus:
            # The page and its date change once a second: so does this.
            self._second = int(now)
            self._pageStatus = status
            body = clockPageBody(now)
            # NegotiatedRoot's fields, then ClockPage's, then the length
            # Twisted adds.
            self._pageHead = responseHead(
                200,
                _head(
                    now,
                    *TIME_FIELDS,
                    (b"Clock-Status", status),
                    *VARY_FIELDS,
                    *pageFields(),
                    (b"Content-Length", b"%d" % len(body)),
                ),
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
        status = self._clockStatus()
        second, madeWith, start = self._documentHeads.get(vary, (-1, b"", b""))
        if second != int(now) or madeWith is not status:
            # All of the head but the length and the empty line after it.
            start = responseHead(
                200,
                _head(
                    now,
                    *TIME_FIELDS,
                    (b"Clock-Status", status),
                    *(VARY_FIELDS if vary else ()),
                    *JSON_FIELDS,
                ),
            )[:-2]
            self._documentHeads[vary] = (int(now), status, start)
        head = start + b"Content-Length: %d\r\n\r\n" % len(body)
        if method == b"HEAD":
            return head, 0
        return head + body, len(body)
