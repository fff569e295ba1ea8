# -*- test-case-name: tests.test_server,tests.test_hardening -*-
"""
clocksvc's HTTP/1.1 server: Twisted Web's, with what a public endpoint needs
and Twisted leaves to the application.

Twisted's parser is strict where it matters most, but it never checks
C{Host}, spools large bodies to disk, lets a client trickle its headers
forever (its timeout is an idle timer that every byte resets), has no
connection cap, keeps answering pipelined requests for a client that never
reads, and on shutdown drops requests in flight. L{ClockSite},
L{ClockChannel} and L{ClockRequest} close those gaps, within L{Limits}.
"""

from __future__ import annotations

import fcntl
import re
import socket
import sys
import termios
from collections.abc import Callable
from io import BytesIO
from typing import Any, cast

from twisted.internet import tcp
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IReactorTime,
    ITCPTransport,
)
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure
from twisted.web import http, server
from twisted.web.resource import IResource

from ._fastpath import VALID_HOST, QuickHead, httpDate, parseQuickHead
from ._grammar import ChunkedDecoder, connectionOptions, contentLength
from ._limits import Limits
from ._logging import accessLog
from ._metrics import SiteMetrics

__all__ = [
    "SERVER_HEADER",
    "ClockChannel",
    "ClockRequest",
    "ClockSite",
    "frameChunk",
    "rawResponse",
]

#: The Server header: the product, without a version to look up exploits for.
SERVER_HEADER = b"clocksvc"

# Read once: twisted.web.http is wrapped in a deprecation proxy that makes
# every attribute lookup on it a Python call.
_OK = http.OK

#: RFC 6585's status, which Twisted 26.10 does not name.
REQUEST_HEADER_FIELDS_TOO_LARGE = 431
_REASONS = {
    **http.RESPONSES,
    REQUEST_HEADER_FIELDS_TOO_LARGE: b"Request Header Fields Too Large",
}

# Bytes that are not visible ASCII, which no request target holds.
_NOT_VISIBLE = re.compile(rb"[^\x21-\x7e]")
# An absolute-form request target (RFC 9112 section 3.2.2).
_ABSOLUTE_FORM = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*(?P<rest>[/?].*)?")


def _head(pending: bytes, started: bool) -> bytes:
    """
    @param pending: bytes the line parser has yet to take, which start at
        the start of a line.
    @param started: whether lines of this request's head came before them.
    @return: those that belong to the request head: up to its empty line.
    """
    if not started:
        # One empty line before a request is tolerated, as Twisted does
        # (some clients send one after a POST body); the head follows it.
        pending = pending.removeprefix(b"\r\n")
    if pending.startswith(b"\r\n"):
        return b""
    end = pending.find(b"\r\n\r\n")
    return pending if end < 0 else pending[:end]


def _bareLF(data: bytes) -> bool:
    """
    @return: whether C{data} holds an LF that no CR comes before.
    """
    return data.count(b"\n") != data.count(b"\r\n")


def frameChunk(data: bytes) -> bytes:
    """
    @return: C{data} as one chunk of a chunked body (RFC 9112 section 7.1).
    """
    return b"%x\r\n%s\r\n" % (len(data), data)


def rawResponse(code: int) -> bytes:
    """
    @return: a complete response with status C{code}, a one-line body, and
        C{Connection: close}: for answering on the connection itself, when
        there is no request to answer through.
    """
    reason = _REASONS[code]
    body = b"%d %s\n" % (code, reason)
    return (
        b"HTTP/1.1 %d %s\r\nServer: %s\r\nContent-Type: text/plain; charset=utf-8"
        b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
        % (code, reason, SERVER_HEADER, len(body), body)
    )


