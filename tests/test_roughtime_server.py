"""
Tests for L{clocksvc._roughtime}'s server: batches on a L{Clock}, the
delegation's renewal, the radius from the clock's health, the rate limit,
and the TCP framing, in memory.
"""

from __future__ import annotations

import os

from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._roughtime import (
    UNSYNCHRONIZED_RADIUS,
    RateLimit,
    Responder,
    RoughtimeStreamFactory,
    RoughtimeUDP,
    generateKey,
    publicKeyOf,
    radiusFor,
)
from clocksvc._roughtime._signing import srvOf
from clocksvc._roughtime._wire import DRAFT_VERSION, request

from ._helpers import BILLENNIUM, clockAt
from ._roughtime import checkAnswer


class BatchTests(SynchronousTestCase):
    """
    Requests are answered in batches: one tree, one signature a version.
    """

    def setUp(self) -> None:
        self.clock = clockAt(BILLENNIUM)
        self.key = generateKey()
        self.public = publicKeyOf(self.key)
        self.radius: int | None = 1
        self.responder = Responder(
            self.key, self.clock, self.clock, lambda: self.radius
        )
        self.replies: list[bytes] = []

    def submit(self, packet: bytes, udp: bool = True) -> None:
        self.responder.submit(packet, self.replies.append, udp)

    def test_batch(self) -> None:
        """
        Requests wait L{Responder.batchWait} for others; then all are
        answered from one root, each with its path, in either version, at
        the clock's second.
        """
        packets = [request(os.urandom(32)) for _ in range(3)]
        packets.append(request(os.urandom(32), [DRAFT_VERSION]))
        for packet in packets:
            self.submit(packet)
        self.assertEqual(self.replies, [])
        self.clock.advance(Responder.batchWait)
        answers = [
            checkAnswer(p, r, self.public) for p, r in zip(packets, self.replies)
        ]
        self.assertEqual({a.root for a in answers}, {answers[0].root})
        self.assertEqual([a.index for a in answers], [0, 1, 2, 3])
        self.assertEqual([a.version for a in answers], [1, 1, 1, DRAFT_VERSION])
        # BILLENNIUM is a whole second: MIDP is it.
        self.assertEqual({a.midpoint for a in answers}, {int(BILLENNIUM)})
        self.assertEqual(len({a.signature for a in answers}), 2)
        self.assertEqual(self.responder.stats.batches[4], 1)
        self.assertFalse(self.clock.calls)

    def test_full(self) -> None:
        """
        A batch of L{Responder.maxBatch} is answered at once; each reply,
        with its 6-node path, is smaller than its request.
        """
        packets = [request(os.urandom(32)) for _ in range(Responder.maxBatch)]
        for packet in packets:
            self.submit(packet)
        self.assertEqual(len(self.replies), 64)
        self.assertEqual(max(len(r) for r in self.replies), 612)
        checkAnswer(packets[63], self.replies[63], self.public)
        self.assertFalse(self.clock.calls)

    def test_unbatched(self) -> None:
        """
        With a batch of 1, each request is answered at once, alone.
        """
        responder = Responder(self.key, self.clock, self.clock, lambda: 1, maxBatch=1)
        responder.submit(request(NONCE := os.urandom(32)), self.replies.append, True)
        self.assertEqual(len(self.replies), 1)
        self.assertEqual(
            checkAnswer(request(NONCE), self.replies[0], self.public).path, b""
        )

    def test_srv(self) -> None:
        """
        A request naming this server's key is answered; one naming another
        is not, and is counted.
        """
        self.submit(request(os.urandom(32), srv=srvOf(self.public)))
        self.submit(request(os.urandom(32), srv=srvOf(bytes(32))))
        self.submit(b"ROUGHTIM" + bytes(1016))
        self.clock.advance(1)
        self.assertEqual(len(self.replies), 1)
        self.assertEqual(
            (
                self.responder.stats.dropped["srv"],
                self.responder.stats.dropped["malformed"],
            ),
            (1, 1),
        )

    def test_unsynchronized(self) -> None:
        """
        When the radius is L{None} (the clock unsynchronized, with
        --roughtime-require-synchronized), nothing is answered.
        """
        self.radius = None
        self.submit(request(os.urandom(32)))
        self.clock.advance(1)
        self.assertEqual(self.replies, [])
        self.assertEqual(self.responder.stats.dropped["unsynchronized"], 1)

    def test_neverLarger(self) -> None:
        """
        Over UDP no reply is larger than its request: a small one is not
        answered (the UDP protocol drops them before); over TCP it is.
        """
        small = request(os.urandom(32), size=200)
        self.submit(small)
        self.submit(small, udp=False)
        self.clock.advance(1)
        self.assertEqual(len(self.replies), 1)
        self.assertEqual(self.responder.stats.dropped["too_large"], 1)

    def test_renewed(self) -> None:
        """
        The window opens a minute before the delegation and lasts a day; a
        batch within an hour of its end, or before its start (a step back),
        gets a new online key.
        """
        first = self.responder.delegation()
        self.assertEqual(
            (first.minTime, first.maxTime), (BILLENNIUM - 60, BILLENNIUM + 86400)
        )
        self.clock.advance(86400 - 3600)
        self.assertIs(self.responder.delegation(), first)
        self.clock.advance(1)
        second = self.responder.delegation()
        self.assertEqual(second.minTime, BILLENNIUM + 86400 - 3600 + 1 - 60)
        self.assertIsNot(self.responder.delegation(int(BILLENNIUM)), second)
        self.assertEqual(self.responder.stats.delegations, 3)

    def test_stop(self) -> None:
        """
        Stopping answers what is pending and leaves nothing scheduled.
        """
        self.submit(request(os.urandom(32)))
        self.responder.stop()
        self.assertEqual(len(self.replies), 1)
        self.assertFalse(self.clock.calls)


