"""
A small blocking HTTP/2 client over TLS, for tests that send frames no
well-behaved client would: it writes exactly the frames it is given (built
with C{hyperframe}, the frame layer of the C{h2} package), keeps no state of
its own, and reads whatever comes back into frames and responses.

Everything here blocks, with a timeout on every socket operation; tests run
it in a worker thread (L{twisted.internet.threads.deferToThread}) while the
reactor serves the other end.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from hpack import Decoder, Encoder
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    RstStreamFrame,
    SettingsFrame,
)

__all__ = [
    "GET_NOW",
    "PREFACE",
    "RawH2",
    "Received",
    "Response",
    "continuation",
    "data",
    "ended",
    "headers",
    "wentAway",
]

#: The client's connection preface, with an empty SETTINGS frame.
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + SettingsFrame(0).serialize()

#: The fields of C{GET /now} on a server named localhost.
GET_NOW = [
    (b":method", b"GET"),
    (b":scheme", b"https"),
    (b":authority", b"localhost"),
    (b":path", b"/now"),
]


def headers(
    stream: int,
    block: bytes,
    *,
    endHeaders: bool = True,
    endStream: bool = True,
) -> bytes:
    """
    @return: a C{HEADERS} frame carrying C{block}, an HPACK fragment.
    """
    flags = ["END_HEADERS"] * endHeaders + ["END_STREAM"] * endStream
    return HeadersFrame(stream, data=block, flags=flags).serialize()


def continuation(stream: int, block: bytes, *, endHeaders: bool = False) -> bytes:
    """
    @return: a C{CONTINUATION} frame carrying C{block}.
    """
    flags = ["END_HEADERS"] * endHeaders
    return ContinuationFrame(stream, data=block, flags=flags).serialize()


def data(stream: int, payload: bytes, *, endStream: bool = False) -> bytes:
    """
    @return: a C{DATA} frame.
    """
    flags = ["END_STREAM"] * endStream
    return DataFrame(stream, data=payload, flags=flags).serialize()


@dataclass
class Response:
    """
    What came on one stream.

    @ivar headers: the fields of its final response head, if it came.
    @ivar body: its body so far.
    @ivar ended: whether the server ended the stream (C{END_STREAM}).
    @ivar reset: the error code of a C{RST_STREAM} the server sent on it.
    """

    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    ended: bool = False
    reset: int | None = None

    @property
    def status(self) -> int | None:
        """
        The response's status, if its head came.
        """
        for name, value in self.headers:
            if name == b":status":
                return int(value)
        return None


@dataclass
class Received:
    """
    What a connection got back.

    @ivar frames: every frame, in order.
    @ivar closed: whether the server closed the connection.
    @ivar seconds: how long after this reading began it stopped.
    """

    frames: list[Frame]
    closed: bool
    seconds: float

    def goaway(self) -> GoAwayFrame | None:
        """
        @return: the server's C{GOAWAY}, if it sent one.
        """
        for frame in self.frames:
            if isinstance(frame, GoAwayFrame):
                return frame
        return None

    def responses(self) -> dict[int, Response]:
        """
        @return: what came on each stream.
        """
        decoder = Decoder()
        # Whatever table the server chooses: tests look at it themselves.
        decoder.max_allowed_table_size = 2**31
        streams: dict[int, Response] = {}
        for frame in self.frames:
            if not frame.stream_id:
                continue
            response = streams.setdefault(frame.stream_id, Response())
            if isinstance(frame, HeadersFrame):
                fields = [
                    (bytes(name), bytes(value))
                    for name, value in decoder.decode(frame.data, raw=True)
                ]
                if not fields[0][1].startswith(b"1"):
                    response.headers = fields
            elif isinstance(frame, DataFrame):
                response.body += frame.data
            elif isinstance(frame, RstStreamFrame):
                response.reset = frame.error_code
            response.ended = response.ended or "END_STREAM" in frame.flags
        return streams


class RawH2:
    """
    One TLS connection to a server that ALPN got to speak HTTP/2.
    """

    def __init__(self, port: int, caFile: str, timeout: float = 10.0) -> None:
        context = ssl.create_default_context(cafile=caFile)
        context.set_alpn_protocols(["h2"])
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.socket = context.wrap_socket(raw, server_hostname="localhost")
        if self.socket.selected_alpn_protocol() != "h2":
            raise AssertionError("ALPN did not choose h2")
        self._buffer = b""
        self.encoder = Encoder()
        #: Every frame received so far.
        self.frames: list[Frame] = []
        #: Whether the server has closed the connection.
        self.closed = False

    def block(self, fields: Sequence[tuple[bytes, bytes]]) -> bytes:
        """
        @return: C{fields}, HPACK-encoded.
        """
        return self.encoder.encode(list(fields))

    def send(self, *chunks: bytes) -> int:
        """
        Send C{chunks}, each as it is, until the server stops taking them.

        @return: how many bytes were sent.
        """
        return self.sendAll(chunks)

    def sendAll(self, chunks: Iterable[bytes]) -> int:
        """
        Send C{chunks}, which may be many, each as it is, until they run out
        or the server stops taking them.

        @return: how many bytes were sent.
        """
        sent = 0
        for chunk in chunks:
            try:
                self.socket.sendall(chunk)
            except OSError:
                break
            sent += len(chunk)
        return sent

    def receive(
        self,
        until: Callable[[Received], bool] = lambda received: False,
        seconds: float = 5.0,
    ) -> Received:
        """
        Read frames until C{until} says so, the server closes the
        connection, or C{seconds} pass.

        @return: every frame received on the connection so far.
        """
        start = time.monotonic()
        while True:
            received = Received(self.frames, self.closed, time.monotonic() - start)
            left = seconds - received.seconds
            if self.closed or left <= 0 or until(received):
                return received
            self.socket.settimeout(left)
            try:
                chunk = self.socket.recv(65536)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                chunk = b""
            self.closed = not chunk
            self._buffer += chunk
            self.frames.extend(self._frames())

    def _frames(self) -> list[Frame]:
        """
        The whole frames in the buffer, taken from it.
        """
        frames = []
        while len(self._buffer) >= 9:
            frame, length = Frame.parse_frame_header(memoryview(self._buffer[:9]))
            if len(self._buffer) < 9 + length:
                break
            frame.parse_body(memoryview(self._buffer[9 : 9 + length]))
            self._buffer = self._buffer[9 + length :]
            frames.append(frame)
        return frames

    def close(self) -> None:
        """
        Close the connection.
        """
        self.socket.close()


def ended(stream: int) -> Callable[[Received], bool]:
    """
    @return: a condition of L{RawH2.receive}: the server has ended
        C{stream}, or reset it.
    """

    def check(received: Received) -> bool:
        response = received.responses().get(stream)
        return response is not None and (response.ended or response.reset is not None)

    return check


def wentAway(received: Received) -> bool:
    """
    A condition of L{RawH2.receive}: the server has sent C{GOAWAY}.
    """
    return received.goaway() is not None
