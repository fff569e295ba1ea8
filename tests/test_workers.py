"""
Tests for L{clocksvc._run._supervisor}: C{python -m clocksvc --workers N}.

The supervisor's decisions are tested in memory, with a reactor that records
the processes it is asked to spawn; the sockets and the worker's side with
real descriptors in this process; and the whole as a real process tree,
checked through C{/proc}: which process holds each connection, and which
are the supervisor's children.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import signal
import socket
import stat
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import treq
from twisted.internet import reactor
from twisted.internet.address import IPv4Address, UNIXAddress
from twisted.internet.defer import Deferred, gatherResults, maybeDeferred
from twisted.internet.endpoints import TCP4ServerEndpoint, serverFromString
from twisted.internet.error import (
    CannotListenError,
    ProcessDone,
    ProcessExitedAlready,
    ProcessTerminated,
    ReactorNotRunning,
)
from twisted.internet.interfaces import IProcessProtocol
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import deferLater
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.internet.threads import deferToThread
from twisted.python import usage
from twisted.python.failure import Failure
from twisted.trial.unittest import FailTest, SkipTest, SynchronousTestCase, TestCase
from twisted.web.client import HTTPConnectionPool

import clocksvc
from clocksvc._http import ClockSite
from clocksvc._run import _sockets
from clocksvc._run._cli import run
from clocksvc._run._endpoints import Problem
from clocksvc._run._options import MAX_WORKERS_PER_CPU, Options, availableCPUs
from clocksvc._run._sharedlog import PIPE_BUF, LineFile, openSharedLog
from clocksvc._run._sockets import (
    InheritedEndpoint,
    Listener,
    _tcpSockets,
    bindListeners,
)
from clocksvc._run._supervisor import (
    GRACE_SECONDS,
    MAX_RESTART_DELAY,
    MIN_RESTART_DELAY,
    RESTART_THRESHOLD,
    WORKER_MODULE,
    Supervisor,
    _describeEnd,
)
from clocksvc._run._worker import READY, Worker, hungUp
from clocksvc._run._workermain import parseWorkerArguments

from ._helpers import SAID_CORE, keepZoneDatabase
from ._process import ClocksvcProcess, spawnClocksvc
from ._rawhttp import receive
from .test_activation import socketPath, spawnActivated
from .test_tls import TLS_MISSING, curl, makeCredentials, within

#: The lesson's page for any instant.
PAGE = re.compile(
    rb"<html><body>\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}</body></html>"
)


class OptionsTests(SynchronousTestCase):
    """
    C{--workers} and the options the supervisor gives its workers.
    """

    def parse(self, *argv: str) -> Options:
        options = Options()
        options.parseOptions(list(argv))
        return options

    def test_default(self) -> None:
        """
        One process, as before there were workers.
        """
        self.assertEqual(self.parse()["workers"], 1)

    def test_number(self) -> None:
        """
        C{--workers N} takes a whole number above 0.
        """
        self.assertEqual(self.parse("--workers", "3")["workers"], 3)
        self.assertEqual(self.parse("--workers=1")["workers"], 1)

    def test_auto(self) -> None:
        """
        C{--workers auto} is one for each CPU this process may run on.
        """
        self.assertEqual(self.parse("--workers", "auto")["workers"], availableCPUs())
        self.assertGreaterEqual(availableCPUs(), 1)

    def test_bound(self) -> None:
        """
        Up to 4 workers per CPU are taken; more are refused, naming the
        bound, unless C{--allow-many-workers} says so, before or after.
        """
        most = MAX_WORKERS_PER_CPU * availableCPUs()
        self.assertEqual(MAX_WORKERS_PER_CPU, 4)
        self.assertEqual(self.parse("--workers", str(most))["workers"], most)
        error = self.assertRaises(
            usage.UsageError, self.parse, "--workers", str(most + 1)
        )
        self.assertEqual(
            str(error),
            f"--workers {most + 1} is more than 4 per CPU ({most} here); "
            "add --allow-many-workers to start them",
        )
        for argv in [
            ["--workers", "1000", "--allow-many-workers"],
            ["--allow-many-workers", "--workers=1000"],
        ]:
            self.assertEqual(self.parse(*argv)["workers"], 1000)

    def test_bad(self) -> None:
        """
        Anything else is refused, naming the value.
        """
        for value in ["0", "-1", "two", "1.5", "", "+2", "\N{SUPERSCRIPT TWO}"]:
            error = self.assertRaises(usage.UsageError, self.parse, "--workers", value)
            self.assertEqual(
                str(error),
                f"--workers needs a whole number above 0, or auto, not {value!r}",
            )

    def test_workerOptionsPrivate(self) -> None:
        """
        C{--help} shows C{--workers}, and nothing that only the supervisor
        gives its workers, which is not an option at all: the worker's own
        entry point takes it.
        """
        shown = str(Options())
        self.assertIn("--workers=", shown)
        self.assertNotIn("--worker-", shown)
        self.assertRaises(usage.UsageError, self.parse, "--worker-fds", "3")

    def test_workerArguments(self) -> None:
        """
        A worker's entry point takes its descriptors (C{-} for one it does
        not serve) and its link to the supervisor before the options.
        """
        self.assertEqual(
            parseWorkerArguments(["3,-,5", "6", "--listen", "tcp:80"]),
            ([3, None, 5], 6, ["--listen", "tcp:80"]),
        )
        for argv in [["3"], ["3", "x"], ["3,x", "4"], []]:
            self.assertRaises(Problem, parseWorkerArguments, argv)


class FakeProcess:
    """
    A spawned process, as far as the supervisor uses one.
    """

    def __init__(self, pid: int) -> None:
        self.pid: int | None = pid
        self.signals: list[str] = []

    def signalProcess(self, name: str) -> None:
        if self.pid is None:
            raise ProcessExitedAlready()
        self.signals.append(name)


class Spawned:
    """
    One call to L{ProcessReactor.spawnProcess}.
    """

    def __init__(
        self,
        protocol: IProcessProtocol,
        args: Sequence[str],
        env: Mapping[str, str],
        childFDs: Mapping[int, int | str],
        process: FakeProcess,
    ) -> None:
        self.protocol = protocol
        self.args = list(args)
        self.env = dict(env)
        self.childFDs = dict(childFDs)
        self.process = process

    def end(self, reason: BaseException) -> None:
        """
        The process ends: reaped, then reported.
        """
        self.process.pid = None
        self.protocol.processEnded(Failure(reason))


class ProcessReactor(MemoryReactorClock):
    """
    A memory reactor that records the processes it is asked to spawn, and
    how many times it is asked to stop.
    """

    def __init__(self) -> None:
        super().__init__()
        self.spawned: list[Spawned] = []
        self.stops = 0
        self.failSpawn: OSError | None = None

    def spawnProcess(
        self,
        processProtocol: IProcessProtocol,
        executable: str,
        args: Sequence[str],
        env: Mapping[str, str] | None = None,
        path: str | None = None,
        uid: int | None = None,
        gid: int | None = None,
        usePTY: bool = False,
        childFDs: Mapping[int, int | str] | None = None,
    ) -> FakeProcess:
        if self.failSpawn is not None:
            raise self.failSpawn
        process = FakeProcess(4000 + len(self.spawned))
        self.spawned.append(
            Spawned(processProtocol, args, env or {}, childFDs or {}, process)
        )
        return process

    def stop(self) -> None:
        self.stops += 1

    def ready(self, index: int) -> None:
        """
        The C{index}th process spawned says it serves, on its link.
        """
        _, _, factory = self.adoptedStreamConnections[index]
        link = factory.buildProtocol(None)
        link.makeConnection(StringTransport())
        link.dataReceived(READY)


def killedBy(signum: int) -> ProcessTerminated:
    return ProcessTerminated(signal=signum)


def exited(code: int) -> BaseException:
    return ProcessDone(0) if code == 0 else ProcessTerminated(exitCode=code)


class SupervisorTests(SynchronousTestCase):
    """
    L{Supervisor} starts, restarts and stops workers, in memory.
    """

    def setUp(self) -> None:
        self.reactor = ProcessReactor()
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()
        self.closed: list[str] = []

    def supervisor(
        self, count: int = 2, admin: bool = False, timeout: float = 10
    ) -> Supervisor:
        listeners = [
            Listener(
                "tcp:8080",
                IPv4Address("TCP", "127.0.0.1", 8080),
                # One SO_REUSEPORT socket for each worker.
                [20 + i for i in range(count)],
                lambda: self.closed.append("public"),
            )
        ]
        if admin:
            listeners.append(
                Listener(
                    "unix:/run/admin.sock",
                    UNIXAddress(b"/run/admin.sock"),
                    [30],
                    lambda: self.closed.append("admin"),
                    admin=True,
                )
            )
        supervisor = Supervisor(
            self.reactor,
            count,
            listeners,
            ["--listen", "tcp:8080"],
            timeout,
            self.stdout,
            self.stderr,
            executable="/usr/bin/python3",
            environ={"PATH": "/usr/bin", "LISTEN_FDS": "1", "LISTEN_PID": "1"},
        )
        supervisor.start()
        return supervisor

    def test_spawn(self) -> None:
        """
        Each worker is C{python -m clocksvc} with the options given, its own
        sockets as descriptors 3 and up, and its link to the supervisor
        after them; standard output and error are the supervisor's, and
        systemd's variables are left out of its environment.
        """
        self.supervisor(admin=True)
        first, second = self.reactor.spawned
        self.assertEqual(
            first.args,
            [
                "/usr/bin/python3",
                "-m",
                "clocksvc._run._workermain",
                "3,4",
                "5",
                "--listen",
                "tcp:8080",
            ],
        )
        # The admin socket is worker 0's only.
        self.assertEqual(second.args[3:5], ["3,-", "4"])
        self.assertEqual(
            {k: v for k, v in first.childFDs.items() if k},
            {1: 1, 2: 2, 3: 20, 4: 30, 5: first.childFDs[5]},
        )
        self.assertEqual(second.childFDs[3], 21)
        self.assertIsInstance(first.childFDs[0], int)
        self.assertEqual(first.env, {"PATH": "/usr/bin"})
        self.assertEqual(len(self.reactor.adoptedStreamConnections), 2)

    def test_announce(self) -> None:
        """
        Nothing is said until every worker serves; then where clocksvc
        serves, as one process says it, and the workers' PIDs.
        """
        self.supervisor(admin=True)
        self.reactor.ready(1)
        self.assertEqual(self.stdout.getvalue(), "")
        self.reactor.ready(0)
        self.assertEqual(
            self.stdout.getvalue().splitlines(),
            [
                "clocksvc: serving http://127.0.0.1:8080/",
                "clocksvc: admin on unix:/run/admin.sock",
                "clocksvc: 2 workers, pids 4000, 4001",
                *SAID_CORE.splitlines(),
            ],
        )

    def test_restart(self) -> None:
        """
        A worker that exits after it has served a while is started anew at
        once, on the same sockets, and that is said.
        """
        supervisor = self.supervisor()
        self.reactor.ready(0)
        self.reactor.ready(1)
        # Served a while: RESTART_THRESHOLD from 0 is that exactly.
        self.reactor.advance(RESTART_THRESHOLD)
        self.reactor.spawned[1].end(killedBy(signal.SIGKILL))
        self.assertEqual(
            self.stderr.getvalue(),
            "clocksvc: worker 1 (pid 4001) was killed by SIGKILL; starting another"
            " at once\n",
        )
        anew = self.reactor.spawned[2]
        self.assertEqual((anew.childFDs[3], anew.args[3]), (21, "3"))
        self.reactor.ready(2)
        self.assertEqual(
            self.stdout.getvalue().splitlines()[-1],
            "clocksvc: worker 1 started anew, pid 4002",
        )
        self.assertEqual(supervisor.pids, [4000, 4002])
        self.assertEqual(self.reactor.stops, 0)

    def crash(self, index: int, served: float = 0) -> str:
        """
        The C{index}th process spawned, which serves, exits after
        C{served} seconds; the worker started in its place serves.

        @return: the wait before it was started anew, as the supervisor
            said it.
        """
        crashing = self.reactor.spawned[index]
        spawned = len(self.reactor.spawned)
        self.reactor.advance(served)
        crashing.end(exited(70))
        found = re.fullmatch(
            r"clocksvc: worker \d \(pid \d+\) exited with status 70; "
            r"starting another (?:in (.+) s|(at once))",
            self.stderr.getvalue().splitlines()[-1],
        )
        assert found is not None, self.stderr.getvalue()
        if found.group(2) is None:
            delay = float(found.group(1))
            # Nothing before the wait said is over, then one worker: 1 ms
            # either side, far wider than the rounding of the sums of time.
            self.reactor.advance(delay - 0.001)
            self.assertEqual(len(self.reactor.spawned), spawned)
            self.reactor.advance(0.002)
        self.assertEqual(len(self.reactor.spawned), spawned + 1)
        self.assertEqual(self.reactor.spawned[-1].args, crashing.args)
        self.reactor.ready(spawned)
        return found.group(1) or found.group(2)

    def test_restartBackoff(self) -> None:
        """
        A worker that dies soon after it began to serve is started anew
        after a wait that doubles with each such death, up to
        C{MAX_RESTART_DELAY}; one that served C{RESTART_THRESHOLD} is
        started anew at once, and the wait starts over.
        """
        self.supervisor()
        self.reactor.ready(0)
        self.reactor.ready(1)
        # Worker 1 each time: the one spawned last.
        waits = [self.crash(1)]
        waits += [self.crash(len(self.reactor.spawned) - 1) for _ in range(10)]
        self.assertEqual(
            waits,
            [
                "0.1",
                "0.2",
                "0.4",
                "0.8",
                "1.6",
                "3.2",
                "6.4",
                "12.8",
                "25.6",
                "30",
                "30",
            ],
        )
        self.assertEqual((MIN_RESTART_DELAY, MAX_RESTART_DELAY), (0.1, 30))
        # Worker 1 is spawned[12]; each crash spawns the next.
        self.assertEqual(len(self.reactor.spawned), 13)
        # 1 ms short of the threshold is still soon; 1 ms over, a while (at
        # the threshold itself, the sums of time round either way).
        self.assertEqual(self.crash(12, RESTART_THRESHOLD - 0.001), "30")
        self.assertEqual(self.crash(13, RESTART_THRESHOLD + 0.001), "at once")
        self.assertEqual(self.crash(14), "0.1")
        self.assertEqual(self.crash(15), "0.2")
        # Worker 0 has served since the start; the one started in its place
        # has a wait of its own, not worker 1's.
        self.assertEqual(self.crash(0), "at once")
        self.assertEqual(self.crash(17), "0.1")
        self.assertEqual(self.reactor.stops, 0)
        self.assertFalse(self.reactor.getDelayedCalls())

    def test_stopDuringBackoff(self) -> None:
        """
        A signal while a worker waits to be started anew cancels that: no
        worker is started, no timer is left, and the status is 0.
        """
        supervisor = self.supervisor()
        self.reactor.ready(0)
        self.reactor.ready(1)
        self.reactor.spawned[1].end(killedBy(signal.SIGSEGV))
        self.assertEqual(len(self.reactor.getDelayedCalls()), 1)
        supervisor.requested()
        self.assertFalse(self.reactor.getDelayedCalls())
        supervisor.stop()
        self.assertEqual(
            self.stdout.getvalue().splitlines()[-1],
            "clocksvc: stopping: 1 worker(s) draining for up to 10 s",
        )
        self.reactor.spawned[0].end(exited(0))
        self.assertEqual(self.successResultOf(supervisor.finished), 0)
        self.reactor.advance(MAX_RESTART_DELAY)
        self.assertEqual(len(self.reactor.spawned), 2)
        self.assertFalse(self.reactor.getDelayedCalls())

    def test_stopAllInBackoff(self) -> None:
        """
        Stopping while every worker waits to be started anew stops at once.
        """
        supervisor = self.supervisor()
        self.reactor.ready(0)
        self.reactor.ready(1)
        self.reactor.spawned[0].end(killedBy(signal.SIGSEGV))
        self.reactor.spawned[1].end(killedBy(signal.SIGSEGV))
        self.successResultOf(supervisor.stop())
        self.assertEqual(self.successResultOf(supervisor.finished), 0)
        self.assertEqual(
            self.stdout.getvalue().splitlines()[-2:],
            [
                "clocksvc: stopping: 0 worker(s) draining for up to 10 s",
                "clocksvc: stopped",
            ],
        )
        self.assertEqual(len(self.reactor.spawned), 2)
        self.assertFalse(self.reactor.getDelayedCalls())

    def test_failDuringBackoff(self) -> None:
        """
        A worker that exits before it served stops the supervisor, with
        status 1, and the worker waiting to be started anew is not.
        """
        supervisor = self.supervisor(count=3)
        self.reactor.ready(0)
        self.reactor.ready(1)
        self.reactor.spawned[1].end(killedBy(signal.SIGSEGV))
        self.reactor.spawned[2].end(exited(2))
        self.assertEqual(self.reactor.stops, 1)
        self.assertFalse(self.reactor.getDelayedCalls())
        supervisor.stop()
        self.reactor.spawned[0].end(exited(0))
        self.assertEqual(self.successResultOf(supervisor.finished), 1)
        self.assertEqual(len(self.reactor.spawned), 3)
        self.assertFalse(self.reactor.getDelayedCalls())

    def test_restartedDiesBeforeServing(self) -> None:
        """
        A worker started anew that exits before it served would only fail
        again, as one started first: the supervisor stops, with status 1.
        """
        supervisor = self.supervisor()
        self.reactor.ready(0)
        self.reactor.ready(1)
        self.reactor.spawned[1].end(killedBy(signal.SIGSEGV))
        self.reactor.advance(MIN_RESTART_DELAY)
        self.reactor.spawned[2].end(exited(2))
        self.assertEqual(
            self.stderr.getvalue().splitlines()[-1],
            "clocksvc: worker 1 (pid 4002) exited with status 2 before it served;"
            " stopping",
        )
        self.assertEqual(self.reactor.stops, 1)
        supervisor.stop()
        self.reactor.spawned[0].end(exited(0))
        self.assertEqual(self.successResultOf(supervisor.finished), 1)
        self.assertEqual(len(self.reactor.spawned), 3)

    def test_diesBeforeServing(self) -> None:
        """
        A worker that exits before it served would only fail again: the
        supervisor stops, with exit status 1.
        """
        supervisor = self.supervisor()
        self.reactor.ready(0)
        self.reactor.spawned[1].end(exited(2))
        self.assertEqual(
            self.stderr.getvalue(),
            "clocksvc: worker 1 (pid 4001) exited with status 2 before it served;"
            " stopping\n",
        )
        self.assertEqual((len(self.reactor.spawned), self.reactor.stops), (2, 1))
        stopped = supervisor.stop()
        self.assertEqual(self.reactor.spawned[0].process.signals, ["TERM"])
        self.reactor.spawned[0].end(exited(0))
        self.successResultOf(stopped)
        self.assertEqual(self.successResultOf(supervisor.finished), 1)

    def test_cannotSpawn(self) -> None:
        """
        A worker that cannot be started is reported, and the supervisor
        stops, with exit status 1.
        """
        self.reactor.failSpawn = OSError(errno.EAGAIN, "no")
        supervisor = self.supervisor()
        self.assertEqual(
            self.stderr.getvalue(),
            "clocksvc: cannot start worker 0: resource temporarily unavailable\n",
        )
        self.assertEqual(self.reactor.stops, 1)
        self.successResultOf(supervisor.stop())
        self.assertEqual(self.successResultOf(supervisor.finished), 1)

    def test_stop(self) -> None:
        """
        Stopping sends every worker SIGTERM and lets go of the public
        sockets at once; once every worker has exited, it lets go of the
        admin ones, says so, and the status is 0.
        """
        supervisor = self.supervisor(admin=True)
        self.reactor.ready(0)
        self.reactor.ready(1)
        stopped = supervisor.stop()
        self.assertEqual(
            [s.process.signals for s in self.reactor.spawned], [["TERM"], ["TERM"]]
        )
        self.assertEqual(self.closed, ["public"])
        self.assertEqual(
            self.stdout.getvalue().splitlines()[-1],
            "clocksvc: stopping: 2 worker(s) draining for up to 10 s",
        )
        self.reactor.spawned[0].end(exited(0))
        self.assertNoResult(stopped)
        self.reactor.spawned[1].end(exited(0))
        self.successResultOf(stopped)
        self.assertEqual(self.closed, ["public", "admin"])
        self.assertEqual(self.stdout.getvalue().splitlines()[-1], "clocksvc: stopped")
        self.assertEqual(self.successResultOf(supervisor.finished), 0)
        # Nothing more: no worker started anew, no timer left.
        self.assertEqual(len(self.reactor.spawned), 2)
        self.assertFalse(self.reactor.getDelayedCalls())

    def test_requested(self) -> None:
        """
        The first signal stops the reactor, whose shutdown stops the
        workers; a second one kills them, and the status is 1.
        """
        supervisor = self.supervisor()
        self.reactor.ready(0)
        self.reactor.ready(1)
        supervisor.requested()
        self.assertEqual(self.reactor.stops, 1)
        supervisor.stop()
        supervisor.requested()
        self.assertEqual(
            [s.process.signals for s in self.reactor.spawned],
            [["TERM", "KILL"], ["TERM", "KILL"]],
        )
        for spawned in self.reactor.spawned:
            spawned.end(killedBy(signal.SIGKILL))
        self.assertEqual(
            self.stdout.getvalue().splitlines()[-1],
            "clocksvc: stopped, dropping connections",
        )
        self.assertEqual(self.successResultOf(supervisor.finished), 1)

    def test_timeout(self) -> None:
        """
        A worker still there C{GRACE_SECONDS} after its shutdown timeout is
        killed.
        """
        supervisor = self.supervisor(timeout=3)
        self.reactor.ready(0)
        self.reactor.ready(1)
        supervisor.stop()
        self.reactor.spawned[0].end(exited(0))
        self.reactor.advance(3 + GRACE_SECONDS - 0.001)
        self.assertEqual(self.reactor.spawned[1].process.signals, ["TERM"])
        self.reactor.advance(0.001)
        self.assertEqual(self.reactor.spawned[1].process.signals, ["TERM", "KILL"])
        self.reactor.spawned[1].end(killedBy(signal.SIGKILL))
        self.assertEqual(self.successResultOf(supervisor.finished), 1)

    def test_workerDropped(self) -> None:
        """
        A worker that had to drop connections (exit status 1) makes the
        status 1.
        """
        supervisor = self.supervisor()
        self.reactor.ready(0)
        self.reactor.ready(1)
        supervisor.stop()
        self.reactor.spawned[0].end(exited(1))
        self.reactor.spawned[1].end(exited(0))
        self.assertEqual(self.successResultOf(supervisor.finished), 1)

    def test_stopWhileStarting(self) -> None:
        """
        A worker that had not yet served dropped nothing, however it ended:
        SIGTERM kills a Python that has not yet set its handler.
        """
        supervisor = self.supervisor()
        self.reactor.ready(0)
        supervisor.stop()
        self.reactor.spawned[0].end(exited(0))
        self.reactor.spawned[1].end(killedBy(signal.SIGTERM))
        self.assertEqual(self.successResultOf(supervisor.finished), 0)
        self.assertNotIn("workers, pids", self.stdout.getvalue())
        self.assertEqual(self.stderr.getvalue(), "")

    def test_endedWhileStopRequested(self) -> None:
        """
        A worker that exits after the reactor was asked to stop, before its
        shutdown began, is not started anew.
        """
        supervisor = self.supervisor()
        self.reactor.ready(0)
        self.reactor.ready(1)
        supervisor.requested()
        self.reactor.spawned[0].end(exited(0))
        self.assertEqual(len(self.reactor.spawned), 2)
        supervisor.stop()
        self.assertEqual(self.reactor.spawned[1].process.signals, ["TERM"])
        self.reactor.spawned[1].end(exited(0))
        self.assertEqual(self.successResultOf(supervisor.finished), 0)

    def test_describeEnd(self) -> None:
        """
        How a process ended is said as a person would.
        """
        self.assertEqual(_describeEnd(Failure(exited(0))), "exited with status 0")
        self.assertEqual(_describeEnd(Failure(exited(3))), "exited with status 3")
        self.assertEqual(
            _describeEnd(Failure(killedBy(signal.SIGSEGV))), "was killed by SIGSEGV"
        )
        self.assertEqual(
            _describeEnd(Failure(killedBy(250))), "was killed by signal 250"
        )
        self.assertEqual(_describeEnd(Failure(RuntimeError("odd"))), "ended: odd")


class LineFileTests(SynchronousTestCase):
    """
    L{LineFile} writes whole lines, at most C{PIPE_BUF} bytes at once.
    """

    def write(self, text: str, most: int | None = None) -> list[bytes]:
        """
        @param most: the most bytes each write takes, as a full pipe might.
        @return: the writes made.
        """
        writes: list[bytes] = []

        def record(fd: int, data: bytes) -> int:
            taken = bytes(data[:most] if most else data)
            writes.append(taken)
            return len(taken)

        self.assertEqual(LineFile(99, record).write(text), len(text))
        return writes

    def test_wholeLines(self) -> None:
        """
        A batch of lines goes in writes of whole lines, each within
        C{PIPE_BUF}, in order.
        """
        text = "".join(f'{{"n":{n},"pad":"{"x" * 90}"}}\n' for n in range(200))
        writes = self.write(text)
        self.assertGreater(len(writes), 1)
        self.assertEqual(b"".join(writes), text.encode())
        for chunk in writes:
            self.assertLessEqual(len(chunk), PIPE_BUF)
            self.assertTrue(chunk.endswith(b"\n"))

    def test_longLine(self) -> None:
        """
        A line longer than C{PIPE_BUF} is written whole, on its own.
        """
        long = "y" * (PIPE_BUF * 2) + "\n"
        self.assertEqual(
            self.write("a\n" + long + "b\n"), [b"a\n", long.encode(), b"b\n"]
        )

    def test_shortWrites(self) -> None:
        """
        What a write leaves is written next.
        """
        self.assertEqual(self.write("abcdef\n", most=3), [b"abc", b"def", b"\n"])

    def test_sharedFile(self) -> None:
        """
        L{openSharedLog} appends to a file, which several writers share.
        """
        path = self.mktemp()
        Path(path).write_text("before\n")
        first, second = openSharedLog(path), openSharedLog(path)
        first.write("one\n")
        second.write("two\n")
        first.write("three\n")
        first.flush()
        first.close()
        second.close()
        self.assertEqual(Path(path).read_text(), "before\none\ntwo\nthree\n")

    def test_sharedStream(self) -> None:
        """
        L{openSharedLog} writes to a stream's descriptor, after what the
        stream holds.
        """
        read, written = os.pipe()
        self.addCleanup(os.close, read)
        with os.fdopen(written, "w") as stream:
            stream.write("people\n")
            log = openSharedLog(stream)
            log.write("machines\n")
            log.close()
        self.assertEqual(os.read(read, 100), b"people\nmachines\n")


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
    from twisted.internet.threads import deferToThread

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


class StoppingReactor(MemoryReactorClock):
    """
    A memory reactor that stops once, as a real one does: asked again, it
    is not running.
    """

    stops = 0

    def stop(self) -> None:
        if self.stops:
            raise ReactorNotRunning()
        self.stops += 1


class WorkerTests(SynchronousTestCase):
    """
    L{Worker}: a worker's endpoints and its link to the supervisor.
    """

    def test_endpoints(self) -> None:
        """
        Each description gets its descriptor; C{-} is one another worker
        serves.
        """
        worker = Worker(MemoryReactorClock(), [3, None], 9)
        public, admin = worker.endpoints(["tcp:80"], ["tcp:9100"])
        self.assertEqual([d for d, _ in public], ["tcp:80"])
        self.assertEqual(admin, [])
        worker = Worker(MemoryReactorClock(), [3, 4], 9)
        public, admin = worker.endpoints(["tcp:80"], ["tcp:9100"])
        self.assertEqual([d for d, _ in admin], ["tcp:9100"])

    def test_endpointsMismatch(self) -> None:
        """
        A descriptor short, or one over, is a problem.
        """
        for fds in ([3], [3, 4, 5]):
            worker = Worker(MemoryReactorClock(), fds, 9)
            self.assertRaises(Problem, worker.endpoints, ["tcp:80"], ["tcp:9100"])

    def link(self, memory: MemoryReactorClock, serving: bool) -> StringTransport:
        """
        Make a worker, watching its link to the supervisor in C{memory}, and
        have it serve if C{serving}; then its supervisor goes away.

        @return: the transport of the worker's end of the link.
        """
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        requested: list[None] = []
        self.requested = requested
        worker = Worker(memory, [], theirs.detach())
        adopted = len(memory.adoptedStreamConnections)
        worker.watch()
        worker.watch()
        [(_, family, factory)] = memory.adoptedStreamConnections[adopted:]
        self.assertEqual(family, socket.AF_UNIX)
        link = factory.buildProtocol(None)
        transport = StringTransport()
        link.makeConnection(transport)
        self.assertEqual(transport.value(), b"")
        if serving:
            worker.serving(lambda: requested.append(None), handleSignals=False)
        link.connectionLost(Failure(ConnectionError()))
        worker.stop()
        return transport

    def test_link(self) -> None:
        """
        A worker watches its link from the start, says it is ready on it
        once it serves, and then stops once, whether the supervisor goes
        away or it is asked again; the reactor it leaves to the drain.
        """
        memory = StoppingReactor()
        transport = self.link(memory, serving=True)
        self.assertEqual(transport.value(), READY)
        self.assertEqual((self.requested, memory.stops), ([None], 0))

    def test_linkBeforeServing(self) -> None:
        """
        A worker whose supervisor goes away before it serves stops the
        reactor: it has nothing to drain; and if the reactor is stopping
        already, that is all.
        """
        memory = StoppingReactor()
        transport = self.link(memory, serving=False)
        self.assertEqual((transport.value(), self.requested), (b"", []))
        self.assertEqual(memory.stops, 1)
        self.link(memory, serving=False)
        self.assertEqual(memory.stops, 1)

    def test_hungUp(self) -> None:
        """
        L{hungUp} says whether the other end of the link is closed, without
        reading from it.
        """
        ours, theirs = socket.socketpair()
        self.addCleanup(theirs.close)
        self.assertFalse(hungUp(theirs.fileno()))
        ours.close()
        self.assertTrue(hungUp(theirs.fileno()))


class RunTests(SynchronousTestCase):
    """
    L{run} hands C{--workers} over to the supervisor, and serves a worker's
    inherited sockets, in memory.
    """

    def run_(
        self, reactor: MemoryReactorClock, *argv: str, worker: Worker | None = None
    ) -> tuple[Deferred[None], io.StringIO, io.StringIO]:
        stdout, stderr = io.StringIO(), io.StringIO()
        keepZoneDatabase(self)
        reactor.run()
        return (
            Deferred.fromCoroutine(run(reactor, argv, stdout, stderr, worker=worker)),
            stdout,
            stderr,
        )

    def test_badWorkers(self) -> None:
        """
        A bad C{--workers} is one line on stderr and exit status 2.
        """
        d, out, err = self.run_(MemoryReactorClock(), "--workers", "0")
        self.assertEqual(self.failureResultOf(d, SystemExit).value.code, 2)
        self.assertEqual(
            err.getvalue(),
            "clocksvc: --workers needs a whole number above 0, or auto, not '0'"
            " (see --help)\n",
        )
        self.assertEqual(out.getvalue(), "")

    def test_oneWorker(self) -> None:
        """
        C{--workers 1} is one process: it listens itself and spawns nothing.
        """
        memory = ProcessReactor()
        d, _, err = self.run_(memory, "--workers", "1", "--port", "8080")
        self.assertNoResult(d)
        self.assertEqual(len(memory.tcpServers), 1)
        self.assertEqual(memory.spawned, [])
        self.assertEqual(
            err.getvalue(), "clocksvc: serving http://0.0.0.0:8080/\n" + SAID_CORE
        )

    def test_supervise(self) -> None:
        """
        With C{--workers 2}, the sockets are bound and two workers spawned
        with the command line given; the supervisor listens on nothing with
        the reactor, and exits 0 once they have stopped.
        """
        memory = ProcessReactor()
        argv = ["--workers", "2", "--listen", "tcp:0:interface=127.0.0.1"]
        d, _, err = self.run_(memory, *argv)
        self.assertNoResult(d)
        self.assertEqual((memory.tcpServers, len(memory.spawned)), ([], 2))
        for spawned in memory.spawned:
            self.assertEqual(spawned.args[1:3], ["-m", "clocksvc._run._workermain"])
            self.assertEqual(spawned.args[5:9], argv)
        memory.ready(0)
        memory.ready(1)
        self.assertRegex(
            err.getvalue(), r"^clocksvc: serving http://127\.0\.0\.1:\d+/\n"
        )
        [trigger] = memory.triggers["before"]["shutdown"]
        function, args, kwargs = trigger
        function(*args, **kwargs)
        for spawned in memory.spawned:
            spawned.end(exited(0))
        self.assertIsNone(self.successResultOf(d))

    def test_manyWorkers(self) -> None:
        """
        C{--allow-many-workers} starts the workers asked for beyond 4 per
        CPU, and passes itself on to them, which check the bound too.
        """
        memory = ProcessReactor()
        count = MAX_WORKERS_PER_CPU * availableCPUs() + 1
        argv = ["--workers", str(count), "--allow-many-workers"]
        d, _, err = self.run_(memory, *argv, "--listen", "tcp:0:interface=127.0.0.1")
        self.assertEqual((len(memory.spawned), err.getvalue()), (count, ""))
        self.assertEqual(memory.spawned[0].args[5:8], argv)
        [trigger] = memory.triggers["before"]["shutdown"]
        function, args, kwargs = trigger
        function(*args, **kwargs)
        for spawned in memory.spawned:
            spawned.end(exited(0))
        self.assertIsNone(self.successResultOf(d))

    def test_worker(self) -> None:
        """
        As a worker, the site is served on the inherited sockets,
        nothing is said on stdout (the supervisor says it), the admin
        resources are not on the public site when another worker serves
        C{--admin-listen}, and the worker says it is ready.
        """
        memory = MemoryReactorClock()
        _, [held] = _tcpSockets("127.0.0.1", 0, 50, 1)
        self.addCleanup(held.close)
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        d, out, err = self.run_(
            memory,
            "--listen",
            "tcp:0:interface=127.0.0.1",
            "--admin-listen",
            "tcp:9100",
            worker=Worker(memory, [os.dup(held.fileno()), None], theirs.detach()),
        )
        self.assertNoResult(d)
        self.assertEqual((out.getvalue(), err.getvalue()), ("", ""))
        [(_, family, site)] = memory.adoptedPorts
        self.assertEqual(family, socket.AF_INET)
        assert isinstance(site, ClockSite)
        self.assertIsNone(site.resource.getStaticEntity(b"healthz"))
        self.assertEqual(len(memory.adoptedStreamConnections), 1)


# The whole, as real processes.


def parentOf(pid: int) -> int | None:
    """
    @return: the parent of process C{pid}, or C{None} if it is gone (or a
        zombie, which has served its last).
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the fields after it do not.
    state, parent = stat[stat.rindex(")") + 2 :].split()[:2]
    return None if state == "Z" else int(parent)


