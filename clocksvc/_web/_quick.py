# -*- test-case-name: tests.test_fastpath -*-
"""
Quick answers: the lesson's page at C{/}, time.akamai.com's answers to
C{/?iso}, C{/?ms} and C{/?iso&ms}, the time document at C{/} (for C{Accept}
of JSON or text), C{/now}, C{/now.json} and C{/now.txt} (for the default
zone or C{?tz=NAME}, and as a sample of an exchange with C{?t1=}), at
C{/api/timezone/AREA/LOCATION[.txt]} and at C{/api/ip[.txt]} (the zone of
the client's address); C{/.well-known/time}; and the npm timesync library's
C{POST /timesync}: answered from a request's head (and a timesync call's
small body) alone, for the plain requests that most clients send and that a
time service gets most of. Which routes have one is the route table's to
say (L{Route.quick}), and which methods each answers is this module's.

Twisted builds a L{Request} with header objects, traverses the resource
tree, and writes the response header by header; for a page that changes
once a second, or a document made in a couple of microseconds, that is most
of the work. The HTTP layer hands a head here only when it is plain
(L{QuickHead}): a C{GET} or C{HEAD} (or a C{POST} with a small body) over
HTTP/1.1, whole, in the strict grammar, with one valid C{Host} and nothing
that changes how the connection is handled. Anything else goes to the
resource tree: any other query (C{?at=}, repeated or escaped parameters,
C{+}), and every error (an unknown zone, a malformed name or C{t1}, a call
that is not a timesync call), which the resources answer.

The response is the one the resource gives for the same request at the
same instant, byte for byte (L{tests.test_fastpath} compares the two): its
body comes from the same functions (L{documentJSONAt}, L{documentTextAt},
L{exchange}, L{timesyncAnswer}) and its fields are those the resources set
(L{TIME_FIELDS}, L{pageFields}, L{WELL_KNOWN_FIELDS}), in the order they set
them. The page's is built once per second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from zoneinfo import ZoneInfo

from twisted.internet.interfaces import IAddress, IReactorTime
from twisted.web.resource import Resource

from .._http import SERVER_HEADER, QuickHead, QuickResponse, httpDate, responseHead
from .._time import (
    ZoneCatalogue,
    akamaiTime,
    clockPageBody,
    documentJSONAt,
    documentTextAt,
    isZoneName,
)
from ._api import (
    DOCUMENT_OFFERS,
    EXCHANGE_FIELDS,
    ROOT_OFFERS,
    addressIP,
    exchange,
    parseT1,
)
from ._clockhealth import UNKNOWN, ClockHealth, ClockState
from ._geoip import GeoIP
from ._negotiation import preferredType
from ._resource import JSON_FIELDS, TEXT_TYPE, TIME_FIELDS, VARY_FIELDS, pageFields
from ._routes import ROUTES, Route, mounted
from ._sync import WELL_KNOWN_FIELDS, httpsTime, timesyncAnswer, timesyncCall

__all__ = ["QuickAnswers"]

#: A quick answer: given the request, the rest of its path after the first
#: segment (empty, or from the slash after it), its query, and the client's
#: address, the response and the length of its body; or L{None}.
_Answerer = Callable[[QuickHead, bytes, bytes, IAddress], "QuickResponse | None"]

#: The queries of C{/} answered here, as time.akamai.com does, with the names
#: that L{akamaiTime} is given for each (as C{queryNames} finds them).
_AKAMAI_QUERIES = {
    b"iso": {b"iso"},
    b"ms": {b"ms"},
    b"iso&ms": {b"iso", b"ms"},
    b"ms&iso": {b"iso", b"ms"},
}

#: The fields after C{Clock-Status} of each form of the document, without
#: and with C{Vary}; made once, as the keys of the heads kept.
_TEXT_FIELDS = ((b"Content-Type", TEXT_TYPE),)
_VARY_TEXT_FIELDS = (*VARY_FIELDS, *_TEXT_FIELDS)
_VARY_JSON_FIELDS = (*VARY_FIELDS, *JSON_FIELDS)

#: The bytes a C{tz} value is answered here with: those that Twisted's query
#: parsing leaves as they are (no C{%} escapes, no C{+} for a space, no
#: separators), so the name is the very one the resource reads.
_ZONE_BYTES = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-/"
)


#: The methods of the quick answers: those that read, and a timesync call.
_READS = frozenset({b"GET", b"HEAD"})
_POSTS = frozenset({b"POST"})

#: The bytes a C{t1} value is answered here with: digits and a point, which
#: Twisted's query parsing leaves as they are.
_T1_BYTES = frozenset(b"0123456789.")


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


def _isText(fields: tuple[tuple[bytes, bytes], ...]) -> bool:
    """
    @param fields: a document's fields after C{Clock-Status}, which end with
        its C{Content-Type}.
    @return: whether the document is in text (else JSON).
    """
    return fields[-1] is _TEXT_FIELDS[-1]


def _head(now: float, *fields: tuple[bytes, bytes]) -> list[tuple[bytes, bytes]]:
    """
    @return: a 200 answer's fields: C{Server} and C{Date}, which
        L{ClockRequest<clocksvc._http.ClockRequest>} sets first, then
        C{fields}.
    """
    return [(b"Server", SERVER_HEADER), (b"Date", httpDate(now)), *fields]


class QuickAnswers:
    """
    The quick answers for clocksvc's own resource tree: for each route that
    names one, by its segment (one, or two as C{api/ip}) and the request's
    method. Each is answered only while the resource it stands in for is
    still mounted where it was.
    """

    #: The paths without a query of the page and the documents answered
    #: here (C{/} also with C{?iso}, C{?ms} or C{?iso&ms}; the documents
    #: also with C{?tz=NAME} and C{?t1=}); besides, the zones' and the
    #: addresses' documents, C{/.well-known/time} and C{POST /timesync}.
    TARGETS = (b"/", b"/now", b"/now.json", b"/now.txt")

    #: How many distinct C{tz} queries it keeps zones for: a client cannot
    #: grow it past this.
    _ZONES_KEPT = 1024

    def __init__(
        self,
        clock: IReactorTime,
        root: Resource,
        zone: ZoneInfo,
        health: ClockHealth | None = None,
        catalogue: ZoneCatalogue | None = None,
        routes: Iterable[Route] = ROUTES,
        geoip: GeoIP | None = None,
    ) -> None:
        """
        @param clock: where the time comes from.
        @param root: the root of clocksvc's resource tree.
        @param zone: the server's zone: its page's, and C{/now}'s default.
        @param health: the server clock's state, for C{Clock-Status}, as the
            resources give it.
        @param catalogue: the zones that C{?tz=NAME} names, as the resources
            look them up; if L{None}, such queries go to the resource tree.
        @param routes: the routes, of which those that name a quick answer
            (L{Route.quick}) are answered here.
        @param geoip: the IP geolocation database of C{/api/ip}, if any; the
            zones it finds are kept there, for the resource too.
        """
        self._clock = clock
        self._health = health
        self._status = UNKNOWN.structuredField()
        self._children = root.children
        # Each quick answer by the name a route gives it, with the methods
        # it answers.
        answerers: dict[str, tuple[_Answerer, frozenset[bytes]]] = {
            "root": (self._rootAnswer, _READS),
            "now": (partial(self._nowAnswer, None), _READS),
            "now.json": (partial(self._nowAnswer, JSON_FIELDS), _READS),
            "now.txt": (partial(self._nowAnswer, _TEXT_FIELDS), _READS),
            "zones": (self._zoneDocument, _READS),
            "well-known": (self._wellKnown, _READS),
            "timesync": (self._timesync, _POSTS),
            "ip": (partial(self._ipAnswer, JSON_FIELDS), _READS),
            "ip.txt": (partial(self._ipAnswer, _TEXT_FIELDS), _READS),
        }
        # By the segment it is mounted at, with the resource mounted there.
        self._tree = root
        self._answerers = {
            route.segment: (resource, *answerers[route.quick])
            for route in routes
            if route.quick is not None
            and (resource := mounted(root, route.segment)) is not None
        }
        # The first segments with quick answers below them (/api/ip's).
        self._parents = {key.split(b"/")[0] for key in self._answerers if b"/" in key}
        self._geoip = geoip
        api = root.children.get(b"api")
        self._timezones = None if api is None else api.children.get(b"timezone")
        self._zone = zone
        self._catalogue = catalogue
        self._zones: dict[bytes, ZoneInfo] = {}
        self._root = _Negotiator(ROOT_OFFERS)
        self._now = _Negotiator(DOCUMENT_OFFERS)
        self._second = -1
        self._pageStatus = b""
        self._pageGet = self._pageHead = b""
        # An answer's head but its length, by its fields after
        # Clock-Status, with the second it was made for (its Date changes
        # once a second) and its Clock-Status.
        self._heads: dict[
            tuple[tuple[bytes, bytes], ...], tuple[int, bytes, bytes]
        ] = {}

    def answer(self, head: QuickHead, peer: IAddress) -> QuickResponse | None:
        """
        The site's quick answer: by the route of the target's first segment,
        while its resource is still the one mounted there.

        @param head: the request.
        @param peer: the client's address.
        @return: the complete response to C{head} and the length of its body;
            or L{None} to leave the request to the resource tree.
        """
        path, mark, query = head.target.partition(b"?")
        if (mark and not query) or path[:1] != b"/":
            # An empty query, or a target that is not a path (*, or in
            # absolute form): the resource tree's to answer.
            return None
        segment, slash, below = path[1:].partition(b"/")
        if segment in self._parents:
            inner, innerSlash, innerBelow = below.partition(b"/")
            nested = segment + b"/" + inner
            found = self._answerers.get(nested)
            if found is not None:
                resource, answerer, methods = found
                if (
                    head.method not in methods
                    or mounted(self._tree, nested) is not resource
                ):
                    return None
                return answerer(head, innerSlash + innerBelow, query, peer)
        found = self._answerers.get(segment)
        if found is None:
            return None
        resource, answerer, methods = found
        if head.method not in methods or self._children.get(segment) is not resource:
            return None
        return answerer(head, slash + below, query, peer)

    def _nowAnswer(
        self,
        fields: tuple[tuple[bytes, bytes], ...] | None,
        head: QuickHead,
        below: bytes,
        query: bytes,
        peer: IAddress,
    ) -> QuickResponse | None:
        """
        C{/now}, C{/now.json} or C{/now.txt}, as L{Now<clocksvc._web._api.Now>}
        answers it.

        @param fields: the fields of the form it always answers in, after
            C{Clock-Status}; L{None} to choose it by C{Accept}.
        """
        if below:
            return None
        zone, t1 = self._zone, None
        if query:
            parsed = self._nowQuery(query)
            if parsed is None:
                return None
            zone, t1 = parsed
        if fields is None:
            # The form the client asks for, as Now.formatFor chooses it.
            if self._now.choose(head.accept) == "application/json":
                fields = _VARY_JSON_FIELDS
            else:
                fields = _VARY_TEXT_FIELDS
        if t1 is not None:
            return self._exchange(head.method, fields, zone, peer, t1)
        return self._document(head.method, fields, zone, peer)

    def _rootAnswer(
        self, head: QuickHead, below: bytes, query: bytes, peer: IAddress
    ) -> QuickResponse | None:
        """
        C{/}, as L{NegotiatedRoot<clocksvc._web._api.NegotiatedRoot>} answers
        it.
        """
        if below:
            return None
        if query:
            names = _AKAMAI_QUERIES.get(query)
            if names is None:
                return None
            now = self._clock.seconds()
            return self._answer(head.method, now, _TEXT_FIELDS, akamaiTime(now, names))
        if self._root.choose(head.accept) == "text/html":
            return self._page(head.method)
        # The document, as the root's own Now renders it: in the form Now
        # chooses, with Vary (which the root sets already) where it was.
        if self._now.choose(head.accept) != "application/json":
            return self._document(head.method, _VARY_TEXT_FIELDS, self._zone, peer)
        return self._document(head.method, _VARY_JSON_FIELDS, self._zone, peer)

    def _zoneDocument(
        self, head: QuickHead, below: bytes, query: bytes, peer: IAddress
    ) -> QuickResponse | None:
        """
        A zone's document at C{/api/timezone/AREA/LOCATION[/REGION]}, C{.txt}
        on the last segment for text, as
        L{Timezones<clocksvc._web._api.Timezones>} answers it; the lists of
        zones, queries and errors are left to it.
        """
        api = self._children.get(b"api")
        if (
            query
            or not below.startswith(b"/timezone/")
            or api is None
            or api.children.get(b"timezone") is not self._timezones
        ):
            return None
        name = below[len(b"/timezone/") :]
        text = name.endswith(b".txt")
        if text:
            name = name[: -len(b".txt")]
        zone = self._zoneNamed(name)
        if zone is None:
            return None
        fields = _TEXT_FIELDS if text else JSON_FIELDS
        return self._document(head.method, fields, zone, peer)

    def _ipAnswer(
        self,
        fields: tuple[tuple[bytes, bytes], ...],
        head: QuickHead,
        below: bytes,
        query: bytes,
        peer: IAddress,
    ) -> QuickResponse | None:
        """
        C{/api/ip} or C{/api/ip.txt}, as L{IPZone<clocksvc._web._geoip.IPZone>}
        answers it for a client whose address has a zone; other addresses,
        and C{/api/ip/ADDRESS}, are left to it.

        @param fields: the fields of the form it answers in, after
            C{Clock-Status}.
        """
        if below or query or self._geoip is None:
            return None
        zone = self._geoip.zoneOf(addressIP(peer))
        if zone is None:
            return None
        return self._document(head.method, fields, zone, peer)

    def _nowQuery(self, query: bytes) -> tuple[ZoneInfo, int | float | None] | None:
        """
        @return: the zone and the C{t1} that C{query} gives, if it is
            C{tz=NAME}, C{t1=MILLISECONDS}, or both in either order, each
            plain and valid; else L{None}, for the resource tree to answer
            it (or its error). Without C{tz}, the zone is the default one.
        """
        zone: ZoneInfo | None = None
        t1: int | float | None = None
        parts = query.split(b"&")
        if len(parts) > 2:
            return None
        for part in parts:
            name, equals, value = part.partition(b"=")
            if not equals:
                return None
            if name == b"tz" and zone is None:
                zone = self._zoneNamed(value)
                if zone is None:
                    return None
            elif name == b"t1" and t1 is None and _T1_BYTES.issuperset(value):
                t1 = parseT1(value.decode("ascii"))
                if t1 is None:
                    return None
            else:
                return None
        return (self._zone if zone is None else zone), t1

    def _zoneNamed(self, value: bytes) -> ZoneInfo | None:
        """
        @param value: a zone's name, as a path or a query gives it.
        @return: the zone it names, if it is plain (no byte that Twisted
            would unescape, no query, no dot) and names a zone; else L{None}.
        """
        zone = self._zones.get(value)
        if zone is not None:
            return zone
        catalogue = self._catalogue
        if catalogue is None or not value or not _ZONE_BYTES.issuperset(value):
            return None
        name = value.decode("ascii")
        if not isZoneName(name):
            return None
        zone = catalogue.zone(name)
        if zone is None:
            return None
        if len(self._zones) >= self._ZONES_KEPT:
            self._zones.clear()
        self._zones[value] = zone
        return zone

    def _clockState(self) -> ClockState:
        return UNKNOWN if self._health is None else self._health.state()

    def _clockStatus(self) -> bytes:
        # The same bytes object while the state holds: compared by identity.
        return self._status if self._health is None else self._health.field()

    def _page(self, method: bytes) -> QuickResponse:
        now = self._clock.seconds()
        status = self._clockStatus()
        if int(now) != self._second or status is not self._pageStatus:
            # The page and its date change once a second: so does this.
            self._second = int(now)
            self._pageStatus = status
            body = clockPageBody(now, self._zone)
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
            return QuickResponse(self._pageHead, 0)
        return QuickResponse(self._pageGet, len(self._pageGet) - len(self._pageHead))

    def _document(
        self,
        method: bytes,
        fields: tuple[tuple[bytes, bytes], ...],
        zone: ZoneInfo,
        peer: IAddress,
    ) -> QuickResponse:
        """
        @param fields: the answer's fields after C{Clock-Status}, of which
            the last, the C{Content-Type}, says the form: text or JSON.
        @return: the time document in C{zone}, now.
        """
        now = self._clock.seconds()
        # The document has the microsecond and the client's address in it:
        # it is made for each request, as Now makes it.
        makeDocument = documentTextAt if _isText(fields) else documentJSONAt
        body = makeDocument(now, zone, addressIP(peer))
        return self._answer(method, now, fields, body)

    def _exchange(
        self,
        method: bytes,
        fields: tuple[tuple[bytes, bytes], ...],
        zone: ZoneInfo,
        peer: IAddress,
        t1: int | float,
    ) -> QuickResponse:
        """
        A sample of an NTP-style exchange (C{?t1=}), as
        L{Now<clocksvc._web._api.Now>} answers it, with L{exchange}.

        @param fields: the fields of the document in its form, after
            C{Clock-Status}: C{Vary} if it was negotiated, then the
            C{Content-Type}, which goes after the exchange's own fields.
        """
        received = self._clock.seconds()
        body, timing = exchange(
            "text" if _isText(fields) else "json",
            zone,
            addressIP(peer),
            self._clockState(),
            t1,
            received,
            self._clock,
        )
        *before, contentType = fields
        return self._answer(
            method,
            received,
            (*before, *EXCHANGE_FIELDS),
            body,
            b"Server-Timing: " + timing + b"\r\n%s: %s\r\n" % contentType,
        )

    def _wellKnown(
        self, head: QuickHead, below: bytes, query: bytes, peer: IAddress
    ) -> QuickResponse | None:
        """
        C{/.well-known/time}, as L{WellKnownTime<clocksvc._web._sync.
        WellKnownTime>} answers it: 204, with the time in C{X-HTTPSTIME}.
        """
        if below != b"/time" or query:
            return None
        now = self._clock.seconds()
        return QuickResponse(
            responseHead(
                204,
                _head(
                    now,
                    *WELL_KNOWN_FIELDS,
                    (b"Clock-Status", self._clockStatus()),
                    (b"X-Httpstime", httpsTime(now)),
                ),
            ),
            0,
            204,
        )

    def _timesync(
        self, head: QuickHead, below: bytes, query: bytes, peer: IAddress
    ) -> QuickResponse | None:
        """
        A timesync call, C{POST /timesync}, as L{Timesync<clocksvc._web._sync.
        Timesync>} answers it; a call it would refuse is left to it.
        """
        if below or query:
            return None
        call = timesyncCall(head.body)
        if call is None:
            return None
        # Dated as the request is, before the answer's time is read.
        now = self._clock.seconds()
        body = timesyncAnswer(call, self._clockState(), self._clock)
        return self._answer(b"POST", now, JSON_FIELDS, body)

    def _answer(
        self,
        method: bytes,
        now: float,
        fields: tuple[tuple[bytes, bytes], ...],
        body: bytes,
        more: bytes = b"",
    ) -> QuickResponse:
        """
        @param fields: the answer's fields after C{Clock-Status}, which stay
            the same all second long.
        @param more: the fields after those, each with its line's end, that
            change from one request to the next.
        @return: a time answer made at C{now}: the head, kept for the second
            but C{more} and the length, and C{body} unless C{method} is
            C{HEAD}.
        """
        status = self._clockStatus()
        second, madeWith, start = self._heads.get(fields, (-1, b"", b""))
        if second != int(now) or madeWith is not status:
            # All of the head but the length and the empty line after it.
            start = responseHead(
                200,
                _head(now, *TIME_FIELDS, (b"Clock-Status", status), *fields),
            )[:-2]
            self._heads[fields] = (int(now), status, start)
        head = start + more + b"Content-Length: %d\r\n\r\n" % len(body)
        if method == b"HEAD":
            return QuickResponse(head, 0)
        return QuickResponse(head + body, len(body))
