# -*- test-case-name: tests.test_server,tests.test_hardening -*-
"""
clocksvc's request: Twisted Web's, with its body in memory within the limit,
C{Host} checked, absolute-form targets understood, and a C{Server} header
that names no version; over HTTP/1.1
(L{ClockChannel<clocksvc._http._channel.ClockChannel>}) and over HTTP/2
(Twisted's).
"""

from __future__ import annotations

from io import BytesIO
from typing import Any, Protocol

from twisted.web import http, server
from twisted.web.resource import IResource
from zope.interface import Interface, implementer

from ._grammar import (
    _REASONS,
    SERVER_HEADER,
    frameChunk,
    httpDate,
    originForm,
    validHost,
    visibleTarget,
)

__all__ = ["ClockRequest", "IEventChannel"]


class IEventChannel(Interface):
    """
    What a long-lived answer, a stream of events to one client, may ask of
    the request it answers beyond L{IRequest<twisted.web.iweb.IRequest>}:
    whether the client is still taking what was written, and a way to write
    an event framed once for many clients. The HTTP layer's requests
    provide it; a resource asks for it (C{IEventChannel(request, None)})
    and writes as to any request where it is not provided.
    """

    def unsentBytes() -> int:
        """
        @return: how many bytes already written to the client's connection
            it has not yet taken; 0 where that cannot be told (over HTTP/2,
            where the connection is shared). Above zero, the client has
            stopped reading for now.
        """

    def writeFramed(data: bytes, framed: bytes) -> None:
        """
        Write C{data}, given also as one chunk of a chunked body.

        @param data: the data.
        @param framed: C{frameChunk(data)}, made once for many requests.
        """


class _Connection(Protocol):
    """
    What a request needs of clocksvc's own HTTP/1.1 channel, beyond what
    Twisted's request needs of any channel.
    """

    def refuse(self, code: int) -> None:
        """
        Refuse the request on the connection.
        """

    def writeNow(self, data: bytes) -> bool:
        """
        Write C{data} at once, if the connection can take it.
        """

    def unsentBytes(self) -> int:
        """
        How many bytes written to the connection its client has not taken.
        """


