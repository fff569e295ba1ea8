"""
Tests for clocksvc's HTTP server (L{clocksvc._http}) against broken and
hostile clients, over real sockets on 127.0.0.1: a corpus of malformed and
smuggling requests from RFC 9112/9110 and request-smuggling research, a
hypothesis property over generated request bytes, slow and silent clients,
and the connection cap.

The clients are blocking sockets (L{tests._rawhttp}) run in worker threads
while the reactor serves; every socket has a timeout, so nothing hangs.
"""

from __future__ import annotations

import contextlib
import re
import selectors
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IAddress
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread
from twisted.logger import Logger
from twisted.trial.unittest import TestCase
from twisted.web import http

from clocksvc._http import (
    ClockChannel,
    Limits,
    QuickHead,
    QuickResponse,
    rawResponse,
)

from ._corpus import (
    CHUNKS,
    CLOSE,
    CONTENT_LENGTHS,
    CORPUS,
    GET,
    HEADERS,
    HOST,
    HOSTS,
    LINE_ENDS,
    PIPELINES,
    REQUEST_LINES,
    REVIEW,
    TARGETS,
    TIMEOUTS,
    TRANSFER_ENCODINGS,
    Case,
    Statuses,
)
from ._rawhttp import Address, exchange, get, parseResponses, receive, statusCodes
from ._rawsite import Server, serve

log = Logger()

#: The statuses of the server's refusals, each a complete response with a
#: one-line body after which the connection is closed.
REFUSALS = frozenset({400, 408, 413, 414, 431, 501, 503, 505})

#: What must never reach a client: signs of a traceback or of a Python repr.
LEAKS = (b"Traceback", b"object at 0x", b'File "')


def leaks(data: bytes) -> list[bytes]:
    """
    @return: the signs of a traceback or repr in C{data}.
    """
    return [leak for leak in LEAKS if leak in data]


def _matches(status: int, expected: Statuses) -> bool:
    if isinstance(expected, int):
        return status == expected
    return status in expected


def _show(expected: tuple[Statuses, ...]) -> str:
    return repr([e if isinstance(e, int) else sorted(e) for e in expected])


def check(server: Server, case: Case) -> list[str]:
    """
    Send C{case} to C{server} and check what comes back, then that the
    server still serves; blocking, for a worker thread.

    @return: what went wrong, each line naming the case.
    """
    before = server.canary.hits
    result = exchange(
        server.address, case.data, expect=len(case.statuses), heads=case.heads
    )
    problems = []
    statuses = result.statuses
    if len(statuses) != len(case.statuses) or not all(
        _matches(status, expected)
        # The lengths are compared first (zip's strict= is 3.10's).
        for status, expected in zip(statuses, case.statuses)
    ):
        problems.append(f"got {statuses}, expected {_show(case.statuses)}")
    if result.rest:
        problems.append(f"bytes that are no response: {result.rest[:80]!r}")
    for response in result.responses:
        if response.status >= 500 and not (
            response.status in (501, 505)
            and any(_matches(response.status, e) for e in case.statuses)
        ):
            problems.append(f"server error {response.status}")
        if response.status in REFUSALS and not case.answered:
            body = b"%d %s\n" % (response.status, response.reason)
            if response.body != body:
                problems.append(f"refusal body {response.body[:80]!r}")
            if response.header(b"connection") != [b"close"]:
                problems.append(f"{response.status} without Connection: close")
    if (
        statuses
        and statuses[-1] in REFUSALS
        and not case.answered
        and not result.closed
    ):
        problems.append(f"still open after {statuses[-1]}")
    for leak in leaks(result.raw):
        problems.append(f"{leak!r} in the response")
    after = get(server.address)
    if after != 200:
        problems.append(f"then GET /now got {after}")
    hits = server.canary.hits - before
    if hits != case.canary:
        problems.append(f"/smuggled taken {hits} times, expected {case.canary}")
    return [f"{case.name!r}: {problem}" for problem in problems]


