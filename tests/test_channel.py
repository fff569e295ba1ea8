"""
Tests for L{clocksvc._http._channel}'s turns and read-ahead: a connection
whose pipelined requests are answered at once gives the reactor back between
turns, so that other connections are served meanwhile; and a client that
sends without reading costs the server a bounded amount of memory.

Over real sockets on 127.0.0.1: a site in the test's reactor, whose turns
are counted, and C{python -m clocksvc} as a child process where a process of
its own matters (zone caches no other test has filled; a resident set that
is the server's alone). In memory: a hypothesis property that drives a
channel through generated pipelines, split and paused at arbitrary points,
on a clock that its answers move on.
"""

from __future__ import annotations

import select
import socket
import threading
import time
import zoneinfo
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IAddress, IDelayedCall, IPushProducer
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.internet.threads import deferToThread
from twisted.logger import Logger
from twisted.trial.unittest import FailTest, SynchronousTestCase, TestCase
from twisted.web.iweb import IRequest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET
from zope.interface import implementer

from clocksvc._http import (
    ClockChannel,
    ClockSite,
    Finished,
    IReporter,
    Limits,
    QuickHead,
    QuickResponse,
)

from ._process import ClocksvcProcess, spawnClocksvc
from ._rawhttp import Address, get, parseResponses, receive
from ._rawsite import serve

log = Logger()

#: The cheapest request there is, answered quickly.
NOW = b"GET /now HTTP/1.1\r\nHost: a\r\n\r\n"

#: How long a GET /now on another connection may wait while one connection
#: pipelines requests answered at once.
PROMPT = 0.05


# Real sockets.


async def clocksvc(testCase: TestCase) -> tuple[Address, ClocksvcProcess]:
    """
    Run C{python -m clocksvc} on a port of 127.0.0.1, without an access
    log, until C{testCase} ends.

    @return: its address, and the process.
    """
    process = spawnClocksvc(
        "--listen", "tcp:0:interface=127.0.0.1", "--access-log", "off"
    )

    async def kill() -> None:
        process.signal("KILL")
        await process.exited

    testCase.addCleanup(lambda: Deferred.fromCoroutine(kill()))
    line = (await process.firstLine).decode()
    prefix = "clocksvc: serving http://"
    if not line.startswith(prefix):
        raise FailTest(f"not serving: {line!r} {process.stderr!r}")
    host, port = line[len(prefix) :].rstrip("/").rsplit(":", 1)
    return (host, int(port)), process


def answered(sock: socket.socket) -> None:
    """
    Read from C{sock} until one response has come whole; blocking.
    """
    received = b""
    while not parseResponses(received, False)[0]:
        data = sock.recv(65536)
        if not data:
            raise FailTest(f"closed after {received!r}")
        received += data


def pipelineBeside(address: Address, requests: list[bytes]) -> tuple[float, list[int]]:
    """
    Open two connections. On the first, send C{requests} at once, in one
    send, and read every answer as it comes; on the second, just after,
    ask for C{/now}. Blocking.

    @return: how long C{/now} took to be answered, from its sending; and
        the statuses of the answers to C{requests}.
    """
    with (
        socket.create_connection(address, timeout=30) as other,
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as pipe,
    ):
        # Room for what the server sends while this process is busy (its
        # reader and the server's reactor share a GIL in test_cheapPipeline),
        # so that the server's writes hold it up as little as they can.
        pipe.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        pipe.settimeout(30)
        pipe.connect(address)
        # Each answered once first: accepted, so that the pipeline is read
        # as it comes, and the other's next answer waits for the reactor
        # alone.
        for sock in (other, pipe):
            sock.sendall(NOW)
            answered(sock)
        statuses: list[int] = []

        def read() -> None:
            # Read as they come: a client that does not read would hold the
            # server up itself, by filling its buffers.
            raw, _ = receive(pipe, time.monotonic() + 60, 0.05, expect=len(requests))
            statuses.extend(r.status for r in parseResponses(raw, False)[0])

        reader = threading.Thread(target=read)
        reader.start()
        pipe.sendall(b"".join(requests))
        sent = time.monotonic()
        other.sendall(NOW)
        answered(other)
        waited = time.monotonic() - sent
        reader.join(90)
    return waited, statuses


