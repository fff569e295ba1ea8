"""
Tests for L{clocksvc._run._supervisor}: the supervisor of C{python -m
clocksvc --workers N}, which starts, restarts and stops the workers; its
decisions tested in memory, with a reactor that records the processes it is
asked to spawn (L{tests._workers.ProcessReactor}).
"""

from __future__ import annotations

import errno
import io
import re
import signal

from twisted.internet.address import IPv4Address, UNIXAddress
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._run._sockets import Listener
from clocksvc._run._supervisor import (
    GRACE_SECONDS,
    MAX_RESTART_DELAY,
    MIN_RESTART_DELAY,
    RESTART_THRESHOLD,
    Supervisor,
    _describeEnd,
)

from ._helpers import SAID_CORE
from ._workers import ProcessReactor, exited, killedBy


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
