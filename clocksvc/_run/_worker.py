# -*- test-case-name: tests.test_workers -*-
"""
A worker of C{python -m clocksvc --workers N}: the sockets it inherited from
the supervisor, and its link to it.

The supervisor starts each worker through a private entry point,
L{clocksvc._run._workermain}.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure

from ._endpoints import Problem
from ._signals import onStopSignals
from ._sockets import InheritedEndpoint, Only

__all__ = ["READY", "Worker"]

#: What a worker says on its link to the supervisor once it serves.
READY = b"ready\n"


class _SupervisorLink(Protocol):
    """
    A worker's end of its link to the supervisor.
    """

    def __init__(self, lost: Callable[[], None]) -> None:
        self._lost = lost

    def connectionMade(self) -> None:
        if self.transport is not None:
            self.transport.write(READY)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._lost()


class Worker:
    """
    A worker's side: the sockets it inherited, and its link to the
    supervisor.
    """

    def __init__(self, reactor: Any, fds: Sequence[int | None], linkFD: int) -> None:
        """
        @param reactor: the reactor to serve with.
        @param fds: for each C{--listen}, then each C{--admin-listen}, the
            descriptor to serve it on, or C{None} for one another worker
            serves.
        @param linkFD: the worker's end of its link to the supervisor.
        """
        self._reactor = reactor
        self._fds = list(fds)
        self._linkFD = linkFD
        self._stopping = False
        self._handleSignals = False
        self._requested: Callable[[], None] | None = None

    def endpoints(
        self,
        listen: Sequence[str],
        admin: Sequence[str],
        reload: Callable[[Callable[[], None]], None] | None = None,
    ) -> tuple[
        list[tuple[str, IStreamServerEndpoint]],
        list[tuple[str, IStreamServerEndpoint]],
    ]:
        """
        @param reload: given each C{ssl:} endpoint's certificate reload.
        @return: the public and the admin endpoints to serve, each on its
            inherited socket.
        @raise Problem: if the descriptors do not match the descriptions.
        """
        if len(self._fds) != len(listen) + len(admin):
            raise Problem("a worker needs a descriptor or - for each endpoint")
        found: list[tuple[str, IStreamServerEndpoint]] = []
        for description, fd in zip([*listen, *admin], self._fds):
            if fd is None:
                continue
            # Wrapped as the description's endpoint wraps its factory (TLS,
            # the PROXY protocol); systemd's sockets are adopted as they are,
            # and a worker cannot parse their description: its environment
            # names no socket.
            wrapped = None if description.startswith("systemd:") else description
            found.append(
                (description, InheritedEndpoint(self._reactor, fd, wrapped, reload))
            )
        publicCount = sum(fd is not None for fd in self._fds[: len(listen)])
        return found[:publicCount], found[publicCount:]

    def serving(self, requested: Callable[[], None], handleSignals: bool) -> None:
        """
        Tell the supervisor that this worker serves; from now on stop
        gracefully, once, on SIGTERM or when the supervisor is gone.

        @param requested: starts the graceful shutdown.
        @param handleSignals: whether to handle SIGTERM: for the real
            process only.
        """
        self._requested = requested
        self._handleSignals = handleSignals
        if handleSignals:
            # The first SIGTERM drains; SIGINT is the supervisor's to
            # forward as SIGTERM (see clocksvc._run._workermain).
            onStopSignals(self._reactor, self.stop, [signal.SIGTERM])
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.set_blocking(self._linkFD, False)
        self._reactor.adoptStreamConnection(
            self._linkFD, socket.AF_UNIX, Only(_SupervisorLink(self.stop))
        )
        os.close(self._linkFD)

    def stop(self) -> None:
        """
        Stop gracefully, unless this worker is stopping already.
        """
        if self._stopping or self._requested is None:
            return
        self._stopping = True
        if self._handleSignals:
            # A second SIGTERM is not a second request: the supervisor sends
            # one, and so may whoever signals every process of the group or
            # cgroup (systemd's KillMode=control-group); the supervisor kills
            # a worker that has to be forced. Ignored rather than handled,
            # since Python restores the default action of the signals it
            # handles as it exits, and one arriving then would kill it.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        self._requested()
