"""
Real child processes for the tests: C{python -m clocksvc} (as a user starts
it, as C{twist} does, and as systemd does with a socket it holds), and other
programs, such as curl, run to their end.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessDone, ProcessTerminated
from twisted.internet.protocol import ProcessProtocol
from twisted.python.failure import Failure
from twisted.trial.unittest import SkipTest

import clocksvc

__all__ = [
    "PATIENCE",
    "ClocksvcProcess",
    "CurlResult",
    "ProcessResult",
    "curl",
    "peopleLines",
    "runProcess",
    "spawnActivated",
    "spawnClocksvc",
    "spawnTwist",
]

#: How long a process, such as a supervisor and two workers, may take to
#: start, or to stop, on a loaded machine.
PATIENCE = 60

# The child imports the same clocksvc the tests do, whether that is the
# working copy or an installed wheel.
_IMPORT_ROOT = str(Path(clocksvc.__file__).resolve().parent.parent)

#: What systemd runs, as a wrapper must run it: LISTEN_PID has to be the PID
#: of the process that adopts the socket, so the shell sets it to its own
#: and then becomes Python with exec, keeping that PID. ("$0" is Python,
#: "$@" its arguments.)
_WRAPPER = 'LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"'

#: Where curl is; every test that needs it skips without it.
CURL = shutil.which("curl")

#: Separates curl's --write-out from the body it follows.
_MARK = b"\n@@curl@@ "


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


def spawnActivated(held: socket.socket, *args: str) -> ClocksvcProcess:
    """
    Start C{python -m clocksvc} with C{args}, as systemd starts a service
    for the socket C{held}, named C{clocksvc}.
    """
    process = ClocksvcProcess()
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("LISTEN_")
    }
    env["PYTHONPATH"] = os.pathsep.join(
        [_IMPORT_ROOT, *filter(None, [env.get("PYTHONPATH")])]
    )
    # Twisted adopts descriptors only when the count and the names agree, as
    # they do from systemd 227 on.
    env["LISTEN_FDS"] = "1"
    env["LISTEN_FDNAMES"] = "clocksvc"
    reactor.spawnProcess(
        process,
        "/bin/sh",
        ["sh", "-c", _WRAPPER, sys.executable, "-m", "clocksvc", *args],
        env=env,
        childFDs={0: "w", 1: "r", 2: "r", 3: held.fileno()},
    )
    return process


def peopleLines(output: bytes) -> list[str]:
    """
    @return: the lines of C{output} for people, without the JSON log's.
    """
    return [line for line in output.decode().splitlines() if not line.startswith("{")]


@dataclass(frozen=True)
class ProcessResult:
    """
    How a process ended and what it wrote.
    """

    code: int | None
    stdout: bytes
    stderr: bytes


class _Collect(ProcessProtocol):
    def __init__(self) -> None:
        self.stdout = b""
        self.stderr = b""
        self.ended: Deferred[ProcessResult] = Deferred()

    def outReceived(self, data: bytes) -> None:
        self.stdout += data

    def errReceived(self, data: bytes) -> None:
        self.stderr += data

    def processEnded(self, reason: Failure) -> None:
        error = reason.value
        code = (
            error.exitCode
            if isinstance(error, (ProcessDone, ProcessTerminated))
            else None
        )
        self.ended.callback(ProcessResult(code, self.stdout, self.stderr))


async def runProcess(argv: Sequence[str], seconds: float) -> ProcessResult:
    """
    Run a program to its end, without holding up the reactor, which may be
    serving it: killed if it runs over C{seconds}.
    """
    protocol = _Collect()
    transport = reactor.spawnProcess(protocol, argv[0], list(argv), env=os.environ)
    kill = reactor.callLater(seconds, transport.signalProcess, "KILL")
    result = await protocol.ended
    if kill.active():
        kill.cancel()
    return result


@dataclass(frozen=True)
class CurlResult:
    """
    One curl run: its exit status, and the response it got.

    @ivar version: the HTTP version used: C{"2"}, C{"1.1"}, or C{"0"} for
        none.
    @ivar headers: the response's fields, by lower-case name (the last of
        each).
    """

    exitCode: int | None
    version: str
    status: int
    headers: dict[str, str]
    body: bytes
    stderr: bytes

    def contentType(self) -> str | None:
        """
        @return: the C{Content-Type}, if any.
        """
        return self.headers.get("content-type")


async def curl(*args: str, seconds: float = 5) -> CurlResult:
    """
    Run curl with C{args}, never using a proxy, for at most C{seconds}.
    """
    if CURL is None:
        raise SkipTest("curl is not installed")
    result = await runProcess(
        [
            CURL,
            "--silent",
            "--show-error",
            "--noproxy",
            "*",
            "--include",
            "--connect-timeout",
            "3",
            "--max-time",
            f"{seconds:g}",
            "--write-out",
            _MARK.decode() + "%{http_version} %{response_code}",
            *args,
        ],
        seconds + 5,
    )
    output, _, written = result.stdout.rpartition(_MARK)
    version, _, status = written.decode().partition(" ")
    head, _, body = output.partition(b"\r\n\r\n")
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return CurlResult(
        result.code, version, int(status or 0), headers, body, result.stderr
    )