class RadiusTests(SynchronousTestCase):
    """
    RADI follows the clock's health.
    """

    def test_radius(self) -> None:
        """
        The maximum error, with MIDP's half second of rounding, strictly
        exceeded: never below 1 s; a day when unsynchronized or unknown,
        or nothing under --roughtime-require-synchronized; 3 s at least
        without leap information, a second more with a leap pending.
        """
        for args, radius in [
            ((True, 1.25), 1),
            ((True, 499.0), 1),
            ((True, 500.0), 2),
            ((True, 16000.0), 17),
            ((True, 1.25, "insert"), 2),
            ((True, 1.25, "unknown"), 3),
            ((True, None), UNSYNCHRONIZED_RADIUS),
            ((False, 16000.0), UNSYNCHRONIZED_RADIUS),
            ((None, None), UNSYNCHRONIZED_RADIUS),
            ((False, 16000.0, "none", True), None),
            ((None, None, "unknown", True), None),
            ((True, 1e12), UNSYNCHRONIZED_RADIUS),
        ]:
            self.assertEqual(radiusFor(*args), radius, args)  # type: ignore[arg-type]


class RateLimitTests(SynchronousTestCase):
    """
    Each address may send a burst, then a rate; the table is bounded.
    """

    def test_bucket(self) -> None:
        """
        20 at once, then 5 a second.
        """
        clock = Clock()
        limit = RateLimit(clock)
        self.assertEqual(sum(limit.allow("192.0.2.1") for _ in range(25)), 20)
        self.assertTrue(limit.allow("192.0.2.2"))
        clock.advance(1)
        self.assertEqual(sum(limit.allow("192.0.2.1") for _ in range(10)), 5)

    def test_bounded(self) -> None:
        """
        The table forgets the address heard from least recently.
        """
        limit = RateLimit(Clock(), burst=1, addresses=2)
        for address in ["a", "b", "a", "c"]:
            limit.allow(address)
        self.assertEqual(len(limit), 2)
        # a is still known, with an empty bucket; b was forgotten, and has a
        # full one again.
        self.assertEqual((limit.allow("a"), limit.allow("b")), (False, True))


