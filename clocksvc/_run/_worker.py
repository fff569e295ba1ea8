# -*- test-case-name: tests.test_worker,tests.test_workers -*-
"""
A worker of C{python -m clocksvc --workers N}: the sockets it inherited from
the supervisor, and its link to it.

The supervisor starts each worker through a private entry point,
L{clocksvc._run._workermain}.

A worker does not outlive its supervisor. The link is a socket pair whose
other end only the supervisor holds, so that the kernel closes it however
the supervisor ends, C{kill -9} included: the worker reads that end in its
reactor, from the start, and then stops (at once if it does not serve yet;
with the drain of SIGTERM if it does). Until it serves, on Linux, the
kernel also kills it outright when the supervisor dies
(C{PR_SET_PDEATHSIG}): a worker still starting may not be running its
reactor yet, or be held up in its start (a file that does not open), and it
has nothing to drain.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet.error import ReactorNotRunning
from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure

from ._endpoints import Problem
from ._signals import onStopSignals
from ._sockets import InheritedEndpoint, Only

__all__ = ["READY", "Worker", "dieWithParent", "hungUp"]

#: What a worker says on its link to the supervisor once it serves.
READY = b"ready\n"

#: prctl(2)'s option that sets the signal a process gets when its parent
#: dies (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def dieWithParent(signum: int) -> bool:
    """
    Have Linux send this process C{signum} when its parent dies; 0, no
    signal. The parent is the thread that started it, which for a worker
    is the supervisor's reactor thread, that lives as long as it does.

    A parent that has died already sends nothing: see L{hungUp}.

    @return: whether it could (only on Linux, and with C{prctl} at hand).
    """
    if not sys.platform.startswith("linux"):  # pragma: no cover (Linux's alone)
        return False
    try:
        prctl = ctypes.CDLL(None).prctl
    except (OSError, AttributeError):  # pragma: no cover (a libc without it)
        return False
    # int prctl(int option, unsigned long arg2, ...): the unused arguments
    # as wide as the kernel reads them.
    unused = ctypes.c_ulong(0)
    done: int = prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(signum), unused, unused, unused)
    return done == 0


def hungUp(fd: int) -> bool:
    """
    @param fd: a worker's end of its link to the supervisor, which the
        supervisor never writes to.
    @return: whether the supervisor's end is closed: it has ended.
    """
    with socket.socket(fileno=os.dup(fd)) as link:
        try:
            return link.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False


class _SupervisorLink(Protocol):
    """
    A worker's end of its link to the supervisor.
    """

    def __init__(self, lost: Callable[[], None]) -> None:
        self._lost = lost

    def ready(self) -> None:
        """
        Tell the supervisor that this worker serves.
        """
        if self.transport is not None:
            self.transport.write(READY)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._lost()


class Worker:
    """
    A worker's side: the sockets it inherited, and its link to the
    supervisor.
    """

    def __init__(
        self,
        reactor: Any,
        fds: Sequence[int | None],
        linkFD: int,
        diesWithParent: bool = False,
    ) -> None:
        """
        @param reactor: the reactor to serve with.
        @param fds: for each C{--listen}, then each C{--admin-listen}, the
            descriptor to serve it on, or C{None} for one another worker
            serves.
        @param linkFD: the worker's end of its link to the supervisor.
        @param diesWithParent: whether L{dieWithParent} has Linux kill this
            process with the supervisor, until it serves.
        """
        self._reactor = reactor
        self._fds = list(fds)
        self._linkFD = linkFD
        self._diesWithParent = diesWithParent
        self._link: _SupervisorLink | None = None
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

    def watch(self) -> _SupervisorLink:
        """
        Read the link to the supervisor with the reactor, so as to stop once
        the supervisor is gone; once only.

        @return: the link.
        """
        if self._link is None:
            self._link = _SupervisorLink(self._supervisorGone)
            os.set_blocking(self._linkFD, False)
            self._reactor.adoptStreamConnection(
                self._linkFD, socket.AF_UNIX, Only(self._link)
            )
            os.close(self._linkFD)
        return self._link

    def _supervisorGone(self) -> None:
        if self._requested is None:
            # Not serving yet: there is nothing to drain. (Or the reactor is
            # stopping already, and closed the link.)
            with contextlib.suppress(ReactorNotRunning):
                self._reactor.stop()
            return
        self.stop()

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
        if self._diesWithParent:
            # From now on the link's end drains the connections, which the
            # kernel's SIGKILL would drop: it would come at the same time.
            self._diesWithParent = not dieWithParent(0)
        self.watch().ready()

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
