# -*- test-case-name: tests.test_shutdown,tests.test_workers -*-
"""
The signal policy, in one place: the first SIGTERM (or SIGINT) stops
gracefully, a second one forces the stop. A single clocksvc drains, then
drops what is left; a supervisor stops its workers, then kills them. SIGHUP
reopens the log file (logrotate's C{postrotate}, systemd's C{ExecReload}),
and a supervisor passes it on to its workers; it never stops clocksvc.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "RELOAD_SIGNAL",
    "STOP_SIGNALS",
    "Reload",
    "TwoStep",
    "onReloadSignal",
    "onStopSignals",
]

#: The signals that stop clocksvc.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

#: The signal that reopens the log file.
RELOAD_SIGNAL = signal.SIGHUP


class TwoStep:
    """
    A stop asked for more than once: the first time gracefully, every time
    after that by force.
    """

    def __init__(self, graceful: Callable[[], None], forced: Callable[[], None]):
        """
        @param graceful: starts a graceful stop.
        @param forced: forces it.
        """
        self._graceful = graceful
        self._forced = forced
        self.asked = False

    def __call__(self) -> None:
        """
        Ask to stop.
        """
        if self.asked:
            self._forced()
            return
        self.asked = True
        self._graceful()


def onStopSignals(
    reactor: Any,
    callback: Callable[[], None],
    signals: Iterable[signal.Signals] = STOP_SIGNALS,
) -> None:
    """
    Call C{callback} in the reactor's thread on each of C{signals}, in place
    of the reactor's own handlers, which would only stop it.

    @param reactor: the reactor, which must be running.
    @param callback: what to do; a L{TwoStep} for the usual policy.
    @param signals: which signals.
    """

    def onSignal(signum: int, frame: object) -> None:
        reactor.callFromThread(callback)

    for signum in signals:
        signal.signal(signum, onSignal)


class Reload:
    """
    What SIGHUP does: every callback added, in order; nothing until one is.
    """

    def __init__(self) -> None:
        self._callbacks: list[Callable[[], None]] = []

    def add(self, callback: Callable[[], None]) -> None:
        """
        Call C{callback} on each SIGHUP from now on.
        """
        self._callbacks.append(callback)

    def __call__(self) -> None:
        for callback in self._callbacks:
            callback()


def onReloadSignal(reactor: Any, callback: Callable[[], None]) -> None:
    """
    Call C{callback} in the reactor's thread on each SIGHUP, in place of its
    default action, which would end the process.

    @param reactor: the reactor, which must be running.
    @param callback: what to do; a L{Reload}.
    """
    onStopSignals(reactor, callback, [RELOAD_SIGNAL])