class TransportTests(SynchronousTestCase):
    """
    The UDP and TCP protocols, in memory.
    """

    def setUp(self) -> None:
        self.clock = clockAt(BILLENNIUM)
        self.key = generateKey()
        self.responder = Responder(self.key, self.clock, self.clock, lambda: 1)

    def test_udpRate(self) -> None:
        """
        Beyond its address's rate, a datagram is dropped and counted.
        """
        udp = RoughtimeUDP(self.responder, RateLimit(self.clock, burst=1))
        sent: list[tuple[bytes, object]] = []

        class Transport:
            def write(self, packet: bytes, addr: object) -> None:
                sent.append((packet, addr))

        udp.transport = Transport()  # type: ignore[assignment]
        for _ in range(2):
            udp.datagramReceived(request(os.urandom(32)), ("192.0.2.1", 1000))
        udp.datagramReceived(bytes(2000), ("192.0.2.1", 1000))
        self.clock.advance(1)
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent[0][1], ("192.0.2.1", 1000))
        stats = self.responder.stats
        self.assertEqual((stats.dropped["rate"], stats.dropped["oversized"]), (1, 1))

    def connect(
        self, factory: RoughtimeStreamFactory
    ) -> tuple[object, StringTransport]:
        protocol = factory.buildProtocol(None)
        transport = StringTransport(peerAddress=IPv4Address("TCP", "192.0.2.1", 1000))
        protocol.makeConnection(transport)
        return protocol, transport

    def test_tcp(self) -> None:
        """
        Packets may arrive in pieces and together; each is answered on the
        connection. An idle connection is closed after 10 s.
        """
        factory = RoughtimeStreamFactory(self.responder, self.clock, None)
        protocol, transport = self.connect(factory)
        packets = [request(os.urandom(32), size=100) for _ in range(2)]
        data = b"".join(packets)
        protocol.dataReceived(data[:5])  # type: ignore[attr-defined]
        protocol.dataReceived(data[5:])  # type: ignore[attr-defined]
        self.clock.advance(Responder.batchWait)
        written = transport.value()
        length = 12 + int.from_bytes(written[8:12], "little")
        public = publicKeyOf(self.key)
        checkAnswer(packets[0], written[:length], public)
        checkAnswer(packets[1], written[length:], public)
        self.assertFalse(transport.disconnecting)
        self.clock.advance(RoughtimeStreamFactory.idleTimeout)
        self.assertTrue(transport.disconnecting)
        protocol.connectionLost()  # type: ignore[attr-defined]
        self.assertEqual(factory.open, 0)
        self.assertFalse(self.clock.calls)

    def test_tcpRefused(self) -> None:
        """
        What is not a packet, or one too large, closes the connection; and
        beyond the connections allowed, new ones are closed; beyond the
        rate, a packet is dropped.
        """
        factory = RoughtimeStreamFactory(
            self.responder, self.clock, RateLimit(self.clock, burst=1)
        )
        protocol, transport = self.connect(factory)
        protocol.dataReceived(b"HTTP/1.1 GET / ...")  # type: ignore[attr-defined]
        self.assertTrue(transport.disconnecting)
        protocol, transport = self.connect(factory)
        protocol.dataReceived(b"ROUGHTIM" + (5000).to_bytes(4, "little"))  # type: ignore[attr-defined]
        self.assertTrue(transport.disconnecting)
        protocol, transport = self.connect(factory)
        protocol.dataReceived(request(os.urandom(32)) * 2)  # type: ignore[attr-defined]
        self.assertEqual(self.responder.stats.dropped["rate"], 1)
        factory.maxConnections = factory.open
        _, refused = self.connect(factory)
        self.assertEqual(factory.refused, 1)
        self.assertTrue(refused.disconnected or refused.disconnecting)
        stats = self.responder.stats
        self.assertEqual(
            (stats.dropped["malformed"], stats.dropped["oversized"]), (1, 1)
        )
        self.responder.stop()
