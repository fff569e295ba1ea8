# -*- test-case-name: tests.test_api -*-
"""
The time API: the current time as data, in the shapes that clients of
worldtimeapi.org and time.akamai.com already parse.

Each resource decides its answers in its C{answer} (L{Ask} to L{Answer}),
which both the general path and the quick one call; the query's
parameters are read here, once, for all of them (L{queryValue},
L{zoneFromQuery}, L{t1FromQuery}, L{instantFromQuery}).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IAddress, IReactorTime
from twisted.web.http import BAD_REQUEST, NOT_FOUND
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource

from .._clock import UNKNOWN, ClockHealth, ClockState
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
from ._answer import (
    Answer,
    Answering,
    Args,
    Ask,
    Fields,
    applyAnswer,
    makeAnswer,
    queryArgs,
    queryNames,
)
from ._negotiation import Negotiation
from ._openapi import (
    AT,
    CLOCK_STATUS,
    TIME_DOCUMENT,
    TZ,
    Fragment,
    error,
    html,
    jsonContent,
    operation,
    ref,
    text,
    zoneParts,
)
from ._page import ClockPage
from ._resource import (
    FIXED_FIELDS,
    JSON_FIELDS,
    TEXT_FIELDS,
    TIME_FIELDS,
    VARY_FIELDS,
    MethodResource,
    jsonBody,
    pageFields,
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
    "clientIP",
    "exchange",
    "instantFromQuery",
    "notAbove",
    "parseT1",
    "zoneFromQuery",
    "zoneListBody",
]

_UNKNOWN_STATUS = UNKNOWN.structuredField()

#: How a response is written: as JSON or as worldtimeapi's plain text.
Format = Literal["json", "text"]

_FORMATS: dict[str, Format] = {"application/json": "json", "text/plain": "text"}
#: What the API's negotiated endpoints offer, favourite first.
DOCUMENT_OFFERS = tuple(_FORMATS)
#: What C{/} offers, favourite first: the lesson's page, then the document.
ROOT_OFFERS = ("text/html", *DOCUMENT_OFFERS)
_DOCUMENTS = Negotiation(DOCUMENT_OFFERS)
_ROOT = Negotiation(ROOT_OFFERS)


class Form(NamedTuple):
    """
    How an answer is written: its format, and the fields that say so, made
    once.

    @ivar format: JSON or text.
    @ivar vary: C{Vary}, if C{Accept} chose the format; else nothing.
    @ivar type: its C{Content-Type}.
    @ivar tail: a document's fields after C{Clock-Status}: C{vary}, then
        C{type}.
    @ivar exchange: a sample's fields after C{Clock-Status} (L{exchange}):
        C{vary}, then L{EXCHANGE_FIELDS}; its C{Server-Timing} and C{type}
        follow.
    """

    format: Format
    vary: Fields
    type: Fields
    tail: Fields
    exchange: Fields


def _form(format: Format, vary: Fields) -> Form:
    typeFields = JSON_FIELDS if format == "json" else TEXT_FIELDS
    return Form(
        format, vary, typeFields, (*vary, *typeFields), (*vary, *EXCHANGE_FIELDS)
    )


#: The fields of an answer about a given instant rather than now, which
#: does not age (L{FIXED_FIELDS} in place of L{TIME_FIELDS}' Cache-Control),
#: before its form's: it has no C{Clock-Status}, as the server's clock plays
#: no part in it.
_FIXED_TIME_FIELDS = ((b"Cache-Control", FIXED_FIELDS[0][1]), *TIME_FIELDS[1:])


def clientIP(ask: Ask) -> str:
    """
    @return: the client's IP address, IPv4-mapped IPv6 addresses unmapped;
        empty for clients that have none, such as those on a UNIX socket.
    """
    return addressIP(ask.client)


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
        BAD_REQUEST, f"invalid query parameter {name}: {reason}", parameter=name
    )


@lru_cache(maxsize=64)
def _encoded(name: str) -> bytes:
    """
    @return: a query parameter's name as the query has it.
    """
    return name.encode()


def queryValue(args: Args, name: str) -> str | None:
    """
    @param args: a query's parameters (L{queryArgs}).
    @return: the one value of query parameter C{name}, or L{None} if absent.
    @raise QueryError: if it is given more than once or is not UTF-8.
    """
    values = args.get(_encoded(name))
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


def t1FromQuery(args: Args) -> int | float | None:
    """
    @return: the client's send time from the C{t1} query parameter, as
        L{parseT1} reads it; L{None} if absent.
    @raise QueryError: 400 if C{t1} is not such a number.
    """
    text = queryValue(args, "t1")
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
    wallClock: IReactorTime,
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
    @param wallClock: read for C{t3}, after all the other work.
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
    t3 = wallClock.seconds() * 1000
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


#: The forms an answer is written in: always JSON, always text, or as
#: C{Accept} chooses, by the offer it chose.
JSON_FORM = _form("json", ())
TEXT_FORM = _form("text", ())
_FORCED: dict[Format, Form] = {"json": JSON_FORM, "text": TEXT_FORM}
_NEGOTIATED = {offer: _form(format, VARY_FIELDS) for offer, format in _FORMATS.items()}


def instantFromQuery(args: Args, name: str = "at") -> Fraction | None:
    """
    @return: the instant that query parameter C{name} names, RFC 3339 or
        Unix seconds (L{INSTANT<clocksvc._time.INSTANT>}), in seconds since
        the epoch; L{None} if absent.
    @raise QueryError: 400 if it is not such an instant, or out of range.
    """
    text = queryValue(args, name)
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


#: The zones that names in paths and queries named, by name, with the
#: catalogue they are of: clients name the same few, and a lookup folds the
#: name's case and reads the catalogue.
_zonesNamed: dict[str, tuple[ZoneCatalogue, ZoneInfo]] = {}
#: How many it keeps: a client cannot grow it past this.
_ZONES_KEPT = 1024


def zoneNamed(catalogue: ZoneCatalogue, name: str) -> ZoneInfo | None:
    """
    @param name: a zone's name as a client writes it, in any letter case.
    @return: the zone C{catalogue} has of that name, if it is a zone name
        (L{isZoneName}) and names one.
    """
    found = _zonesNamed.get(name)
    if found is not None and found[0] is catalogue:
        return found[1]
    zone = catalogue.zone(name) if isZoneName(name) else None
    if zone is not None:
        if len(_zonesNamed) >= _ZONES_KEPT:
            _zonesNamed.clear()
        _zonesNamed[name] = (catalogue, zone)
    return zone


def _listBody(format: Format, names: Sequence[str]) -> bytes:
    if format == "text":
        return "".join(name + "\n" for name in names).encode()
    return jsonBody(names)


#: The body of the last whole list of zones asked for, in each form, with
#: the list it was made from.
_zoneLists: dict[Format, tuple[tuple[str, ...], bytes]] = {}


def zoneListBody(catalogue: ZoneCatalogue, format: Format = "json") -> bytes:
    """
    @return: the body that lists every zone of C{catalogue}, as
        C{/api/timezone} and timeapi.io's C{AvailableTimeZones} answer it.
        It is 10 KB, and encoding it costs more than the rest of the
        request: it is made again only when the catalogue's list is another
        tuple (L{ZoneCatalogue.names}), which an identity check tells.
    """
    names = catalogue.names()
    kept = _zoneLists.get(format)
    if kept is not None and kept[0] is names:
        return kept[1]
    body = _listBody(format, names)
    _zoneLists[format] = (names, body)
    return body


def zoneFromQuery(
    args: Args,
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
    name = queryValue(args, parameter)
    if name is None:
        if defaultZone is None:
            raise badParameter(parameter, "required")
        return defaultZone
    # A zone that a name names is one that has a name: the name's shape is
    # checked only when it names none (zoneNamed checks it, too, before it
    # looks it up), which is most of the work for names asked before.
    zone = zoneNamed(catalogue, name)
    if zone is not None:
        return zone
    if not isZoneName(name):
        raise badParameter(parameter, "an IANA time zone name, like Europe/Berlin")
    detail = {} if parameter == "tz" else {"parameter": parameter}
    raise QueryError(NOT_FOUND, "unknown location", **detail)


class TimeResource(MethodResource):
    """
    Base of the API endpoints: the time fields (L{TIME_FIELDS}, then
    C{Clock-Status}) on every answer, and errors in the format of the
    answer.
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
        self._forcedForm = None if forced is None else _FORCED[forced]
        self._health = health
        self._fieldsStatus = b""
        self._fieldsMade: dict[int, tuple[Fields, Fields]] = {}
        self._lastTail: Fields | None = None
        self._lastFields: Fields = ()

    def clockState(self) -> ClockState:
        """
        @return: the server clock's state.
        """
        return UNKNOWN if self._health is None else self._health.state()

    def clockStatus(self) -> bytes:
        """
        @return: the C{Clock-Status} field; the same object while the
            clock's state holds.
        """
        if self._health is None:
            return _UNKNOWN_STATUS
        return self._health.field()

    def timeFields(self, tail: Fields) -> Fields:
        """
        @param tail: the fields after C{Clock-Status}.
        @return: a time answer's fields: L{TIME_FIELDS}, C{Clock-Status}
            now, then C{tail}; the same tuple for the same C{tail} while
            the clock's state holds, for the quick path to keep its head.
        """
        health = self._health
        status = _UNKNOWN_STATUS if health is None else health.field()
        if status is self._fieldsStatus and tail is self._lastTail:
            return self._lastFields
        if status is not self._fieldsStatus:
            self._fieldsStatus = status
            self._fieldsMade = {}
        # Kept by the tail's identity (the tails of most answers are made
        # once), with the tail itself, which no other tuple can then take
        # the identity of.
        kept = self._fieldsMade.get(id(tail))
        if kept is not None and kept[0] is tail:
            made = kept[1]
        else:
            if len(self._fieldsMade) >= 64:
                self._fieldsMade.clear()
            made = (*TIME_FIELDS, (b"Clock-Status", status), *tail)
            self._fieldsMade[id(tail)] = (tail, made)
        # The last one apart: a resource answers in one form most of all.
        self._lastTail, self._lastFields = tail, made
        return made

    def renderOptions(self, request: IRequest) -> int:
        # The time fields, as on every other answer here, before Allow.
        timeHeaders(request, self.clockStatus())
        return super().renderOptions(request)

    def formOf(self, ask: Ask) -> Form:
        """
        @return: the form to answer C{ask} in: the one this path always
            answers in, or the one C{Accept} chooses (with C{Vary}).
        """
        forced = self._forcedForm
        if forced is not None:
            return forced
        return _NEGOTIATED[_DOCUMENTS.choose(ask.accept)]

    def errorAnswer(
        self, ask: Ask, code: int, message: str, *before: tuple[bytes, bytes]
    ) -> Answer:
        return self.error(self.formOf(ask), code, message, before)

    def error(
        self,
        form: Form,
        code: int,
        message: str,
        before: Fields = (),
        detail: Mapping[str, str] | None = None,
    ) -> Answer:
        """
        @param before: the fields between C{Clock-Status} and the form's.
        @param detail: further fields of the JSON error, such as
            C{parameter}.
        @return: an error: C{{"error": message}} in JSON (with C{detail}),
            or an C{error: message} line in text.
        """
        if form.format == "text":
            body = f"error: {message}\n".encode()
        else:
            body = jsonBody({"error": message, **(detail or {})})
        tail = (*before, *form.tail) if before else form.tail
        return Answer(code, self.timeFields(tail), body)

    def queryError(self, form: Form, error: QueryError) -> Answer:
        """
        @return: the error for C{error}.
        """
        return self.error(form, error.code, error.message, (), error.detail)

    def documentAnswer(
        self,
        form: Form,
        zone: ZoneInfo,
        now: float,
        clientIP: str,
        at: Fraction | None = None,
    ) -> Answer:
        """
        C{zone}'s time document: for the instant C{at} if given, else for
        C{now}.

        A document for a given instant does not age and owes nothing to the
        server's clock: it may be cached (L{FIXED_FIELDS}), and it has no
        C{Clock-Status}.
        """
        text = form.format == "text"
        if at is None:
            # The document has the microsecond and the client's address in
            # it: it is made for each request, from the second's pieces.
            body = (documentTextAt if text else documentJSONAt)(now, zone, clientIP)
            fields = self.timeFields(form.tail)
            # The answer most asked for: made as Answer makes it, but at C's
            # speed (its constructor is a Python function).
            return makeAnswer(Answer, (200, fields, body, (), now, None))
        body = (documentText if text else documentJSON)(
            timeDocument(at, zone, clientIP)
        )
        return Answer(200, (*_FIXED_TIME_FIELDS, *form.tail), body, (), now)

    def missing(self, segment: bytes) -> IResource:
        return _API_NOT_FOUND


