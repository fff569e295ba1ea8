# -*- test-case-name: tests.test_shutdown -*-
"""
Graceful shutdown: on the first SIGTERM (or SIGINT), stop accepting
connections at once, let the requests in flight finish, end event streams with
a last event, and stop; a second signal, or the shutdown timeout, drops what
is left.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TextIO

from twisted.internet.defer import Deferred, gatherResults, maybeDeferred
from twisted.internet.interfaces import IDelayedCall, IListeningPort

from .._http import ClockSite
from ._logging import say, serviceLog
from ._signals import TwoStep

__all__ = ["GracefulShutdown"]


class GracefulShutdown:
    """
    Drains a site when the reactor shuts down.

    @ivar finished: fires with the exit status once the drain is over: 0 if
        every connection closed in time, 1 if some had to be dropped.
    """

    def __init__(
        self,
        reactor: Any,
        site: ClockSite,
        ports: Sequence[IListeningPort],
        timeout: float,
        stdout: TextIO | None,
        adminPorts: Sequence[IListeningPort] = (),
    ) -> None:
        """
        @param reactor: the reactor, to stop and to time the drain with.
        @param site: the site to drain.
        @param ports: the ports to stop listening on at once.
        @param timeout: how long the drain may take.
        @param stdout: where to say what is happening, if anywhere.
        @param adminPorts: the ports to stop listening on after the drain:
            those of C{/healthz}, which says "draining" meanwhile.
        """
        self._reactor = reactor
        self._site = site
        self._ports = list(ports)
        self._adminPorts = list(adminPorts)
        self._timeout = timeout
        self._stdout = stdout
        self._forced = False
        #: A signal asked to stop: the first one shuts down gracefully, a
        #: second one forces it.
        self.requested = TwoStep(reactor.stop, self.force)
        self.finished: Deferred[int] = Deferred()

    def force(self) -> None:
        """
        Drop every connection now.
        """
        self._forced = True
        self._site.abortAll()

    def drainNow(self) -> Deferred[None]:
        """
        Shut down gracefully: the reactor's "before shutdown" trigger, which
        it waits for.

        @return: fires when the drain is over.
        """
        return Deferred.fromCoroutine(self._drain())

    async def _drain(self) -> None:
        # Once draining, however it began, the next signal forces.
        self.requested.asked = True
        await gatherResults([maybeDeferred(port.stopListening) for port in self._ports])
        self._say(
            f"stopping: draining {self._site.openConnections} connection(s) "
            f"for up to {self._timeout:g} s"
        )
        timer: IDelayedCall = self._reactor.callLater(self._timeout, self.force)
        await self._site.drain()
        if timer.active():
            timer.cancel()
        await gatherResults(
            [maybeDeferred(port.stopListening) for port in self._adminPorts]
        )
        self._say("stopped" if not self._forced else "stopped, dropping connections")
        self.finished.callback(1 if self._forced else 0)

    def _say(self, message: str) -> None:
        if self._stdout is not None:
            say(self._stdout, f"clocksvc: {message}")
        serviceLog.info("{what}", event="shutdown", what=message)