class ClockRequest(server.Request):
    """
    A request that checks C{Host}, keeps its body in memory within the
    limit, understands absolute-form targets, and names no version in its
    C{Server} header.
    """

    channel: ClockChannel
    content: BytesIO

    def gotLength(self, length: int | None) -> None:
        # A body over the limit is refused before it is read, so every body
        # fits in memory; Twisted would spool those over 100 kB to disk.
        self.content = BytesIO()

    #: Over HTTP/2, where the connection is not ours to refuse on, the
    #: status to answer once the request is complete, if it is refused.
    _refusal: int | None = None

    def _refuse(self, code: int) -> None:
        """
        Refuse the request: over HTTP/1.1 on the connection at once; over
        HTTP/2, where other streams share the connection, by answering the
        request with C{code} once it is complete.
        """
        if isinstance(self.channel, ClockChannel):
            self.channel.refuse(code)
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

    #: When the request was taken up, by the site's clock: for its latency.
    startedAt: float | None = None

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        self.startedAt = self.channel.site.reactor.seconds()
        if _NOT_VISIBLE.search(path):
            # RFC 9112 section 3.2: a target is visible ASCII. Twisted lets
            # DEL and bytes up to 0xB0 through.
            self._refuse(http.BAD_REQUEST)
            if self._refusal is None:
                return
            path = b"/"
        # In absolute-form, http://host/path?query, only /path?query names
        # the resource; Twisted would take the scheme for a path segment.
        absolute = _ABSOLUTE_FORM.fullmatch(path)
        if absolute is not None:
            path = absolute.group("rest") or b"/"
            if path.startswith(b"?"):
                path = b"/" + path
        super().requestReceived(command, path, version)

    def process(self) -> None:
        if self._refusal is None and self._badHost():
            self._refusal = http.BAD_REQUEST
        if self._refusal is None:
            super().process()
            return
        # Answer the way Site would answer anything; over HTTP/1.1, close.
        self.site = self.channel.site
        self.setHeader(b"server", SERVER_HEADER)
        if isinstance(self.channel, ClockChannel):
            self.setHeader(b"connection", b"close")
            self.channel.persistent = False
        self.setResponseCode(self._refusal)
        self.setHeader(b"content-type", b"text/plain; charset=utf-8")
        body = b"%d %s\n" % (self._refusal, _REASONS[self._refusal])
        self.setHeader(b"content-length", b"%d" % len(body))
        if self.method != b"HEAD":
            self.write(body)
        self.finish()

    def _badHost(self) -> bool:
        """
        @return: whether C{Host} is missing (in HTTP/1.1), repeated, or not a
            host name; RFC 9112 section 3.2 asks for 400 for all three.
        """
        hosts = self.requestHeaders.getRawHeaders(b"host", [])
        if len(hosts) > 1 or (self.clientproto == b"HTTP/1.1" and not hosts):
            return True
        return any(VALID_HOST.fullmatch(host) is None for host in hosts)

    def write(self, data: bytes) -> None:
        if data and self.chunked:
            self.writeFramed(data, frameChunk(data))
        else:
            super().write(data)

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
            and not self._disconnected
            and self._encoder is None
            and isinstance(self.channel, ClockChannel)
        ):
            self.sentLength += len(data)
            self.channel.writeNow(framed)
            return
        super().write(data)

    def render(self, resrc: IResource) -> None:
        self.setHeader(b"server", SERVER_HEADER)
        # Twisted dates the response by the system's clock; clocksvc's time,
        # the Date header included, comes from the site's clock.
        self.setHeader(b"date", httpDate(self.channel.site.reactor.seconds()))
        super().render(resrc)

    def _handleStar(self) -> None:
        # OPTIONS * is answered by Twisted without rendering anything.
        self.setHeader(b"server", SERVER_HEADER)
        super()._handleStar()