class _APINotFound(Answering):
    """
    404 in JSON, for any path under the API that names nothing, whatever the
    method.
    """

    isLeaf = True

    def render(self, request: IRequest) -> bytes | int:
        return applyAnswer(request, _API_NOT_FOUND_ANSWER)

    def answer(self, ask: Ask) -> Answer:
        return _API_NOT_FOUND_ANSWER


_API_NOT_FOUND_ANSWER = Answer(
    NOT_FOUND, (*TIME_FIELDS, *JSON_FIELDS), jsonBody({"error": "not found"})
)
_API_NOT_FOUND = _APINotFound()


class Now(TimeResource):
    """
    C{/now}: the time document for C{?tz=NAME}, or for the default zone;
    with C{?t1=}, a sample of an NTP-style exchange (L{exchange}); with
    C{?at=}, the document for that instant instead of now, and C{t1} is then
    ignored (but for being checked): an exchange measures the clock now, and
    another instant's document has no place in it.
    """

    def __init__(
        self,
        wallClock: IReactorTime,
        catalogue: ZoneCatalogue,
        defaultZone: ZoneInfo,
        forced: Format | None = None,
        *,
        health: ClockHealth | None = None,
    ) -> None:
        super().__init__(forced, health=health)
        self._wallClock = wallClock
        self._catalogue = catalogue
        self._defaultZone = defaultZone

    def answerAllowed(self, ask: Ask) -> Answer:
        received = self._wallClock.seconds()
        form = self.formOf(ask)
        zone, t1, at = self._defaultZone, None, None
        if ask.query:
            args = queryArgs(ask)
            try:
                zone = zoneFromQuery(args, self._catalogue, self._defaultZone)
                t1 = t1FromQuery(args)
                at = instantFromQuery(args)
            except QueryError as e:
                return self.queryError(form, e)
        if t1 is None or at is not None:
            return self.documentAnswer(form, zone, received, addressIP(ask.client), at)
        # Everything but t3 first: it is read after all the other work.
        fields = self.timeFields(form.exchange)
        body, timing = exchange(
            form.format,
            zone,
            clientIP(ask),
            self.clockState(),
            t1,
            received,
            self._wallClock,
        )
        more = ((b"Server-Timing", timing), *form.type)
        return makeAnswer(Answer, (200, fields, body, more, received, None))