def childrenOf(pid: int) -> set[int]:
    """
    @return: the live processes whose parent is C{pid}.
    """
    return {
        int(entry)
        for entry in os.listdir("/proc")
        if entry.isdigit() and parentOf(int(entry)) == pid
    }


def startKillingWorkers(testCase: TestCase, *args: str) -> ClocksvcProcess:
    """
    Start clocksvc with C{args}, killed when C{testCase} ends, with any
    workers it started, if the test has not ended it.
    """
    process = spawnClocksvc(*args)

    async def kill() -> None:
        pid = process.transport.pid if process.transport else None
        workers = childrenOf(pid) if pid else set()
        process.signal("KILL")
        await process.exited
        for worker in workers:
            if parentOf(worker) is not None:
                os.kill(worker, signal.SIGKILL)

    testCase.addCleanup(lambda: Deferred.fromCoroutine(kill()))
    return process


def socketsOf(pid: int) -> set[int]:
    """
    @return: the inodes of the sockets that process C{pid} holds.
    """
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(int(target[len("socket:[") : -1]))
    return found


#: The states of /proc/net/tcp that matter here.
ESTABLISHED, LISTEN = "01", "0A"


def tcpSockets(port: int, state: str) -> set[int]:
    """
    @return: the inodes of the IPv4 TCP sockets of local port C{port} in
        C{state}: for a server's port, its listening sockets, or the
        connections it accepted.
    """
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            found.add(int(fields[9]))
    return found


