"""
Helpers for the tests of C{--workers}: a memory reactor that records the
processes it is asked to spawn, for the supervisor's decisions; and, for a
real process tree, a clocksvc killed with its workers when a test ends.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

from twisted.internet.defer import Deferred
from twisted.internet.error import (
    ProcessDone,
    ProcessExitedAlready,
    ProcessTerminated,
)
from twisted.internet.interfaces import IProcessProtocol
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from clocksvc._run._worker import READY

from ._process import ClocksvcProcess, spawnClocksvc

__all__ = [
    "FakeProcess",
    "ProcessReactor",
    "Spawned",
    "childrenOf",
    "exited",
    "killedBy",
    "parentOf",
    "startKillingWorkers",
]


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
    """
    @return: how a process killed by C{signum} ends.
    """
    return ProcessTerminated(signal=signum)


def exited(code: int) -> BaseException:
    """
    @return: how a process that exits with C{code} ends.
    """
    return ProcessDone(0) if code == 0 else ProcessTerminated(exitCode=code)


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
