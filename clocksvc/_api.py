# -*- test-case-name: tests.test_api -*-
"""
The time API: the current time as data, in the shapes that clients of
worldtimeapi.org and time.akamai.com already parse.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Literal
from zoneinfo import ZoneInfo

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IReactorTime
from twisted.web import http
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, Resource

from ._document import TimeDocument, documentJSON, documentText, timeDocument
from ._negotiation import preferredType
from ._page import ClockPage
from ._resource import (
    MethodResource,
    jsonError,
    sendJSON,
    sendText,
)
from ._zones import ZoneCatalogue

__all__ = ["APIDirectory", "NegotiatedRoot", "Now", "Timezones", "timeHeaders"]

#: How a response is written: as JSON or as worldtimeapi's plain text.
Format = Literal["json", "text"]

_FORMATS: dict[str, Format] = {"application/json": "json", "text/plain": "text"}
# What an IANA zone name can look like: letters, digits and "_+-" in up to
# three "/"-separated parts. Anything else is malformed rather than unknown.
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-]{1,40}(/[A-Za-z0-9_+\-]{1,40}){0,2}")


def timeHeaders(request: IRequest) -> None:
    """
    Set the headers every time response carries: the time now is stale at
    once, so nothing may cache it; and any web page may read it.
    """
    request.setHeader(b"cache-control", b"no-store")
    request.setHeader(b"access-control-allow-origin", b"*")


def clientIP(request: IRequest) -> str:
    """
    @return: the client's IP address, IPv4-mapped IPv6 addresses unmapped;
        empty for clients that have none, such as those on a UNIX socket.
    """
    address = request.getClientAddress()
    if isinstance(address, (IPv4Address, IPv6Address)):
        host = address.host
        return host.removeprefix("::ffff:") if "." in host else host
    return ""


def acceptHeader(request: IRequest) -> str | None:
    """
    @return: the request's C{Accept} header as text, or L{None}.
    """
    accept: bytes | None = request.getHeader(b"accept")
    # Header values are bytes; latin-1 decodes any of them, and media types
    # are ASCII.
    return None if accept is None else accept.decode("latin-1")


class _BadParameter(Exception):
    """
    A query parameter's value cannot be used.

    @ivar name: the parameter.
    @ivar reason: what a good value looks like.
    """

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, reason)
        self.name = name
        self.reason = reason


def queryValue(request: IRequest, name: str) -> str | None:
    """
    @return: the one value of query parameter C{name}, or L{None} if absent.
    @raise _BadParameter: if it is given more than once or is not UTF-8.
    """
    values = (request.args or {}).get(name.encode())
    if values is None:
        return None
    if len(values) != 1:
        raise _BadParameter(name, "give it once")
    try:
        value: str = values[0].decode("utf-8")
    except UnicodeDecodeError:
        raise _BadParameter(name, "not UTF-8") from None
    return value


class _TimeResource(MethodResource):
    """
    Base of the API endpoints: the time headers on every response, and
    errors in the format of the answer.
    """

    def __init__(self, forced: Format | None = None) -> None:
        """
        @param forced: the format this path always answers in, as C{.txt}
            paths do; L{None} to let C{Accept} choose.
        """
        super().__init__()
        self._forced = forced

    def render(self, request: IRequest) -> bytes | int:
        timeHeaders(request)
        return super().render(request)

    def formatFor(self, request: IRequest) -> Format:
        """
        @return: the format to answer C{request} in.
        """
        if self._forced is not None:
            return self._forced
        request.setHeader(b"vary", b"accept")
        return _FORMATS[preferredType(acceptHeader(request), list(_FORMATS))]

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

    def sendDocument(
        self, request: IRequest, format: Format, document: TimeDocument
    ) -> bytes:
        """
        @return: the time document as the body.
        """
        if format == "text":
            return sendText(request, documentText(document))
        request.setHeader(b"content-type", b"application/json; charset=utf-8")
        return documentJSON(document)

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        return _APINotFound()


class _APINotFound(_TimeResource):
    """
    404 in JSON, for any path under the API that names nothing.
    """

    isLeaf = True

    def render(self, request: IRequest) -> bytes | int:
        timeHeaders(request)
        return jsonError(request, http.NOT_FOUND, "not found")


class Now(_TimeResource):
    """
    C{/now}: the time document for C{?tz=NAME}, or for the default zone.
    """

    def __init__(
        self,
        clock: IReactorTime,
        catalogue: ZoneCatalogue,
        defaultZone: ZoneInfo,
        forced: Format | None = None,
    ) -> None:
        super().__init__(forced)
        self._clock = clock
        self._catalogue = catalogue
        self._defaultZone = defaultZone

    def render_GET(self, request: IRequest) -> bytes:
        format = self.formatFor(request)
        try:
            name = queryValue(request, "tz")
            if name is not None and not _ZONE_NAME.fullmatch(name):
                raise _BadParameter("tz", "an IANA time zone name, like Europe/Berlin")
        except _BadParameter as e:
            return self.sendError(
                request,
                format,
                http.BAD_REQUEST,
                f"invalid query parameter tz: {e.reason}",
                parameter=e.name,
            )
        zone = self._defaultZone if name is None else self._catalogue.zone(name)
        if zone is None:
            return self.sendError(request, format, http.NOT_FOUND, "unknown location")
        document = timeDocument(self._clock.seconds(), zone, clientIP(request))
        return self.sendDocument(request, format, document)


class Timezones(_TimeResource):
    """
    worldtimeapi.org's C{/api/timezone} tree: every zone name at the top, the
    zones of an area at C{/api/timezone/AREA}, and a zone's time document at
    C{/api/timezone/AREA/LOCATION[/REGION]}; C{.txt} on the last segment
    answers in text.
    """

    isLeaf = True

    def __init__(
        self,
        clock: IReactorTime,
        catalogue: ZoneCatalogue,
        forced: Format | None = None,
    ) -> None:
        super().__init__(forced)
        self._clock = clock
        self._catalogue = catalogue

    def formatFor(self, request: IRequest) -> Format:
        postpath = request.postpath or []
        if postpath and postpath[-1].endswith(b".txt"):
            return "text"
        return "json" if self._forced is None else self._forced

    def render_GET(self, request: IRequest) -> bytes:
        format = self.formatFor(request)
        segments = list(request.postpath or [])
        if segments == [b""]:
            # /api/timezone/ lists the zones, as /api/timezone does.
            segments = []
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
        zone = self._catalogue.zone(name) if _ZONE_NAME.fullmatch(name) else None
        if zone is not None:
            document = timeDocument(self._clock.seconds(), zone, clientIP(request))
            return self.sendDocument(request, format, document)
        zones = self._catalogue.area(name) if _ZONE_NAME.fullmatch(name) else []
        if zones:
            return self._sendList(request, format, zones)
        return self.sendError(request, format, http.NOT_FOUND, "unknown location")

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
    _offers = ("text/html", "application/json", "text/plain")

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
        timeHeaders(request)
        names = queryNames(request)
        if b"iso" in names or b"ms" in names:
            return sendText(request, akamaiTime(self._clock.seconds(), names))
        request.setHeader(b"vary", b"accept")
        chosen = preferredType(acceptHeader(request), self._offers)
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


def akamaiTime(seconds: float, names: set[bytes]) -> bytes:
    """
    Answer as time.akamai.com does: epoch seconds, C{?ms} adds milliseconds,
    C{?iso} gives ISO 8601 in UTC instead.

    @return: e.g. C{1000000000}, C{1000000000.123}, C{2001-09-09T01:46:40Z}
        or C{2001-09-09T01:46:40.123Z}.
    """
    millis = math.floor(seconds * 1000)
    whole, fraction = divmod(millis, 1000)
    withMillis = b"ms" in names
    if b"iso" in names:
        stamp = datetime.fromtimestamp(whole, timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S"
        )
        return (stamp + (f".{fraction:03d}Z" if withMillis else "Z")).encode()
    return f"{whole}.{fraction:03d}".encode() if withMillis else b"%d" % (whole,)
