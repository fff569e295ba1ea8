# -*- test-case-name: tests.test_roughtime_server -*-
"""
The Roughtime server: requests gathered into batches, each batch's Merkle
tree signed once (RFC 10049 section 5.3), over UDP and, optionally, TCP.

L{Responder} is the server apart from its transports: it is handed request
packets with a way to reply, and it keeps the delegation. A batch closes
when it holds L{Responder.maxBatch} requests or L{Responder.batchWait}
seconds after its first, on the (monotonic) timers; its MIDP is the wall
clock's, and its RADI the one the clock's health gives (L{radiusFor}),
handed in as a callable. Nothing of clocksvc is imported: the web layer
reads L{RoughtimeStats} for C{/metrics}, and the delegation for
C{/healthz}.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from twisted.internet.interfaces import IAddress, IDelayedCall, IReactorTime
from twisted.internet.protocol import (
    DatagramProtocol,
    Factory,
    Protocol,
    connectionDone,
)
from twisted.logger import Logger
from twisted.python.failure import Failure

from ._merkle import MerkleTree, hashLeaf
from ._ratelimit import RateLimit
from ._signing import RESPONSE_CONTEXT, Delegation, delegate, publicKeyOf, srvOf
from ._wire import (
    FRAME_HEADER,
    MAGIC,
    MAX_REQUEST,
    MIN_UDP_REQUEST,
    Malformed,
    Request,
    parseRequest,
    response,
    signedResponse,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = [
    "DROP_REASONS",
    "Responder",
    "RoughtimeStats",
    "RoughtimeStream",
    "RoughtimeStreamFactory",
    "RoughtimeUDP",
]

_log = Logger(namespace="clocksvc.service")

#: Why a request goes unanswered, as C{/metrics} counts it: shorter than
#: 1024 bytes over UDP; longer than 1472; not a request (L{Malformed}'s
#: reasons: malformed, version, nonce, type); naming another key (srv);
#: beyond its address's rate; the clock unsynchronized under
#: C{--roughtime-require-synchronized}; a reply that would be larger than
#: its request.
DROP_REASONS = (
    "short",
    "oversized",
    "malformed",
    "version",
    "nonce",
    "type",
    "srv",
    "rate",
    "unsynchronized",
    "too_large",
)

#: The batch sizes C{/metrics} counts batches under, as a histogram's bounds.
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)


@dataclass
class RoughtimeStats:
    """
    What the server did, in plain numbers, for C{/metrics} to read.

    @ivar requests: datagrams and TCP packets received, by transport.
    @ivar replies: signed replies sent.
    @ivar dropped: requests not answered, by reason (L{DROP_REASONS}).
    @ivar batches: batches signed, by the smallest L{BATCH_BUCKETS} bound
        their size is within.
    @ivar batchRequests: the requests in all batches.
    @ivar delegations: online keys delegated.
    """

    requests: dict[str, int] = field(default_factory=lambda: {"udp": 0, "tcp": 0})
    replies: int = 0
    dropped: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(DROP_REASONS, 0)
    )
    batches: dict[int, int] = field(
        default_factory=lambda: dict.fromkeys(BATCH_BUCKETS, 0)
    )
    batchRequests: int = 0
    delegations: int = 0

    def drop(self, reason: str) -> None:
        """
        Count a request not answered, for C{reason}.
        """
        self.dropped[reason] += 1

    def batch(self, size: int) -> None:
        """
        Count a batch of C{size} requests.
        """
        self.batchRequests += size
        for bound in BATCH_BUCKETS:
            if size <= bound:
                self.batches[bound] += 1
                return


#: A pending request: the request, how to send its reply, and whether it
#: came over UDP (whose replies may not be larger than their requests).
_Pending = tuple[Request, Callable[[bytes], None], bool]


class Responder:
    """
    Answers requests in signed batches, and keeps the delegation current.

    @ivar publicKey: the long-term public key's 32 bytes.
    @ivar stats: what it did.
    """

    #: The most requests in one batch: 64 makes PATH 6 nodes, a reply of
    #: 612 bytes, well under the 1024 of a request.
    maxBatch = 64
    #: How long the first request of a batch waits for others, in seconds.
    batchWait = 0.001
    #: How long an online key is delegated for, in seconds: a day.
    validity = 86400
    #: A new online key is delegated when the window has less than this
    #: left, in seconds.
    renewBefore = 3600
    #: MINT is this far before the delegation, in seconds, so that a small
    #: step back of the clock needs no new key.
    slack = 60

    def __init__(
        self,
        longTerm: Ed25519PrivateKey,
        wallClock: IReactorTime,
        timers: IReactorTime,
        radius: Callable[[], int | None],
        *,
        maxBatch: int | None = None,
        batchWait: float | None = None,
        stats: RoughtimeStats | None = None,
    ) -> None:
        """
        @param longTerm: the long-term key.
        @param wallClock: the wall clock, which MIDP, MINT and MAXT read.
        @param timers: where a batch waits (the monotonic clock).
        @param radius: gives RADI now, or L{None} to answer nothing.
        @param maxBatch: instead of L{maxBatch}; 1 turns batching off.
        @param batchWait: instead of L{batchWait}.
        @param stats: where to count, if not a new L{RoughtimeStats}.
        """
        self._longTerm = longTerm
        self._wallClock = wallClock
        self._timers = timers
        self._radius = radius
        if maxBatch is not None:
            self.maxBatch = maxBatch
        if batchWait is not None:
            self.batchWait = batchWait
        self.stats = RoughtimeStats() if stats is None else stats
        self.publicKey = publicKeyOf(longTerm)
        self._srv = srvOf(self.publicKey)
        self._pending: list[_Pending] = []
        self._timer: IDelayedCall | None = None
        self._delegation = self._delegate(int(wallClock.seconds()))

    def _delegate(self, now: int) -> Delegation:
        self.stats.delegations += 1
        made = delegate(self._longTerm, now - self.slack, now + self.validity)
        _log.info(
            "roughtime: online key delegated until {maxTime}",
            event="roughtime_delegated",
            maxTime=made.maxTime,
            details={"mint": made.minTime, "maxt": made.maxTime},
        )
        return made

    def delegation(self, now: int | None = None) -> Delegation:
        """
        @param now: the time it is for, in seconds since the epoch; by
            default the clock's.
        @return: the delegation for C{now}: the current one, or a new one
            if C{now} is outside it or it closes within L{renewBefore}.
        """
        if now is None:
            now = int(self._wallClock.seconds())
        current = self._delegation
        if not current.minTime <= now <= current.maxTime - self.renewBefore:
            current = self._delegation = self._delegate(now)
        return current

    def submit(self, packet: bytes, reply: Callable[[bytes], None], udp: bool) -> None:
        """
        Take a request packet into the batch, or count why not.

        @param packet: the packet, of at most L{MAX_REQUEST} bytes.
        @param reply: sends the reply.
        @param udp: whether it came over UDP.
        """
        try:
            request = parseRequest(packet)
        except Malformed as e:
            self.stats.drop(e.reason)
            return
        # Section 5.2: a request for a key this server does not hold MUST be
        # ignored.
        if request.srv is not None and request.srv != self._srv:
            self.stats.drop("srv")
            return
        self._pending.append((request, reply, udp))
        if len(self._pending) >= self.maxBatch:
            self.flush()
        elif self._timer is None:
            self._timer = self._timers.callLater(self.batchWait, self.flush)

    def flush(self) -> None:
        """
        Answer the pending requests: one Merkle tree, one signature for
        each version among them.
        """
        if self._timer is not None:
            if self._timer.active():
                self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if not batch:
            return
        radius = self._radius()
        if radius is None:
            for _ in batch:
                self.stats.drop("unsynchronized")
            return
        # Section 5.2.5: MIDP is "the moment of processing"; rounded to the
        # second, which the radius allows for.
        midpoint = int(self._wallClock.seconds() + 0.5)
        current = self.delegation(midpoint)
        tree = MerkleTree([hashLeaf(request.packet) for request, _, _ in batch])
        signed: dict[int, tuple[bytes, bytes]] = {}
        for index, (request, reply, udp) in enumerate(batch):
            version = request.version
            if version not in signed:
                srep = signedResponse(version, radius, midpoint, tree.root)
                signed[version] = (srep, current.sign(RESPONSE_CONTEXT[version] + srep))
            srep, signature = signed[version]
            packet = response(
                signature,
                request.nonce,
                tree.path(index),
                srep,
                current.certificates[version],
                index,
            )
            # Section 11.6: never larger than the request, over UDP.
            if udp and len(packet) > len(request.packet):
                self.stats.drop("too_large")
                continue
            reply(packet)
            self.stats.replies += 1
        self.stats.batch(len(batch))

    def stop(self) -> None:
        """
        Answer what is pending now, and leave nothing scheduled.
        """
        self.flush()


class RoughtimeUDP(DatagramProtocol):
    """
    Roughtime over UDP: one request a datagram, of 1024 to 1472 bytes.
    """

    def __init__(self, responder: Responder, limit: RateLimit | None) -> None:
        """
        @param responder: answers the requests.
        @param limit: the rate of each address, or L{None} for none.
        """
        self._responder = responder
        self._limit = limit

    def datagramReceived(self, datagram: bytes, addr: tuple[str, int]) -> None:
        stats = self._responder.stats
        stats.requests["udp"] += 1
        if len(datagram) < MIN_UDP_REQUEST:
            stats.drop("short")
            return
        if len(datagram) > MAX_REQUEST:
            stats.drop("oversized")
            return
        if self._limit is not None and not self._limit.allow(addr[0]):
            stats.drop("rate")
            return
        self._responder.submit(datagram, lambda packet: self._send(packet, addr), True)

    def _send(self, packet: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None:
            self.transport.write(packet, addr)


class RoughtimeStream(Protocol):
    """
    Roughtime over TCP (section 5): packets framed as over UDP, one after
    another, answered in the order their batches close. A connection that
    sends what is not a packet, or one larger than 1472 bytes, is closed;
    so is one idle for L{RoughtimeStreamFactory.idleTimeout}.
    """

    def __init__(self, factory: RoughtimeStreamFactory) -> None:
        self._factory = factory
        self._buffer = b""
        self._idle: IDelayedCall | None = None
        self._open = False
        self._peer = ""

    def connectionMade(self) -> None:
        factory = self._factory
        if factory.open >= factory.maxConnections:
            factory.refused += 1
            self.transport.abortConnection()  # type: ignore[union-attr]
            return
        factory.open += 1
        self._open = True
        self._peer = str(getattr(self.transport.getPeer(), "host", ""))  # type: ignore[union-attr]
        self._touch()

    def _touch(self) -> None:
        if self._idle is not None and self._idle.active():
            self._idle.reset(self._factory.idleTimeout)
        else:
            self._idle = self._factory.timers.callLater(
                self._factory.idleTimeout, self._close
            )

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.loseConnection()

    def dataReceived(self, data: bytes) -> None:
        if not self._open:
            return
        self._touch()
        self._buffer += data
        responder = self._factory.responder
        while len(self._buffer) >= FRAME_HEADER:
            (length,) = struct.unpack_from("<I", self._buffer, 8)
            if self._buffer[:8] != MAGIC or FRAME_HEADER + length > MAX_REQUEST:
                responder.stats.requests["tcp"] += 1
                responder.stats.drop(
                    "malformed" if self._buffer[:8] != MAGIC else "oversized"
                )
                self._buffer = b""
                self._close()
                return
            if len(self._buffer) < FRAME_HEADER + length:
                return
            packet = self._buffer[: FRAME_HEADER + length]
            self._buffer = self._buffer[FRAME_HEADER + length :]
            responder.stats.requests["tcp"] += 1
            limit = self._factory.limit
            if limit is not None and not limit.allow(self._peer):
                responder.stats.drop("rate")
                continue
            responder.submit(packet, self._send, False)

    def _send(self, packet: bytes) -> None:
        if self.transport is not None and self._open:
            self.transport.write(packet)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._open:
            self._open = False
            self._factory.open -= 1
        if self._idle is not None and self._idle.active():
            self._idle.cancel()


class RoughtimeStreamFactory(Factory):
    """
    Makes L{RoughtimeStream}s, at most L{maxConnections} open at once.
    """

    #: Connections open at once; more are closed as they arrive.
    maxConnections = 256
    #: Seconds a connection may send nothing before it is closed.
    idleTimeout = 10.0

    def __init__(
        self, responder: Responder, timers: IReactorTime, limit: RateLimit | None
    ) -> None:
        """
        @param responder: answers the requests.
        @param timers: where the idle timeouts run.
        @param limit: the rate of each address, shared with UDP's, or
            L{None} for none.
        """
        self.responder = responder
        self.timers = timers
        self.limit = limit
        self.open = 0
        self.refused = 0

    def buildProtocol(self, addr: IAddress | None) -> Protocol:
        return RoughtimeStream(self)