class CorpusTests(TestCase):
    """
    Each request of the corpus gets the right status, and only the responses
    it should; nothing leaks, nothing is smuggled through, and the server
    serves on.
    """

    def setUp(self) -> None:
        self.server = serve(self, Limits(headerTimeout=0.5))

    async def corpus(self, cases: list[Case]) -> None:
        """
        Check every case, and fail once, naming every case that failed.
        """

        def checkAll() -> list[str]:
            return [problem for case in cases for problem in check(self.server, case)]

        problems = await deferToThread(checkAll)
        if problems:
            self.fail("\n".join(problems))

    def test_size(self) -> None:
        """
        The corpus has at least 60 requests, each with its own name.
        """
        self.assertGreaterEqual(len(CORPUS), 60)
        self.assertEqual(len({case.name for case in CORPUS}), len(CORPUS))

    async def test_requestLines(self) -> None:
        """
        Malformed request lines and versions are 400, long ones 414; a
        higher minor version is served as HTTP/1.1, another major version is
        505.
        """
        await self.corpus(REQUEST_LINES)

    async def test_targets(self) -> None:
        """
        Absolute-form targets are served by their path, and OPTIONS * is 200;
        CONNECT is 501, and any other target in no form of RFC 9112's 400.
        """
        await self.corpus(TARGETS)

    async def test_lineEnds(self) -> None:
        """
        Bare LF and bare CR line ends are 400.
        """
        await self.corpus(LINE_ENDS)

    async def test_headers(self) -> None:
        """
        Invalid field names and values are 400; too many or too large, 431.
        """
        await self.corpus(HEADERS)

    async def test_hosts(self) -> None:
        """
        A missing, repeated or invalid Host is 400.
        """
        await self.corpus(HOSTS)

    async def test_contentLengths(self) -> None:
        """
        Duplicate, conflicting or invalid Content-Length is 400; too large,
        413; a body is never taken for a request.
        """
        await self.corpus(CONTENT_LENGTHS)

    async def test_transferEncodings(self) -> None:
        """
        Only chunked is taken; other codings are 501, ambiguous framing 400.
        """
        await self.corpus(TRANSFER_ENCODINGS)

    async def test_chunks(self) -> None:
        """
        Bad chunk sizes and extensions are 400; too much data, 413.
        """
        await self.corpus(CHUNKS)

    async def test_pipelines(self) -> None:
        """
        Pipelined requests are served in order, up to the first bad one.
        """
        await self.corpus(PIPELINES)

    async def test_timeouts(self) -> None:
        """
        A request not complete within the header timeout is 408.
        """
        await self.corpus(TIMEOUTS)

    async def test_review(self) -> None:
        """
        What the security review sent: form bodies are never parsed, bare
        LFs and oversize trailer sections are refused, Content-Length of
        thousands of digits is 413, a chunk announced over the limit is 413
        at once, and /timesync takes only JSON's numbers.
        """
        await self.corpus(REVIEW)


# Generated requests.

CRLF = b"\r\n"
METHODS = [b"GET", b"GET", b"HEAD", b"POST", b"PUT", b"OPTIONS", b"DELETE"]
ODD_METHODS = [b"PRI", b"get", b"G(T", b"CONNECT", b"TRACE", b""]
PATHS = [
    b"/now",
    b"/",
    b"/now.json",
    b"/now.txt",
    b"/now?tz=Asia/Tokyo",
    b"/now?tz=Nowhere",
    b"/api/timezone",
    b"/openapi.json",
    b"/timesync",
    b"/.well-known/time",
    b"/live",
    b"/missing",
    b"*",
    b"http://x/now",
]
ODD_VERSIONS = [b"HTTP/1.0", b"HTTP/1.2", b"HTTP/2.0", b"http/1.1", b"HTTP/1.1 ", b""]
ODD_LINE_ENDS = [b"\n", b"\r", b"\n\r", b"\r\r\n"]
ODD_SPACES = [b"  ", b"\t", b"", b" \x0b"]
NAMES = [b"Accept", b"Connection", b"Expect", b"X-A", b"Cookie"]
ODD_NAMES = [b"Host", b"Content-Length ", b"transfer-encoding", b"X A", b"", b"X\x00"]
VALUES = [
    b"*/*",
    b"close",
    b"keep-alive",
    b"100-continue",
    b"application/json",
    b"127.0.0.1",
    b"",
]
ODD_VALUES = [b"chunked", b"identity", b"gzip, chunked", b"-1", b"65537", b"a, b"]
ODD_SEPARATORS = [b":", b" : ", b":\t", b"::", b"; "]
#: Bytes that parsers trip on, for the mutations to insert.
AWKWARD = [b"\r", b"\n", b"\r\n", b"\x00", b" ", b"\t", b":", b";", b"\x7f", b"\xff"]
#: A chunked body far over the 64 KiB limit.
HUGE_CHUNKED = b"10001\r\n" + b"a" * 0x10001 + b"\r\n0\r\n\r\n"