#: Renders a zone's resource below L{Timezones}: given the request, the
#: zone, and the resource (for its fields), its answer in JSON.
Below = Callable[[Ask, ZoneInfo, TimeResource], Answer]


class Timezones(TimeResource):
    """
    worldtimeapi.org's C{/api/timezone} tree: every zone name at the top, the
    zones of an area at C{/api/timezone/AREA}, and a zone's time document at
    C{/api/timezone/AREA/LOCATION[/REGION]}; C{.txt} on the last segment
    answers in text. C{?at=INSTANT} asks for a zone's document at that
    instant (L{TimeResource.documentAnswer}).

    Below a zone, a last segment that no zone name ends in (C{transitions})
    may name a resource of that zone, answered by C{below}.
    """

    isLeaf = True

    def __init__(
        self,
        wallClock: IReactorTime,
        catalogue: ZoneCatalogue,
        forced: Format | None = None,
        *,
        health: ClockHealth | None = None,
        below: Mapping[bytes, Below] | None = None,
    ) -> None:
        """
        @param below: answers a zone's resources, by their last segment:
            each is given the request, the zone and this resource, and
            answers in JSON.
        """
        super().__init__(forced, health=health)
        self._wallClock = wallClock
        self._catalogue = catalogue
        self._below = dict(below or {})

    def formOf(self, ask: Ask) -> Form:
        path = ask.path
        if path and path[-1].endswith(b".txt"):
            return TEXT_FORM
        return JSON_FORM if self._forcedForm is None else self._forcedForm

    def answerAllowed(self, ask: Ask) -> Answer:
        form = self.formOf(ask)
        path = ask.path
        if not path:
            return self._listAnswer(form, zoneListBody(self._catalogue, form.format))
        if self._forced is not None:
            # /api/timezone.txt has nothing below it.
            return self.error(form, NOT_FOUND, "unknown location")
        joined = b"/".join(path)
        if form is TEXT_FORM:
            # The last segment's .txt, which chose the form, names nothing.
            joined = joined[: -len(b".txt")]
        try:
            name = joined.decode("utf-8")
        except UnicodeDecodeError:
            name = "\0"
        zone = zoneNamed(self._catalogue, name)
        if zone is not None:
            return self.zoneAnswer(ask, form, zone, addressIP(ask.client))
        # A zone's resource, in JSON: the last segment names it.
        below = self._below.get(path[-1]) if len(path) > 1 else None
        if below is not None and form is JSON_FORM:
            found = zoneNamed(self._catalogue, name.rpartition("/")[0])
            if found is not None:
                return below(ask, found, self)
        zones = self._catalogue.area(name) if isZoneName(name) else []
        try:
            # The paths that may name a zone take ?at=: a malformed one is
            # refused whatever the path turns out to name.
            instantFromQuery(queryArgs(ask))
        except QueryError as e:
            return self.queryError(form, e)
        if zones:
            return self._listAnswer(form, _listBody(form.format, zones))
        return self.error(form, NOT_FOUND, "unknown location")

    def zoneAnswer(self, ask: Ask, form: Form, zone: ZoneInfo, address: str) -> Answer:
        """
        @param address: the client's address, for C{client_ip}.
        @return: the time document for C{zone}, now or at C{?at=}
            (L{documentAnswer}): for the zone a path names here, and for the
            zone of an address at C{/api/ip}
            (L{IPZone<clocksvc._web._geoip.IPZone>}); or the 400 of a
            malformed C{?at=}.
        """
        now = self._wallClock.seconds()
        try:
            at = instantFromQuery(queryArgs(ask))
        except QueryError as e:
            return self.queryError(form, e)
        return self.documentAnswer(form, zone, now, address, at)

    def _listAnswer(self, form: Form, body: bytes) -> Answer:
        return Answer(200, self.timeFields(form.tail), body)