@implementer(IEventChannel)
class ClockRequest(server.Request):
    """
    A request that keeps its body in memory within the limit, checks
    C{Host}, understands absolute-form targets, and names no version in its
    C{Server} header.

    @ivar connection: clocksvc's HTTP/1.1 channel it came on; L{None} over
        HTTP/2, where the connection is shared with other requests.
    @ivar startedAt: when it was taken up, by the site's timers (which
        time requests, and need not tell the time of day).
    """

    content: BytesIO
    # Twisted types a request's channel as its HTTPChannel; here it is
    # clocksvc's channel or Twisted's HTTP/2 stream, and both have the site.
    channel: Any
    connection: _Connection | None = None
    startedAt: float | None = None

    #: Whether the client used HTTPS, as a trusted proxy said; L{None} to
    #: go by the connection.
    _forwardedSecure: bool | None = None

    #: Over HTTP/2, where the connection is not the request's to refuse on,
    #: the status to answer once the request is complete, if it is refused.
    _refusal: int | None = None

    def __init__(self, channel: Any, *args: Any, **kwargs: Any) -> None:
        # Twisted's form parsing, off: see ClockSite.
        kwargs["parsePOSTFormSubmission"] = False
        super().__init__(channel, *args, **kwargs)
        self._gone = False
        self.notifyFinish().addErrback(self._lost)

    def _lost(self, reason: object) -> None:
        # The client went before the answer was complete.
        self._gone = True

    def gotLength(self, length: int | None) -> None:
        # A body over the limit is refused before it is read, so every body
        # fits in memory; Twisted would spool those over 100 kB to disk.
        self.content = BytesIO()

    def _refuse(self, code: int) -> None:
        """
        Refuse the request: over HTTP/1.1 on the connection at once; over
        HTTP/2, where other streams share the connection, by answering the
        request with C{code} once it is complete.
        """
        if self.connection is not None:
            self.connection.refuse(code)
        elif self._refusal is None:
            self._refusal = code

    def handleContentChunk(self, data: bytes) -> None:
        # A chunked body has no length up front: count as it comes.
        if self._refusal is not None:
            return
        if self.content.tell() + len(data) > self.channel.site.limits.maxBodySize:
            self._refuse(http.REQUEST_ENTITY_TOO_LARGE)
            return
        self.content.write(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        site = self.channel.site
        self.startedAt = site.timers.seconds()
        forwarding = site.forwarding
        if forwarding is not None:
            # Behind a trusted proxy, the client is whom it says; everything
            # that asks for the client's address or scheme asks this request.
            self.client, self._forwardedSecure = forwarding.resolve(
                self.client, self.requestHeaders.getRawHeaders
            )
        if not visibleTarget(path):
            # HTTP/1.1's grammar takes only visible targets; HTTP/2's lets
            # others through.
            self._refuse(http.BAD_REQUEST)
            path = b"/"
        super().requestReceived(command, originForm(path), version)

    def process(self) -> None:
        if self._refusal is None and not validHost(
            self.requestHeaders.getRawHeaders(b"host", []), self.clientproto
        ):
            self._refusal = http.BAD_REQUEST
        if self._refusal is not None:
            self._answerRefusal(self._refusal)
            return
        if self.path == b"*":
            # asterisk-form asks about the server, not a resource: OPTIONS
            # gets 200 and nothing else, any other method 405, as Twisted
            # answers them, with clocksvc's headers.
            self.site = self.channel.site
            self.setHeader(b"server", SERVER_HEADER)
            self.setHeader(b"date", httpDate(self.channel.site.wallClock.seconds()))
            if self.method != b"OPTIONS":
                self.setResponseCode(http.NOT_ALLOWED)
                self.setHeader(b"allow", b"OPTIONS")
            self.setHeader(b"content-length", b"0")
            self.finish()
            return
        super().process()

    def _answerRefusal(self, code: int) -> None:
        """
        Answer the way Site would answer anything, over HTTP/2, with C{code}.
        """
        self.site = self.channel.site
        self.setHeader(b"server", SERVER_HEADER)
        self.setResponseCode(code)
        self.setHeader(b"content-type", b"text/plain; charset=utf-8")
        body = b"%d %s\n" % (code, _REASONS[code])
        self.setHeader(b"content-length", b"%d" % len(body))
        if self.method != b"HEAD":
            self.write(body)
        self.finish()

    def isSecure(self) -> bool:
        """
        @return: whether the client used HTTPS: to a trusted proxy, as it
            says, or else on this connection.
        """
        if self._forwardedSecure is not None:
            return self._forwardedSecure
        return bool(super().isSecure())

    def write(self, data: bytes) -> None:
        if data and self.chunked:
            self.writeFramed(data, frameChunk(data))
        else:
            super().write(data)

    def unsentBytes(self) -> int:
        """
        @return: over HTTP/1.1, how many bytes its connection's client has
            not taken (L{ClockChannel.unsentBytes
            <clocksvc._http._channel.ClockChannel.unsentBytes>}); over
            HTTP/2, 0: the connection is shared, and a stream's flow control
            pauses it instead.
        """
        return 0 if self.connection is None else self.connection.unsentBytes()

    def writeFramed(self, data: bytes, framed: bytes) -> None:
        """
        Write C{data}, given also as one chunk of a chunked body.

        A chunk of a body under way, such as an event of /stream, which goes
        to thousands of clients at once, each as near the second boundary as
        can be, goes out in one piece and at once: Twisted would write its
        size line, data and CRLF to the transport's buffer, to be sent only
        once the whole round of events is written. Anything else is written
        as Twisted writes it.

        @param data: the data.
        @param framed: C{frameChunk(data)}, made once for many requests.
        """
        if (
            self.chunked
            and self.startedWriting
            and not self.finished
            and not self._gone
            and self.connection is not None
        ):
            self.sentLength += len(data)
            self.connection.writeNow(framed)
            return
        super().write(data)

    def render(self, resrc: IResource) -> None:
        self.setHeader(b"server", SERVER_HEADER)
        # Twisted dates the response by the system's clock; clocksvc's time,
        # the Date header included, comes from the site's clock.
        self.setHeader(b"date", httpDate(self.channel.site.wallClock.seconds()))
        super().render(resrc)
