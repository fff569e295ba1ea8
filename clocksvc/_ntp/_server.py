# -*- test-case-name: tests.test_ntpserver -*-
"""
The SNTP server: a Twisted datagram protocol that answers each client
request with one reply, from a clock and a clock state handed to it.

It knows NTP and nothing of the rest of clocksvc: the layer above hands it
the wall clock that dates replies, the monotonic clock that times the rate
limit and the samples, what the clock's state makes of a reply's header
(L{Policy.header}, through a callable that gives the header now), where to
count, and where to send a sampled line for the access log.

The reply path is the hot one: each datagram of a batch (one, from
Twisted's port; up to 32, from L{BatchedPort
<clocksvc._ntp._batched.BatchedPort>}) is read, limited, and answered with
one C{struct} call; the batch's replies are written together, and each
datagram counted by its outcome in one dictionary.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import DatagramProtocol

from ._packet import DROP_REASONS, LEAP_UNSYNCHRONIZED, Header, Request, readRequest
from ._ratelimit import ADMIT, DROP, KISS, RateLimit, RateLimiter

__all__ = [
    "LATENCY_BUCKETS",
    "LOCAL_REFERENCE_ID",
    "OUTCOMES",
    "Counters",
    "Policy",
    "SNTPServer",
    "Sample",
]

#: What can become of a datagram: a reply, a kiss-o'-death, a drop for one
#: of L{DROP_REASONS}, or a reply the socket would not take (C{unsent}).
OUTCOMES = ("reply", "kiss", *DROP_REASONS, "unsent")

#: A client's address, as the port gives it: C{(host, port)}.
Address = tuple[str, int]
#: A datagram, and the address it came from.
Datagram = tuple[bytes, Address]
#: Writes C{(index, reply)} pairs, each a reply to the datagram of a batch
#: at C{index}, in order, and returns how many it wrote.
Write = Callable[[Sequence[tuple[int, bytes]]], int]

# What the rate limit's verdict makes of a request.
_VERDICTS = {ADMIT: "reply", KISS: "kiss", DROP: "rate"}

#: The buckets of the time from a request's receive timestamp to its
#: reply's transmit timestamp, in seconds: a reply takes microseconds.
LATENCY_BUCKETS = (
    1e-6,
    2.5e-6,
    5e-6,
    1e-5,
    2.5e-5,
    5e-5,
    1e-4,
    2.5e-4,
    1e-3,
    1e-2,
)

#: The reference ID of clocksvc's replies: 127.127.1.1, which NTP daemons
#: show as C{LOCAL}. The kernel does not say which server its time daemon
#: follows, so there is no upstream address to name; a loopback address
#: cannot be any client's own, so no client takes it for a loop.
LOCAL_REFERENCE_ID = bytes([127, 127, 1, 1])


class Counters:
    """
    What the servers of one site did, counted in plain numbers as each
    datagram is handled, for C{/metrics} to read.

    @ivar outcomes: by each of L{OUTCOMES}, how many datagrams had it.
    @ivar latency: how many replies took up to each of L{LATENCY_BUCKETS}
        from receive to transmit, and above the last (not cumulative).
    @ivar latencySum: their total, in seconds.
    """

    def __init__(self) -> None:
        self.outcomes = dict.fromkeys(OUTCOMES, 0)
        self.latency = [0] * (len(LATENCY_BUCKETS) + 1)
        self.latencySum = 0.0

    @property
    def requests(self) -> int:
        """
        @return: every datagram received.
        """
        return sum(self.outcomes.values())


@dataclass(frozen=True)
class Sample:
    """
    One datagram, for the access log's sampled line.

    @ivar when: when it arrived, in seconds since the epoch.
    @ivar client: the client's address.
    @ivar version: the NTP version it asked in, if it was a request.
    @ivar outcome: one of L{OUTCOMES}.
    @ivar stratum: the stratum replied with, if it was answered.
    @ivar leap: the leap indicator replied with, if it was answered.
    @ivar count: how many datagrams this one stands for: those since the
        last sample, it included.
    """

    when: float
    client: str
    version: int | None
    outcome: str
    stratum: int | None
    leap: int | None
    count: int


@dataclass(frozen=True)
class Policy:
    """
    What the server says of its clock, as RFC 5905 and its clients read it.

    @ivar stratum: the stratum while the clock is synchronized.
    @ivar localStratum: the stratum to serve with while it is not; L{None}
        to serve as unsynchronized then (leap indicator 3, stratum 0), as
        chrony does, so that clients use another server.
    @ivar precision: the clock's precision (L{precisionOf
        <clocksvc._ntp._packet.precisionOf>}).
    """

    stratum: int = 2
    localStratum: int | None = None
    precision: int = -20

    def __post_init__(self) -> None:
        for stratum in (self.stratum, self.localStratum):
            if stratum is not None and not 1 <= stratum <= 15:
                raise ValueError(f"a stratum is from 1 to 15, not {stratum}")

    def header(
        self,
        synchronized: bool | None,
        maxError: float | None,
        reference: float | None,
        leap: int,
    ) -> Header:
        """
        @param synchronized: whether the kernel says the clock is
            synchronized; L{None} if it cannot say.
        @param maxError: the kernel's maximum error of the clock, in
            seconds, if known.
        @param reference: when the clock was last read as synchronized, in
            seconds since the epoch.
        @param leap: the leap second pending: L{LEAP_NONE}, or
            L{LEAP_INSERT<clocksvc._ntp._packet.LEAP_INSERT>} or
            L{LEAP_DELETE<clocksvc._ntp._packet.LEAP_DELETE>} in the month
            that ends with one.
        @return: the header of the replies.
        """
        dispersion = 0.0 if maxError is None else maxError
        if synchronized:
            return Header(
                leap,
                self.stratum,
                self.precision,
                0.0,
                dispersion,
                LOCAL_REFERENCE_ID,
                reference,
            )
        if self.localStratum is not None:
            # The operator vouches for the clock: serve it, with the error
            # the kernel gives (which an unsynchronized kernel lets grow to
            # 16 s) only if it knows one better than its own ceiling.
            return Header(
                leap,
                self.localStratum,
                self.precision,
                0.0,
                0.0 if synchronized is None or dispersion >= 16.0 else dispersion,
                LOCAL_REFERENCE_ID,
                reference,
            )
        return Header(
            LEAP_UNSYNCHRONIZED,
            0,
            self.precision,
            0.0,
            dispersion,
            bytes(4),
            reference,
        )


class SNTPServer(DatagramProtocol):
    """
    Answers SNTP clients: one reply to each request, never larger than it;
    nothing to control queries; a kiss-o'-death, then silence, to an
    address over its rate limit.
    """

    def __init__(
        self,
        header: Callable[[], Header],
        wallClock: IReactorTime,
        timers: IReactorTime,
        limit: RateLimit | None = None,
        counters: Counters | None = None,
        sample: Callable[[Sample], None] | None = None,
        sampleInterval: float = 10.0,
    ) -> None:
        """
        @param header: gives the header of a reply now.
        @param wallClock: the wall clock, which dates the replies.
        @param timers: a clock that is never stepped, for the rate limit and
            the samples.
        @param limit: how fast one address may ask; by default
            L{RateLimit}'s defaults.
        @param counters: where to count; by default counters of its own.
        @param sample: told of one datagram in each C{sampleInterval}, for
            the access log; if L{None}, none is.
        @param sampleInterval: the seconds between two samples.
        """
        self._header = header
        self._wall = wallClock.seconds
        self._monotonic = timers.seconds
        self._limiter = RateLimiter(RateLimit() if limit is None else limit)
        self.counters = Counters() if counters is None else counters
        self._outcomes = self.counters.outcomes
        self._sample = sample
        self._sampleInterval = sampleInterval
        self._nextSample = -math.inf
        self._sampled = 0
        #: Whether it is listening on a port now.
        self.listening = False
        self._send: Callable[[bytes, tuple[str, int]], object] | None = None

    def startProtocol(self) -> None:
        self.listening = True
        # Straight to the socket's sendto where the transport has one, as
        # Twisted's UDP port does: its write() parses the address (is it
        # IPv4? IPv6?) again for every datagram, a fifth of a reply's cost
        # here, for an address that recvfrom has just given. Elsewhere, as
        # in tests' fakes, write() itself. tests.test_ntpserver checks that
        # Twisted's port still has its socket.
        sock = getattr(self.transport, "socket", None)
        sendto = getattr(sock, "sendto", None)
        self._send = sendto if callable(sendto) else self.transport.write  # type: ignore[union-attr]

    def stopProtocol(self) -> None:
        self.listening = False

    def datagramReceived(self, datagram: bytes, address: Address) -> None:
        """
        Answer one datagram, as Twisted's UDP port hands them over.
        """

        def write(replies: Sequence[tuple[int, bytes]]) -> int:
            for written, (_, reply) in enumerate(replies):
                try:
                    self._send(reply, address)  # type: ignore[misc]
                except OSError:
                    # The socket's buffer is full: the client will ask again.
                    return written
            return len(replies)

        self.batchReceived([(datagram, address)], write)

    def batchReceived(self, datagrams: Sequence[Datagram], write: Write) -> None:
        """
        Answer the datagrams one read gave, with one write, as L{BatchedPort
        <clocksvc._ntp._batched.BatchedPort>} hands them over.

        Every request of the batch is stamped as received when the batch is
        handed over (they had all arrived by then), and every reply as
        transmitted once, after the batch is read and just before its
        replies are packed and written together.

        @param datagrams: each datagram and the address it came from.
        @param write: writes C{(index, reply)} pairs, each a reply to
            C{datagrams[index]}, in order; returns how many it wrote, the
            rest being those the socket would not take.
        """
        # The receive timestamp first, before anything is done with them.
        received = self._wall()
        now = self._monotonic()
        check = self._limiter.check
        outcomes: list[str] = []
        answers: list[tuple[int, Request, str]] = []
        for index, (datagram, address) in enumerate(datagrams):
            request = readRequest(datagram)
            if isinstance(request, str):
                outcomes.append(request)
                continue
            outcome = _VERDICTS[check(address[0], now)]
            outcomes.append(outcome)
            if outcome != "rate":
                answers.append((index, request, outcome))
        header = None
        if answers:
            header = self._header()
            # The transmit timestamp as late as can be: read as the replies
            # are packed, just before they are written.
            transmitted = self._wall()
            replies = [
                (
                    index,
                    header.reply(request, received, transmitted)
                    if outcome == "reply"
                    else header.kiss(request),
                )
                for index, request, outcome in answers
            ]
            written = write(replies)
            for index, _ in replies[written:]:
                outcomes[index] = "unsent"
            self._timed(outcomes, transmitted - received)
        counted = self._outcomes
        for outcome in outcomes:
            counted[outcome] += 1
        self._sampleFirst(now, received, datagrams, outcomes, header)

    def _timed(self, outcomes: list[str], took: float) -> None:
        """
        Count the replies sent among C{outcomes}, each C{took} seconds from
        receive to transmit.
        """
        replied = outcomes.count("reply")
        if replied:
            counters = self.counters
            counters.latency[bisect_left(LATENCY_BUCKETS, took)] += replied
            counters.latencySum += took * replied

    def _sampleFirst(
        self,
        now: float,
        received: float,
        datagrams: Sequence[Datagram],
        outcomes: list[str],
        header: Header | None,
    ) -> None:
        """
        Give the first datagram of a batch to the access log if a sample is
        due, standing for those since the last sample; count the rest
        towards the next.
        """
        sample = self._sample
        if sample is None:
            return
        if now < self._nextSample:
            self._sampled += len(datagrams)
            return
        self._nextSample = now + self._sampleInterval
        self._sampled += 1
        datagram, address = datagrams[0]
        sample(
            self._sampleOf(
                received, address[0], readRequest(datagram), outcomes[0], header
            )
        )
        self._sampled += len(datagrams) - 1

    def _sampleOf(
        self,
        received: float,
        client: str,
        request: Request | str,
        outcome: str,
        header: Header | None,
    ) -> Sample:
        version = None if isinstance(request, str) else request.version
        stratum = leap = None
        if outcome == "reply" and header is not None:
            stratum, leap = header.stratum, header.leap
        elif outcome == "kiss":
            stratum, leap = 0, LEAP_UNSYNCHRONIZED
        sample = Sample(
            received, client, version, outcome, stratum, leap, self._sampled
        )
        self._sampled = 0
        return sample