class APIDirectory(Answering):
    """
    C{/api}: holds C{timezone} and the API's other resources, and answers
    404 in JSON for anything else, whatever the method.
    """

    def render(self, request: IRequest) -> bytes | int:
        return applyAnswer(request, _API_NOT_FOUND_ANSWER)

    def answer(self, ask: Ask) -> Answer:
        return _API_NOT_FOUND_ANSWER

    def missing(self, segment: bytes) -> IResource:
        return _API_NOT_FOUND


class NegotiatedRoot(MethodResource):
    """
    C{/}: the lesson's page for browsers; the time document for clients that
    ask for JSON or text; and time.akamai.com's answers to C{?iso}, C{?ms}
    and C{?iso&ms}, for DASH players' UTCTiming.
    """

    isLeaf = True

    def __init__(self, page: ClockPage, now: Now, wallClock: IReactorTime) -> None:
        """
        @param page: the lesson's page.
        @param now: the C{/now} resource, which answers with the document.
        @param wallClock: where the time comes from.
        """
        super().__init__()
        self._page = page
        self._now = now
        self._wallClock = wallClock

    def answerAllowed(self, ask: Ask) -> Answer:
        if ask.query:
            names = queryNames(ask)
            if b"iso" in names or b"ms" in names:
                now = self._wallClock.seconds()
                fields = self._now.timeFields(TEXT_FIELDS)
                body = akamaiTime(now, names)
                return makeAnswer(Answer, (200, fields, body, (), now, None))
        if _ROOT.choose(ask.accept) == "text/html":
            # The page's own fields, after the time fields and Vary, whose
            # Cache-Control (no-store) is the page's too.
            now = self._wallClock.seconds()
            fields = self._now.timeFields(_PAGE_TAIL)
            # As Answer makes it, at C's speed (TimeResource.documentAnswer).
            return makeAnswer(
                Answer, (200, fields, self._page.pageAt(now), (), now, None)
            )
        # The document, as /now answers it, with Vary: its form is
        # negotiated here as there.
        return self._now.answerAllowed(ask)