def usually(draw: st.DrawFn, usual: bytes, odd: list[bytes], odds: int = 16) -> bytes:
    """
    @return: C{usual}, except one time in C{odds} one of C{odd}; shrinking
        leads back to C{usual}.
    """
    if draw(st.integers(0, odds - 1)) < odds - 1:
        return usual
    return draw(st.sampled_from(odd))


@st.composite
def chunkedBodies(draw: st.DrawFn) -> bytes:
    """
    A chunked body: well-formed chunks, sometimes with a wrong size, a chunk
    extension, or no end.
    """
    chunks = draw(st.lists(st.binary(min_size=1, max_size=40), max_size=3))
    body = b""
    for chunk in chunks:
        size = len(chunk) + draw(st.sampled_from([0] * 8 + [-1, 1]))
        extension = usually(draw, b"", [b";a=b", b" ;a", b";\x00"])
        body += b"%x%s\r\n%s\r\n" % (max(size, 0), extension, chunk)
    return body + usually(draw, b"0\r\n\r\n", [b"0\r\n", b"", b"0\r\nX-T: 1\r\n\r\n"])


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    """
    One request of a plausible grammar: mostly well formed, with now and
    then an odd choice in one of its parts.
    """
    end = usually(draw, CRLF, ODD_LINE_ENDS, 16)
    line = b"%s%s%s%s%s%s" % (
        usually(draw, draw(st.sampled_from(METHODS)), ODD_METHODS, 12),
        usually(draw, b" ", ODD_SPACES, 16),
        draw(st.sampled_from(PATHS)),
        usually(draw, b" ", ODD_SPACES, 16),
        usually(draw, b"HTTP/1.1", ODD_VERSIONS, 12),
        end,
    )
    fields = [b"Host: 127.0.0.1" + end] if usually(draw, b"y", [b""]) else []
    for _ in range(draw(st.integers(0, 3))):
        fields.append(
            usually(draw, draw(st.sampled_from(NAMES)), ODD_NAMES)
            + usually(draw, b": ", ODD_SEPARATORS)
            + usually(draw, draw(st.sampled_from(VALUES)), ODD_VALUES)
            + end
        )
    # Both Content-Length and chunked is always 400: the rarest framing.
    framing = draw(st.sampled_from(["none"] * 3 + ["length", "chunked"] * 2 + ["both"]))
    body = draw(st.binary(max_size=60)) if framing != "none" else b""
    if framing in ("length", "both"):
        length = len(body) + draw(st.sampled_from([0] * 8 + [-1, 1, 70000]))
        fields.append(b"Content-Length: %d" % length + end)
    if framing in ("chunked", "both"):
        fields.append(b"Transfer-Encoding: chunked" + end)
        body = usually(draw, draw(chunkedBodies()), [HUGE_CHUNKED], 16)
    return line + b"".join(draw(st.permutations(fields))) + end + body


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """
    C{data}, or one time in four C{data} with a few bytes inserted, deleted
    or replaced, or cut short.
    """
    if draw(st.integers(0, 3)) < 3:
        return data
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "cut"]))
        if kind == "insert":
            insert = draw(st.one_of(st.sampled_from(AWKWARD), st.binary(max_size=4)))
            data = data[:at] + insert + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 4)) :]
        elif kind == "replace":
            data = data[:at] + draw(st.binary(min_size=1, max_size=1)) + data[at + 1 :]
        else:
            data = data[:at]
    return data


