"""
Tests for L{clocksvc._run._sockets}: the sockets that the supervisor of
C{--workers} binds for its workers, and that each worker adopts and leaves
to the others, with real descriptors in this process.
"""

from __future__ import annotations

import errno
import os
import socket
import stat
from collections.abc import Callable
from typing import Any

from twisted.internet import reactor
from twisted.internet.address import IPv4Address, UNIXAddress
from twisted.internet.defer import maybeDeferred
from twisted.internet.endpoints import TCP4ServerEndpoint, serverFromString
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase

from clocksvc._run import _sockets
from clocksvc._run._endpoints import Problem
from clocksvc._run._sockets import InheritedEndpoint, _tcpSockets, bindListeners

from ._helpers import socketPath


class TCPSocketsTests(SynchronousTestCase):
    """
    L{_tcpSockets} binds one socket for each worker, or one shared.
    """

    def sockets(self, *args: Any) -> tuple[Any, list[socket.socket]]:
        address, made = _tcpSockets(*args)
        for s in made:
            self.addCleanup(s.close)
        return address, made

    def test_group(self) -> None:
        """
        Port 0 is one port the system picks, for every socket of a group of
        C{SO_REUSEPORT} sockets, all listening and not blocking.
        """
        address, group = self.sockets("127.0.0.1", 0, 50, 3)
        self.assertEqual(len(group), 3)
        self.assertNotEqual(address.port, 0)
        for s in group:
            self.assertEqual(s.getsockname(), ("127.0.0.1", address.port))
            self.assertTrue(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT))
            self.assertTrue(s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
            self.assertFalse(os.get_blocking(s.fileno()))

    def test_shared(self) -> None:
        """
        For one worker, one socket, without C{SO_REUSEPORT}.
        """
        _, [shared] = self.sockets("127.0.0.1", 0, 50, 1)
        self.assertFalse(shared.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT))

    def test_ipv6(self) -> None:
        """
        An IPv6 interface binds IPv6 sockets.
        """
        if not socket.has_ipv6:
            raise SkipTest("no IPv6")
        try:
            address, group = self.sockets("::1", 0, 50, 2)
        except CannotListenError as e:
            raise SkipTest(f"no IPv6 loopback: {e}") from None
        self.assertEqual((address.type, address.host), ("TCP", "::1"))
        self.assertEqual({s.family for s in group}, {socket.AF_INET6})

    def test_inUse(self) -> None:
        """
        An address something listens on is refused, even when that is a
        socket with C{SO_REUSEPORT} of the same user, which the group could
        otherwise join.
        """
        for reusePort in (False, True):
            taken = socket.socket()
            self.addCleanup(taken.close)
            if reusePort:
                taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            error = self.assertRaises(
                CannotListenError, _tcpSockets, "127.0.0.1", port, 50, 2
            )
            self.assertEqual(error.socketError.errno, errno.EADDRINUSE)