class ClockChannel(http.HTTPChannel):
    """
    Twisted's HTTP/1.1 channel within clocksvc's L{Limits}:

      - the whole request (head and body) must arrive within
        C{headerTimeout} of its first byte, or of connecting: 408;
      - request lines over C{maxRequestLine}: 414; header sections over
        C{maxHeaderSize} or C{maxHeaders}: 431;
      - bodies over C{maxBodySize}: 413, unread; transfer codings other than
        chunked (Twisted ignores C{identity}, leaving its body to be read as
        the next request): 501;
      - a client that stops reading its responses gets no more of its
        pipelined requests answered until it reads again;
      - while the site drains, the connection closes after its request.

    Each refusal is a complete response with C{Connection: close}, after
    which the connection is closed, and aborted if the client will not let
    the response out.
    """

    site: ClockSite
    limits: Limits
    _deadline: IDelayedCall | None = None
    _abort: IDelayedCall | None = None
    _refused = False
    _draining = False
    _receiving = False
    _headLines = 0

    def connectionMade(self) -> None:
        self.limits = self.site.limits
        # LineReceiver's limit on any line; longer header lines get 431.
        self.MAX_LENGTH = self.limits.maxRequestLine
        self.totalHeadersSize = self.limits.maxHeaderSize
        self.maxHeaders = self.limits.maxHeaders
        super().connectionMade()
        self._fixSendBuffer()
        self.site.channelOpened(self)
        self._startDeadline()

    def _fixSendBuffer(self) -> None:
        sock = self.socket()
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_SNDBUF, self.limits.socketSendBuffer
            )

    def socket(self) -> socket.socket | None:
        """
        @return: the connection's socket, under any TLS: a TCP or UNIX
            transport's handle is its socket; TLS's is an OpenSSL connection
            over memory buffers, and the socket is that of the transport it
            wraps.
        """
        transport: object = self.transport
        for _ in range(3):
            handle = getattr(transport, "getHandle", lambda: None)()
            if isinstance(handle, socket.socket):
                return handle
            transport = getattr(transport, "transport", None)
        return None

    def unsentBytes(self) -> int:
        """
        @return: how many bytes written to the connection its client has not
            yet taken into its own buffers: those in the kernel's send queue,
            not yet acknowledged (Linux's C{SIOCOUTQ}); 0 where that cannot be
            told. A client that reads keeps this at zero between writes,
            however slowly data is written; one that has stopped reading
            keeps it above zero once its receive buffer is full, and
            whatever Twisted holds for it waits behind those bytes.
        """
        sock = self.socket()
        if sock is None or sock.fileno() < 0:
            return 0
        out = bytearray(4)
        try:
            fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, out)
        except OSError:  # pragma: no cover (a socket that has no queue)
            return 0
        return int.from_bytes(out, sys.byteorder)

    def _startDeadline(self) -> None:
        self._deadline = self.callLater(
            self.limits.headerTimeout, self._deadlineReached
        )

    def _cancelDeadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _deadlineReached(self) -> None:
        self._deadline = None
        self.refuse(http.REQUEST_TIMEOUT)

    def refuse(self, code: int) -> None:
        """
        Answer C{code} on the connection and close it: the request cannot be
        taken.
        """
        if self._refused:
            return
        self._refused = True
        self.site.refused(code)
        self._cancelDeadline()
        self.setTimeout(None)
        transport = self._tcp()
        transport.write(rawResponse(code))
        self.loseConnection()
        # A client that does not read keeps the connection from closing:
        # give the response as long as Twisted gives a timed-out one.
        self._abort = self.callLater(self.abortTimeout, transport.abortConnection)

    def _tcp(self) -> ITCPTransport:
        # Connected whenever this is called; every stream transport Twisted
        # gives a server (TCP, TLS, UNIX) can abortConnection.
        return cast(ITCPTransport, self.transport)

    def _canAnswerQuickly(self) -> bool:
        """
        @return: whether the channel is between requests, with nothing of the
            next one parsed and nothing that would change how it is answered.
        """
        return (
            bool(self.line_mode)
            and not self._busyReceiving
            and not self._handlingRequest
            and self._headLines == 0
            and not self.requests
            and not self.paused
            and not self._draining
            and bool(self.persistent)
        )

    def _answerQuickly(
        self,
        answer: Callable[[QuickHead, IAddress], tuple[bytes, int] | None],
        pending: bytes,
    ) -> bytes:
        """
        Answer the requests at the start of C{pending} that the fast path can.

        @param answer: the site's fast path.
        @param pending: the bytes received and not yet parsed.
        @return: the bytes that remain, for the general path.
        """
        answered = False
        clock = self.site.reactor
        while not self.paused:
            end = pending.find(b"\r\n\r\n")
            if end < 0:
                break
            head = parseQuickHead(pending[:end], self.limits)
            if head is None:
                break
            started = clock.seconds()
            response = answer(head, self._tcp().getPeer())
            if response is None:
                break
            sentAll = self.writeNow(response[0])
            self.site.answeredQuickly(self, head, response[1], started)
            pending = pending[end + 4 :]
            answered = True
            if not sentAll:
                # The client is not reading as fast as it asks (or the
                # transport buffers everything): the general path, which
                # holds back pipelined requests for a client that does not
                # read, takes the rest.
                break
        if answered:
            # As after any complete request: the next one starts its own
            # deadline with its first byte.
            self._cancelDeadline()
            self._receiving = False
        return pending

    def writeNow(self, data: bytes) -> bool:
        """
        Write C{data} to the connection, sending it at once when nothing is
        waiting to be sent before it.

        Twisted's TCP transport only buffers a write and sends it when the
        reactor next finds the socket writable: one more trip round the
        reactor, and two more epoll calls, for every response. A response of
        a few hundred bytes to a client that reads fits the socket's buffer,
        so the fast path sends it right away; whatever the socket does not
        take (or any error, which the reactor then finds and handles as
        usual) goes to the transport as before, behind nothing. Other
        transports (TLS, UNIX sockets) are written to as Twisted writes.

        @return: whether all of it was sent at once; if not, the rest is in
            the transport's buffer.
        """
        transport = self.transport
        if (
            type(transport) is tcp.Server
            and not transport.TLS
            and transport.connected
            and not transport.disconnecting
            # FileDescriptor's buffers, which must go out first.
            and not transport.dataBuffer
            and not transport._tempDataBuffer
        ):
            try:
                sent = transport.socket.send(data)
            except OSError:
                sent = 0
            if sent == len(data):
                return True
            data = data[sent:]
        self._tcp().write(data)
        return False

    def dataReceived(self, data: bytes) -> None:
        if self._refused:
            return
        answer = self.site.quickAnswer
        if answer is not None and self._canAnswerQuickly():
            data = self._answerQuickly(answer, self._buffer + data)
            self._buffer = b""
            if not data:
                self.resetTimeout()
                return
        if not self._handlingRequest:
            if self._deadline is None:
                # The first byte of a new request starts its clock.
                self._startDeadline()
            self._receiving = self._receiving or bool(data)
        if (
            self.line_mode
            and b"\n" in data
            and _bareLF(_head(self._buffer + data, self._headLines > 0))
        ):
            # RFC 9112 section 2.2 lets a server reject a bare LF line end;
            # Twisted would wait for a CRLF that never comes.
            self.refuse(http.BAD_REQUEST)
            return
        super().dataReceived(data)

    def lineReceived(self, line: bytes) -> None:
        if self._refused:
            return
        if self._receivedHeaderSize + len(line) > self.totalHeadersSize:
            self.refuse(REQUEST_HEADER_FIELDS_TOO_LARGE)
            return
        self._headLines += 1
        super().lineReceived(line)

    def lineLengthExceeded(self, line: bytes) -> None:
        if self._headLines == 0:
            self.refuse(http.REQUEST_URI_TOO_LONG)
        else:
            self.refuse(REQUEST_HEADER_FIELDS_TOO_LARGE)

    def rawDataReceived(self, data: bytes) -> None:
        if not self._refused:
            super().rawDataReceived(data)

    def headerReceived(self, line: bytes) -> bool:
        if self._receivedHeaderCount >= self.maxHeaders:
            self.refuse(REQUEST_HEADER_FIELDS_TOO_LARGE)
            return False
        # No CR or LF in a field (RFC 9110 section 5.5): Twisted 26.10 refuses
        # them in a value, but 26.4, the newest for Python 3.9 (PyPy), only
        # NUL.
        if b"\r" in line or b"\n" in line:
            self.refuse(http.BAD_REQUEST)
            return False
        ok: bool = super().headerReceived(line)
        return ok

    def _maybeChooseTransferDecoder(self, header: bytes, data: bytes) -> bool:
        # Twisted's hook for the headers that frame the body.
        if header == b"Transfer-Encoding" and data.lower() != b"chunked":
            self.refuse(http.NOT_IMPLEMENTED)
            self.length = None
            return False
        if header == b"Content-Length":
            length = contentLength(data, self.limits.maxBodySize)
            if length is not None and length > self.limits.maxBodySize:
                self.refuse(http.REQUEST_ENTITY_TOO_LARGE)
                self.length = None
                return False
            if length is not None:
                # Twisted would convert the digits as they came, and Python
                # refuses a number of thousands of them with an exception.
                data = b"%d" % length
        chosen: bool = super()._maybeChooseTransferDecoder(header, data)
        if chosen and header == b"Transfer-Encoding":
            # clocksvc's own reader of chunked bodies, in place of Twisted's,
            # which takes a bare LF in the trailer section for part of a
            # field, reads trailers up to 64 KiB, and waits for all of a
            # chunk it would then refuse as too large.
            self._transferDecoder = ChunkedDecoder(
                self.requests[-1].handleContentChunk,
                self._finishRequestBody,
                self.refuse,
                self.limits.maxBodySize,
                self.limits.maxHeaderSize,
                self.limits.maxHeaders,
            )
        return chosen

    def _respondToBadRequestAndDisconnect(self) -> None:
        # Twisted's answer to what it cannot parse is a bare status line.
        self.refuse(http.BAD_REQUEST)

    def allHeadersReceived(self) -> None:
        self._headLines = 0
        super().allHeadersReceived()

    def allContentReceived(self) -> None:
        if self._refused:
            # Twisted's chunked decoder finishes the read it was in, even
            # after a chunk crossed the body limit: the refused request must
            # not reach the application.
            return
        self._cancelDeadline()
        self._receiving = False
        super().allContentReceived()

    def checkPersistence(self, request: Any, version: bytes) -> bool:
        # Twisted reads only the first Connection line, split at spaces: it
        # misses "close, TE", "keep-alive,close" and a second line.
        options = connectionOptions(
            request.requestHeaders.getRawHeaders(b"connection", [])
        )
        if self._draining or (version == b"HTTP/1.1" and b"close" in options):
            request.responseHeaders.setRawHeaders(b"connection", [b"close"])
            return False
        persistent: bool = super().checkPersistence(request, version)
        return persistent

    def pauseProducing(self) -> None:
        # The transport's send buffer is full: the client is not reading.
        # Stop parsing its pipelined requests too, so that what is queued for
        # it stays within one buffer.
        super().pauseProducing()
        self.paused = True

    def resumeProducing(self) -> None:
        super().resumeProducing()
        if self.paused and not self._refused:
            self.paused = False
            # Parse what was held back.
            self.dataReceived(b"")

    #: Set when ALPN chose HTTP/2, and Twisted's HTTP/2 connection took over
    #: the connection: this channel then only stands for it in the count.
    _replaced = False

    def replacedByHTTP2(self) -> None:
        """
        Twisted's HTTP/2 connection took the connection over: the request
        deadline is this channel's, and must not fire into HTTP/2.
        """
        self._replaced = True
        self._cancelDeadline()

    def drain(self) -> None:
        """
        Close the connection as soon as no request is under way on it: now if
        it is idle, else once its response is complete.
        """
        self._draining = True
        self.persistent = False
        if self._replaced:
            # HTTP/2 streams end with the connection; event streams have had
            # their last event already.
            self._tcp().loseConnection()
        elif not self._handlingRequest and not self._receiving:
            self.loseConnection()

    def requestDone(self, request: http.Request) -> None:
        if self._draining:
            self.persistent = False
        super().requestDone(request)
        # A request answered at once leaves the rest of its read to the line
        # parser directly, past dataReceived's check for bare LFs.
        if (
            self.line_mode
            and not self._refused
            and b"\n" in self._buffer
            and _bareLF(_head(self._buffer, False))
        ):
            self.refuse(http.BAD_REQUEST)

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        self._cancelDeadline()
        if self._abort is not None and self._abort.active():
            self._abort.cancel()
        super().connectionLost(reason)
        self.site.channelClosed(self)