@st.composite
def rawRequests(draw: st.DrawFn) -> bytes:
    """
    What a client might send on one connection: one to three generated
    requests, perhaps after an empty line, perhaps mutated; or, one time in
    ten, random bytes.
    """
    if draw(st.integers(0, 9)) == 9:
        return draw(st.binary(max_size=200))
    data = usually(draw, b"", [CRLF]) + b"".join(
        draw(st.lists(requests(), min_size=1, max_size=3))
    )
    return draw(mutated(data))


#: An HTTP version of a major number other than 1, which is 505.
_OTHER_MAJOR = re.compile(rb" HTTP/[02-9]\.[0-9]")


def unexpected(data: bytes, received: bytes) -> list[str]:
    """
    @param data: what a client sent.
    @param received: what it got back.
    @return: what was wrong with the answer: a server error (other than 501
        for a Transfer-Encoding or a C{CONNECT}, or 505 for a version of
        another major number), or a traceback or repr.
    """
    problems = []
    for status in statusCodes(received):
        if status >= 500 and not (
            (
                status == 501
                and (b"transfer-encoding" in data.lower() or b"CONNECT " in data)
            )
            or (status == 505 and _OTHER_MAJOR.search(data) is not None)
        ):
            problems.append(f"status {status}")
    problems.extend(f"{leak!r} in the response" for leak in leaks(received))
    return problems


@dataclass
class _Lingering:
    """
    A connection the property left open, for the server to close in its own
    time.
    """

    data: bytes
    sock: socket.socket
    received: bytes
    closed: bool


class GeneratedRequestTests(TestCase):
    """
    Whatever bytes a client sends, the server answers without a server error
    or a traceback, closes the connection within its timeouts, and goes on
    serving.
    """

    #: Short, so that requests cut short end quickly.
    limits = Limits(headerTimeout=0.3, idleTimeout=0.3)

    def setUp(self) -> None:
        self.server = serve(self, self.limits)
        self.lingering: list[_Lingering] = []
        self.addCleanup(self._closeAll)

    def _closeAll(self) -> None:
        for connection in self.lingering:
            connection.sock.close()

    @settings(max_examples=100, deadline=None)
    @given(rawRequests())
    def _property(self, data: bytes) -> None:
        """
        Send C{data} on a new connection and check what has come back once
        the server falls quiet; then that a normal request is served.

        Connections the server has not closed yet are left to it: each is
        checked again in L{_drain}, so that the timeouts of all of them run
        at once rather than one after another.
        """
        sock = socket.create_connection(self.server.address, timeout=2.0)
        # The server may refuse and close before taking everything.
        with contextlib.suppress(OSError):
            sock.sendall(data)
        received, closed = receive(sock, time.monotonic() + 2.0, quiet=0.05)
        self.lingering.append(_Lingering(data, sock, received, closed))
        # Trial does not show the falsifying example hypothesis notes down.
        sent = f"after sending {data!r}"
        self.assertEqual(unexpected(data, received), [], sent)
        self.assertEqual(get(self.server.address), 200, sent)

    def _drain(self) -> list[str]:
        """
        Read every lingering connection to its end.

        @return: what went wrong, each with the bytes that were sent.
        """
        # The header timeout ends a request cut short, the idle timeout a
        # connection between requests; either closes within this.
        deadline = (
            time.monotonic() + self.limits.headerTimeout + self.limits.idleTimeout + 1.5
        )
        problems: list[str] = []
        for connection in self.lingering:
            received, closed = connection.received, connection.closed
            if not closed:
                more, closed = receive(connection.sock, deadline, quiet=60.0)
                received += more
            connection.sock.close()
            connection.received, connection.closed = received, closed
            found = unexpected(connection.data, received)
            if not closed:
                found.append("still open")
            problems.extend(f"{connection.data!r}: {problem}" for problem in found)
        return problems

    async def test_generatedRequests(self) -> None:
        """
        Generated requests get no server error and leak nothing, and the
        server still serves after each.
        """
        await deferToThread(self._property)
        problems = await deferToThread(self._drain)
        if problems:
            self.fail("\n".join(problems))
        self.assertEqual(await deferToThread(get, self.server.address), 200)


