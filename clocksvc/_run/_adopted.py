# -*- test-case-name: tests.test_activation,tests.test_workers -*-
"""
Listening sockets that another process made and keeps, served as they are:
those systemd passes (socket activation), and those a supervisor passes to
its workers (C{--workers}).

Twisted's port for an adopted UNIX socket treats the socket as its own: it
chmods the file to 0666 and listens anew as it starts, and when it stops it
shuts the socket down and removes the file. That is wrong for a socket
that is systemd's (C{SocketMode=} and the file are the C{.socket} unit's,
and the service's next start serves on it again), and for one that other
workers share. The port here only starts and stops accepting on it.
"""

from __future__ import annotations

import socket
from typing import Any, cast

from twisted.internet import tcp, unix
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.endpoints import AdoptedStreamServerEndpoint
from twisted.internet.error import AlreadyListened
from twisted.internet.interfaces import IListeningPort, IProtocolFactory
from twisted.internet.protocol import Factory
from twisted.python.failure import Failure

__all__ = ["SharedUNIXPort", "SystemdEndpoint", "adoptListening"]


class SharedUNIXPort(unix.Port):
    """
    A port on a listening UNIX socket that another process (systemd, the
    supervisor) made and keeps: it accepts on it, and leaves its mode, its
    file and its listening state alone.
    """

    # Close only this process's descriptor when it stops: Twisted's own name
    # for it, which it sets for the sockets it adopts; no public one exists.
    # tests.test_private.PrivateNamesTests fails if it goes.
    _shouldShutdown = False

    def __init__(self, held: socket.socket, factory: IProtocolFactory, reactor: Any):
        super().__init__(held.getsockname(), factory, reactor=reactor)
        self._held = held

    def startListening(self) -> None:
        """
        What L{unix.Port.startListening} does with a socket it adopts, less
        the chmod and the C{listen()}.
        """
        # A descriptor kept for when accept() runs out, as Twisted's ports do,
        # through their private reserve: there is no public one.
        # tests.test_private.PrivateNamesTests fails if it goes.
        tcp._reservedFD.reserve()
        # Twisted types the factory as optional; a port always has one.
        cast(Factory, self.factory).doStart()
        self.connected = True
        self.socket = self._held
        # Twisted's ports assign it too (tcp.Port.startListening).
        self.fileno = self._held.fileno  # type: ignore[method-assign]
        self.numberAccepts = 100
        self.startReading()

    def connectionLost(self, reason: Failure) -> None:
        # tcp.Port's, without unix.Port's removal of the file and its lock.
        tcp.Port.connectionLost(self, reason)


def adoptListening(
    reactor: Any, held: socket.socket, factory: IProtocolFactory
) -> IListeningPort:
    """
    Serve C{factory} on the listening socket C{held}, as it is.

    @param held: the socket, which the caller still closes: the port keeps
        a duplicate of it.
    @return: the port, listening.
    """
    if held.family == socket.AF_UNIX:
        port: IListeningPort = SharedUNIXPort(held.dup(), factory, reactor)
        port.startListening()
        return port
    # A TCP port adopted by Twisted changes nothing of the socket's, and its
    # stop closes only this process's descriptor.
    adopted: IListeningPort = reactor.adoptStreamPort(
        held.fileno(), held.family, factory
    )
    return adopted


class SystemdEndpoint(AdoptedStreamServerEndpoint):
    """
    A socket that systemd passed, as C{systemd:} names it, served as it is
    (L{adoptListening}): a UNIX socket keeps the mode and the file that
    its C{.socket} unit gave it, through every start and stop of clocksvc.
    """

    _listened = False

    def listen(self, factory: IProtocolFactory) -> Deferred[IListeningPort]:
        """
        Serve on the socket, once: its descriptor is closed here, as
        L{AdoptedStreamServerEndpoint} closes it.
        """
        if self._listened:
            # Its descriptor is closed, and its number may be another file's.
            return fail(AlreadyListened("systemd's socket is served already"))
        self._listened = True
        try:
            held = socket.socket(fileno=self.fileno)
        except OSError:
            return fail()
        try:
            # A Python socket made from a descriptor takes blocking for its
            # mode, which its dup() would carry over.
            held.setblocking(False)
            port = adoptListening(self.reactor, held, factory)
        except Exception:
            return fail()
        finally:
            held.close()
        return succeed(port)
