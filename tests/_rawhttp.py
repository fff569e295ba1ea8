"""
A small blocking HTTP/1.1 client over a raw socket, for tests that send bytes
no well-behaved client would: it writes exactly what it is given and parses
whatever comes back into responses, without judging either.

Everything here blocks, with a timeout on every socket operation; tests run
it in a worker thread (L{twisted.internet.threads.deferToThread}) while the
reactor serves the other end.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "Address",
    "Exchange",
    "Response",
    "exchange",
    "get",
    "parseResponses",
    "receive",
    "statusCodes",
]

#: Where every test server listens.
Address = tuple[str, int]


@dataclass(frozen=True)
class Response:
    """
    One response as it came off the wire.

    @ivar status: the status code.
    @ivar reason: the reason phrase.
    @ivar headers: the header fields, names lowercased, in order.
    @ivar body: the body, dechunked.
    """

    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: bytes) -> list[bytes]:
        """
        @return: the values of the fields named C{name} (lowercase).
        """
        return [value for key, value in self.headers if key == name]


@dataclass(frozen=True)
class Exchange:
    """
    What a connection got back for what was sent on it.

    @ivar responses: the final (non-1xx) responses, in order.
    @ivar raw: every byte received.
    @ivar closed: whether the server closed the connection (rather than the
        client giving up waiting).
    @ivar rest: received bytes that do not make a complete response.
    @ivar seconds: how long the exchange took.
    """

    responses: list[Response]
    raw: bytes
    closed: bool
    rest: bytes
    seconds: float = field(default=0.0)

    @property
    def statuses(self) -> list[int]:
        """
        The status code of each response.
        """
        return [response.status for response in self.responses]


class _Incomplete(Exception):
    """
    The data ends before the response does.
    """


def _readLine(data: bytes, start: int) -> tuple[bytes, int]:
    end = data.find(b"\r\n", start)
    if end < 0:
        raise _Incomplete()
    return data[start:end], end + 2


def _parseOne(
    data: bytes, start: int, closed: bool, head: bool
) -> tuple[Response, int]:
    """
    Parse the response at C{data[start:]}.

    @param head: whether it answers a HEAD request, and so has no body.

    @return: the response and where the next one starts.
    @raise _Incomplete: if C{data} ends first.
    @raise ValueError: if the bytes are not a response.
    """
    statusLine, position = _readLine(data, start)
    version, _, rest = statusLine.partition(b" ")
    if not version.startswith(b"HTTP/1."):
        raise ValueError(f"not a status line: {statusLine!r}")
    code, _, reason = rest.partition(b" ")
    status = int(code)
    headers = []
    while True:
        line, position = _readLine(data, position)
        if not line:
            break
        name, _, value = line.partition(b":")
        headers.append((name.strip().lower(), value.strip()))
    fields = dict(headers)
    if head or 100 <= status < 200 or status in (204, 304):
        return Response(status, reason, headers, b""), position
    if b"content-length" in fields:
        end = position + int(fields[b"content-length"])
        if end > len(data):
            raise _Incomplete()
        return Response(status, reason, headers, data[position:end]), end
    if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = b""
        while True:
            sizeLine, position = _readLine(data, position)
            size = int(sizeLine.split(b";")[0], 16)
            if size == 0:
                while True:
                    trailer, position = _readLine(data, position)
                    if not trailer:
                        return Response(status, reason, headers, body), position
            if position + size + 2 > len(data):
                raise _Incomplete()
            body += data[position : position + size]
            position += size + 2
    # Delimited by the close of the connection.
    if not closed:
        raise _Incomplete()
    return Response(status, reason, headers, data[position:]), len(data)


def parseResponses(
    data: bytes, closed: bool = True, heads: int = 0
) -> tuple[list[Response], bytes]:
    """
    Parse a run of responses.

    @param data: the bytes received.
    @param closed: whether the connection is closed, which ends a body that
        has no length.
    @param heads: how many of the first responses answer a HEAD request, and
        so have no body whatever their headers say.
    @return: the final responses, and the bytes after the last complete one.
    """
    responses: list[Response] = []
    position = 0
    while position < len(data):
        try:
            response, position = _parseOne(
                data, position, closed, len(responses) < heads
            )
        except (_Incomplete, ValueError):
            break
        if not 100 <= response.status < 200:
            responses.append(response)
    return responses, data[position:]


def exchange(
    address: Address,
    chunks: bytes | Iterable[bytes],
    *,
    expect: int | None = None,
    quiet: float = 0.25,
    timeout: float = 5.0,
    gap: float = 0.0,
    heads: int = 0,
) -> Exchange:
    """
    Connect, send, and read what comes back, until the server closes the
    connection or nothing more is coming.

    @param address: the server's host and port.
    @param chunks: what to send: one C{bytes}, or several to send in turn.
    @param expect: how many responses to wait for (up to C{timeout}) before
        C{quiet} starts to count; by default, it counts from the start.
    @param quiet: once C{expect} responses are in, stop reading when nothing
        more has come for this long: for connections the server keeps open,
        and to catch a response too many.
    @param timeout: stop reading this long after connecting, whatever comes.
    @param gap: seconds to wait between chunks.
    @param heads: as for L{parseResponses}.
    @return: what came back.
    """
    started = time.monotonic()
    deadline = started + timeout
    if isinstance(chunks, bytes):
        chunks = [chunks]
    with socket.create_connection(address, timeout=timeout) as sock:
        try:
            for index, chunk in enumerate(chunks):
                if index and gap:
                    time.sleep(gap)
                sock.sendall(chunk)
        except OSError:
            # The server may refuse and close before taking everything sent:
            # what matters is what it answered.
            pass
        raw, closed = receive(sock, deadline, quiet, expect, heads)
    responses, rest = parseResponses(raw, closed, heads)
    return Exchange(responses, raw, closed, rest, time.monotonic() - started)


def receive(
    sock: socket.socket,
    deadline: float,
    quiet: float,
    expect: int | None = None,
    heads: int = 0,
) -> tuple[bytes, bool]:
    """
    Read from C{sock} until the server closes it or nothing more is coming.

    @param deadline: stop reading at this L{time.monotonic} instant,
        whatever comes.
    @param quiet: once C{expect} responses are in, stop when nothing more
        has come for this long.
    @param expect: as for L{exchange}.
    @param heads: as for L{parseResponses}.
    @return: the bytes received, and whether the server closed the
        connection (or reset it).
    """
    received = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return bytes(received), False
        waiting = (
            expect is not None
            and len(parseResponses(bytes(received), False, heads)[0]) < expect
        )
        sock.settimeout(remaining if waiting else min(quiet, remaining))
        try:
            data = sock.recv(65536)
        except TimeoutError:
            return bytes(received), False
        except OSError:
            return bytes(received), True
        if not data:
            return bytes(received), True
        received += data


# A status line: responses are scanned for these rather than parsed, for data
# where no parser could know which responses answer a HEAD (and so have no
# body, whatever their headers say). Not anchored to a line start: a body
# need not end with a line end.
_STATUS_LINE = re.compile(rb"HTTP/[0-9]\.[0-9] ([0-9]{3}) ")


def statusCodes(data: bytes) -> list[int]:
    """
    @return: the status code of every status line in C{data}: of every
        response, as long as no body holds a status line of its own (and
        none of clocksvc's bodies repeats what a client sent).
    """
    return [int(code) for code in _STATUS_LINE.findall(data)]


def get(address: Address, path: bytes = b"/now", timeout: float = 5.0) -> int:
    """
    Make one ordinary request on a new connection.

    @return: its response's status, or C{0} for no response.
    """
    result = exchange(
        address,
        b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path,
        expect=1,
        timeout=timeout,
    )
    return result.statuses[0] if result.responses else 0
