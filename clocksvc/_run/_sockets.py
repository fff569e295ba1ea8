# -*- test-case-name: tests.test_sockets,tests.test_workers -*-
"""
The listening sockets of C{--workers}: the supervisor binds every endpoint's
socket itself, before any worker starts, so that a typo or a port in use is
reported once (TCP endpoints get one C{SO_REUSEPORT} socket per worker, so
that the kernel spreads connections; UNIX and systemd sockets are shared);
each worker adopts the descriptors it inherits.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any, cast

from twisted.internet.abstract import isIPv6Address
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.defer import Deferred, fail, maybeDeferred, succeed
from twisted.internet.endpoints import AdoptedStreamServerEndpoint
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import (
    IAddress,
    IListeningPort,
    IProtocolFactory,
    IStreamServerEndpoint,
)
from twisted.internet.protocol import Factory, Protocol
from zope.interface import implementer

from .._http import listeningFactory
from ._adopted import adoptListening
from ._endpoints import Problem, describeListenError, parseEndpoint, splitProxy

__all__ = [
    "InheritedEndpoint",
    "Listener",
    "Only",
    "bindListeners",
    "wouldListen",
]


class _WouldListen:
    """
    What an endpoint would listen on: found by letting it listen with a
    reactor that only notes it down (L{_ListenRecorder}).

    @ivar unix: whether it is a UNIX socket; if not, TCP.
    @ivar tls: for TCP, whether it speaks TLS.
    @ivar contextFactory: for TLS, the endpoint's context factory.
    @ivar factory: the protocol factory the endpoint hands the reactor: the
        one it was given, or one that wraps it.
    """

    def __init__(
        self,
        factory: object,
        unix: bool = False,
        port: int = 0,
        backlog: int = 50,
        interface: str = "",
        contextFactory: Any = None,
    ) -> None:
        self.factory = factory
        self.unix = unix
        self.port = port
        self.backlog = backlog
        self.interface = interface
        self.tls = contextFactory is not None
        self.contextFactory = contextFactory


class _ListenRecorder:
    """
    A stand-in for the reactor of an endpoint, which notes down what the
    endpoint asks to listen on rather than listening.

    This asks Twisted's own endpoint parsers, through the reactor interfaces
    they call (L{IReactorTCP}, L{IReactorSSL}, L{IReactorUNIX}), rather than
    reading their private attributes or parsing descriptions a second way.
    """

    found: _WouldListen | None = None

    def listenTCP(
        self, port: int, factory: object, backlog: int = 50, interface: str = ""
    ) -> None:
        self.found = _WouldListen(
            factory, port=port, backlog=backlog, interface=interface
        )

    def listenSSL(
        self,
        port: int,
        factory: object,
        contextFactory: Any,
        backlog: int = 50,
        interface: str = "",
    ) -> None:
        self.found = _WouldListen(
            factory,
            port=port,
            backlog=backlog,
            interface=interface,
            contextFactory=contextFactory,
        )

    def listenUNIX(
        self,
        address: str,
        factory: object,
        backlog: int = 50,
        mode: int = 0o666,
        wantPID: int = 0,
    ) -> None:
        self.found = _WouldListen(factory, unix=True)


def wouldListen(
    description: str,
    factory: IProtocolFactory | None = None,
    reload: Callable[[Callable[[], None]], None] | None = None,
) -> _WouldListen | None:
    """
    @param description: an endpoint description that parses.
    @param factory: the protocol factory to listen with.
    @param reload: as L{parseEndpoint}'s: for a worker's C{ssl:} endpoint,
        whose certificate SIGHUP reads again.
    @return: what it would listen on, and with what factory; C{None} for an
        endpoint that is not TCP, TLS or a UNIX socket, perhaps wrapped (as
        C{haproxy:} wraps another, whose factory it does not say).
    """
    description = splitProxy(description)[1]
    recorder = _ListenRecorder()
    listening = parseEndpoint(recorder, description, reload).listen(
        Factory() if factory is None else factory
    )
    # Another kind of endpoint calls what the recorder lacks: that failure
    # means "not one of ours", and is not to be logged as unhandled.
    listening.addErrback(lambda failure: None)
    return recorder.found


class Listener:
    """
    One endpoint as the supervisor holds it: its socket, or one socket for
    each worker.

    @ivar description: the endpoint description it was given as.
    @ivar address: where it listens.
    @ivar tls: whether it speaks TLS.
    @ivar admin: whether it is an C{--admin-listen} one, for worker 0 only.
    """

    def __init__(
        self,
        description: str,
        address: IAddress,
        fds: Sequence[int],
        close: Callable[[], object],
        tls: bool = False,
        admin: bool = False,
    ) -> None:
        """
        @param fds: the descriptor every worker shares, or one for each.
        @param close: closes the supervisor's own hold on the socket(s).
        """
        self.description = description
        self.address = address
        self.tls = tls
        self.admin = admin
        self._fds = list(fds)
        self._close = close
        self._closed = False

    def fdFor(self, index: int) -> int | None:
        """
        @return: the descriptor that worker C{index} is to serve, if any.
        """
        if self.admin and index != 0:
            return None
        return self._fds[index % len(self._fds)]

    def close(self) -> Deferred[None]:
        """
        Let go of the supervisor's hold on the socket(s), once; the workers'
        descriptors stay open until each closes its own.
        """
        if self._closed:
            return succeed(None)
        self._closed = True
        return maybeDeferred(self._close).addCallback(lambda _: None)


def _tcpSockets(
    interface: str, port: int, backlog: int, count: int
) -> tuple[IAddress, list[socket.socket]]:
    """
    Bind and listen: one socket for each of C{count} workers with
    C{SO_REUSEPORT}, or one shared socket when C{count} is 1.

    Why a socket each: with one shared socket, every worker's epoll wakes for
    each new connection, and the first to run accepts all that are queued
    (Twisted takes up to 100 at once), so a burst of connections (a load
    balancer's pool, a benchmark's 50) lands on one worker, and keep-alive
    keeps it there. Linux spreads connections over a group of C{SO_REUSEPORT}
    sockets by a hash of their addresses, evenly, and wakes only the worker
    whose socket got it. The cost: the connections queued on one worker's
    socket wait for that worker; when it dies, they wait for the one started
    in its place, on the same socket, which the supervisor keeps open.

    Where C{SO_REUSEPORT} does not spread connections (Linux's does, from
    3.9; elsewhere one socket of the group gets them all), it is one shared
    socket.

    Every socket of the group has to set C{SO_REUSEPORT} before it binds, and
    then any process of the same user that sets it too could join the group,
    and take a share of the connections. So the address is first bound
    without it, by a socket that fails, as a single clocksvc does, if anything
    listens there already, and that also learns the port the system picked
    for port 0; the group then binds beside it, and it is closed.

    @return: where they listen, and the sockets.
    @raise CannotListenError: if the address cannot be bound.
    """
    family = socket.AF_INET6 if isIPv6Address(interface) else socket.AF_INET
    address: tuple[Any, ...] = (interface, port)
    made: list[socket.socket] = []

    def make(reusePort: bool) -> socket.socket:
        made.append(socket.socket(family, socket.SOCK_STREAM))
        # As Twisted's own ports: SO_REUSEADDR, and not blocking.
        made[-1].setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reusePort:
            made[-1].setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        made[-1].setblocking(False)
        return made[-1]

    try:
        if family == socket.AF_INET6:
            # As Twisted resolves it, for a scope such as fe80::1%eth0.
            address = socket.getaddrinfo(
                interface, port, family, 0, 0, socket.AI_NUMERICHOST
            )[0][4]
        probe = make(False)
        probe.bind(address)
        if count == 1 or not _SPREADS_REUSEPORT:
            probe.listen(backlog)
            group = [probe]
        else:
            address = (address[0], probe.getsockname()[1], *address[2:])
            group = []
            for _ in range(count):
                group.append(make(True))
                group[-1].bind(address)
                group[-1].listen(backlog)
            probe.close()
    except OSError as e:
        for s in made:
            s.close()
        raise CannotListenError(interface, port, e) from e
    host, boundPort = group[0].getsockname()[:2]
    found = IPv6Address if family == socket.AF_INET6 else IPv4Address
    return found("TCP", host, boundPort), group


#: Whether the system spreads connections over SO_REUSEPORT sockets.
_SPREADS_REUSEPORT = sys.platform.startswith("linux") and hasattr(
    socket, "SO_REUSEPORT"
)


async def _bind(
    description: str,
    endpoint: IStreamServerEndpoint,
    count: int,
    admin: bool,
) -> Listener:
    """
    Listen on one endpoint for C{count} workers.

    @raise Problem: if it is a kind of endpoint that workers cannot share.
    @raise Exception: what listening raised.
    """
    if isinstance(endpoint, AdoptedStreamServerEndpoint):
        # A socket that systemd passed: shared as it is, and left to systemd.
        fd = endpoint.fileno
        with socket.socket(fileno=os.dup(fd)) as held:
            held.setblocking(False)
            address = _addressOf(held)
        return Listener(description, address, [fd], lambda: os.close(fd), admin=admin)
    would = wouldListen(description)
    if would is None:
        raise Problem(
            f"--workers cannot share {description!r}: only tcp:, tcp6:, ssl:, "
            "unix: and systemd: endpoints"
        )
    if would.unix:
        # Twisted's own UNIX port, with its lock file and mode, which the
        # supervisor never reads from: the workers accept.
        # A unix.Port, whose stopReading and fileno IListeningPort does not
        # name.
        port: Any = await endpoint.listen(Factory())
        port.stopReading()
        return Listener(
            description,
            port.getHost(),
            [port.fileno()],
            port.stopListening,
            admin=admin,
        )
    address, sockets = _tcpSockets(would.interface, would.port, would.backlog, count)

    def close() -> None:
        for s in sockets:
            s.close()

    return Listener(
        description,
        address,
        [s.fileno() for s in sockets],
        close,
        tls=would.tls,
        admin=admin,
    )


def _addressOf(held: socket.socket) -> IAddress:
    """
    @return: where C{held} listens, as Twisted's ports say it.
    """
    if held.family == socket.AF_UNIX:
        name = held.getsockname()
        return UNIXAddress(os.fsencode(name) if isinstance(name, str) else name)
    host, port = held.getsockname()[:2]
    if held.family == socket.AF_INET6:
        return IPv6Address("TCP", host, port)
    return IPv4Address("TCP", host, port)


async def bindListeners(
    endpoints: Sequence[tuple[str, IStreamServerEndpoint]],
    adminEndpoints: Sequence[tuple[str, IStreamServerEndpoint]],
    workers: int,
) -> list[Listener]:
    """
    Listen on every endpoint, for C{workers} workers; if one fails, let go
    of the others.

    @return: the listeners: the public ones, then the admin ones.
    @raise Problem: if an endpoint cannot be listened on, or shared.
    """
    listeners: list[Listener] = []
    targets = [(d, e, False) for d, e in endpoints]
    targets += [(d, e, True) for d, e in adminEndpoints]
    try:
        for description, endpoint, admin in targets:
            try:
                listeners.append(
                    await _bind(description, endpoint, 1 if admin else workers, admin)
                )
            except Problem:
                raise
            except Exception as e:
                raise Problem(
                    f"cannot listen on {description}: {describeListenError(e)}"
                ) from e
    except Problem:
        for listener in listeners:
            await listener.close()
        raise
    return listeners


class Only(Factory):
    """
    Builds one given protocol: for a connection adopted by descriptor.
    """

    def __init__(self, protocol: Protocol) -> None:
        self._protocol = protocol

    def buildProtocol(self, addr: IAddress | None) -> Protocol:
        return self._protocol


@implementer(IStreamServerEndpoint)
class InheritedEndpoint:
    """
    A listening socket that a worker inherited as a descriptor, as an
    endpoint to listen on once.
    """

    def __init__(
        self,
        reactor: Any,
        fd: int,
        description: str | None = None,
        reload: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        """
        @param reactor: the reactor to adopt it into.
        @param fd: the descriptor, which L{listen} closes.
        @param description: the description of the endpoint it was bound
            for, if any: whatever that endpoint wraps its protocol factory
            in (TLS for C{ssl:}, the PROXY protocol for C{haproxy:}, or both)
            is wrapped in here too.
        @param reload: as L{parseEndpoint}'s.
        """
        self._reactor = reactor
        self._fd = fd
        self._description = description
        self._reload = reload

    def listen(self, protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:
        try:
            held = socket.socket(fileno=self._fd)
            # Not blocking, as it is already: a Python socket made from a
            # descriptor takes blocking for its mode, which its dup() would
            # set on the socket shared by every process (and then each would
            # block in accept() once another took the connection).
            held.setblocking(False)
        except OSError:
            return fail()
        try:
            proxied, inner = (
                (False, None)
                if self._description is None
                else splitProxy(self._description)
            )
            would = (
                None
                if inner is None
                else wouldListen(inner, protocolFactory, self._reload)
            )
            if would is not None:
                # What the endpoint would hand the reactor, and the PROXY
                # protocol's reader around it for haproxy:, as
                # ProxyProtocolEndpoint puts it.
                protocolFactory = listeningFactory(
                    cast(IProtocolFactory, would.factory),
                    self._reactor,
                    proxied,
                    would.contextFactory,
                )
            port = adoptListening(self._reactor, held, protocolFactory)
        except Exception:
            return fail()
        finally:
            held.close()
        return succeed(port)
