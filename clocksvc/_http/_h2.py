# -*- test-case-name: tests.test_http2 -*-
"""
clocksvc's HTTP/2: Twisted's HTTP/2 connection, held to the site's
L{Limits} as clocksvc's HTTP/1.1 channel is.

Twisted's C{H2Connection} (in its private C{twisted.web._http2}, the only
way Twisted offers HTTP/2) hands every byte to the C{h2} library, which
keeps a header block (C{HEADERS} and its C{CONTINUATION} frames) until it
ends, and a frame until all its announced length has come, and takes any
number of fields; Twisted then takes as long as a client likes. Here:

  - L{FrameWatch} reads the frame headers in the bytes a client sends, before
    C{h2} keeps any of them: a header block over L{Limits.headerListSize}
    bytes, or a frame over the size advertised, ends the connection with
    C{GOAWAY} at that frame's header;
  - L{_Gate}, C{h2}'s connection with the limits' settings, refuses a
    request whose head is over the limits of the HTTP/1.1 head it stands
    for (L{headRefusal}), or whose body passes C{maxBodySize}, with a
    complete response on its stream, and limits how fast a client may reset
    streams;
  - L{ClockH2Connection} runs the deadlines: the connection preface, each
    header block, and each request's body within C{headerTimeout}; a
    connection with no request under way closes after C{idleTimeout}.

Each refusal is counted by the site (C{refused}) with the status HTTP/1.1
would have answered; a connection ended for one is logged in one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, cast
from typing import Protocol as Shape

from h2.config import H2Configuration
from h2.connection import ConnectionState
from h2.connection import H2Connection as H2State
from h2.errors import ErrorCodes
from h2.events import (
    DataReceived,
    Event,
    PriorityUpdated,
    RequestReceived,
    StreamEnded,
    StreamReset,
)
from h2.exceptions import DenialOfServiceError, NoSuchStreamError, ProtocolError
from h2.settings import SettingCodes, Settings
from twisted.internet.error import ConnectionLost
from twisted.internet.interfaces import IConsumer, IDelayedCall, ITCPTransport
from twisted.internet.protocol import connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

# Twisted's HTTP/2, in a private module: the only way Twisted offers it, as
# its own HTTP/1.1 channel does. tests.test_private.PrivateNamesTests fails
# if it, or what is used of it here, changes.
from twisted.web._http2 import H2Connection
from twisted.web.error import ExcessiveBufferingError
from twisted.web.http import REQUEST_TIMEOUT

from ._grammar import _REASONS, SERVER_HEADER, contentLength
from ._limits import Limits

__all__ = ["ClockH2Connection", "FrameWatch", "headRefusal"]

_log = Logger()

_BAD_REQUEST = 400
_CONTENT_TOO_LARGE = 413
_URI_TOO_LONG = 414
_TOO_MANY_REQUESTS = 429
_FIELDS_TOO_LARGE = 431

#: The client's connection preface (RFC 9113 section 3.4), which comes
#: before its first frame.
_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#: Every frame starts with 9 bytes: length (24 bits), type, flags, stream
#: (RFC 9113 section 4.1).
_FRAME_HEADER = 9
_HEADERS = 0x1
_PUSH_PROMISE = 0x5
_CONTINUATION = 0x9
_END_HEADERS = 0x4

#: How much a client may still send once its connection is ending (its
#: frames in flight when the GOAWAY reached it), before it is aborted: over
#: TLS, a connection waits for the client's close_notify, and whatever the
#: client sends meanwhile would be read, and decrypted, until C{abortTimeout}.
_READ_AFTER_END = 64 * 1024

#: The most bytes of responses' fields that the HPACK encoder keeps for a
#: connection (its dynamic table): HTTP/2's initial size, however large a
#: table the client offers (RFC 7541 section 4.2 lets an encoder use less).
_ENCODER_TABLE = 4096

#: How often a drain looks whether the requests under way are done.
_DRAIN_POLL = 0.01

#: The largest frame a client may send: SETTINGS_MAX_FRAME_SIZE, which
#: clocksvc leaves at its initial value (RFC 9113 section 6.5.2).
MAX_FRAME_SIZE = 16384


class _Site(Shape):
    """
    What an HTTP/2 connection needs of its site (L{ClockSite
    <clocksvc._http._site.ClockSite>}).
    """

    limits: Limits
    timers: Any
    requestFactory: Any

    def refused(self, status: int) -> None: ...


class _Cut(NamedTuple):
    """
    The connection is ended for a client that broke a limit.

    @ivar status: what HTTP/1.1 would have answered, for the site's count.
    @ivar code: the C{GOAWAY}'s error code.
    @ivar reason: why, for the log.
    """

    status: int
    code: ErrorCodes
    reason: str


class FrameWatch:
    """
    Reads the frame headers of what an HTTP/2 client sends, and nothing
    else: the payloads are counted, not read, so this costs little whatever
    comes. C{h2} keeps a header block until it ends, and a frame until all of
    it has come; this says when either is too large as soon as the frame
    header that makes it so comes.

    @ivar ready: whether the connection preface and a first frame have come
        whole.
    @ivar blockSince: when the header block under way, if one is, began.
    """

    ready = False
    blockSince: float | None = None

    def __init__(self, maxHeaderBlock: int, maxFrameSize: int = MAX_FRAME_SIZE):
        """
        @param maxHeaderBlock: the most bytes of frame payload in one header
            block.
        @param maxFrameSize: the largest frame payload.
        """
        self._maxHeaderBlock = maxHeaderBlock
        self._maxFrameSize = maxFrameSize
        #: How much of the preface is still to come. (C{h2} checks it.)
        self._preface = len(_PREFACE)
        #: The frame header read so far, when the data ended within one.
        self._header = b""
        #: How much of the current frame's payload is still to come.
        self._payload = 0
        #: How many payload bytes the header block under way has had.
        self._block: int | None = None

    def feed(self, data: bytes, now: float) -> _Cut | None:
        """
        Read the frame headers in C{data}, the next bytes received.

        @param now: when they came.
        @return: why the connection must end, if it must; then nothing of
            C{data} should be read.
        """
        at = min(self._preface, len(data))
        self._preface -= at
        while at < len(data):
            if self._payload:
                taken = min(self._payload, len(data) - at)
                self._payload -= taken
                at += taken
                self.ready = self.ready or not self._payload
                continue
            wanted = _FRAME_HEADER - len(self._header)
            self._header += data[at : at + wanted]
            at += wanted
            if len(self._header) < _FRAME_HEADER:
                break
            header, self._header = self._header, b""
            cut = self._frame(header, now)
            if cut is not None:
                return cut
        return None

    def _frame(self, header: bytes, now: float) -> _Cut | None:
        """
        Read one frame header.
        """
        length = int.from_bytes(header[:3], "big")
        kind, flags = header[3], header[4]
        if length > self._maxFrameSize:
            return _Cut(
                _BAD_REQUEST,
                ErrorCodes.FRAME_SIZE_ERROR,
                f"a frame of {length} bytes",
            )
        if kind in (_HEADERS, _PUSH_PROMISE):
            self._block = 0
            self.blockSince = now
        elif kind != _CONTINUATION:
            # Nothing else may come within a block: h2 refuses the frame.
            self._block = self.blockSince = None
        if self._block is not None:
            self._block += length
            if self._block > self._maxHeaderBlock:
                return _Cut(
                    _FIELDS_TOO_LARGE,
                    ErrorCodes.ENHANCE_YOUR_CALM,
                    f"a header block over {self._maxHeaderBlock} bytes",
                )
            if flags & _END_HEADERS:
                self._block = self.blockSince = None
        self._payload = length
        self.ready = self.ready or not length
        return None


def headRefusal(headers: Sequence[tuple[bytes, bytes]], limits: Limits) -> int | None:
    """
    Hold an HTTP/2 request's fields to the limits of the HTTP/1.1 head it
    stands for: its request line (C{:method}, C{:path} and the version),
    a C{Host} line for C{:authority}, and a line for each other field.

    @param headers: the request's fields, pseudo-header fields first.
    @return: the status to refuse it with: 414 for a request line over
        C{maxRequestLine}; 431 for a field line over it, a head over
        C{maxHeaderSize} or more than C{maxHeaders} fields; 413 for a
        C{Content-Length} over C{maxBodySize}; or L{None}.
    """
    # request-line = method SP request-target SP HTTP-version
    line = len(b"HTTP/1.1")
    size = fields = longest = 0
    length: int | None = None
    for name, value in headers:
        if name in (b":method", b":path"):
            line += len(value) + 1
        elif name == b":authority" or not name.startswith(b":"):
            # "name: value", without its line end, as splitHead counts.
            field = (4 if name == b":authority" else len(name)) + 2 + len(value)
            size += field
            fields += 1
            longest = max(longest, field)
            if name == b"content-length":
                length = contentLength(value, limits.maxBodySize)
    if line > limits.maxRequestLine:
        return _URI_TOO_LONG
    if (
        longest > limits.maxRequestLine
        or line + size > limits.maxHeaderSize
        or fields > limits.maxHeaders
    ):
        return _FIELDS_TOO_LARGE
    if length is not None and length > limits.maxBodySize:
        return _CONTENT_TOO_LARGE
    return None


class _Stream:
    """
    A request whose body is still coming.

    @ivar method: its method, which says whether a refusal has a body.
    @ivar received: how many bytes of body it has had.
    @ivar answered: whether it was refused, and answered, already: the rest
        of its body is dropped, and Twisted knows nothing of it.
    """

    def __init__(self, method: bytes, answered: bool = False) -> None:
        self.method = method
        self.received = 0
        self.answered = answered


class _Gate(H2State):
    """
    C{h2}'s server connection, advertising the limits' settings, and
    keeping from Twisted the requests that break them.

    A request refused is answered at once, on its stream, as HTTP/1.1
    refuses: while its client is still sending, the rest of its body is
    dropped; its stream's window is not opened again, so that a client that
    goes on sending can send at most that window more, and its stream is
    reset at its deadline. (Resetting it at once, as RFC 9113 section 8.1
    lets a server that has answered, makes curl 7.88 fail the request
    rather than show the answer.)

    Each call of L{receive_data} notes in its batch what it found, for
    L{ClockH2Connection} to act on: the requests that came, those that
    ended, those refused, and why the connection must end, if it must.

    @ivar cut: why the connection must end, if it must.
    @ivar opened: the streams whose head came, in order.
    @ivar finished: the streams whose request has all come, or was reset.
    @ivar refusals: the status of each request refused.
    """

    cut: _Cut | None = None

    def __init__(self, limits: Limits, timers: Any) -> None:
        # As Twisted configures its own: fields are kept as bytes.
        super().__init__(H2Configuration(client_side=False, header_encoding=None))
        self._limits = limits
        self._timers = timers
        self.local_settings = Settings(
            client=False,
            initial_values={
                SettingCodes.MAX_CONCURRENT_STREAMS: limits.maxStreams,
                SettingCodes.MAX_HEADER_LIST_SIZE: limits.headerListSize,
            },
        )
        # h2 hands the decoder the advertised size only once the client has
        # acknowledged it: until then, hold it to it all the same.
        self.decoder.max_header_list_size = limits.headerListSize
        #: The requests whose body is still coming.
        self._streams: dict[int, _Stream] = {}
        #: Resets a client may still send now, and when that was reckoned.
        self._resets = float(limits.maxStreams)
        self._resetsAt: float = timers.seconds()
        self.opened: list[int] = []
        self.finished: list[int] = []
        self.refusals: list[int] = []

    def receive_data(self, data: Any) -> list[Event]:
        """
        Read C{data}, as C{h2} does, and return the events that Twisted is to
        act on: those of requests within the limits.
        """
        self.opened, self.finished, self.refusals = [], [], []
        try:
            events = super().receive_data(data)
        except ProtocolError as e:
            self.cut = _Cut(_protocolStatus(e), e.error_code, str(e))
            raise
        if self.encoder.header_table_size > _ENCODER_TABLE:
            self.encoder.header_table_size = _ENCODER_TABLE
        kept: list[Event] = []
        for event in events:
            if isinstance(event, PriorityUpdated):
                # Twisted adds a stream to its priority tree for each one a
                # PRIORITY frame names, and fails past a thousand; RFC 9113
                # deprecates those signals. Streams keep equal priority.
                continue
            if isinstance(event, RequestReceived):
                self._requestReceived(event, kept)
            elif isinstance(event, DataReceived):
                self._dataReceived(event, kept)
            elif isinstance(event, (StreamEnded, StreamReset)):
                pending = self._streams.pop(event.stream_id, None)
                self.finished.append(event.stream_id)
                if isinstance(event, StreamReset) and not self._mayReset():
                    self.cut = _Cut(
                        _TOO_MANY_REQUESTS,
                        ErrorCodes.ENHANCE_YOUR_CALM,
                        "too many streams reset",
                    )
                    self.close_connection(ErrorCodes.ENHANCE_YOUR_CALM)
                    return []
                if pending is None or not pending.answered:
                    kept.append(event)
            else:
                kept.append(event)
        return kept

    def _requestReceived(self, event: RequestReceived, kept: list[Event]) -> None:
        """
        A request's head came: keep it for Twisted, or refuse it.
        """
        stream = event.stream_id
        headers = list(event.headers)
        method = dict(headers).get(b":method", b"")
        self.opened.append(stream)
        status = headRefusal(headers, self._limits)
        if status is not None:
            self.refusals.append(status)
            self.answer(stream, status, method)
            # Until the stream ends (if the head ended it, in its StreamEnded
            # event, which comes next), its events are dropped.
            self._streams[stream] = _Stream(method, answered=True)
            return
        kept.append(event)
        if event.stream_ended is None:
            self._streams[stream] = _Stream(method)

    def _dataReceived(self, event: DataReceived, kept: list[Event]) -> None:
        """
        Some of a request's body came: keep it for Twisted, or drop it, or
        refuse the request, if it takes the body over C{maxBodySize}.
        """
        stream = event.stream_id
        pending = self._streams[stream]
        if not pending.answered:
            pending.received += len(event.data)
            if pending.received <= self._limits.maxBodySize:
                kept.append(event)
                return
            self.refusals.append(_CONTENT_TOO_LARGE)
            self.answer(stream, _CONTENT_TOO_LARGE, pending.method)
            pending.answered = True
            # Twisted, which has the request, lets it go as it lets go a
            # stream that the client resets.
            kept.append(
                StreamReset(
                    stream_id=stream,
                    error_code=ErrorCodes.NO_ERROR,
                    remote_reset=False,
                )
            )
        if event.flow_controlled_length:
            # The connection's window, which every stream shares, opens again;
            # the stream's does not.
            self.increment_flow_control_window(event.flow_controlled_length)

    def _mayReset(self) -> bool:
        """
        Spend one of the resets a client may send: C{maxStreams} at once,
        and C{maxResetsPerSecond} after that. A request the client resets
        has been answered, or is being: resets let it ask for more answers
        than C{maxStreams} at once ("rapid reset", CVE-2023-44487).

        @return: whether it had one left.
        """
        now = self._timers.seconds()
        self._resets = min(
            float(self._limits.maxStreams),
            self._resets
            + max(0.0, now - self._resetsAt) * self._limits.maxResetsPerSecond,
        )
        self._resetsAt = now
        if self._resets < 1:
            return False
        self._resets -= 1
        return True

    def answer(self, stream: int, status: int, method: bytes | None = None) -> None:
        """
        Answer C{status} on C{stream}, as HTTP/1.1 refuses, with a one-line
        body (unless C{method} is C{HEAD}, or the client's window will not
        take it).
        """
        if method is None:
            pending = self._streams.get(stream)
            method = b"" if pending is None else pending.method
        body = b"%d %s\n" % (status, _REASONS[status])
        headers = [
            (b":status", b"%d" % status),
            (b"server", SERVER_HEADER),
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", b"%d" % len(body)),
        ]
        try:
            fits = method != b"HEAD" and self.local_flow_control_window(stream) >= len(
                body
            )
            self.send_headers(stream, headers, end_stream=not fits)
            if fits:
                self.send_data(stream, body, end_stream=True)
        except NoSuchStreamError:
            # The client reset it, later in the same data.
            pass

    def answered(self, stream: int) -> bool:
        """
        @return: whether C{stream}'s request was refused, and answered.
        """
        pending = self._streams.get(stream)
        return pending is not None and pending.answered

    def forget(self, stream: int) -> None:
        """
        Forget C{stream}'s request: it is let go.
        """
        del self._streams[stream]

    def reset(self, stream: int) -> None:
        """
        Forget C{stream}'s request, answered already, and reset its stream,
        on which its client may still send: its deadline is past.
        """
        self.forget(stream)
        self.reset_stream(stream, ErrorCodes.NO_ERROR)

    @property
    def ended(self) -> bool:
        """
        Whether C{GOAWAY} has been sent or received.
        """
        return bool(self.state_machine.state == ConnectionState.CLOSED)


def _protocolStatus(error: ProtocolError) -> int:
    """
    @return: what HTTP/1.1 would have answered a client that made C{h2}
        raise C{error}: 431 for a header list over the advertised size, 400
        for any other protocol error.
    """
    if isinstance(error, DenialOfServiceError):
        return _FIELDS_TOO_LARGE
    return _BAD_REQUEST


class ClockH2Connection(H2Connection):
    """
    Twisted's HTTP/2 connection, held to the site's L{Limits}:

      - the connection preface must come within C{headerTimeout} of
        connecting, each header block within C{headerTimeout} of its first
        frame, and each request's body within C{headerTimeout} of its head:
        else the connection ends (preface, header block), or the request is
        answered 408 and its stream reset (body);
      - a header block over L{Limits.headerListSize} ends the connection with
        C{GOAWAY} (C{ENHANCE_YOUR_CALM}) at the header of the frame that
        takes it over, and a frame over 16 KiB with C{FRAME_SIZE_ERROR};
      - a request over the limits of an HTTP/1.1 head is answered 414 or
        431, and one whose body passes C{maxBodySize} 413 as soon as it does;
        the rest of it is dropped, and its stream reset at its deadline if
        the client has not ended it;
      - at most C{maxStreams} requests at once, and stream resets at most
        C{maxResetsPerSecond} after a burst of C{maxStreams};
      - with no request under way for C{idleTimeout}, or nothing sent or
        received for as long (Twisted's timeout), the connection closes.

    Once it is to end, it says C{GOAWAY} and closes; it drops whatever the
    client sends, aborting once 64 KiB has come, or after C{abortTimeout}
    if the client does not take the rest. A drain ends it once its last
    responses are out.
    """

    def __init__(self, site: _Site, deadline: float) -> None:
        """
        @param site: the site, whose requests it makes.
        @param deadline: seconds the client has left to send the connection
            preface: what its C{headerTimeout} from connecting leaves.
        """
        super().__init__(site.timers)
        limits = site.limits
        self._site = site
        self._limits = limits
        self._timers = site.timers
        self._gate = _Gate(limits, self._timers)
        self.conn = self._gate
        self._watch = FrameWatch(limits.headerListSize)
        # What Twisted's own HTTP/1.1 channel sets on it before it connects;
        # typed loosely, as Twisted annotates these with its defaults' types
        # (None, int, a method).
        loose: Any = self
        loose.requestFactory = site.requestFactory
        loose.site = site
        loose.factory = site
        loose.timeOut = limits.idleTimeout
        loose.callLater = self._timers.callLater
        self._ending = False
        #: How much was dropped since, and whether that was too much.
        self._dropped = 0
        self._aborted = False
        self._prefaceIn = deadline
        #: The connection's deadline: the preface's, until it has come; then
        #: that of the header block under way, which began at C{_blockSince}.
        self._deadline: IDelayedCall | None = None
        self._blockSince: float | None = None
        #: Each request's deadline, while its body comes.
        self._streamDeadlines: dict[int, IDelayedCall] = {}
        self._idle: IDelayedCall | None = None
        #: The next look, while a drain waits for requests under way.
        self._draining: IDelayedCall | None = None
        self._lastActive: float = self._timers.seconds()
        self._abort: IDelayedCall | None = None

    def connectionMade(self) -> None:
        super().connectionMade()
        self._deadline = self._timers.callLater(
            self._prefaceIn,
            self._end,
            _Cut(REQUEST_TIMEOUT, ErrorCodes.ENHANCE_YOUR_CALM, "no preface in time"),
        )
        self._startIdle(self._limits.idleTimeout)

    def dataReceived(self, data: bytes) -> None:
        if self._ending:
            # Whatever a client sends once the connection is ending is
            # dropped, and not for long.
            self._dropped += len(data)
            if self._dropped > _READ_AFTER_END and not self._aborted:
                self._aborted = True
                cast(ITCPTransport, self.transport).abortConnection()
            return
        now = self._timers.seconds()
        since = self._watch.blockSince
        ready = self._watch.ready
        cut = self._watch.feed(data, now)
        if cut is not None:
            self._end(cut)
            return
        super().dataReceived(data)
        gate = self._gate
        if gate.cut is not None or gate.ended:
            self._end(gate.cut)
            return
        self._afterBatch(now if since is None else since, now)
        if not ready and self._watch.ready:
            # The preface has come: its deadline is done.
            self._cancel(self._deadline)
            self._deadline = None
        self._watchBlock(now)

    def _afterBatch(self, since: float, now: float) -> None:
        """
        Act on what the last data brought: start and stop the requests'
        deadlines, count the refusals.

        @param since: when the first request head of it began.
        """
        gate = self._gate
        for status in gate.refusals:
            self._site.refused(status)
        if gate.opened or gate.finished:
            self._lastActive = now
        for stream in gate.finished:
            self._cancel(self._streamDeadlines.pop(stream, None))
        finished = set(gate.finished)
        timeout = self._limits.headerTimeout
        for stream in gate.opened:
            if stream not in finished:
                self._streamDeadlines[stream] = self._timers.callLater(
                    max(0.0, since + timeout - now), self._streamTimedOut, stream
                )
            # Only the first head can have begun in earlier data.
            since = now

    def _watchBlock(self, now: float) -> None:
        """
        Run the deadline of the header block under way, if one is, once the
        preface has come.
        """
        since = self._watch.blockSince
        if not self._watch.ready or since == self._blockSince:
            return
        self._blockSince = since
        self._cancel(self._deadline)
        self._deadline = None
        if since is not None:
            self._deadline = self._timers.callLater(
                max(0.0, since + self._limits.headerTimeout - now),
                self._end,
                _Cut(
                    REQUEST_TIMEOUT,
                    ErrorCodes.ENHANCE_YOUR_CALM,
                    "a header block not complete in time",
                ),
            )

    def _streamTimedOut(self, stream: int) -> None:
        """
        A request's body did not all come in time: answer 408, and let the
        request go, and its stream (reset). A request refused already has
        been answered: only its stream goes.
        """
        del self._streamDeadlines[stream]
        gate = self._gate
        if gate.answered(stream):
            gate.reset(stream)
            # Twisted's way to write what h2 has to send, behind what the
            # client has not taken yet.
            self._tryToWriteControlData()
            return
        self._site.refused(REQUEST_TIMEOUT)
        gate.answer(stream, REQUEST_TIMEOUT)
        gate.forget(stream)
        self.streams[stream].connectionLost(
            Failure(ConnectionLost("the request did not come in time"))
        )
        # Resets the stream, writes, and forgets the stream.
        self.abortRequest(stream)

    def endRequest(self, streamID: int) -> None:
        # A response is complete: the connection is idle from here, if it
        # has no other request.
        self._lastActive = self._timers.seconds()
        super().endRequest(streamID)

    def _startIdle(self, seconds: float) -> None:
        self._idle = self._timers.callLater(seconds, self._idleReached)

    def _idleReached(self) -> None:
        """
        Close the connection if it has had no request under way for
        C{idleTimeout}; look again later otherwise.
        """
        timeout = self._limits.idleTimeout
        idle = self._timers.seconds() - self._lastActive
        if self.streams or self._watch.blockSince is not None:
            self._startIdle(timeout)
            return
        if idle < timeout:
            self._startIdle(timeout - idle)
            return
        self._idle = None
        self._end(None)

    def timeoutConnection(self) -> None:
        """
        Nothing was sent or received for C{idleTimeout}, with requests under
        way (their client has stopped reading, or sending): end it, as
        Twisted would, but so that it closes.
        """
        self._end(None, ErrorCodes.PROTOCOL_ERROR if self.streams else None)

    def drain(self) -> None:
        """
        Close the connection, with C{GOAWAY}, once no request is under way
        on it: a graceful shutdown. Its event streams have had their last
        event already; Twisted sends it, and ends each stream, a turn or two
        of the reactor later. (A C{GOAWAY} must come last: h2 sends nothing
        after it.) The site's shutdown timeout bounds the wait.
        """
        if self._ending:
            return
        if self.streams:
            self._draining = self._timers.callLater(_DRAIN_POLL, self.drain)
            return
        self._end(None)

    def _end(self, cut: _Cut | None, code: ErrorCodes | None = None) -> None:
        """
        End the connection: C{GOAWAY}, read no more, close, and abort if the
        client does not take the rest within C{abortTimeout}.

        @param cut: why, if the client broke a limit: counted, and logged.
        @param code: the C{GOAWAY}'s error code, if not the cut's (or
            C{NO_ERROR}).
        """
        if self._ending:
            return
        self._ending = True
        self._cancelAll()
        transport = cast(ITCPTransport, self.transport)
        if cut is not None:
            self._site.refused(cut.status)
            _log.warn(
                "HTTP/2 client {client} cut off: {reason}",
                client=str(getattr(transport.getPeer(), "host", "")),
                reason=cut.reason,
                event="http2_cut",
                details={"status": cut.status, "reason": cut.reason},
            )
        if not self._gate.ended:
            if code is None:
                code = ErrorCodes.NO_ERROR if cut is None else cut.code
            self._gate.close_connection(code)
        data = self._gate.data_to_send()
        if data:
            transport.write(data)
        # Over TLS, a connection with a producer registered is held open.
        cast(IConsumer, transport).unregisterProducer()
        transport.loseConnection()
        self._abort = self._timers.callLater(
            self.abortTimeout, transport.abortConnection
        )
        # As Twisted ends a connection: every stream with it; the timers that
        # see the transport closed stay.
        super().connectionLost(
            Failure(ConnectionLost("the HTTP/2 connection ended")),
            _cancelTimeouts=False,
        )

    def connectionLost(
        self, reason: Failure = connectionDone, _cancelTimeouts: bool = True
    ) -> None:
        if (
            _cancelTimeouts
            and not self._ending
            and reason.check(ExcessiveBufferingError) is not None
        ):
            # Twisted aborted a client that sends frames that must be
            # answered (PING, SETTINGS) and does not read the answers, once
            # 17 KiB of them wait; it logged it.
            self._site.refused(_TOO_MANY_REQUESTS)
        super().connectionLost(reason, _cancelTimeouts=_cancelTimeouts)
        if _cancelTimeouts:
            # The transport has closed.
            self._ending = True
            self._cancelAll()
            self._cancel(self._abort)
            self._abort = None

    def _cancelAll(self) -> None:
        """
        Cancel the deadlines and the idle timer.
        """
        timers = [self._deadline, self._idle, self._draining]
        for call in [*timers, *self._streamDeadlines.values()]:
            self._cancel(call)
        self._deadline = self._idle = self._draining = None
        self._streamDeadlines.clear()

    @staticmethod
    def _cancel(call: IDelayedCall | None) -> None:
        if call is not None and call.active():
            call.cancel()