#: How many lines a supervisor of 2 workers on one endpoint says as they
#: serve: where, the workers' PIDs, and whether it runs pure Python.
_ANNOUNCED = 2 + SAID_CORE.count("\n")


def peopleLines(output: bytes) -> list[str]:
    """
    @return: the lines of C{output} for people, without the JSON log's.
    """
    return [line for line in output.decode().splitlines() if not line.startswith("{")]


def workersIn(output: bytes) -> list[int]:
    """
    @return: the PIDs that the supervisor's line C{N workers, pids ...} gives.
    """
    for line in peopleLines(output):
        found = re.fullmatch(r"clocksvc: \d+ workers, pids ([\d, ]+)", line)
        if found:
            return [int(pid) for pid in found.group(1).split(", ")]
    raise FailTest(f"no workers' line in {output!r}")


async def eventually(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """
    Wait until C{condition()} is true, polling, at most C{seconds}.
    """
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise FailTest(f"{what}: not after {seconds:g} s")
        await deferLater(reactor, 0.05, lambda: None)


#: How long a supervisor and two workers may take to start, or to stop, on a
#: loaded machine.
PATIENCE = 60

#: A supervisor of two workers, without the command line's own reading of
#: the options, so that only its workers open the C{--geoip-db} given (the
#: first argument); it prints their PIDs.
SUPERVISOR = """
import sys
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import serverFromString
from twisted.internet.task import react
from clocksvc._run._sockets import bindListeners
from clocksvc._run._supervisor import Supervisor

async def supervise(reactor, geoip):
    listen = "tcp:0:interface=127.0.0.1"
    endpoints = [(listen, serverFromString(reactor, listen))]
    listeners = await bindListeners(endpoints, [], 2)
    argv = ["--listen", listen, "--geoip-db", geoip, "--access-log", "off"]
    supervisor = Supervisor(
        reactor, 2, listeners, argv, 10.0, sys.stdout, sys.stderr
    )
    supervisor.start()
    print(*supervisor.pids, flush=True)
    await supervisor.finished

react(lambda reactor, geoip: Deferred.fromCoroutine(supervise(reactor, geoip)),
      [sys.argv[1]])
"""


def spawnPython(
    *args: str, childFDs: Mapping[int, int | str] | None = None
) -> ClocksvcProcess:
    """
    Start C{python} with C{args}, importing the clocksvc the tests do.

    @param childFDs: the descriptors it gets, as for C{spawnProcess}.
    @return: the process; the caller makes sure it ends.
    """
    process = ClocksvcProcess()
    root = str(Path(clocksvc.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root}
    reactor.spawnProcess(
        process, sys.executable, [sys.executable, *args], env=env, childFDs=childFDs
    )
    return process


def spawnSupervisor(testCase: TestCase, geoip: str) -> ClocksvcProcess:
    """
    Start L{SUPERVISOR} with C{geoip}; at cleanup, kill it and whichever of
    its workers are left.
    """
    process = spawnPython("-c", SUPERVISOR, geoip)

    async def kill() -> None:
        process.signal("KILL")
        # The workers first: their end closes the output the supervisor's
        # end waits for.
        for worker in [int(pid) for pid in process.stdout.split()]:
            if parentOf(worker) is not None:
                os.kill(worker, signal.SIGKILL)
        await process.exited

    testCase.addCleanup(lambda: Deferred.fromCoroutine(kill()))
    return process


def waitingForFIFO(pid: int) -> bool:
    """
    @return: whether process C{pid} waits for a FIFO's other end to be
        opened, as far as Linux says; where it does not say what a process
        waits for (C{0}), whether it is there at all.
    """
    try:
        waiting = Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return False
    return waiting in ("wait_for_partner", "fifo_open", "0")


class ProcessTests(TestCase):
    """
    C{python -m clocksvc --workers 2} as a real process tree.
    """

    timeout = 4 * PATIENCE

    def start(self, *args: str) -> ClocksvcProcess:
        """
        Start clocksvc, killed at cleanup, with its workers, if the test has
        not ended it.
        """
        return startKillingWorkers(self, *args)

    async def serve(self, *args: str) -> tuple[str, int, ClocksvcProcess, list[int]]:
        """
        Start clocksvc with two workers on a free port of 127.0.0.1.

        @return: its URL, its port, the process, and the workers' PIDs.
        """
        process = self.start(
            "--workers", "2", "--listen", "tcp:0:interface=127.0.0.1", *args
        )
        await eventually(
            lambda: b" workers, pids " in process.stderr or process.exited.called,
            PATIENCE,
            "the workers' line",
        )
        lines = peopleLines(process.stderr)
        found = re.fullmatch(
            r"clocksvc: serving (http://127\.0\.0\.1:(\d+)/)", lines[0]
        )
        self.assertIsNotNone(found, process.stderr)
        assert found is not None
        pids = workersIn(process.stderr)
        assert process.transport is not None
        self.assertEqual(childrenOf(process.transport.pid), set(pids))
        return found.group(1), int(found.group(2)), process, pids

    async def stop(self, process: ClocksvcProcess, pids: Sequence[int]) -> None:
        """
        SIGTERM: every worker is gone, and the supervisor exits 0.
        """
        process.signal("TERM")
        self.assertEqual(
            await within(process.exited, PATIENCE, "exit"), 0, process.stderr
        )
        self.assertEqual([parentOf(pid) for pid in pids], [None] * len(pids))

    async def test_servesFromWorkers(self) -> None:
        """
        Connections are spread over the workers: each answer comes from a
        worker, and over 20 connections from both; the supervisor holds
        none. SIGTERM stops them all, with status 0.
        """
        url, port, process, pids = await self.serve("--access-log", "off")
        pool = HTTPConnectionPool(reactor, persistent=True)
        pool.maxPersistentPerHost = 20
        self.addCleanup(pool.closeCachedConnections)
        responses = await gatherResults([treq.get(url, pool=pool) for _ in range(20)])
        for response in responses:
            self.assertEqual(response.code, 200)
            self.assertRegex(await response.content(), PAGE)
        # The pool keeps the connections open: each server side is held by
        # the worker that accepted it, and answered on it.
        accepted = tcpSockets(port, ESTABLISHED)
        self.assertEqual(len(accepted), 20)
        held = {pid: socketsOf(pid) & accepted for pid in pids}
        self.assertEqual(set().union(*held.values()), accepted)
        self.assertEqual([bool(h) for h in held.values()], [True, True], held)
        assert process.transport is not None
        self.assertFalse(socketsOf(process.transport.pid) & accepted)
        await pool.closeCachedConnections()
        await self.stop(process, pids)
        # Nothing said but where it serves, and that it stops.
        self.assertEqual(
            peopleLines(process.stderr)[_ANNOUNCED:],
            [
                "clocksvc: stopping: 2 worker(s) draining for up to 10 s",
                "clocksvc: stopped",
            ],
        )

    async def test_workerKilled(self) -> None:
        """
        A worker killed outright is said to be, and started anew; the
        service answers throughout.
        """
        url, _, process, pids = await self.serve("--access-log", "off")
        os.kill(pids[0], signal.SIGKILL)
        await eventually(
            lambda: "started anew" in peopleLines(process.stderr)[-1],
            PATIENCE,
            "a new worker",
        )
        # Killed as soon as it served: the shortest wait.
        self.assertEqual(
            peopleLines(process.stderr)[_ANNOUNCED:-1],
            [
                f"clocksvc: worker 0 (pid {pids[0]}) was killed by SIGKILL; "
                f"starting another in {MIN_RESTART_DELAY:g} s"
            ],
        )
        line = peopleLines(process.stderr)[-1]
        found = re.fullmatch(r"clocksvc: worker 0 started anew, pid (\d+)", line)
        assert found is not None, line
        anew = int(found.group(1))
        assert process.transport is not None
        self.assertEqual(childrenOf(process.transport.pid), {anew, pids[1]})
        pool = HTTPConnectionPool(reactor, persistent=False)
        for _ in range(5):
            response = await treq.get(url, pool=pool)
            self.assertEqual(response.code, 200)
            await response.content()
        await self.stop(process, [anew, pids[1]])

    async def test_restartBackoff(self) -> None:
        """
        A worker killed each time it begins to serve is started anew after
        a wait that doubles: each new worker is spawned no sooner than that
        wait after the last one was killed.
        """
        _, _, process, pids = await self.serve("--access-log", "off")
        assert process.transport is not None
        supervisor = process.transport.pid
        doomed, other = pids

        def spawnedBeside(known: set[int]) -> bool:
            return bool(childrenOf(supervisor) - known)

        def servingAnew(count: int) -> bool:
            # The lines for people: with --access-log off, the log's events,
            # which say the same, are on standard error too.
            said = peopleLines(process.stderr)
            return sum(" started anew, pid " in line for line in said) == count

        killed: list[int] = []
        waits: list[float] = []
        for count in range(1, 5):
            killed.append(doomed)
            before = time.monotonic()
            os.kill(doomed, signal.SIGKILL)
            await eventually(
                partial(spawnedBeside, {doomed, other}),
                PATIENCE,
                "a worker spawned anew",
            )
            # From the kill to the spawn seen: the supervisor's wait, and
            # more on a slow machine, never less; no more is asserted of it.
            waits.append(time.monotonic() - before)
            # Killed again only once it serves: one that dies before it
            # serves stops the supervisor. It serves for far less than
            # RESTART_THRESHOLD before that, so the waits go on doubling.
            await eventually(
                partial(servingAnew, count), PATIENCE, "the worker anew serving"
            )
            line = peopleLines(process.stderr)[-1]
            found = re.fullmatch(r"clocksvc: worker 0 started anew, pid (\d+)", line)
            assert found is not None, line
            doomed = int(found.group(1))
        self.assertEqual(
            [line for line in peopleLines(process.stderr) if " killed " in line],
            [
                f"clocksvc: worker 0 (pid {pid}) was killed by SIGKILL; starting"
                f" another in {delay} s"
                for pid, delay in zip(killed, ["0.1", "0.2", "0.4", "0.8"])
            ],
        )
        for n, wait in enumerate(waits):
            self.assertGreaterEqual(wait, MIN_RESTART_DELAY * 2**n, waits)
        await self.stop(process, [doomed, other])

    async def test_secondSignal(self) -> None:
        """
        A second SIGTERM kills the workers that are still draining: exit
        status 1.
        """
        _, port, process, pids = await self.serve(
            "--access-log",
            "off",
            "--shutdown-timeout",
            "300",
            "--header-timeout",
            "300",
        )
        # A request under way, which the drain waits for.
        client = socket.create_connection(("127.0.0.1", port))
        self.addCleanup(client.close)
        client.sendall(b"GET / HTTP/1.1\r\nHost: clock.example\r\n")
        await eventually(
            lambda: any(socketsOf(pid) & tcpSockets(port, ESTABLISHED) for pid in pids),
            PATIENCE,
            "the connection accepted",
        )
        process.signal("TERM")
        await eventually(
            lambda: b"stopping:" in process.stderr, PATIENCE, "the stopping line"
        )
        process.signal("TERM")
        self.assertEqual(await within(process.exited, PATIENCE, "exit"), 1)
        self.assertEqual(
            peopleLines(process.stderr)[-1], "clocksvc: stopped, dropping connections"
        )
        self.assertEqual([parentOf(pid) for pid in pids], [None, None])

    async def test_supervisorKilled(self) -> None:
        """
        Workers whose supervisor was killed outright stop, rather than
        serve on as orphans; and stop as on SIGTERM, draining: an event
        stream gets its last event, rather than being cut.
        """
        _, port, process, pids = await self.serve("--access-log", "off")
        stream = socket.create_connection(("127.0.0.1", port), timeout=PATIENCE)
        self.addCleanup(stream.close)
        stream.sendall(b"GET /stream HTTP/1.1\r\nHost: a\r\n\r\n")
        first = await deferToThread(stream.recv, 65536)
        self.assertTrue(first.startswith(b"HTTP/1.1 200 OK\r\n"), first)
        process.signal("KILL")
        await within(process.exited, PATIENCE, "the supervisor's end")
        await eventually(
            lambda: all(parentOf(pid) is None for pid in pids),
            PATIENCE,
            "the workers' end",
        )
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port)).close()
        rest, closed = await deferToThread(
            receive, stream, time.monotonic() + PATIENCE, PATIENCE
        )
        self.assertTrue(closed)
        self.assertIn(b"event: shutdown\n", first + rest)

    async def test_supervisorKilledWhileStarting(self) -> None:
        """
        Workers whose supervisor is killed outright while they are still
        starting, held up opening their C{--geoip-db} (a FIFO that nothing
        writes, as a file on a hung NFS mount would hold them), end too:
        their reactor is not reading the link, but Linux kills them.
        """
        if not sys.platform.startswith("linux"):
            raise SkipTest("PR_SET_PDEATHSIG is Linux's")
        fifo = self.mktemp()
        os.mkfifo(fifo)
        supervisor = spawnSupervisor(self, fifo)
        # The script prints them on standard output.
        await eventually(
            lambda: b"\n" in supervisor.stdout, PATIENCE, "the workers' pids"
        )
        pids = [int(pid) for pid in supervisor.stdout.split(b"\n")[0].split()]
        self.assertEqual(len(pids), 2, (supervisor.stdout, supervisor.stderr))
        await eventually(
            lambda: all(waitingForFIFO(pid) for pid in pids),
            PATIENCE,
            "the workers held up",
        )
        assert supervisor.transport is not None
        self.assertEqual(childrenOf(supervisor.transport.pid), set(pids))
        self.assertEqual(supervisor.stderr, b"")
        supervisor.signal("KILL")
        # Before the supervisor's end is reported: that waits for its
        # output, which the workers share, to be closed.
        await eventually(
            lambda: all(parentOf(pid) is None for pid in pids),
            PATIENCE,
            "the workers' end",
        )
        await within(supervisor.exited, PATIENCE, "the supervisor's end")

    async def test_workerWithoutSupervisor(self) -> None:
        """
        A worker whose supervisor is gone by the time it has started exits
        1 at once, saying nothing: there is no one to serve for.
        """
        ours, theirs = socket.socketpair()
        ours.close()
        self.addCleanup(theirs.close)
        worker = spawnPython(
            "-m",
            WORKER_MODULE,
            "-",
            "3",
            "--listen",
            "tcp:0:interface=127.0.0.1",
            childFDs={0: "w", 1: "r", 2: "r", 3: theirs.fileno()},
        )
        self.addCleanup(worker.signal, "KILL")
        self.assertEqual(await within(worker.exited, PATIENCE, "exit"), 1)
        self.assertEqual((worker.stdout, worker.stderr), (b"", b""))

    async def test_workerWithoutLink(self) -> None:
        """
        A worker without its link to the supervisor is one line on stderr
        and exit status 2.
        """
        worker = spawnPython("-m", WORKER_MODULE, "-", "3", "--listen", "tcp:0")
        self.addCleanup(worker.signal, "KILL")
        self.assertEqual(await within(worker.exited, PATIENCE, "exit"), 2)
        self.assertEqual(
            worker.stderr,
            b"clocksvc: no link to the supervisor on 3: bad file descriptor\n",
        )

    async def test_portInUse(self) -> None:
        """
        A port in use is one line on stderr and exit status 2, before any
        worker starts.
        """
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        description = f"tcp:{taken.getsockname()[1]}:interface=127.0.0.1"
        process = self.start("--workers", "2", "--listen", description)
        self.assertEqual(await within(process.exited, PATIENCE, "exit"), 2)
        self.assertEqual(
            process.stderr.decode(),
            f"clocksvc: cannot listen on {description}: address already in use\n",
        )
        self.assertEqual(process.stdout, b"")

    async def test_badWorkers(self) -> None:
        """
        A bad C{--workers} is one line on stderr and exit status 2.
        """
        process = self.start("--workers", "none")
        self.assertEqual(await within(process.exited, PATIENCE, "exit"), 2)
        self.assertEqual(
            process.stderr.decode(),
            "clocksvc: --workers needs a whole number above 0, or auto, not 'none'"
            " (see --help)\n",
        )

    async def test_tooManyWorkers(self) -> None:
        """
        More than 4 workers per CPU is one line on stderr and exit status 2,
        before anything starts.
        """
        most = MAX_WORKERS_PER_CPU * availableCPUs()
        process = self.start("--workers", str(most * 250))
        self.assertEqual(await within(process.exited, PATIENCE, "exit"), 2)
        self.assertEqual(
            process.stderr.decode(),
            f"clocksvc: --workers {most * 250} is more than 4 per CPU ({most} "
            "here); add --allow-many-workers to start them (see --help)\n",
        )
        self.assertEqual(process.stdout, b"")

    async def test_accessLog(self) -> None:
        """
        The workers write the access log to the same file, every line whole.
        """
        path = self.mktemp()
        url, _, process, pids = await self.serve("--access-log", path)
        pool = HTTPConnectionPool(reactor, persistent=True)
        pool.maxPersistentPerHost = 10
        self.addCleanup(pool.closeCachedConnections)
        for _ in range(4):
            responses = await gatherResults(
                [treq.get(url + "now", pool=pool) for _ in range(10)]
            )
            for response in responses:
                await response.content()
        await pool.closeCachedConnections()
        await self.stop(process, pids)
        lines = [json.loads(line) for line in Path(path).read_text().splitlines()]
        self.assertEqual(sum(line.get("path") == "/now" for line in lines), 40)

    async def test_admin(self) -> None:
        """
        C{--admin-listen} is served by worker 0 alone; the public port has
        no C{/healthz}.
        """
        url, _, process, pids = await self.serve(
            "--access-log", "off", "--admin-listen", "tcp:0:interface=127.0.0.1"
        )
        line = peopleLines(process.stderr)[1]
        found = re.fullmatch(r"clocksvc: admin on (http://127\.0\.0\.1:(\d+)/)", line)
        assert found is not None, line
        pool = HTTPConnectionPool(reactor, persistent=False)
        health = await treq.get(found.group(1) + "healthz", pool=pool)
        self.assertEqual(
            (health.code, json.loads(await health.content())["status"]), (200, "ok")
        )
        public = await treq.get(url + "healthz", pool=pool)
        await public.content()
        self.assertEqual(public.code, 404)
        [listening] = tcpSockets(int(found.group(2)), LISTEN)
        self.assertEqual([listening in socketsOf(pid) for pid in pids], [True, False])
        await self.stop(process, pids)

    async def test_unix(self) -> None:
        """
        The workers share a UNIX socket, which keeps its mode, and is
        removed when they stop.
        """
        path = socketPath(self)
        process = self.start(
            "--workers", "2", "--access-log", "off", "--listen", f"unix:{path}:mode=660"
        )
        await eventually(
            lambda: b" workers, pids " in process.stderr or process.exited.called,
            PATIENCE,
            "the workers' line",
        )
        self.assertEqual(
            peopleLines(process.stderr)[0], f"clocksvc: serving unix:{path}"
        )
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o660)
        for _ in range(4):
            page = await curl("--unix-socket", path, "http://localhost/")
            self.assertEqual((page.exitCode, page.status), (0, 200), page.stderr)
        pids = workersIn(process.stderr)
        await self.stop(process, pids)
        self.assertFalse(os.path.exists(path))

    async def test_tls(self) -> None:
        """
        The workers serve TLS on an C{ssl:} endpoint.
        """
        if TLS_MISSING is not None:
            raise SkipTest(TLS_MISSING)
        credentials = makeCredentials(self.mktemp())
        process = self.start(
            "--workers", "2", "--access-log", "off", "--listen", credentials.endpoint()
        )
        await eventually(
            lambda: b" workers, pids " in process.stderr or process.exited.called,
            PATIENCE,
            "the workers' line",
        )
        line = peopleLines(process.stderr)[0]
        found = re.fullmatch(r"clocksvc: serving https://127\.0\.0\.1:(\d+)/", line)
        assert found is not None, (line, process.stderr)
        port = found.group(1)
        for _ in range(4):
            page = await curl(
                "--cacert",
                credentials.caFile,
                "--resolve",
                f"localhost:{port}:127.0.0.1",
                f"https://localhost:{port}/",
            )
            self.assertEqual((page.exitCode, page.status), (0, 200), page.stderr)
        pids = workersIn(process.stderr)
        await self.stop(process, pids)

    async def test_systemd(self) -> None:
        """
        The workers share a socket that systemd passed, which still listens
        after they stop: it is systemd's.
        """
        held = socket.socket()
        self.addCleanup(held.close)
        held.bind(("127.0.0.1", 0))
        held.listen(16)
        port = held.getsockname()[1]
        process = spawnActivated(
            held,
            *["--workers", "2", "--access-log", "off"],
            *["--listen", "systemd:domain=INET:index=0"],
        )

        async def kill() -> None:
            process.signal("KILL")
            await process.exited

        self.addCleanup(lambda: Deferred.fromCoroutine(kill()))
        await eventually(
            lambda: b" workers, pids " in process.stderr or process.exited.called,
            PATIENCE,
            "the workers' line",
        )
        self.assertEqual(
            peopleLines(process.stderr)[0],
            f"clocksvc: serving http://127.0.0.1:{port}/",
            process.stderr,
        )
        page = await curl(f"http://127.0.0.1:{port}/")
        self.assertEqual((page.exitCode, page.status), (0, 200), page.stderr)
        pids = workersIn(process.stderr)
        await self.stop(process, pids)
        self.assertTrue(held.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