# Slow and silent clients.

#: A request that, a byte every 0.2 seconds, would take 11 seconds to send.
TRICKLED = GET + CLOSE + b"\r\n"
#: What each client that never reads sends: 400 requests at once.
PIPELINED = (GET + b"\r\n") * 400
#: An ordinary request on a connection of its own.
ORDINARY = GET + CLOSE + b"\r\n"


@dataclass
class _Slow:
    """
    One of a crowd of slow clients.

    @ivar kind: C{"trickle"} or C{"silent"}.
    @ivar opened: when it connected (L{time.monotonic}).
    @ivar sent: how many bytes of L{TRICKLED} it has sent.
    @ivar received: what the server sent it.
    @ivar closed: how long after connecting the server closed it, if it did.
    """

    kind: str
    sock: socket.socket
    opened: float
    sent: int = 0
    received: bytes = b""
    closed: float | None = None


class _Ordinary:
    """
    A normal client that, while slow clients crowd the server, makes 20
    requests one after another, a tenth of a second apart, each on a new
    connection.

    @ivar started: when it started, once C{ready} was set (L{time.monotonic}).
    @ivar latencies: how long each took.
    @ivar statuses: the statuses each got.
    """

    #: How long it waits for each response: longer than any bound a test
    #: sets on its latency, so that a slow answer fails that bound, saying
    #: how slow, rather than arriving too late to be seen.
    timeout = 30.0

    def __init__(self, address: Address) -> None:
        self.address = address
        self.ready = threading.Event()
        self.started = 0.0
        self.latencies: list[float] = []
        self.statuses: list[list[int]] = []

    def run(self) -> None:
        """
        Once C{ready} is set, make the requests; blocking.
        """
        self.ready.wait(30)
        self.started = time.monotonic()
        for _ in range(20):
            result = exchange(
                self.address, ORDINARY, expect=1, quiet=0.05, timeout=self.timeout
            )
            self.statuses.append(result.statuses)
            self.latencies.append(result.seconds)
            if not result.responses:
                # Unanswered in all that time: the rest would only be slower.
                break
            time.sleep(0.1)