_PAGE_TAIL = (*VARY_FIELDS, *pageFields())


# The description of these resources' paths (/openapi.json).

#: C{?t1}, a client's send time.
_T1 = {
    "name": "t1",
    "in": "query",
    "required": False,
    "description": "The client's send time, in milliseconds since the epoch "
    "(before the year 10000, to the microsecond at most): the answer then adds "
    "t1 (echoed), t2 (when the server received the request) and t3 (when it "
    "answered), for an NTP-style offset estimate; but with at, which is not "
    "now, it is ignored.",
    # The server's own pattern: digits up to 253402300799999, so that a
    # fuzzer's 15-digit t1 past the year 9999 counts as invalid, as it is.
    "schema": {
        "type": "string",
        "pattern": f"^{MILLISECONDS}$",
        "example": "1700000000000",
    },
}

# At /, ?tz chooses the zone of the time document, as at /now (its 400 and 404
# are /'s); the page and the ?iso and ?ms answers ignore it, whatever it
# holds, so here it has no pattern that a fuzzer would expect enforced.
_ROOT_TZ = {
    **TZ,
    "description": "For the time document (Accept: application/json or "
    "text/plain), as /now's tz; the page and ?iso, ?ms ignore it.",
    "schema": {"type": "string", "example": "Europe/Berlin"},
}