@implementer(IReporter)
class TurnCounter:
    """
    Counts the requests a site answers in each turn of its reactor: a call
    it schedules for the next turn, every turn, closes a turn's count.
    (Twisted runs a call scheduled while it runs its calls in its next turn,
    after it has read and written every socket ready for it.)

    @ivar counts: the count of each turn closed so far.
    """

    wantsDetails = False

    def __init__(self) -> None:
        self.counts: list[int] = []
        self._current = 0
        self._call: IDelayedCall = reactor.callLater(0, self._turn)

    def _turn(self) -> None:
        self.counts.append(self._current)
        self._current = 0
        self._call = reactor.callLater(0, self._turn)

    def stop(self) -> None:
        """
        Stop counting.
        """
        if self._call.active():
            self._call.cancel()

    def requestFinished(self, finished: Finished) -> None:
        self._current += 1

    def requestRefused(self, status: int) -> None:
        pass


class TurnTests(TestCase):
    """
    One connection that pipelines requests answered at once holds no other
    connection up: it is answered a turn at a time, and a C{GET /now} on
    another connection meanwhile is answered within L{PROMPT}.
    """

    # clocksvc bug, found here: of 2,000 pipelined GET /now in one send, the
    # site answered 266-335 in one turn of the reactor (all that the
    # kernel's and Twisted's buffers took while this process's reader waited
    # for the GIL; for a client that reads as they come, 1,927, all that one
    # 64 KiB read of the socket holds, 15-30 ms of work). A GET /now on
    # another connection waited for them: 0.2-31 ms measured, under 50 ms
    # only because a read holds no more.
    async def test_cheapPipeline(self) -> None:
        """
        While one connection pipelines 2,000 C{GET /now} in one send, the
        site answers at most a turn's worth of them (C{answersPerTurn}) in
        each turn of the reactor, and C{/now} on another connection is
        answered within L{PROMPT}.
        """
        server = serve(self, Limits())
        counter = TurnCounter()
        self.addCleanup(counter.stop)
        server.site.reporters.append(counter)
        waits = []
        for _ in range(3):
            waited, statuses = await deferToThread(
                pipelineBeside, server.address, [NOW] * 2000
            )
            self.assertEqual(statuses, [200] * 2000)
            waits.append(waited)
            if waited < PROMPT:
                break
        counter.stop()
        log.info(
            "2,000 pipelined GET /now: GET /now on another connection answered "
            "in {waits} ms; at most {most} answered in one turn",
            waits=[round(w * 1000, 1) for w in waits],
            most=max(counter.counts),
        )
        # A turn of the reactor runs the connection's next turn (a call it
        # scheduled) and reads its socket: two turns of it at most, and the
        # other connection's answer.
        self.assertLessEqual(max(counter.counts), 2 * Limits().answersPerTurn + 1)
        # The time is the machine's as much as the server's: on a busy one,
        # the best of three attempts. Without turns, each would wait as long
        # as the turn it came in.
        self.assertLess(min(waits), PROMPT)

    async def test_coldTransitions(self) -> None:
        """
        While one connection pipelines, in one send, 150 requests for a
        century of transitions of 150 zones that no request has asked for
        before (tens of milliseconds of work each, when this was written), a
        C{GET /now} on another connection is answered within L{PROMPT}.
        """
        address, _ = await clocksvc(self)
        zones = sorted(z for z in zoneinfo.available_timezones() if "/" in z)
        waits = []
        for attempt in range(3):
            # Zones of their own each time: answered once, they are cached.
            batch = zones[150 * attempt : 150 * (attempt + 1)]
            requests = [
                b"GET /api/timezone/%s/transitions?from=1600-01-01T00:00:00Z"
                b"&to=1699-12-31T00:00:00Z HTTP/1.1\r\nHost: a\r\n\r\n" % z.encode()
                for z in batch
            ]
            waited, statuses = await deferToThread(pipelineBeside, address, requests)
            self.assertEqual(statuses, [200] * len(batch))
            waits.append(waited)
            if waited < PROMPT:
                break
        log.info(
            "150 pipelined cold transitions: GET /now on another connection "
            "answered in {waits} ms",
            waits=[round(w * 1000, 1) for w in waits],
        )
        # Best of three, as above; without turns each waited 5.3-10.5 s.
        self.assertLess(min(waits), PROMPT)