class _Overloaded(Protocol):
    """
    What a connection beyond the cap gets: 503 and a close.
    """

    def __init__(self, site: ClockSite) -> None:
        self._site = site

    def connectionMade(self) -> None:
        self._site.refused(http.SERVICE_UNAVAILABLE)
        transport = cast(ITCPTransport, self.transport)
        transport.write(rawResponse(http.SERVICE_UNAVAILABLE))
        transport.loseConnection()


class _ClockHTTPProtocol(http._GenericHTTPChannelProtocol):
    """
    Twisted's protocol that switches a TLS connection to HTTP/2 when ALPN
    chooses it (the base class is private to Twisted), keeping the site's
    count of the connection right across the switch: Twisted drops the
    HTTP/1.1 channel without a word.
    """

    def __init__(self, channel: ClockChannel) -> None:
        super().__init__(channel)
        self._http1 = channel

    def dataReceived(self, data: bytes) -> None:
        # Typed loosely: Twisted annotates _channel as the HTTP/2 connection.
        before: object = self._channel
        super().dataReceived(data)
        now: object = self._channel
        if before is self._http1 and now is not before:
            self._http1.replacedByHTTP2()

    def connectionLost(self, reason: Failure) -> None:
        super().connectionLost(reason)
        now: object = self._channel
        if now is not self._http1:
            self._http1.site.channelClosed(self._http1)


