# -*- test-case-name: tests.test_server,tests.test_hardening,tests.test_fastpath -*-
"""
clocksvc's HTTP/1.1 connection: it reads requests with L{_grammar}, keeps
them within the site's L{Limits}, and carries each one to a Twisted Web
L{Request<twisted.web.server.Request>} and back, or, for the plain requests
the site can answer from a head alone, answers at once.

It stands where Twisted's C{HTTPChannel} would, and offers a request what
that offers one (C{writeHeaders}, C{write}, C{requestDone}, producers and
addresses), so that resources, and Twisted's C{Request}, see no difference.
Twisted's channel never checks C{Host}, spools large bodies to disk, lets a
client trickle its head forever (its timeout is an idle timer that every
byte resets), reads a bare LF in a chunked trailer as part of a field, and
on shutdown drops requests in flight; and its parser is spread over
overridable private methods. This one is small enough to read whole.
"""

from __future__ import annotations

import fcntl
import socket
import sys
import termios
from collections.abc import Callable
from typing import Any, NamedTuple, cast
from typing import Protocol as Shape

from twisted.internet import tcp
from twisted.internet.interfaces import (
    IAddress,
    IConsumer,
    IDelayedCall,
    IPushProducer,
    ISSLTransport,
    ITCPTransport,
    ITransport,
)
from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure
from twisted.web.http import H2_ENABLED, REQUEST_TIMEOUT
from twisted.web.http_headers import Headers
from zope.interface import implementer

from ._forwarded import Forwarding
from ._grammar import (
    ChunkedDecoder,
    LengthDecoder,
    QuickHead,
    Refusal,
    RequestHead,
    parseHead,
    quickHead,
    rawResponse,
    splitHead,
)
from ._limits import Limits
from ._request import ClockRequest

__all__ = ["ClockChannel", "QuickResponse"]


class QuickResponse(NamedTuple):
    """
    A site's quick answer to a plain request (L{QuickHead}): the complete
    response, written as it is.

    @ivar data: the response: its head, and its body unless the request was
        a C{HEAD}.
    @ivar bodyLength: the length of the body it sends (none, to a
        C{HEAD}), for the site's reporters.
    @ivar status: its status code, for the site's reporters.
    """

    data: bytes
    bodyLength: int
    status: int = 200


class _Site(Shape):
    """
    What a channel needs of its site (L{ClockSite<clocksvc._http._site.ClockSite>}).
    """

    limits: Limits
    timers: Any
    requestFactory: Any
    quickAnswer: Callable[[QuickHead, IAddress], QuickResponse | None] | None
    forwarding: Forwarding | None

    def channelOpened(self, channel: ClockChannel) -> None: ...

    def channelClosed(self, channel: ClockChannel) -> None: ...

    def refused(self, status: int) -> None: ...

    def answeredQuickly(
        self,
        channel: ClockChannel,
        head: QuickHead,
        response: QuickResponse,
        started: float,
        client: IAddress,
        secure: bool | None,
    ) -> None: ...


def _fieldValues(
    fields: list[tuple[bytes, bytes]],
) -> Callable[[bytes], list[bytes] | None]:
    """
    @return: looks up the values of a head's field by its lower-case name,
        as C{Headers.getRawHeaders} does a request's.
    """

    def values(name: bytes) -> list[bytes] | None:
        found = [value for field, value in fields if field.lower() == name]
        return found or None

    return values


#: How long a refused connection, or one timed out, has to take its last
#: response before it is aborted: as long as Twisted gives one.
ABORT_TIMEOUT = 15

#: How long past its deadline a request that sits unread in the socket is
#: given: the reactor reads before it runs a timer due later than now.
_GRACE = 0.001