@dataclass(frozen=True)
class Flood:
    """
    What a client that sent without reading saw.

    @ivar sent: how many bytes it sent before the server stopped taking
        them, or all of them.
    @ivar stalled: whether its sending stalled: the server stopped reading.
    @ivar before: the server's resident set before, in KiB.
    @ivar after: the server's resident set once the sending stalled.
    @ivar status: the status of C{/now} on another connection meanwhile.
    @ivar waited: how long that took.
    """

    sent: int
    stalled: bool
    before: int
    after: int
    status: int
    waited: float


def residentKiB(pid: int) -> int:
    """
    @return: the resident set size of process C{pid}, in KiB.
    """
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise FailTest(f"no VmRSS for {pid}")


def flood(address: Address, pid: int, total: int) -> Flood:
    """
    Send C{total} bytes of pipelined C{GET /now} on one connection, reading
    nothing, until they are all sent, or none could be sent for a second, or
    a minute has gone; then ask for C{/now} on another connection. Blocking.
    """
    for _ in range(3):
        # The server's first answers allocate what the later ones reuse.
        get(address)
    before = residentKiB(pid)
    data = memoryview(NOW * (total // len(NOW)))
    sent = 0
    stalled = False
    giveUp = time.monotonic() + 60
    with socket.create_connection(address, timeout=5) as sock:
        sock.setblocking(False)
        while sent < len(data) and time.monotonic() < giveUp:
            _, writable, _ = select.select([], [sock], [], 1.0)
            if not writable:
                # No room for a whole second: the server has stopped reading
                # (and the kernel's buffers are full).
                stalled = True
                break
            try:
                sent += sock.send(data[sent : sent + (1 << 20)])
            except BlockingIOError:
                continue
        started = time.monotonic()
        status = get(address)
        waited = time.monotonic() - started
        after = residentKiB(pid)
    return Flood(sent, stalled, before, after, status, waited)


class ReadAheadTests(TestCase):
    """
    A client that sends and never reads costs the server a bounded amount of
    memory: the server stops reading from it.
    """

    #: A connection's cost in the server's memory, whatever its client
    #: sends: C{readAhead} and one read of the socket (64 KiB each), and
    #: what Twisted holds to send (64 KiB, and the answer that crosses it).
    bound = 256
    #: Room for the allocator, in KiB: freed memory it keeps, arenas.
    slack = 1024

    # clocksvc bug, found here: the server read all 40 MB into its buffer,
    # its resident set grew by 39,956 KiB, and each read copied the buffer
    # (quadratic): GET /now on another connection took 228 ms meanwhile.
    async def test_unreadFlood(self) -> None:
        """
        A client that sends 40 MB of pipelined C{GET /now} and reads
        nothing has its sending stall: the server stops reading from it.
        The server's resident set grows by no more than a connection's bound
        (and the allocator's slack), and another connection is answered
        promptly meanwhile.
        """
        address, process = await clocksvc(self)
        pid = process.transport.pid  # type: ignore[union-attr]
        result = await deferToThread(flood, address, pid, 40_000_000)
        log.info(
            "40 MB of GET /now, unread: {sent} bytes taken before the sender "
            "stalled; the server's resident set {before} -> {after} KiB; GET "
            "/now on another connection answered in {waited:.1f} ms",
            sent=result.sent,
            before=result.before,
            after=result.after,
            waited=result.waited * 1000,
        )
        self.assertTrue(result.stalled, result)
        self.assertLess(result.sent, 40_000_000 // 4)
        self.assertEqual(result.status, 200)
        # Promptly: milliseconds, and a second on a very busy machine.
        self.assertLess(result.waited, 1.0)
        self.assertLessEqual(result.after - result.before, self.bound + self.slack)


# In memory.


class TurnClock(Clock):
    """
    A clock for a channel's reactor, which the answers move on, as their
    work would, without running the calls that come due meanwhile; and whose
    L{turn} runs the calls due now, as a turn of a reactor does: not those
    that they schedule, which wait for the next turn.
    """

    def spend(self, seconds: float) -> None:
        """
        Let C{seconds} go by, busy.
        """
        self.rightNow += seconds

    def turn(self) -> None:
        """
        Run the calls due now. (L{Clock.advance} also runs those that they
        schedule for now, as if one turn of the reactor were many.)
        """
        now = self.seconds()
        for call in [call for call in self.calls if call.getTime() <= now]:
            if call.active():
                self.calls.remove(call)
                call.called = 1
                call.func(*call.args, **call.kw)

    def turnDue(self) -> bool:
        """
        @return: whether a call is due now: the channel's next turn.
        """
        return any(call.getTime() <= self.seconds() for call in self.calls)


class ClientTransport(StringTransport):
    """
    A connection whose client reads its answers at the test's word: once
    more than C{capacity} bytes wait unread, the channel's writing is paused,
    as a TCP transport pauses it once its buffers fill. Whether the channel
    lets it read from the client is C{producerState}.

    @ivar writesPaused: whether it has paused the channel's writing.
    """

    writesPaused = False

    def __init__(self, capacity: int) -> None:
        super().__init__(peerAddress=IPv4Address("TCP", "127.0.0.1", 54321))
        self.capacity = capacity

    def write(self, data: bytes) -> None:
        super().write(data)
        self._full()

    def writeSequence(self, data: Any) -> None:
        super().writeSequence(data)
        self._full()

    def _full(self) -> None:
        if not self.writesPaused and len(self.value()) > self.capacity:
            self.writesPaused = True
            self._channel().pauseProducing()

    def _channel(self) -> IPushProducer:
        if self.producer is None:
            raise FailTest("the channel unregistered")
        channel: IPushProducer = self.producer
        return channel

    def readAnswers(self) -> bytes:
        """
        Read all that was written, as the client does.
        """
        data: bytes = self.value()
        self.clear()
        if self.writesPaused:
            self.writesPaused = False
            self._channel().resumeProducing()
        return data


#: The kinds of request in a pipeline: answered quickly (with or without a
#: body), by the resource tree at once (with a body framed by its length, or
#: chunked, or none), or by the resource tree later.
KINDS = ("quick", "quickPost", "tree", "treePost", "chunked", "deferred")

#: The kinds of request that have a body.
BODIED = frozenset({"quickPost", "treePost", "chunked"})


@dataclass(frozen=True)
class Pipelined:
    """
    One request of a pipeline.

    @ivar index: where it is in the pipeline.
    @ivar kind: one of L{KINDS}.
    @ivar cost: how long answering it takes, in microseconds.
    @ivar body: its body (of a kind that has one).
    @ivar blank: whether an empty line comes before it, as RFC 9112 lets
        a client send.
    """

    index: int
    kind: str
    cost: int
    body: bytes
    blank: bool

    def data(self) -> bytes:
        """
        @return: the request on the wire.
        """
        prefix = {"quick": b"q", "quickPost": b"q", "deferred": b"d"}.get(
            self.kind, b"t"
        )
        method = b"POST" if self.kind in BODIED else b"GET"
        head = b"%s /%s/%d?%d HTTP/1.1\r\nHost: a\r\n" % (
            method,
            prefix,
            self.index,
            self.cost,
        )
        if self.kind == "chunked":
            chunks = b"".join(
                b"%x\r\n%s\r\n" % (len(piece), piece)
                for piece in (self.body[:5], self.body[5:])
                if piece
            )
            head += b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
        elif method == b"POST":
            head += b"Content-Length: %d\r\n\r\n" % len(self.body) + self.body
        else:
            head += b"\r\n"
        return (b"\r\n" if self.blank else b"") + head

    def answer(self) -> bytes:
        """
        @return: the body of its answer.
        """
        return b"%d:" % self.index + self.body


def targetOf(target: bytes) -> tuple[int, float]:
    """
    @return: the index and cost (in seconds) in a request target that
        L{Pipelined.data} wrote.
    """
    path, _, cost = target.partition(b"?")
    return int(path.rsplit(b"/", 1)[1]), int(cost or b"0") / 1e6


class Answers(Resource):
    """
    The resource tree of a L{Drive}: it answers C{/t/} at once and C{/d/}
    when the test says.
    """

    isLeaf = True

    def __init__(self, drive: Drive) -> None:
        super().__init__()
        self._drive = drive

    def render(self, request: IRequest) -> bytes | int:
        index, cost = targetOf(request.uri)
        body = request.content.read() if request.content is not None else b""
        answer = b"%d:" % index + body
        self._drive.started(index)
        if request.uri.startswith(b"/d/"):
            self._drive.pending.append((request, answer))
            return NOT_DONE_YET
        self._drive.clock.spend(cost)
        return answer


class Drive:
    """
    One channel of a L{ClockSite} in memory, driven through a pipeline by
    steps (send a chunk, let the client read, let the reactor turn, finish
    a deferred answer), with the channel's bounds checked after each.

    @ivar records: the index of each request whose answer began, and when.
    @ivar pending: the requests answered later, and their answers.
    """

    def __init__(
        self,
        testCase: SynchronousTestCase,
        requests: list[Pipelined],
        limits: Limits,
        capacity: int,
    ) -> None:
        self.testCase = testCase
        self.requests = requests
        self.limits = limits
        self.clock = TurnClock()
        self.records: list[tuple[int, float]] = []
        self.pending: list[tuple[Any, bytes]] = []
        site = ClockSite(Answers(self), self.clock, limits, quickAnswer=self.quick)
        self.transport = ClientTransport(capacity)
        protocol = site.buildProtocol(self.transport.getPeer())
        if not isinstance(protocol, ClockChannel):
            raise FailTest(f"not a channel: {protocol!r}")
        self.channel = protocol
        self.channel.makeConnection(self.transport)
        self.unsent = b"".join(request.data() for request in requests)
        self.ends: list[int] = []
        end = 0
        for request in requests:
            end += len(request.data())
            self.ends.append(end)
        self.delivered = 0
        self.largest = 0
        self.longest = max(len(request.data()) for request in requests)
        self.output = b""

    def started(self, index: int) -> None:
        """
        The answer to request C{index} begins.
        """
        self.records.append((index, self.clock.seconds()))

    def quick(self, head: QuickHead, client: IAddress) -> QuickResponse | None:
        """
        The site's quick answers: to C{/q/}.
        """
        if not head.target.startswith(b"/q/"):
            return None
        index, cost = targetOf(head.target)
        self.started(index)
        self.clock.spend(cost)
        body = b"%d:" % index + head.body
        data = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        return QuickResponse(data, len(body))

    # Steps.

    def send(self, size: int) -> None:
        """
        Send the next C{size} bytes, if there are any and the channel reads.
        """
        if self.unsent and self.transport.producerState == "producing":
            chunk, self.unsent = self.unsent[:size], self.unsent[size:]
            self.delivered += len(chunk)
            self.largest = max(self.largest, len(chunk))
            self.channel.dataReceived(chunk)

    def read(self) -> None:
        """
        The client reads all that was written.
        """
        self.output += self.transport.readAnswers()

    def turn(self) -> None:
        """
        The reactor turns.
        """
        self.clock.turn()

    def finish(self) -> None:
        """
        The first deferred answer is done.
        """
        if self.pending:
            request, answer = self.pending.pop(0)
            request.write(answer)
            request.finish()

    def step(self, name: str, size: int = 0) -> None:
        """
        Take a step, and check what it did.
        """
        before = len(self.records)
        if name == "send":
            self.send(size)
        else:
            getattr(self, name)()
        self.check(self.records[before:])

    # Checks.

    def waiting(self) -> bool:
        """
        @return: whether the channel cannot go on with its requests now.
        """
        return bool(self.transport.writesPaused or self.pending or self.clock.turnDue())

    def check(self, turn: list[tuple[int, float]]) -> None:
        """
        Check the channel's bounds after a step whose turn began the
        answers C{turn}.
        """
        test, limits = self.testCase, self.limits
        indexes = [index for index, _ in self.records]
        test.assertEqual(indexes, list(range(len(indexes))))
        # Never more buffered than its read-ahead, or a request it is
        # reading, and one read: it stops reading beyond its read-ahead
        # while it waits, and only then.
        buffered = self.channel.bufferedBytes()
        test.assertLessEqual(
            buffered, max(limits.readAhead, self.longest) + self.largest
        )
        held = self.transport.producerState == "paused"
        test.assertEqual(held, self.waiting() and buffered > limits.readAhead)
        if turn:
            # A turn answers at most answersPerTurn, and begins none once
            # secondsPerTurn have gone in it...
            began = turn[0][1]
            test.assertLessEqual(len(turn), limits.answersPerTurn)
            for _, at in turn[1:]:
                test.assertLess(at - began, limits.secondsPerTurn)
            # ...and yields only once one of them is spent.
            if self.clock.turnDue():
                spent = self.clock.seconds() - began >= limits.secondsPerTurn
                test.assertTrue(spent or len(turn) == limits.answersPerTurn)
        following = len(self.records)
        if following < len(self.requests) and self.delivered >= self.ends[following]:
            # A request it has whole is not left: the channel is waiting,
            # and whatever it waits for will go on with it.
            test.assertTrue(self.waiting(), f"request {following} left")

    def complete(self) -> None:
        """
        Let everything go on until every request is answered, then check
        the answers.
        """
        for _ in range(10 * len(self.requests) + 10):
            if len(self.records) == len(self.requests) and not self.pending:
                break
            self.step("read")
            self.step("finish")
            self.step("send", len(self.unsent))
            self.step("turn")
        self.step("read")
        responses, rest = parseResponses(self.output, False)
        self.testCase.assertEqual(
            [response.body for response in responses],
            [request.answer() for request in self.requests],
        )
        self.testCase.assertEqual(rest, b"")
        self.testCase.assertEqual(self.channel.bufferedBytes(), 0)
        self.testCase.assertFalse(self.clock.turnDue())


@st.composite
def pipelines(draw: st.DrawFn) -> list[Pipelined]:
    """
    Pipelines of 1 to 25 requests of every kind, each costing up to 3 ms.
    """
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=25))
    return [
        Pipelined(
            index,
            kind,
            draw(st.integers(0, 3000)),
            draw(st.binary(max_size=40)) if kind in BODIED else b"",
            draw(st.integers(0, 9)) == 0,
        )
        for index, kind in enumerate(kinds)
    ]


limitsUnderTest = st.builds(
    Limits,
    readAhead=st.integers(1, 2048),
    answersPerTurn=st.integers(1, 6),
    secondsPerTurn=st.integers(1, 5000).map(lambda micro: micro / 1e6),
)

steps = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.integers(1, 400)),
        st.sampled_from([("read", 0), ("turn", 0), ("finish", 0)]),
    ),
    max_size=80,
)