def _clockChannelFactory(site: ClockSite) -> Any:
    # Twisted's own factory, with ClockChannel for HTTPChannel.
    return _ClockHTTPProtocol(ClockChannel())


class ClockSite(server.Site):
    """
    A L{Site} of L{ClockChannel}s and L{ClockRequest}s, that caps its
    connections and can drain them for a graceful shutdown.

    @ivar limits: the limits its channels keep.
    """

    protocol = _clockChannelFactory
    requestFactory = ClockRequest

    #: Whether a drain has begun; it never ends but with the process.
    draining = False

    def __init__(
        self,
        resource: IResource,
        clock: IReactorTime,
        limits: Limits,
        metrics: SiteMetrics | None = None,
        accessLog: bool = False,
    ) -> None:
        """
        @param resource: the root resource.
        @param clock: what the timeouts run on.
        @param limits: the limits.
        @param metrics: where requests are counted, if anywhere.
        @param accessLog: whether each answered request is logged.
        """
        # No form parsing: nothing in clocksvc reads form arguments, and
        # Twisted's parser (the email package's) takes quadratic time and
        # raises on some bodies, for any POST with a form's content type.
        super().__init__(
            resource,
            reactor=clock,
            timeout=limits.idleTimeout,
            parsePOSTFormSubmission=False,
        )
        self.limits = limits
        self.metrics = metrics
        self.accessLog = accessLog
        self._channels: set[ClockChannel] = set()
        self._drained: Deferred[None] | None = None
        self._onDrain: list[Callable[[], None]] = []
        if metrics is not None:
            metrics.connections.set_function(lambda: len(self._channels))

    #: The fast path (L{clocksvc._fastpath}): the complete response to a
    #: request it can answer, and the length of its body; or L{None} to leave
    #: the request to the resource tree. Set by L{clocksvc.buildSite}, which
    #: knows what its tree answers.
    quickAnswer: Callable[[QuickHead, IAddress], tuple[bytes, int] | None] | None = None

    def log(self, request: Any) -> None:
        """
        Count and log a finished request, in place of Twisted's access log,
        which formats a line for every request whether anyone reads it or
        not.
        """
        logged = self.accessLog
        self._answered(
            request.getClientAddress() if logged else None,
            request.method,
            request.uri,
            request.code,
            request.sentLength,
            request.getHeader(b"user-agent") if logged else None,
            getattr(request, "startedAt", None),
        )

    def answeredQuickly(
        self, channel: ClockChannel, head: QuickHead, bodyLength: int, started: float
    ) -> None:
        """
        Count and log a request the fast path answered, as L{log} does one
        the resource tree answered.
        """
        self._answered(
            channel._tcp().getPeer() if self.accessLog else None,
            head.method,
            head.target,
            _OK,
            bodyLength,
            head.userAgent,
            started,
        )

    def _answered(
        self,
        client: IAddress | None,
        method: bytes,
        target: bytes,
        status: int,
        bodyLength: int,
        userAgent: bytes | None,
        started: float | None,
    ) -> None:
        now = self.reactor.seconds()
        seconds = 0.0 if started is None else now - started
        if self.metrics is not None:
            self.metrics.requestDone(target, status, seconds)
        if self.accessLog:
            accessLog.info(
                "{method} {path} {status}",
                when=now,
                client=getattr(client, "host", ""),
                method=method.decode("latin-1"),
                path=target.decode("latin-1"),
                status=status,
                bytes=bodyLength,
                duration_ms=round(seconds * 1000, 3),
                user_agent=(userAgent or b"").decode("latin-1"),
            )

    def refused(self, code: int) -> None:
        """
        Count a request refused on the connection, before any endpoint.
        """
        if self.metrics is not None:
            self.metrics.refused.labels(str(code)).inc()

    @property
    def openConnections(self) -> int:
        """
        The number of connections open now.
        """
        return len(self._channels)

    def buildProtocol(self, addr: IAddress | None) -> Any:
        if len(self._channels) >= self.limits.maxConnections or self.draining:
            return _Overloaded(self)
        return super().buildProtocol(addr)

    def channelOpened(self, channel: ClockChannel) -> None:
        """
        Count C{channel} as open.
        """
        self._channels.add(channel)

    def channelClosed(self, channel: ClockChannel) -> None:
        """
        Count C{channel} as closed; the last one to close ends a drain.
        """
        self._channels.discard(channel)
        if self._drained is not None and not self._channels:
            drained, self._drained = self._drained, None
            drained.callback(None)

    def whenDraining(self, callback: Callable[[], None]) -> None:
        """
        Call C{callback} when a drain begins: for resources with responses
        that never end, such as event streams, to end them.
        """
        self._onDrain.append(callback)

    def drain(self) -> Deferred[None]:
        """
        Stop taking requests: idle connections close now, the others once
        their request is answered, and never-ending responses are ended.

        @return: fires once every connection is closed.
        """
        self.draining = True
        if not self._channels:
            return succeed(None)
        drained: Deferred[None] = Deferred()
        self._drained = drained
        for callback in self._onDrain:
            callback()
        for channel in list(self._channels):
            channel.drain()
        return drained

    def abortAll(self) -> None:
        """
        Drop every connection at once: the drain took too long.
        """
        for channel in list(self._channels):
            channel._tcp().abortConnection()
