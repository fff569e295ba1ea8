"""
Tests for L{clocksvc._ntp._batched}: the UDP port that reads datagrams many
to a C{recvmmsg} and writes a batch's replies with one C{sendmmsg}, over
real sockets on the loopback.

Each test sends from plain client sockets, which the loopback delivers
before C{sendto} returns, then calls the port's C{doRead} itself, as the
reactor would once the socket is readable: what one read takes is then
known exactly.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any, cast

from twisted.internet import reactor, udp
from twisted.internet.interfaces import IReactorFDSet, IReactorUDP
from twisted.internet.protocol import DatagramProtocol
from twisted.trial.unittest import SkipTest, TestCase

from clocksvc._ntp import _batched
from clocksvc._ntp._batched import (
    BATCH,
    BatchedPort,
    addressOf,
    batchedAvailable,
    listenBatched,
)

from ._ntp import request

if not batchedAvailable(reactor):  # pragma: no cover (CI runs on Linux)
    raise SkipTest("recvmmsg through cffi is Linux's, on a reactor of descriptors")

_fdReactor = cast(IReactorFDSet, reactor)
_udpReactor = cast(IReactorUDP, reactor)

Write = Any


class _Batches(DatagramProtocol):
    """
    A protocol that takes batches: keeps each, and answers each datagram
    with C{answer(datagram)} when that is not L{None}.
    """

    def __init__(self, answer: Any = None) -> None:
        self.batches: list[list[tuple[bytes, tuple[str, int]]]] = []
        self.written: list[int] = []
        self._answer = answer

    def batchReceived(
        self, datagrams: Sequence[tuple[bytes, tuple[str, int]]], write: Write
    ) -> None:
        self.batches.append(list(datagrams))
        if self._answer is not None:
            replies = [
                (index, self._answer(datagram))
                for index, (datagram, _) in enumerate(datagrams)
            ]
            self.written.append(write(replies))


class _OneByOne(DatagramProtocol):
    """
    A protocol of Twisted's kind: one datagram at a time.
    """

    def __init__(self) -> None:
        self.received: list[tuple[bytes, tuple[str, int]]] = []

    def datagramReceived(self, datagram: bytes, address: Any) -> None:
        self.received.append((datagram, address))


class BatchedPortTests(TestCase):
    """
    L{BatchedPort} on 127.0.0.1 and [::1].
    """

    def listen(
        self, protocol: DatagramProtocol, interface: str = "127.0.0.1"
    ) -> BatchedPort:
        port = BatchedPort(0, protocol, interface, 1024, _fdReactor)
        port.startListening()
        self.addCleanup(port.stopListening)
        return port

    def clients(self, count: int, family: int = socket.AF_INET) -> list[socket.socket]:
        sockets = []
        for _ in range(count):
            client = socket.socket(family, socket.SOCK_DGRAM)
            self.addCleanup(client.close)
            client.bind(("127.0.0.1" if family == socket.AF_INET else "::1", 0))
            client.settimeout(5)
            sockets.append(client)
        return sockets

    def test_batches(self) -> None:
        """
        What the socket holds is read C{BATCH} datagrams a call and handed
        over a batch at a time, in order, each with its sender's address as
        C{recvfrom} gives it.
        """
        protocol = _Batches()
        port = self.listen(protocol)
        [client] = self.clients(1)
        sent = [bytes([i]) * 48 for i in range(BATCH + 5)]
        for datagram in sent:
            client.sendto(datagram, ("127.0.0.1", port.getHost().port))
        port.doRead()
        self.assertEqual([len(b) for b in protocol.batches], [BATCH, 5])
        received = [pair for batch in protocol.batches for pair in batch]
        self.assertEqual([datagram for datagram, _ in received], sent)
        self.assertEqual({address for _, address in received}, {client.getsockname()})

    def test_nothing(self) -> None:
        """
        A read that finds the socket empty hands nothing over.
        """
        protocol = _Batches()
        port = self.listen(protocol)
        port.doRead()
        self.assertEqual(protocol.batches, [])

    def test_maxThroughput(self) -> None:
        """
        One C{doRead} stops once it has read C{maxThroughput} bytes, as
        Twisted's port does, and leaves the rest to the next.
        """
        protocol = _Batches()
        port = self.listen(protocol)
        port.maxThroughput = 48 * BATCH
        [client] = self.clients(1)
        for _ in range(BATCH * 3):
            client.sendto(request(), ("127.0.0.1", port.getHost().port))
        port.doRead()
        self.assertEqual([len(b) for b in protocol.batches], [BATCH])
        port.doRead()
        self.assertEqual([len(b) for b in protocol.batches], [BATCH, BATCH])

    def test_replies(self) -> None:
        """
        The replies of a batch reach each its own client, IPv4 and IPv6
        alike, with one C{sendmmsg}.
        """
        for family, host in [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")]:
            protocol = _Batches(lambda datagram: datagram[::-1])
            port = self.listen(protocol, host)
            clients = self.clients(3, family)
            for number, client in enumerate(clients):
                client.sendto(b"ask %d" % number, (host, port.getHost().port))
            port.doRead()
            self.assertEqual(protocol.written, [3])
            self.assertEqual(
                [client.recvfrom(100) for client in clients],
                [
                    (b"%d ksa" % number, (host, port.getHost().port, 0, 0)[:2])
                    if family == socket.AF_INET
                    else (b"%d ksa" % number, (host, port.getHost().port, 0, 0))
                    for number in range(3)
                ],
            )

    def test_noLongerReply(self) -> None:
        """
        A reply longer than its request is never sent: the port refuses it,
        and the protocol's error is logged, not raised to the reactor.
        """
        protocol = _Batches(lambda datagram: datagram * 2)
        port = self.listen(protocol)
        [client] = self.clients(1)
        client.sendto(request(), ("127.0.0.1", port.getHost().port))
        port.doRead()
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)
        client.setblocking(False)
        self.assertRaises(BlockingIOError, client.recv, 100)

    def test_oneByOne(self) -> None:
        """
        A protocol without C{batchReceived} is handed each datagram, as
        Twisted's port hands it; what it raises is logged, and the next
        datagram handed over all the same.
        """
        protocol = _OneByOne()
        port = self.listen(protocol)
        [client] = self.clients(1)
        for datagram in (b"one", b"two"):
            client.sendto(datagram, ("127.0.0.1", port.getHost().port))
        port.doRead()
        self.assertEqual(
            protocol.received,
            [(b"one", client.getsockname()), (b"two", client.getsockname())],
        )

    def test_protocolRaises(self) -> None:
        """
        What a protocol raises from a datagram is logged, and the next is
        handed over all the same.
        """
        protocol = _OneByOne()
        calls: list[bytes] = []

        def received(datagram: bytes, address: Any) -> None:
            calls.append(datagram)
            raise ZeroDivisionError()

        protocol.datagramReceived = received  # type: ignore[method-assign]
        port = self.listen(protocol)
        [client] = self.clients(1)
        for datagram in (b"one", b"two"):
            client.sendto(datagram, ("127.0.0.1", port.getHost().port))
        port.doRead()
        self.assertEqual(calls, [b"one", b"two"])
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 2)

    def test_unwritten(self) -> None:
        """
        Replies the socket will not take are not written, and C{write} says
        how many were: none, here, from a socket closed under it.
        """
        protocol = _Batches(lambda datagram: datagram)
        port = self.listen(protocol)
        [client] = self.clients(1)
        for _ in range(3):
            client.sendto(request(), ("127.0.0.1", port.getHost().port))
        answer = protocol.batchReceived

        def closeFirst(datagrams: Any, write: Write) -> None:
            _fdReactor.removeReader(port)
            socket.socket(fileno=port.socket.detach()).close()
            answer(datagrams, write)

        protocol.batchReceived = closeFirst  # type: ignore[method-assign]
        port.doRead()
        self.assertEqual(protocol.written, [0])

    def test_readError(self) -> None:
        """
        An error that is not "nothing to read now" is raised to the reactor,
        which closes the port, as Twisted's port does.
        """
        port = BatchedPort(0, _Batches(), "127.0.0.1", 1024, _fdReactor)
        port.startListening()
        self.addCleanup(port.connectionLost)
        _fdReactor.removeReader(port)
        duplicate = socket.socket(fileno=port.socket.detach())
        duplicate.close()
        self.assertRaises(OSError, port.doRead)


class AddressTests(TestCase):
    """
    The source addresses the port reads.
    """

    def test_addressOf(self) -> None:
        """
        A C{sockaddr_in} and a C{sockaddr_in6} read as C{recvfrom} gives
        them, the IPv6 one without its flow and scope.
        """
        family4 = socket.AF_INET.to_bytes(2, "little")
        family6 = socket.AF_INET6.to_bytes(2, "little")
        self.assertEqual(
            addressOf(
                family4 + (123).to_bytes(2, "big") + bytes([192, 0, 2, 1]) + bytes(8)
            ),
            ("192.0.2.1", 123),
        )
        self.assertEqual(
            addressOf(
                family6
                + (40000).to_bytes(2, "big")
                + bytes(4)
                + socket.inet_pton(socket.AF_INET6, "2001:db8::1")
                + (7).to_bytes(4, "little")
            ),
            ("2001:db8::1", 40000),
        )

    def test_bounded(self) -> None:
        """
        At most L{_Addresses.SIZE} addresses are kept: one more empties the
        table.
        """
        addresses = _batched._Addresses()
        family4 = socket.AF_INET.to_bytes(2, "little")
        for port in range(addresses.SIZE):
            addresses(family4 + port.to_bytes(2, "big") + bytes(12))
        self.assertEqual(len(addresses._known), addresses.SIZE)
        self.assertEqual(
            addresses(
                family4 + (65535).to_bytes(2, "big") + bytes([192, 0, 2, 9]) + bytes(8)
            ),
            ("192.0.2.9", 65535),
        )
        self.assertEqual(len(addresses._known), 1)


class ListenTests(TestCase):
    """
    L{listenBatched}: the batched port where it can be, Twisted's elsewhere.
    """

    def test_batched(self) -> None:
        """
        On Linux, on a reactor of file descriptors, the port is batched.
        """
        port = listenBatched(_udpReactor, 0, _Batches(), "127.0.0.1", 1024)
        self.addCleanup(port.stopListening)
        self.assertIsInstance(port, BatchedPort)

    def test_fallBack(self) -> None:
        """
        Without cffi (or off Linux), it is the reactor's own UDP port, with
        the same arguments.
        """
        self.patch(_batched, "_C", None)
        self.assertFalse(batchedAvailable(reactor))
        port = listenBatched(_udpReactor, 0, _Batches(), "127.0.0.1", 1024)
        self.addCleanup(port.stopListening)
        self.assertNotIsInstance(port, BatchedPort)
        self.assertIsInstance(port, udp.Port)
        self.assertEqual(cast(udp.Port, port).maxPacketSize, 1024)