class PipelineTests(SynchronousTestCase):
    """
    Whatever a client pipelines, however it is split across reads, and
    wherever the client stops and starts reading: the channel never buffers
    more than its read-ahead (and one read), stops reading only when it
    cannot go on, yields after its turn and only then, and answers every
    request, in order.
    """

    @settings(max_examples=300)
    @given(pipelines(), limitsUnderTest, st.integers(64, 4096), steps)
    def test_pipelines(
        self,
        requests: list[Pipelined],
        limits: Limits,
        capacity: int,
        taken: list[tuple[str, int]],
    ) -> None:
        """
        The channel keeps its bounds through any pipeline and any steps.
        """
        drive = Drive(self, requests, limits, capacity)
        for name, size in taken:
            drive.step(name, size)
        drive.complete()

    def drive(self, requests: list[Pipelined], **limits: Any) -> Drive:
        """
        A L{Drive} with C{limits}, to a client that reads.
        """
        return Drive(self, requests, Limits(**limits), 1 << 30)

    def test_answersPerTurn(self) -> None:
        """
        Of 250 requests in one read, 100 are answered in its turn, and 100
        in each turn after.
        """
        drive = self.drive([Pipelined(i, "quick", 0, b"", False) for i in range(250)])
        drive.step("send", len(drive.unsent))
        counts = [len(drive.records)]
        while drive.clock.turnDue():
            drive.step("turn")
            counts.append(len(drive.records))
        self.assertEqual(counts, [100, 200, 250])
        drive.complete()

    def test_secondsPerTurn(self) -> None:
        """
        Answers of 1.5 ms each are two to a turn of 2 ms: the second begins
        1.5 ms into it.
        """
        drive = self.drive([Pipelined(i, "tree", 1500, b"", False) for i in range(5)])
        drive.step("send", len(drive.unsent))
        self.assertEqual(len(drive.records), 2)
        drive.step("turn")
        self.assertEqual(len(drive.records), 4)
        drive.complete()

    def test_readAheadWhilePaused(self) -> None:
        """
        While the client reads none of its answers, the channel reads its
        requests up to C{readAhead} and then stops reading; once the client
        reads, it reads on.
        """
        drive = Drive(
            self,
            [Pipelined(i, "quick", 0, b"", False) for i in range(2000)],
            Limits(readAhead=4096),
            1024,
        )
        while drive.transport.producerState == "producing":
            drive.step("send", 100)
        self.assertTrue(drive.transport.writesPaused)
        self.assertGreater(drive.channel.bufferedBytes(), 4096)
        self.assertLessEqual(drive.channel.bufferedBytes(), 4096 + 100)
        drive.step("read")
        drive.complete()

    def test_lostWhileWaiting(self) -> None:
        """
        A connection lost while it waits for its next turn has none.
        """
        drive = self.drive([Pipelined(i, "quick", 0, b"", False) for i in range(150)])
        drive.step("send", len(drive.unsent))
        self.assertTrue(drive.clock.turnDue())
        drive.channel.connectionLost()
        self.assertFalse(drive.clock.turnDue())

    def test_emptyLineSplit(self) -> None:
        """
        The empty line a client may send before a request is skipped
        however the reads split it and the request.
        """
        requests = [
            Pipelined(0, "quick", 0, b"", False),
            Pipelined(1, "quick", 0, b"", True),
        ]
        length = len(requests[0].data())
        for cut in range(length + 1, length + 5):
            drive = self.drive(requests)
            drive.step("send", cut)
            drive.step("send", len(drive.unsent))
            drive.complete()

    def test_refusedWhileHeldBack(self) -> None:
        """
        A request refused among those held back while an answer was under
        way is refused once it is done, after the requests before it, and
        the connection closes.
        """
        drive = Drive(
            self,
            [Pipelined(0, "deferred", 0, b"", False)]
            + [Pipelined(i, "quick", 0, b"", False) for i in range(1, 50)],
            Limits(readAhead=256),
            1 << 30,
        )
        drive.unsent += b"GET /\r\n\r\n"
        drive.send(len(drive.unsent))
        self.assertEqual(drive.transport.producerState, "paused")
        drive.finish()
        self.assertTrue(drive.transport.disconnecting)
        responses, _ = parseResponses(drive.transport.value())
        self.assertEqual([r.status for r in responses], [200] * 50 + [400])