class SlowClientTests(TestCase):
    """
    Clients that trickle their requests, say nothing, or never read their
    responses cost the server a bounded part of its attention: a normal
    client is served promptly meanwhile.
    """

    #: The limits under test, for slow clients. The ordinary client, which
    #: sends each request whole as it connects, is far from the header
    #: timeout: the reactor, which only reads a byte now and then from each
    #: slow client, gets to it within a tenth of a second, even under
    #: coverage with a core kept busy. The idle timeout is longer than a
    #: slow client may stay (C{headerTimeout + slack}), so that only the
    #: header timeout can close one in time.
    limits = Limits(headerTimeout=1.0, idleTimeout=10.0)
    #: How long after its header timeout a connection may take to close: the
    #: reactor runs its timers late when busy (by up to 1.9 s measured, on
    #: PyPy with a core kept busy, while its JIT compiles), and a trickling
    #: client, were its bytes to reset the timeout, would stay 11 seconds.
    slack = 3.0
    #: The limits for clients that pipeline and never read, where no
    #: connection is meant to time out: the ordinary client's request may
    #: wait, unread, for the reactor to get through thousands of pipelined
    #: requests, seconds on a busy machine, and must get its 200 or fail the
    #: latency check, never a 408. Longer than the ordinary client waits
    #: (L{_Ordinary.timeout}); the clients close before the server would.
    patient = Limits(headerTimeout=60.0, idleTimeout=60.0)

    def _serve(self, limits: Limits) -> None:
        """
        Serve clocksvc under C{limits}, with an ordinary client ready for it.
        """
        self.server = serve(self, limits)
        self.ordinary = _Ordinary(self.server.address)
        self.sockets: list[socket.socket] = []
        # Cleanups run last first: the clients close before serve's cleanup
        # waits for the server's connections to go.
        self.addCleanup(self._closeAll)

    def _closeAll(self) -> None:
        for sock in self.sockets:
            sock.close()

    def _connect(self, count: int) -> list[tuple[socket.socket, float]]:
        """
        Connect C{count} clients, 25 at a time, each batch once the server
        has accepted the one before.

        A client's connect() returns once the kernel completes the handshake,
        which it does even when the listen backlog (Twisted's default, 50)
        is full; the server then accepts the connection only when the
        kernel's retransmissions get it in, a second or more later, and its
        timeouts start that much after the client's.

        @return: the sockets, each with when it connected.
        """
        socks: list[tuple[socket.socket, float]] = []
        while len(socks) < count:
            for _ in range(min(25, count - len(socks))):
                sock = socket.create_connection(self.server.address, timeout=5.0)
                self.sockets.append(sock)
                socks.append((sock, time.monotonic()))
            deadline = time.monotonic() + 0.5
            while (
                self.server.site.openConnections < len(self.sockets)
                and time.monotonic() < deadline
            ):
                time.sleep(0.001)
        return socks

    def _crowd(self) -> list[_Slow]:
        """
        Connect 100 clients that send nothing and 200 that trickle a request
        a byte every 0.2 seconds; watch them in one loop until the server
        has closed them all, or they overstay.

        @return: the clients.
        """
        selector = selectors.DefaultSelector()
        clients = []
        for kind, count in [("silent", 100), ("trickle", 200)]:
            for sock, opened in self._connect(count):
                client = _Slow(kind, sock, opened)
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ, client)
                clients.append(client)
        self.ordinary.ready.set()
        giveUp = clients[-1].opened + self.limits.headerTimeout + self.slack + 1

        def close(client: _Slow, now: float) -> None:
            client.closed = now - client.opened
            selector.unregister(client.sock)

        while time.monotonic() < giveUp and any(c.closed is None for c in clients):
            for key, _ in selector.select(timeout=0.02):
                client = key.data
                try:
                    data = client.sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                client.received += data
                if not data:
                    close(client, time.monotonic())
            now = time.monotonic()
            for client in clients:
                due = client.opened + 0.2 * client.sent
                if client.kind == "trickle" and client.closed is None and now >= due:
                    try:
                        client.sock.send(TRICKLED[client.sent : client.sent + 1])
                    except OSError:
                        # Sent into the server's close: it closed first.
                        close(client, now)
                    client.sent += 1
        selector.close()
        return clients

    async def test_slowClients(self) -> None:
        """
        Clients that trickle their requests or send nothing are each closed
        within the header timeout (and some slack), with a 408 when they are
        still listening; a normal client is served promptly throughout.
        """
        self._serve(self.limits)
        ordinary = deferToThread(self.ordinary.run)
        clients = await deferToThread(self._crowd)
        await ordinary

        # A starvation check, not a benchmark: alone, each takes milliseconds.
        self.assertEqual(self.ordinary.statuses, [[200]] * 20)
        # Answered, not starved: how fast is the benchmark's business.
        self.assertLess(max(self.ordinary.latencies), 10.0)
        overstayed = [
            (c.kind, c.closed)
            for c in clients
            if c.closed is None or c.closed > self.limits.headerTimeout + self.slack
        ]
        self.assertEqual(overstayed, [])
        # A trickling client whose next byte crossed the 408 on the wire may
        # get a reset instead, and lose the 408 with it.
        self.assertEqual({c.received for c in clients} - {rawResponse(408), b""}, set())
        closes = [c.closed or 0.0 for c in clients]
        log.info(
            "slow clients: ordinary requests took at most {slowest:.3f}s; "
            "silent and trickling clients closed after {first:.2f}-{last:.2f}s, "
            "{refused} of {count} with a 408",
            slowest=max(self.ordinary.latencies),
            first=min(closes),
            last=max(closes),
            refused=sum(1 for c in clients if c.received),
            count=len(clients),
        )

    def _pipeline(self, pipelined: bytes) -> list[socket.socket]:
        """
        Connect 50 clients that each pipeline C{pipelined} and never read,
        then let the ordinary client start.

        @return: their sockets.
        """
        # A small receive buffer, so that what the server has produced is in
        # its own buffers rather than the client's.
        socks = []
        for _ in range(50):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(5.0)
            sock.connect(self.server.address)
            sock.sendall(pipelined)
            socks.append(sock)
        self.ordinary.ready.set()
        return socks

    async def _stopped(self, ports: list[int]) -> list[int]:
        """
        Wait until the server has stopped answering the clients at C{ports}
        (it has 20,000 requests to get through, if it answers them all): each
        has had a response, and no count has moved for 5 turns of the
        reactor, each of which reads and writes every socket ready for it,
        nor for 0.3 seconds, for what the kernel does between turns.

        Counted in turns, a reactor that a busy machine holds up is not
        taken for one that has stopped; it has a minute to stop.

        @return: the count of finished responses for each client.
        """
        giveUp = time.monotonic() + 60
        produced: list[int] = []
        quietSince = time.monotonic()
        quietTurns = 0
        while time.monotonic() < giveUp:
            await deferLater(reactor, 0.01)
            now = [self.finished[port] for port in ports]
            if now != produced:
                produced, quietSince, quietTurns = now, time.monotonic(), 0
                continue
            quietTurns += 1
            quiet = time.monotonic() - quietSince
            if min(produced) > 0 and quietTurns >= 5 and quiet >= 0.3:
                return produced
        self.fail(f"not stopped, or not started, after a minute: {produced}")

    # clocksvc bug, found here: each client sends 400 times
    # b"GET /now HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" and never reads, and the
    # server answers all 400 (about 228 KB) within a second or two: 20,000
    # responses in all, during which an ordinary request waits up to 2.4 s.
    # (With 3,000 requests on one connection, all 3,000 are answered: 1.7 MB
    # sits in the kernel's send buffer, grown to 3.9 MB, and none in
    # Twisted's, so ClockChannel.pauseProducing is never in force for long.)
    # ClockChannel's docstring promises that such a client "gets no more of
    # its pipelined requests answered until it reads again". Pinning the
    # accepted socket's SO_SNDBUF (32 KiB) makes this test pass: 115 answered
    # each, the ordinary client's worst wait 0.75 s.
    async def test_unreadPipelines(self) -> None:
        """
        Clients that pipeline 400 requests and never read get only a part of
        them answered, and a normal client is served promptly meanwhile.
        """
        await self._unreadPipelines(PIPELINED, "unread pipelines")

    async def test_unreadPipelinesOfPages(self) -> None:
        """
        The same holds for requests for the lesson's page, which the fast
        path answers while the client reads (L{clocksvc._web._quick}).
        """
        await self._unreadPipelines(
            (b"GET / HTTP/1.1\r\n" + HOST + b"\r\n") * 400,
            "unread pipelines of /",
        )

    async def _unreadPipelines(self, pipelined: bytes, what: str) -> None:
        self._serve(self.patient)
        # Count, for each client port, the responses the server finished:
        # Request.finish tells the site's log once the whole response is
        # written to the transport, whether or not it has left it; the fast
        # path tells answeredQuickly. When each client last had one, too.
        self.finished: Counter[int] = Counter()
        self.answeredAt: dict[int, float] = {}
        site = self.server.site
        siteLog, siteQuickly = site.log, site.answeredQuickly

        def countingLog(request: http.Request) -> None:
            address = request.getClientAddress()
            if isinstance(address, IPv4Address):
                self.finished[address.port] += 1
                self.answeredAt[address.port] = time.monotonic()
            siteLog(request)

        def countingQuickly(
            channel: ClockChannel,
            head: QuickHead,
            response: QuickResponse,
            started: float,
            client: IAddress,
            secure: bool | None,
        ) -> None:
            address = channel.transport.getPeer()  # type: ignore[union-attr]
            if isinstance(address, IPv4Address):
                self.finished[address.port] += 1
                self.answeredAt[address.port] = time.monotonic()
            siteQuickly(channel, head, response, started, client, secure)

        # Attributes of this site alone, not of ClockSite.
        site.log = countingLog  # type: ignore[method-assign]
        site.answeredQuickly = countingQuickly  # type: ignore[method-assign]

        ordinary = deferToThread(self.ordinary.run)
        socks = await deferToThread(self._pipeline, pipelined)
        ports = [sock.getsockname()[1] for sock in socks]
        produced = await self._stopped(ports)
        # How long the server was answering pipelined requests after the
        # ordinary client started.
        busy = max(self.answeredAt[port] for port in ports) - self.ordinary.started
        # Let one client read, for the first time, what has reached it.
        socks[0].setblocking(False)
        try:
            received = socks[0].recv(1 << 24)
        except BlockingIOError:
            received = b""
        available, size = len(parseResponses(received, False)[0]), len(received)
        await ordinary
        log.info(
            what + ": ordinary requests took at most {slowest:.3f}s, while "
            "pipelined ones were answered for {busy:.3f}s; "
            "{fewest}-{most} of each client's 400 requests answered before "
            "it read, and one found {available} to read",
            slowest=max(self.ordinary.latencies),
            busy=busy,
            fewest=min(produced),
            most=max(produced),
            available=available,
        )
        self.assertEqual(self.ordinary.statuses, [[200]] * 20)
        # Answered, not starved: within 10 seconds, or, where the pipelined
        # requests the server was already answering take longer (up to 12 s
        # measured, under coverage with a core kept busy, the first ordinary
        # request waiting behind them all), within a second of the last of
        # them (0.12 s measured). How fast is the benchmark's business.
        self.assertLess(max(self.ordinary.latencies), max(10.0, busy + 1.0))
        # Something was answered, or the counting missed a path...
        self.assertGreater(available, 0)
        # ...but not all: without backpressure each gets all 400 answered
        # within a second. What is answered fits the kernel's send buffer
        # (Linux doubles the size asked for) and Twisted's (64 KiB, after
        # which it pauses the channel), and a response that crosses them.
        responseSize = size / available
        bound = 2 * self.patient.socketSendBuffer + 65536 + responseSize
        self.assertLessEqual(max(produced) * responseSize, bound)
        self.assertLess(max(produced), 400)


