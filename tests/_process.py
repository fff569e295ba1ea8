"""
Run C{python -m clocksvc} as a real child process, for the CLI tests.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessDone, ProcessTerminated
from twisted.internet.protocol import ProcessProtocol
from twisted.python.failure import Failure

import clocksvc

__all__ = ["ClocksvcProcess", "spawnClocksvc", "spawnTwist"]

# The child imports the same clocksvc the tests do, whether that is the
# working copy or an installed wheel.
_IMPORT_ROOT = str(Path(clocksvc.__file__).resolve().parent.parent)


class ClocksvcProcess(ProcessProtocol):
    """
    A running C{python -m clocksvc}: its output so far, its first line for
    people, and its exit.

    @ivar stdout: everything written to standard output so far: the log's
        lines, with the default C{--access-log -}.
    @ivar stderr: everything written to standard error so far: the lines
        for people (where it serves, that it stops) and problems.
    @ivar firstLine: fires with the first line of standard error, which says
        where it serves, or why it cannot; C{b""} if it exits first.
    @ivar exited: fires with the exit status.
    """

    def __init__(self) -> None:
        self.stdout = b""
        self.stderr = b""
        self.firstLine: Deferred[bytes] = Deferred()
        self.exited: Deferred[int | None] = Deferred()
        self._waiting: list[tuple[re.Pattern[bytes], Deferred[re.Match[bytes]]]] = []

    def outReceived(self, data: bytes) -> None:
        self.stdout += data

    def printed(self, pattern: bytes) -> Deferred[re.Match[bytes]]:
        """
        @param pattern: a regular expression.
        @return: fires with its first match in standard error, where the
            lines for people are, once there is one.
        """
        compiled = re.compile(pattern)
        waiting: Deferred[re.Match[bytes]] = Deferred()
        found = compiled.search(self.stderr)
        if found is not None:
            waiting.callback(found)
        else:
            self._waiting.append((compiled, waiting))
        return waiting

    def errReceived(self, data: bytes) -> None:
        self.stderr += data
        if b"\n" in self.stderr and not self.firstLine.called:
            self.firstLine.callback(self.stderr.split(b"\n", 1)[0])
        for entry in list(self._waiting):
            found = entry[0].search(self.stderr)
            if found is not None:
                self._waiting.remove(entry)
                entry[1].callback(found)

    def processEnded(self, reason: Failure) -> None:
        if not self.firstLine.called:
            self.firstLine.callback(b"")
        error = reason.value
        exitCode = (
            error.exitCode
            if isinstance(error, (ProcessDone, ProcessTerminated))
            else None
        )
        self.exited.callback(exitCode)

    def signal(self, name: str) -> None:
        """
        Send a signal to the process, if it is still running.

        @param name: C{"TERM"}, C{"INT"} or C{"KILL"}.
        """
        if self.transport is not None and self.transport.pid is not None:
            self.transport.signalProcess(name)


def spawnClocksvc(
    *args: str, environment: Mapping[str, str] | None = None
) -> ClocksvcProcess:
    """
    Start C{python -m clocksvc} with C{args}.

    @param environment: variables to set in its environment, beside ours.
    @return: the process; the caller makes sure it ends.
    """
    process = ClocksvcProcess()
    env = {**os.environ, **(environment or {})}
    env["PYTHONPATH"] = os.pathsep.join(
        [_IMPORT_ROOT, *filter(None, [env.get("PYTHONPATH")])]
    )
    reactor.spawnProcess(
        process, sys.executable, [sys.executable, "-m", "clocksvc", *args], env=env
    )
    return process


def spawnTwist(
    twist: str, *args: str, environment: Mapping[str, str] | None = None
) -> ClocksvcProcess:
    """
    Start C{twist clocksvc} with C{args}, with the same clocksvc as
    L{spawnClocksvc}'s.

    @param twist: the path of C{twist}, beside an installed clocksvc, whose
        plugin it finds.
    @param environment: as L{spawnClocksvc}'s.
    @return: the process; the caller makes sure it ends.
    """
    process = ClocksvcProcess()
    env = {**os.environ, **(environment or {})}
    env["PYTHONPATH"] = os.pathsep.join(
        [_IMPORT_ROOT, *filter(None, [env.get("PYTHONPATH")])]
    )
    reactor.spawnProcess(process, twist, [twist, "clocksvc", *args], env=env)
    return process