def _documentOrExchange() -> dict[str, Any]:
    """
    @return: the schema of a time document that carries the exchange's times
        exactly when the request gave C{t1}; as if/then/else rather than
        oneOf, so a validator reports the one alternative that applies.
    """
    return {
        "if": {"required": ["t1"]},
        "then": ref("ExchangeDocument"),
        "else": ref("TimeDocument"),
    }


def _exchangeDocument() -> dict[str, Any]:
    """
    @return: the schema of a sample of an exchange (L{exchange}).
    """
    milliseconds: dict[str, Any] = {"type": "number", "minimum": 0}
    return {
        **TIME_DOCUMENT,
        "description": "The time document with an NTP-style exchange's times, "
        "in milliseconds since the epoch.",
        "required": [
            *TIME_DOCUMENT["required"],
            "t1",
            "t2",
            "t3",
            "clock_synchronized",
            "clock_max_error_ms",
        ],
        "properties": {
            **TIME_DOCUMENT["properties"],
            "t1": {**milliseconds, "description": "The client's t1, echoed"},
            "t2": {**milliseconds, "description": "When the server received it"},
            "t3": {**milliseconds, "description": "When the server answered"},
            "clock_synchronized": {
                "type": ["boolean", "null"],
                "description": "Whether the server's clock is synchronized "
                "(null: unknown)",
            },
            "clock_max_error_ms": {
                "type": ["number", "null"],
                "minimum": 0,
                "description": "The server clock's maximum error, which a "
                "client adds to half the round trip (null: unknown)",
            },
        },
    }