class BindListenersTests(TestCase):
    """
    L{bindListeners} listens on every endpoint for the workers.
    """

    async def test_tcp(self) -> None:
        """
        A public TCP endpoint gets a socket for each worker; an admin one,
        one for worker 0.
        """
        endpoints = [
            ("tcp:0:interface=127.0.0.1", TCP4ServerEndpoint(reactor, 0)),
        ]
        admin = [("tcp:0:interface=127.0.0.1", TCP4ServerEndpoint(reactor, 0))]
        public, adminListener = await bindListeners(endpoints, admin, 2)
        self.addCleanup(adminListener.close)
        self.addCleanup(public.close)
        fds = [public.fdFor(0), public.fdFor(1)]
        self.assertEqual(len(set(fds)), 2)
        self.assertIsInstance(public.address, IPv4Address)
        self.assertIsNotNone(adminListener.fdFor(0))
        self.assertIsNone(adminListener.fdFor(1))
        self.assertTrue(adminListener.admin)

    async def test_unix(self) -> None:
        """
        A UNIX socket is one, shared, made with its mode, and removed when
        the supervisor lets go of it.
        """
        path = socketPath(self)
        description = f"unix:{path}:mode=640"
        [listener] = await bindListeners(
            [(description, serverFromString(reactor, description))], [], 2
        )
        self.assertEqual(listener.fdFor(0), listener.fdFor(1))
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o640)
        self.assertEqual(listener.address, UNIXAddress(os.fsencode(path)))
        await listener.close()
        self.assertFalse(os.path.exists(path))

    async def test_inUse(self) -> None:
        """
        A port in use is one problem, as a single clocksvc words it, and
        the endpoints bound before it are let go of.
        """
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = f"tcp:{taken.getsockname()[1]}:interface=127.0.0.1"
        path = socketPath(self)
        endpoints = [
            (f"unix:{path}", serverFromString(reactor, f"unix:{path}")),
            (busy, serverFromString(reactor, busy)),
        ]
        with self.assertRaises(Problem) as raised:
            await bindListeners(endpoints, [], 2)
        self.assertEqual(
            str(raised.exception), f"cannot listen on {busy}: address already in use"
        )
        self.assertFalse(os.path.exists(path))

    async def test_unsupported(self) -> None:
        """
        An endpoint that is not TCP, TLS, a UNIX socket or systemd's is
        refused.
        """
        self.patch(_sockets, "wouldListen", lambda description, factory=None: None)
        endpoints = [("other:1", TCP4ServerEndpoint(reactor, 0))]
        with self.assertRaises(Problem) as raised:
            await bindListeners(endpoints, [], 2)
        self.assertEqual(
            str(raised.exception),
            "--workers cannot share 'other:1': only tcp:, tcp6:, ssl:, unix: and "
            "systemd: endpoints",
        )


class Accepted(Protocol):
    """
    Says C{hello} and hangs up.
    """

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.transport.write(b"hello")
        self.transport.loseConnection()


async def received(connect: Callable[[], socket.socket]) -> bytes:
    """
    Connect with a blocking socket in a thread of its own, so that the
    reactor serves meanwhile.

    @return: what the server sent before it hung up.
    """

    def talk() -> bytes:
        with connect() as s:
            s.settimeout(10)
            return s.recv(100)

    return await deferToThread(talk)


class InheritedEndpointTests(TestCase):
    """
    A worker adopts the sockets it inherits, and leaves them to the others
    when it stops.
    """

    async def test_tcp(self) -> None:
        """
        A TCP socket is served, and still listens for the others after this
        worker stops.
        """
        _, [held] = _tcpSockets("127.0.0.1", 0, 50, 1)
        self.addCleanup(held.close)
        port = await InheritedEndpoint(reactor, os.dup(held.fileno())).listen(
            Factory.forProtocol(Accepted)
        )
        address = held.getsockname()
        self.assertEqual(
            await received(lambda: socket.create_connection(address)), b"hello"
        )
        await maybeDeferred(port.stopListening)
        self.assertTrue(held.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
        self.assertFalse(os.get_blocking(held.fileno()))

    async def test_unix(self) -> None:
        """
        A UNIX socket keeps its mode and its file, stays listening and not
        blocking for the others, when one worker starts and stops on it:
        Twisted's adopted UNIX port would chmod it to 0666, shut it down
        for every process, and remove it.
        """
        path = socketPath(self)
        held = socket.socket(socket.AF_UNIX)
        self.addCleanup(held.close)
        held.bind(path)
        os.chmod(path, 0o600)
        held.listen(5)
        held.setblocking(False)
        port = await InheritedEndpoint(reactor, os.dup(held.fileno())).listen(
            Factory.forProtocol(Accepted)
        )

        def connect() -> socket.socket:
            client = socket.socket(socket.AF_UNIX)
            client.connect(path)
            return client

        self.assertEqual(await received(connect), b"hello")
        self.assertEqual(port.getHost(), UNIXAddress(os.fsencode(path)))
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        await maybeDeferred(port.stopListening)
        self.assertTrue(os.path.exists(path))
        self.assertFalse(os.get_blocking(held.fileno()))
        # Another worker still accepts on it.
        with connect():
            held.settimeout(10)
            accepted, _ = held.accept()
            accepted.close()

    async def test_notASocket(self) -> None:
        """
        A descriptor that is no socket fails to listen.
        """
        read, written = os.pipe()
        self.addCleanup(os.close, written)
        self.addCleanup(os.close, read)
        with self.assertRaises(OSError):
            await InheritedEndpoint(reactor, read).listen(Factory())