@implementer(IPushProducer)
class ClockChannel(Protocol):
    """
    One HTTP/1.1 connection, within the site's L{Limits}:

      - the whole request (head and body) must arrive within
        C{headerTimeout} of its first byte, or of connecting: 408;
      - a connection idle for C{idleTimeout} between requests is closed;
      - request lines over C{maxRequestLine}: 414; field lines over it, and
        heads over C{maxHeaderSize} or C{maxHeaders}: 431;
      - bodies over C{maxBodySize}: 413, unread; transfer codings other than
        chunked: 501;
      - requests are answered one at a time, in order; a client that stops
        reading its responses gets no more of its pipelined requests read
        until it reads again;
      - of a client's pipelined requests, at most C{answersPerTurn} are
        taken up in one turn of the reactor, and none once C{secondsPerTurn}
        have gone in it: the rest wait for the connection's next turn, and
        other connections are served meanwhile;
      - while it cannot go on with them (an answer is under way, its client
        is not reading, or it waits for its turn), the connection holds at
        most C{readAhead} bytes of a client's requests unread, and then
        stops reading from the client until it can.
      - while the site drains, the connection closes after its request.

    Each refusal is a complete response with C{Connection: close}, after
    which the connection is closed, and aborted if the client will not let
    the response out. Over TLS, when ALPN chose HTTP/2, the connection is
    handed to Twisted's HTTP/2 implementation instead.

    @ivar persistent: whether the connection may carry another request.
    """

    site: _Site
    persistent = True
    _refused = False
    _lost = False
    _graced = False
    _negotiated = False
    _closing = False
    _draining = False
    _writePaused = False
    _readPaused = False
    _parsing = False
    _h2: Any = None
    #: The connection's next turn at its pipelined requests, when it has
    #: had one and has more to answer.
    _later: IDelayedCall | None = None
    #: How many requests the connection has taken up: answered quickly, or
    #: handed to the site; for the turns, which count them.
    _answered = 0
    _deadline: IDelayedCall | None = None
    _idle: IDelayedCall | None = None
    _abort: IDelayedCall | None = None
    _secure: bool | None = None

    def __init__(self, site: _Site) -> None:
        self.site = site
        #: What a request calls C{factory}: it logs itself to it.
        self.factory = site
        self.limits = site.limits
        self._timers = site.timers
        #: The bytes received and not yet read: those of C{_buffer} from
        #: C{_offset} on, then the chunks of C{_more}, joined only when a
        #: head or a body needs them in one piece; C{_buffered} of them.
        #: Cutting each request off the front of one string, or adding each
        #: read to its end, would copy what is buffered once a request, or
        #: once a read: quadratic in the length of a pipeline.
        self._buffer = b""
        self._offset = 0
        self._more: list[bytes] = []
        self._buffered = 0
        #: Whether bytes of the next request have come.
        self._started = False
        #: The request whose body is being read, and its reader.
        self._receiving: ClockRequest | None = None
        self._body: ChunkedDecoder | LengthDecoder | None = None
        #: The request being answered.
        self._answering: ClockRequest | None = None
        self._producer: IPushProducer | None = None

    # Connection events.

    def connectionMade(self) -> None:
        transport = self._tcp()
        if ITCPTransport.providedBy(transport):
            transport.setTcpNoDelay(True)
        self._fixSendBuffer()
        # The transport pauses this when its send buffer fills: the client
        # is not reading.
        cast(IConsumer, transport).registerProducer(self, True)
        self.site.channelOpened(self)
        self._startDeadline()

    def dataReceived(self, data: bytes) -> None:
        if self._h2 is not None:
            self._h2.dataReceived(data)
            return
        if self._refused or self._closing:
            # Whatever a client sends after its last request is dropped.
            return
        if not self._negotiated:
            # The first bytes tell whether ALPN chose HTTP/2 for this
            # connection, once.
            self._negotiated = True
            if self._negotiatedHTTP2():
                self._switchToHTTP2(data)
                return
        # Kept until read (see __init__).
        if self._buffered:
            self._more.append(data)
        else:
            self._buffer, self._offset = data, 0
        self._buffered += len(data)
        self._read()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._lost = True
        for call in (self._deadline, self._idle, self._abort, self._later):
            if call is not None and call.active():
                call.cancel()
        if self._h2 is not None:
            self._h2.connectionLost(reason)
        for request in (self._receiving, self._answering):
            if request is not None:
                request.connectionLost(reason)
        self._receiving = self._answering = None
        self.site.channelClosed(self)

    # Reading requests.

    def _read(self) -> None:
        """
        Read and answer the requests in the buffer, one after another, until
        one is being answered, the buffer runs out, the client stops
        reading, or the connection has had its turn; then read from the
        client only as far as L{_holdBack} lets it.
        """
        if self._parsing:
            # A request finished while being dispatched: the loop in
            # _readSome goes on with the next.
            return
        if self._later is None:
            # (Else the next turn goes on with the requests.)
            self._parsing = True
            try:
                self._readSome()
            finally:
                self._parsing = False
        if self._readPaused or self._buffered > self.limits.readAhead:
            # (Not after most reads: nothing is held back, nor to be.)
            self._holdBack()

    def _readSome(self) -> None:
        """
        Read and answer what L{_read} says, for one turn at most.
        """
        limits = self.limits
        first = self._answered
        began: float | None = None
        while (
            self._buffered
            and not self._refused
            and not self._closing
            and not self._lost
            and self._answering is None
            and not self._writePaused
            and self.transport is not None
        ):
            if began is None:
                began = self._timers.seconds()
            elif (taken := self._answered - first) and (
                taken >= limits.answersPerTurn
                or self._timers.seconds() - began >= limits.secondsPerTurn
            ):
                # Answers written at once never give the reactor back: with
                # a pipeline of them, one client would hold every other
                # connection up until the last was answered. The rest wait
                # for the reactor's next turn, after the other connections'.
                self._later = self._timers.callLater(0, self._nextTurn)
                return
            # Each pass takes up one request at most: its head, and if it has
            # no body, the request; or the rest of its body, and the request.
            if self._body is not None:
                self._body.dataReceived(self._takeAll())
            elif not self._readHead():
                return

    def _nextTurn(self) -> None:
        """
        The connection's turn has come round again: go on with its requests.
        """
        self._later = None
        self._read()

    def _holdBack(self) -> None:
        """
        Stop reading from the client once more than C{readAhead} bytes of
        its requests are buffered that the connection cannot go on with now:
        an answer is under way, the client is not reading its answers, or
        the connection waits for its next turn. Read again once it can, or
        once less is buffered. (Bytes of a request whose head or body has
        not all come are always read: the request is waiting for them.)
        """
        if self._refused or self._closing or self._lost:
            return
        waiting = (
            self._answering is not None or self._writePaused or self._later is not None
        )
        hold = waiting and self._buffered > self.limits.readAhead
        if hold != self._readPaused:
            self._readPaused = hold
            transport = cast(IPushProducer, self.transport)
            if hold:
                transport.pauseProducing()
            else:
                transport.resumeProducing()

    def _readHead(self) -> bool:
        """
        Read the head of the next request, if it has all come, and start on
        the request.

        @return: whether it had.
        """
        try:
            unread = self._nextHead()
            found = splitHead(unread, self.limits, self._started)
            if found is None:
                if not self._started and unread.startswith(b"\r\n"):
                    # The empty line RFC 9112 lets come before a request,
                    # which splitHead skips only until a byte of the request
                    # has come: skipped now, for the rest may come in later
                    # reads.
                    self._consume(2)
                if unread != b"\r":
                    # (A CR alone may be the start of that empty line.)
                    self._started = True
                # A request is under way: its deadline, from its first byte,
                # rules now, not the idle timeout. (A head that came whole
                # needs no timer.)
                if self._deadline is None:
                    self._startDeadline()
                self._cancelIdle()
                return False
            head, consumed = found
            self._consume(consumed)
            self._started = False
            parsed = parseHead(head, self.limits, self._draining)
        except Refusal as refusal:
            self.refuse(refusal.status, refusal.bodyless)
            return False
        if self.site.quickAnswer is not None and self._answerQuickly(parsed):
            return True
        self._startRequest(parsed)
        return True

    def _answerQuickly(self, head: RequestHead) -> bool:
        """
        Answer C{head} from the site's quick answers, if they have one.

        @return: whether it was answered.
        """
        quick = quickHead(head)
        answer = self.site.quickAnswer
        if quick is None or answer is None:
            return False
        length = head.length or 0
        if length:
            if self._buffered < length:
                # The body is still on its way: the general path reads it.
                return False
            buffer = self._buffer
            if len(buffer) - self._offset < length:
                buffer = self._joined()
            quick = quick._replace(body=buffer[self._offset : self._offset + length])
        started = self._timers.seconds()
        client: IAddress = self._tcp().getPeer()
        secure = None
        invalid = False
        forwarding = self.site.forwarding
        if forwarding is not None:
            # The same rule as for every request the resource tree answers
            # (ClockRequest.requestReceived), on the same fields; fields
            # that do not parse are counted once, by the path that answers.
            (client, secure), invalid = forwarding.read(
                client, _fieldValues(head.fields)
            )
        response = answer(quick, client)
        if response is None:
            return False
        if invalid and forwarding is not None:
            forwarding.countInvalid()
        self._answered += 1
        if length:
            self._consume(length)
        self._cancelDeadline()
        self.writeNow(response.data)
        self.site.answeredQuickly(self, quick, response, started, client, secure)
        self._startIdle()
        return True

    def _startRequest(self, head: RequestHead) -> None:
        """
        Make the request for C{head}, and read its body, if it has one.
        """
        request = ClockRequest(self)
        request.connection = self
        headers: Headers = request.requestHeaders
        for name, value in head.fields:
            headers.addRawHeader(name, value)
        self.persistent = head.persistent
        if not self.persistent and head.version == b"HTTP/1.1":
            request.responseHeaders.setRawHeaders(b"connection", [b"close"])
        if head.expectContinue:
            self._tcp().write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.gotLength(head.length)
        self._receiving = request
        if head.length != 0 and self._deadline is None:
            # The body has the rest of the request's time to come.
            self._startDeadline()

        def finished(rest: bytes) -> None:
            self._body = None
            self._unread(rest)
            self._dispatch(request, head)

        if head.length == 0:
            finished(b"")
        elif head.length is None:
            self._body = ChunkedDecoder(
                request.handleContentChunk,
                finished,
                self.refuse,
                self.limits.maxBodySize,
                self.limits.maxHeaderSize,
                self.limits.maxHeaders,
            )
        else:
            self._body = LengthDecoder(
                head.length, request.handleContentChunk, finished
            )

    def _dispatch(self, request: ClockRequest, head: RequestHead) -> None:
        """
        The request has all come: answer it.
        """
        if self._refused:
            # Refused while its body came (413): it must not reach the site.
            return
        self._cancelDeadline()
        self._cancelIdle()
        self._receiving = None
        self._answering = request
        self._answered += 1
        request.requestReceived(head.method, head.target, head.version)

    # The bytes received and not yet read.

    def bufferedBytes(self) -> int:
        """
        @return: how many bytes received from the client the connection
            holds and has not yet read: at most C{readAhead} and one read of
            the socket while it cannot go on with them.
        """
        return self._buffered

    def _joined(self) -> bytes:
        """
        @return: C{_buffer}, made to hold all that is unread (from
            C{_offset} on).
        """
        if self._more:
            self._buffer = b"".join([self._buffer[self._offset :], *self._more])
            self._offset = 0
            self._more = []
        return self._buffer

    def _nextHead(self) -> bytes:
        """
        @return: the unread bytes up to the end of the first head among them
            (the empty line after it), or all of them if no head has ended
            yet: what L{splitHead} finds the next head in, as it would in
            all of them, without a copy of what follows it.
        """
        buffer, offset = self._buffer, self._offset
        if not offset and not self._more:
            # As after most reads, which hold one request, or the start of
            # a pipeline: splitHead copies out only the head.
            return buffer
        end = buffer.find(b"\r\n\r\n", offset)
        if end < 0 and self._more:
            buffer = self._joined()
            offset = self._offset
            end = buffer.find(b"\r\n\r\n", offset)
        return buffer[offset:] if end < 0 else buffer[offset : end + 4]

    def _consume(self, count: int) -> None:
        """
        Count the next C{count} bytes of C{_buffer} as read.
        """
        self._buffered -= count
        if self._buffered:
            self._offset += count
        else:
            # All read, and so nothing in _more: let the string go.
            self._buffer, self._offset = b"", 0

    def _takeAll(self) -> bytes:
        """
        @return: all that is unread, now read.
        """
        data = self._joined()[self._offset :]
        self._clear()
        return data

    def _unread(self, data: bytes) -> None:
        """
        Put C{data} back before what is unread: the bytes that came after a
        body, in the reads of it.
        """
        if data:
            self._buffer = data + self._joined()[self._offset :]
            self._offset = 0
            self._buffered += len(data)

    def _clear(self) -> None:
        """
        Drop what is unread.
        """
        self._buffer, self._offset, self._more, self._buffered = b"", 0, [], 0

    # What a request calls: Twisted's HTTPChannel's interface to a Request.

    def requestDone(self, request: ClockRequest) -> None:
        """
        C{request} is answered: read the next, or close.
        """
        if request is not self._answering:
            return
        self._answering = None
        if not self.persistent or self._draining:
            self.loseConnection()
            return
        self._startIdle()
        self._read()

    def writeHeaders(
        self, version: bytes, code: bytes, reason: bytes, headers: Headers
    ) -> None:
        """
        Write a response's head, as Twisted's channel does.
        """
        sequence = [version, b" ", code, b" ", reason, b"\r\n"]
        for name, values in headers.getAllRawHeaders():
            for value in values:
                sequence.extend((name, b": ", value, b"\r\n"))
        sequence.append(b"\r\n")
        self._tcp().writeSequence(sequence)

    def write(self, data: bytes) -> None:
        """
        Write some of a response.
        """
        self._tcp().write(data)

    def writeSequence(self, data: list[bytes]) -> None:
        """
        Write some of a response, in pieces.
        """
        self._tcp().writeSequence(data)

    def writeNow(self, data: bytes) -> bool:
        """
        Write C{data} to the connection, sending it at once when nothing is
        waiting to be sent before it.

        Twisted's TCP transport only buffers a write and sends it when the
        reactor next finds the socket writable: one more trip round the
        reactor, and two more epoll calls, for every response. A response of
        a few hundred bytes to a client that reads fits the socket's buffer,
        so it is sent right away; whatever the socket does not take (or any
        error, which the reactor then finds and handles as usual) goes to
        the transport as before, behind nothing. Other transports (TLS, UNIX
        sockets) are written to as Twisted writes.

        @return: whether all of it was sent at once; if not, the rest is in
            the transport's buffer.
        """
        transport = self.transport
        if (
            type(transport) is tcp.Server
            and not transport.TLS
            and transport.connected
            and not transport.disconnecting
            # FileDescriptor's buffers, which must go out first. Twisted
            # offers no public way to ask whether a transport holds data;
            # tests.test_private.PrivateNamesTests fails if this one goes.
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

    def getPeer(self) -> IAddress:
        """
        @return: the client's address.
        """
        return self._tcp().getPeer()

    def getHost(self) -> IAddress:
        """
        @return: the server's address.
        """
        return self._tcp().getHost()

    def isSecure(self) -> bool:
        """
        @return: whether the connection is over TLS.
        """
        secure = self._secure
        if secure is None:
            # Asked for every request the access log hears of: the
            # interface lookup is done once a connection, as its answer
            # never changes.
            secure = self._secure = ISSLTransport(self.transport, None) is not None
        return secure

    def loseConnection(self) -> None:
        """
        Close the connection once what is written has been sent; read no
        more requests.
        """
        self._closing = True
        self._clear()
        self._close()

    def _close(self) -> None:
        transport = self._tcp()
        # TLS holds the connection open for a producer still registered.
        cast(IConsumer, transport).unregisterProducer()
        transport.loseConnection()

    def abortConnection(self) -> None:
        """
        Drop the connection now, whatever is unsent.
        """
        self._tcp().abortConnection()

    def registerProducer(self, producer: IPushProducer, streaming: bool) -> None:
        """
        A request's body is produced by C{producer}, paused while the client
        is not reading. Only push producers are taken: clocksvc's resources
        (its event streams) push.
        """
        if not streaming:
            raise NotImplementedError("clocksvc's channel takes push producers")
        self._producer = producer
        if self._writePaused:
            producer.pauseProducing()

    def unregisterProducer(self) -> None:
        """
        The request's producer is done.
        """
        self._producer = None

    # IPushProducer, for the transport: its send buffer is full, or empty.

    def pauseProducing(self) -> None:
        self._writePaused = True
        if self._producer is not None:
            self._producer.pauseProducing()

    def resumeProducing(self) -> None:
        self._writePaused = False
        if self._producer is not None:
            self._producer.resumeProducing()
        if not self._refused:
            # Read what was held back.
            self._read()

    def stopProducing(self) -> None:
        if self._producer is not None:
            self._producer.stopProducing()

    # Limits.

    def refuse(self, code: int, bodyless: bool = False) -> None:
        """
        Answer C{code} on the connection and close it: the request cannot be
        taken.

        @param bodyless: whether the answer has no body: it answers a
            C{HEAD}.
        """
        if self._refused or self._lost:
            return
        self._refused = True
        self._clear()
        self.site.refused(code)
        self._cancelDeadline()
        self._cancelIdle()
        transport = self._tcp()
        transport.write(rawResponse(code, bodyless))
        self._close()
        self._closeBeneathTLS()
        # A client that does not read keeps the connection from closing:
        # give the response as long as Twisted gives a timed-out one.
        self._abortLater()

    def _closeBeneathTLS(self) -> None:
        """
        Over TLS, close the connection beneath it as TCP closes one: read no
        more, and close once the refusal and TLS's close_notify are sent.
        Twisted's TLS would wait for the client's close_notify, reading and
        decrypting whatever the client sends until then (or until the
        abort); RFC 8446 section 6.1 lets the side that closes not wait.
        """
        if not self.isSecure():
            return
        # A TLS transport is Twisted's TLSMemoryBIOProtocol, a protocol
        # wrapper: what it wraps is its transport. Its loseConnection has
        # written the close_notify there, once the handshake is done; before
        # it, no refusal can be read, and nothing is lost by closing.
        beneath = getattr(self.transport, "transport", None)
        if ITransport.providedBy(beneath):
            beneath.loseConnection()

    def _startDeadline(self) -> None:
        self._graced = False
        self._deadline = self._timers.callLater(
            self.limits.headerTimeout, self._deadlineReached
        )

    def _cancelDeadline(self) -> None:
        if self._deadline is not None:
            if self._deadline.active():
                self._deadline.cancel()
            self._deadline = None

    def _deadlineReached(self) -> None:
        if not self._graced and self._unreadBytes():
            # Twisted runs its timers before it reads: a reactor held up past
            # the deadline would refuse a request that came in time and sits
            # unread in the socket. Read it first, once.
            self._graced = True
            self._deadline = self._timers.callLater(_GRACE, self._deadlineReached)
            return
        self._deadline = None
        self.refuse(REQUEST_TIMEOUT)

    def _unreadBytes(self) -> int:
        """
        @return: how many bytes the kernel holds for this connection that
            have not been read (C{FIONREAD}); 0 where that cannot be told.
        """
        return self._socketQueue(termios.FIONREAD)

    def _startIdle(self) -> None:
        # Between requests: the idle timeout runs from the last answer.
        # Resetting the timer costs less than making a new one, per request.
        timeout = self.limits.idleTimeout
        if self._idle is not None and self._idle.active():
            self._idle.reset(timeout)
        elif timeout:
            self._idle = self._timers.callLater(timeout, self._idleReached)

    def _cancelIdle(self) -> None:
        if self._idle is not None:
            if self._idle.active():
                self._idle.cancel()
            self._idle = None

    def _idleReached(self) -> None:
        # Nothing to answer: close, and abort if the client holds it open.
        self._idle = None
        self._closing = True
        self._clear()
        self._close()
        self._abortLater()

    def _abortLater(self) -> None:
        """
        Abort the connection if it has not closed in L{ABORT_TIMEOUT}.
        """
        if not self._lost and (self._abort is None or not self._abort.active()):
            self._abort = self._timers.callLater(
                ABORT_TIMEOUT, self._tcp().abortConnection
            )

    def drain(self) -> None:
        """
        Close the connection as soon as no request is under way on it: now if
        it is idle, else once its response is complete.
        """
        self._draining = True
        self.persistent = False
        if self._h2 is not None:
            # HTTP/2 streams end with the connection; event streams have had
            # their last event already.
            self._h2.drain()
        elif (
            self._answering is None
            and self._receiving is None
            and not self._buffered
            and not self._started
        ):
            self.loseConnection()

    # The socket, for its send buffer.

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
        return self._socketQueue(termios.TIOCOUTQ)

    def _socketQueue(self, request: int) -> int:
        """
        @param request: the C{ioctl} that reads one of the socket's queues:
            C{FIONREAD} (received, unread) or C{TIOCOUTQ} (sent, unacked).
        @return: its length in bytes; 0 where that cannot be told.
        """
        sock = self.socket()
        if sock is None or sock.fileno() < 0:
            return 0
        out = bytearray(4)
        try:
            fcntl.ioctl(sock.fileno(), request, out)
        except OSError:  # pragma: no cover (a socket that has no queue)
            return 0
        return int.from_bytes(out, sys.byteorder)

    def _tcp(self) -> ITCPTransport:
        # Connected whenever this is called; every stream transport Twisted
        # gives a server (TCP, TLS, UNIX) can abortConnection.
        return cast(ITCPTransport, self.transport)

    # HTTP/2.

    def _negotiatedHTTP2(self) -> bool:
        return getattr(self.transport, "negotiatedProtocol", None) == b"h2"

    def _switchToHTTP2(self, data: bytes) -> None:
        """
        ALPN chose HTTP/2: hand the connection to clocksvc's HTTP/2
        (L{ClockH2Connection<clocksvc._http._h2.ClockH2Connection>}),
        Twisted's held to the same limits, which makes Requests of the
        site's kind too. The request deadline from connecting goes on, for
        the connection preface.
        """
        if not H2_ENABLED:  # pragma: no cover (ALPN offers h2 only with it)
            raise ValueError("negotiated HTTP/2 without support")
        from ._h2 import ClockH2Connection

        deadline = self._deadline
        left = (
            self.limits.headerTimeout
            if deadline is None
            else max(0.0, deadline.getTime() - self._timers.seconds())
        )
        self._cancelDeadline()
        transport = self._tcp()
        cast(IConsumer, transport).unregisterProducer()
        h2 = ClockH2Connection(self.site, left)
        self._h2 = h2
        h2.makeConnection(transport)
        cast(IConsumer, transport).registerProducer(h2, True)
        h2.dataReceived(data)