class ConnectionCapTests(TestCase):
    """
    Connections over the cap get 503 and are closed, and a place freed is
    taken again.
    """

    async def until(self, condition: Callable[[], bool]) -> None:
        """
        Wait, within 5 seconds, for C{condition} to hold.
        """
        deadline = time.monotonic() + 5
        while not condition():
            if time.monotonic() > deadline:
                self.fail("waited 5 seconds in vain")
            await deferLater(reactor, 0.01)

    async def test_cap(self) -> None:
        """
        With 5 connections open and the cap at 5, a 6th gets a complete 503
        and is closed; once one of the 5 closes, a new one is served.
        """
        server = serve(self, Limits(maxConnections=5, headerTimeout=10.0))
        held = [
            await deferToThread(socket.create_connection, server.address, 5.0)
            for _ in range(5)
        ]
        for sock in held:
            self.addCleanup(sock.close)
        await self.until(lambda: server.site.openConnections == 5)

        sixth = await deferToThread(exchange, server.address, b"", expect=1)
        self.assertEqual(sixth.statuses, [503])
        self.assertEqual(sixth.responses[0].body, b"503 Service Unavailable\n")
        self.assertEqual(sixth.responses[0].header(b"connection"), [b"close"])
        self.assertTrue(sixth.closed)
        self.assertEqual(sixth.rest, b"")

        held[0].close()
        await self.until(lambda: server.site.openConnections == 4)
        self.assertEqual(await deferToThread(get, server.address), 200)
