# -*- test-case-name: tests.test_api -*-
"""
The time API: the current time as data, in the shapes that clients of
worldtimeapi.org and time.akamai.com already parse.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IAddress, IReactorTime
from twisted.web import http
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, Resource

from .._time import (
    TimeDocument,
    ZoneCatalogue,
    akamaiTime,
    documentJSON,
    documentJSONAt,
    documentText,
    documentTextAt,
    isZoneName,
    notAbove,
    parseInstant,
    timeDocument,
)
from ._clockhealth import UNKNOWN, ClockHealth, ClockState
from ._negotiation import preferredType
from ._page import ClockPage
from ._resource import (
    JSON_FIELDS,
    VARY_FIELDS,
    MethodResource,
    fixedHeaders,
    jsonError,
    sendJSON,
    sendText,
    setFields,
    timeHeaders,
)

__all__ = [
    "DOCUMENT_OFFERS",
    "EXCHANGE_FIELDS",
    "MILLISECONDS",
    "ROOT_OFFERS",
    "APIDirectory",
    "NegotiatedRoot",
    "Now",
    "QueryError",
    "TimeResource",
    "Timezones",
    "addressIP",
    "argValue",
    "clientIP",
    "exchange",
    "instantFromQuery",
    "notAbove",
    "parseT1",
    "zoneFromQuery",
]

_UNKNOWN_STATUS = UNKNOWN.structuredField()

#: How a response is written: as JSON or as worldtimeapi's plain text.
Format = Literal["json", "text"]

_FORMATS: dict[str, Format] = {"application/json": "json", "text/plain": "text"}
#: What the API's negotiated endpoints offer, favourite first.
DOCUMENT_OFFERS = tuple(_FORMATS)
#: What C{/} offers, favourite first: the lesson's page, then the document.
ROOT_OFFERS = ("text/html", *DOCUMENT_OFFERS)


def clientIP(request: IRequest) -> str:
    """
    @return: the client's IP address, IPv4-mapped IPv6 addresses unmapped;
        empty for clients that have none, such as those on a UNIX socket.
    """
    return addressIP(request.getClientAddress())


def addressIP(address: IAddress | None) -> str:
    """
    @return: the IP address of C{address}, as L{clientIP} gives it: IPv6
        addresses in their canonical text (RFC 5952), as some sources, such
        as Twisted's PROXY protocol version 2 parser, write them in full.
    """
    if isinstance(address, (IPv4Address, IPv6Address)):
        host = address.host
        return host.removeprefix("::ffff:") if "." in host else _canonicalIPv6(host)
    return ""


@lru_cache(maxsize=1024)
def _canonicalIPv6(host: str) -> str:
    """
    @return: C{host}, an IPv6 address, in canonical text; as it is if it is
        not one.
    """
    try:
        return str(ipaddress.IPv6Address(host))
    except ValueError:
        return host


def acceptHeader(request: IRequest) -> str | None:
    """
    @return: the request's C{Accept} header as text, or L{None}.
    """
    accept: bytes | None = request.getHeader(b"accept")
    # Header values are bytes; latin-1 decodes any of them, and media types
    # are ASCII.
    return None if accept is None else accept.decode("latin-1")


class QueryError(Exception):
    """
    A request's query cannot be answered.

    @ivar code: the status code to answer with.
    @ivar message: what went wrong, for the C{error} field.
    @ivar detail: further fields for the JSON error, such as C{parameter}.
    """

    def __init__(self, code: int, message: str, **detail: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.detail = detail


def badParameter(name: str, reason: str) -> QueryError:
    """
    @return: the 400 error for a malformed query parameter C{name}.
    """
    return QueryError(
        http.BAD_REQUEST, f"invalid query parameter {name}: {reason}", parameter=name
    )


def queryValue(request: IRequest, name: str) -> str | None:
    """
    @return: the one value of query parameter C{name}, or L{None} if absent.
    @raise QueryError: if it is given more than once or is not UTF-8.
    """
    return argValue(request.args or {}, name)


def argValue(args: Mapping[bytes, Sequence[bytes]], name: str) -> str | None:
    """
    @param args: a query's parameters, each with its values, as Twisted's
        C{request.args} (and C{twisted.web.http.parse_qs}) give them.
    @return: the one value of parameter C{name}, or L{None} if absent.
    @raise QueryError: if it is given more than once or is not UTF-8.
    """
    values = args.get(name.encode())
    if values is None:
        return None
    if len(values) != 1:
        raise badParameter(name, "give it once")
    try:
        value: str = values[0].decode("utf-8")
    except UnicodeDecodeError:
        raise badParameter(name, "not UTF-8") from None
    return value


# The last whole millisecond that a time document can describe: the end of
# 9999.
_LAST_MILLISECOND = 253_402_300_799_999
#: What C{t1} takes: milliseconds since the epoch before the year 10000, with
#: at most a microsecond fraction. A pattern, decided on the digits rather
#: than a float's rounding, so that /openapi.json states the very rule.
MILLISECONDS = rf"(?:{notAbove(_LAST_MILLISECOND)})(?:\.[0-9]{{1,6}})?"
_MILLISECONDS = re.compile(MILLISECONDS)


def parseT1(text: str) -> int | float | None:
    """
    @return: the client's send time C{t1}, in milliseconds since the epoch,
        as an C{int} if it was sent as one (so it is echoed as sent); L{None}
        if C{text} is not such a number (L{MILLISECONDS}).
    """
    if _MILLISECONDS.fullmatch(text):
        return float(text) if "." in text else int(text)
    return None


def t1FromQuery(request: IRequest) -> int | float | None:
    """
    @return: the client's send time from the C{t1} query parameter, as
        L{parseT1} reads it; L{None} if absent.
    @raise QueryError: 400 if C{t1} is not such a number.
    """
    text = queryValue(request, "t1")
    if text is None:
        return None
    t1 = parseT1(text)
    if t1 is None:
        raise badParameter("t1", "milliseconds since the epoch, like 1700000000000.5")
    return t1


#: The fields of a sample's answer (L{exchange}) after the document's.
EXCHANGE_FIELDS = ((b"Timing-Allow-Origin", b"*"),)


def exchange(
    format: Format,
    zone: ZoneInfo,
    clientIP: str,
    state: ClockState,
    t1: int | float,
    received: float,
    clock: IReactorTime,
) -> tuple[bytes, bytes]:
    """
    One sample of an NTP-style exchange: the document, the client's C{t1}
    echoed, the server's receive time C{t2} and its transmit time C{t3}, all
    in milliseconds since the epoch; and the server clock's own bound
    (C{clock_synchronized}, C{clock_max_error_ms}), which the client's
    uncertainty adds to half the round trip. The resource and the quick
    answers both answer with it.

    @param zone: the document's zone.
    @param clientIP: the document's C{client_ip}.
    @param received: when the request was received (C{t2}), in seconds, and
        the instant of the document.
    @param clock: read for C{t3}, after all the other work.
    @return: the body, and the C{Server-Timing} field's value: the time
        from C{t2} to C{t3}.
    """
    t2 = received * 1000
    json_, text = _statePieces(state.synchronized, state.maxErrorMs)
    makeDocument = documentTextAt if format == "text" else documentJSONAt
    document = makeDocument(received, zone, clientIP)
    # Numbers as documentJSON and documentText write them: a finite float's
    # repr, and an int's.
    if format == "text":
        head = document + f"{text}t1: {t1!r}\nt2: {t2!r}\n".encode()
    else:
        # Everything but the closing brace, so t3 can be added last.
        head = document[:-1] + f'{json_}"t1":{t1!r},"t2":{t2!r}'.encode()
    # t3 is read after all the other work, just before the body is written,
    # so that t3 - t2 covers everything the server spent.
    t3 = clock.seconds() * 1000
    timing = b"app;dur=%.3f" % (t3 - t2,)
    if format == "text":
        return head + f"t3: {t3!r}\n".encode(), timing
    return head + f',"t3":{t3!r}}}'.encode(), timing


@lru_cache(maxsize=64)
def _statePieces(
    synchronized: bool | None, maxErrorMs: float | None
) -> tuple[str, str]:
    """
    @return: a sample's clock fields, as L{documentJSON} writes them (after
        the document's, with the comma before them and after them) and as
        L{documentText} does; made once for each state of the clock.
    """
    fields: TimeDocument = {
        "clock_synchronized": synchronized,
        "clock_max_error_ms": maxErrorMs,
    }
    return "," + documentJSON(fields)[1:-1].decode() + ",", documentText(
        fields
    ).decode()


def instantFromQuery(request: IRequest, name: str = "at") -> Fraction | None:
    """
    @return: the instant that query parameter C{name} names, RFC 3339 or
        Unix seconds (L{INSTANT<clocksvc._time.INSTANT>}), in seconds since
        the epoch; L{None} if absent.
    @raise QueryError: 400 if it is not such an instant, or out of range.
    """
    text = queryValue(request, name)
    if text is None:
        return None
    instant = parseInstant(text)
    if instant is None:
        raise badParameter(
            name,
            "an RFC 3339 time with offset, like 2024-03-31T01:30:00Z, or Unix "
            "seconds, in the years 1000 to 9998",
        )
    return instant


def zoneFromQuery(
    request: IRequest,
    catalogue: ZoneCatalogue,
    defaultZone: ZoneInfo | None,
    parameter: str = "tz",
) -> ZoneInfo:
    """
    @param defaultZone: the zone when the parameter is absent; L{None} if it
        is required.
    @param parameter: the query parameter's name.
    @return: the zone named by the C{tz} (or C{parameter}) query parameter,
        or C{defaultZone}.
    @raise QueryError: 400 if it is malformed, or absent and required; 404
        if it names no zone (naming the parameter, but for C{tz}, whose
        answer is worldtimeapi's).
    """
    name = queryValue(request, parameter)
    if name is None:
        if defaultZone is None:
            raise badParameter(parameter, "required")
        return defaultZone
    if not isZoneName(name):
        raise badParameter(parameter, "an IANA time zone name, like Europe/Berlin")
    zone = catalogue.zone(name)
    if zone is None:
        detail = {} if parameter == "tz" else {"parameter": parameter}
        raise QueryError(http.NOT_FOUND, "unknown location", **detail)
    return zone


class TimeResource(MethodResource):
    """
    Base of the API endpoints: the time headers on every response, and
    errors in the format of the answer.
    """

    def __init__(
        self, forced: Format | None = None, *, health: ClockHealth | None = None
    ) -> None:
        """
        @param forced: the format this path always answers in, as C{.txt}
            paths do; L{None} to let C{Accept} choose.
        @param health: the server clock's state, for C{Clock-Status}; if
            L{None}, it is unknown.
        """
        super().__init__()
        self._forced = forced
        self._health = health

    def clockState(self) -> ClockState:
        """
        @return: the server clock's state.
        """
        return UNKNOWN if self._health is None else self._health.state()

    def clockStatus(self) -> bytes:
        """
        @return: the C{Clock-Status} field.
        """
        if self._health is None:
            return _UNKNOWN_STATUS
        return self._health.field()

    def render(self, request: IRequest) -> bytes | int:
        timeHeaders(request, self.clockStatus())
        return super().render(request)

    def formatFor(self, request: IRequest) -> Format:
        """
        @return: the format to answer C{request} in.
        """
        if self._forced is not None:
            return self._forced
        setFields(request, VARY_FIELDS)
        return _FORMATS[preferredType(acceptHeader(request), DOCUMENT_OFFERS)]

    def renderError(self, request: IRequest, code: int, message: str) -> bytes:
        return self.sendError(request, self.formatFor(request), code, message)

    def sendError(
        self, request: IRequest, format: Format, code: int, message: str, **detail: str
    ) -> bytes:
        """
        @return: an error body: C{{"error": message}} in JSON, or an
            C{error: message} line in text.
        """
        if format == "text":
            return sendText(request, f"error: {message}\n".encode(), code)
        return jsonError(request, code, message, **detail)

    def sendQueryError(
        self, request: IRequest, format: Format, error: QueryError
    ) -> bytes:
        """
        @return: the error body for C{error}.
        """
        return self.sendError(
            request, format, error.code, error.message, **error.detail
        )

    def sendDocument(
        self, request: IRequest, format: Format, document: TimeDocument
    ) -> bytes:
        """
        @return: the time document as the body.
        """
        if format == "text":
            return sendText(request, documentText(document))
        setFields(request, JSON_FIELDS)
        return documentJSON(document)

    def sendZoneDocument(
        self,
        request: IRequest,
        format: Format,
        zone: ZoneInfo,
        now: float,
        clientIP: str,
    ) -> bytes:
        """
        Answer with C{zone}'s time document: for the instant of C{?at=} if
        the request has one, else for C{now}.

        A document for a given instant does not age and owes nothing to the
        server's clock: it may be cached (L{fixedHeaders}), and it has no
        C{Clock-Status}.

        @return: the body, or a 400 error's if C{?at=} is malformed.
        """
        try:
            at = instantFromQuery(request)
        except QueryError as e:
            return self.sendQueryError(request, format, e)
        if at is None:
            return self.sendDocument(request, format, timeDocument(now, zone, clientIP))
        fixedHeaders(request)
        return self.sendDocument(request, format, timeDocument(at, zone, clientIP))

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        return _APINotFound()


class _APINotFound(TimeResource):
    """
    404 in JSON, for any path under the API that names nothing.
    """

    isLeaf = True

    def render(self, request: IRequest) -> bytes | int:
        timeHeaders(request)
        return jsonError(request, http.NOT_FOUND, "not found")


class Now(TimeResource):
    """
    C{/now}: the time document for C{?tz=NAME}, or for the default zone.
    """

    def __init__(
        self,
        clock: IReactorTime,
        catalogue: ZoneCatalogue,
        defaultZone: ZoneInfo,
        forced: Format | None = None,
        *,
        health: ClockHealth | None = None,
    ) -> None:
        super().__init__(forced, health=health)
        self._clock = clock
        self._catalogue = catalogue
        self._defaultZone = defaultZone

    def render_GET(self, request: IRequest) -> bytes:
        received = self._clock.seconds()
        format = self.formatFor(request)
        try:
            zone = zoneFromQuery(request, self._catalogue, self._defaultZone)
            t1 = t1FromQuery(request)
            if t1 is not None and queryValue(request, "at") is not None:
                # An exchange measures the clock now: another instant's
                # document has no place in it.
                raise badParameter("at", "not with t1")
        except QueryError as e:
            return self.sendQueryError(request, format, e)
        if t1 is None and b"at" in (request.args or {}):
            return self.sendZoneDocument(
                request, format, zone, received, clientIP(request)
            )
        if t1 is None and format == "json":
            setFields(request, JSON_FIELDS)
            return documentJSONAt(received, zone, clientIP(request))
        if t1 is None:
            return sendText(request, documentTextAt(received, zone, clientIP(request)))
        body, timing = exchange(
            format,
            zone,
            clientIP(request),
            self.clockState(),
            t1,
            received,
            self._clock,
        )
        setFields(request, EXCHANGE_FIELDS)
        request.setHeader(b"server-timing", timing)
        if format == "text":
            return sendText(request, body)
        setFields(request, JSON_FIELDS)
        return body


class Timezones(TimeResource):
    """
    worldtimeapi.org's C{/api/timezone} tree: every zone name at the top, the
    zones of an area at C{/api/timezone/AREA}, and a zone's time document at
    C{/api/timezone/AREA/LOCATION[/REGION]}; C{.txt} on the last segment
    answers in text. C{?at=INSTANT} asks for a zone's document at that
    instant (L{TimeResource.sendZoneDocument}).

    Below a zone, a last segment that no zone name ends in (C{transitions})
    may name a resource of that zone, rendered by C{below}.
    """

    isLeaf = True

    def __init__(
        self,
        clock: IReactorTime,
        catalogue: ZoneCatalogue,
        forced: Format | None = None,
        *,
        health: ClockHealth | None = None,
        below: Mapping[bytes, Callable[[IRequest, ZoneInfo], bytes]] | None = None,
    ) -> None:
        """
        @param below: renders a zone's resources, by their last segment: each
            is given the request and the zone, and answers in JSON.
        """
        super().__init__(forced, health=health)
        self._clock = clock
        self._catalogue = catalogue
        self._below = dict(below or {})

    def formatFor(self, request: IRequest) -> Format:
        postpath = request.postpath or []
        if postpath and postpath[-1].endswith(b".txt"):
            return "text"
        return "json" if self._forced is None else self._forced

    def render_GET(self, request: IRequest) -> bytes:
        format = self.formatFor(request)
        segments = list(request.postpath or [])
        if segments and self._forced is not None:
            # /api/timezone.txt has nothing below it.
            return self.sendError(request, format, http.NOT_FOUND, "unknown location")
        if segments and segments[-1].endswith(b".txt"):
            segments[-1] = segments[-1][: -len(b".txt")]
        try:
            name = b"/".join(segments).decode("utf-8")
        except UnicodeDecodeError:
            name = "\0"
        if not segments:
            return self._sendList(request, format, self._catalogue.names())
        zone = self._catalogue.zone(name) if isZoneName(name) else None
        if zone is not None:
            return self.sendZone(request, format, zone, clientIP(request))
        below = self._below.get(segments[-1]) if len(segments) > 1 else None
        if below is not None:
            parent = name.rpartition("/")[0]
            found = self._catalogue.zone(parent) if isZoneName(parent) else None
            if found is not None and format == "json":
                return below(request, found)
        zones = self._catalogue.area(name) if isZoneName(name) else []
        try:
            # The paths that may name a zone take ?at=: a malformed one is
            # refused whatever the path turns out to name.
            instantFromQuery(request)
        except QueryError as e:
            return self.sendQueryError(request, format, e)
        if zones:
            return self._sendList(request, format, zones)
        return self.sendError(request, format, http.NOT_FOUND, "unknown location")

    def sendZone(
        self, request: IRequest, format: Format, zone: ZoneInfo, address: str
    ) -> bytes:
        """
        @param address: the client's address, for C{client_ip}.
        @return: the time document for C{zone}, now or at C{?at=}
            (L{sendZoneDocument}), as the body: for the zone a path names
            here, and for the zone of an address at C{/api/ip}
            (L{IPZone<clocksvc._web._geoip.IPZone>}).
        """
        return self.sendZoneDocument(
            request, format, zone, self._clock.seconds(), address
        )

    def _sendList(self, request: IRequest, format: Format, names: list[str]) -> bytes:
        if format == "text":
            return sendText(request, "".join(name + "\n" for name in names).encode())
        return sendJSON(request, names)


class APIDirectory(Resource):
    """
    C{/api}: holds C{timezone}, and answers 404 in JSON for anything else.
    """

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        return _APINotFound()

    def render(self, request: IRequest) -> bytes:
        timeHeaders(request)
        return jsonError(request, http.NOT_FOUND, "not found")


class NegotiatedRoot(MethodResource):
    """
    C{/}: the lesson's page for browsers; the time document for clients that
    ask for JSON or text; and time.akamai.com's answers to C{?iso}, C{?ms}
    and C{?iso&ms}, for DASH players' UTCTiming.
    """

    isLeaf = True

    def __init__(self, page: ClockPage, now: Now, clock: IReactorTime) -> None:
        """
        @param page: the lesson's page.
        @param now: the C{/now} resource, which renders the document.
        @param clock: where the time comes from.
        """
        super().__init__()
        self._page = page
        self._now = now
        self._clock = clock

    def render_GET(self, request: IRequest) -> bytes:
        timeHeaders(request, self._now.clockStatus())
        names = queryNames(request)
        if b"iso" in names or b"ms" in names:
            return sendText(request, akamaiTime(self._clock.seconds(), names))
        setFields(request, VARY_FIELDS)
        chosen = preferredType(acceptHeader(request), ROOT_OFFERS)
        if chosen == "text/html":
            return self._page.render_GET(request)
        return self._now.render_GET(request)


def queryNames(request: IRequest) -> set[bytes]:
    """
    @return: the names in the request's query string, with or without a
        value: Twisted's C{request.args} leaves out bare names like C{?iso}.
    """
    _, _, query = request.uri.partition(b"?")
    return {item.partition(b"=")[0] for item in query.split(b"&")}