def rootFragment() -> Fragment:
    """
    @return: the description of C{/} (L{NegotiatedRoot}).
    """
    return Fragment(
        {
            "/": operation(
                "The lesson's clock page; the time document for Accept: "
                "application/json or text/plain; time.akamai.com's answers "
                "for ?iso, ?ms and ?iso&ms",
                {
                    "200": {
                        "description": "The page, the document, or the time",
                        "content": {
                            **html(),
                            **jsonContent(_documentOrExchange()),
                            **text(),
                        },
                    },
                    "400": error("A malformed query parameter", True),
                    "404": error("No zone has that name", True),
                },
                [
                    {
                        "name": name,
                        "in": "query",
                        "required": False,
                        "allowEmptyValue": True,
                        "description": description,
                        "schema": {"type": "string"},
                    }
                    for name, description in [
                        ("iso", "Answer ISO 8601 in UTC, as time.akamai.com/?iso"),
                        ("ms", "Add milliseconds, as time.akamai.com/?ms"),
                    ]
                ]
                + [_ROOT_TZ, {**_T1, "schema": {"type": "string"}}],
            )
        },
        {"ExchangeDocument": _exchangeDocument()},
    )


def nowFragment(path: str, summary: str) -> Fragment:
    """
    @return: the description of C{/now}, C{/now.json} or C{/now.txt}
        (L{Now}).
    """
    responses = {
        "200": {
            "description": "The time document; with t1, the exchange's times too",
            "headers": {"Clock-Status": CLOCK_STATUS},
            "content": {**jsonContent(_documentOrExchange()), **text()},
        },
        "400": error("A malformed query parameter, named in the body", True),
        "404": error("No zone has that name", True),
    }
    return Fragment(
        {path: operation(summary, responses, [TZ, _T1, AT])},
        {"ExchangeDocument": _exchangeDocument()},
    )


def _zonePath(parts: list[str], inText: bool) -> dict[str, Any]:
    names = ", ".join(parts)
    body: dict[str, Any]
    if inText:
        body = text()
    else:
        body = jsonContent({"oneOf": [ref("TimeDocument"), ref("ZoneList")]})
    return operation(
        f"The time document for the zone {names} (now, or ?at=), or the "
        "zones of that area",
        {
            "200": {"description": "The document, or a list of zones", "content": body},
            "400": error("A malformed ?at=, for a zone", inText),
            "404": error("No zone or area has that name", inText),
        },
        [*zoneParts(parts), AT],
    )


#: The names of the parts of a zone's name, as its paths' parameters, of
#: one, two and three segments.
ZONE_PARTS = (["area"], ["area", "location"], ["area", "location", "region"])


def zonesFragment() -> Fragment:
    """
    @return: the description of C{/api/timezone} and C{/api/timezone.txt}
        (L{Timezones}), but for the resources below a zone.
    """
    zoneList = {"description": "Zone names", "content": jsonContent(ref("ZoneList"))}
    paths = {
        "/api/timezone": operation("Every zone name", {"200": zoneList}),
        "/api/timezone.txt": operation(
            "Every zone name, one a line",
            {"200": {"description": "Zone names", "content": text()}},
        ),
    }
    for parts in ZONE_PARTS:
        template = "/api/timezone/" + "/".join("{" + part + "}" for part in parts)
        paths[template] = _zonePath(parts, False)
        paths[template + ".txt"] = _zonePath(parts, True)
    return Fragment(paths)
