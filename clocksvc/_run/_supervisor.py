# -*- test-case-name: tests.test_supervisor,tests.test_workers -*-
"""
Several processes: C{python -m clocksvc --workers N}.

Each clocksvc process is single-threaded, so one of them keeps one core busy
at most. With C{--workers} above 1, the process started becomes a
supervisor, which serves nothing itself. It checks the options and binds the
listening sockets (L{clocksvc._run._sockets}), so that a typo or a port in
use is reported once, before anything starts; then it starts the workers
(L{clocksvc._run._worker}), each handed the sockets as inherited
descriptors, which it adopts and serves as a single clocksvc does.

The supervisor:

  - says where it serves once every worker serves;
  - passes SIGHUP on to every worker (each reopens the log file);
  - on SIGTERM or SIGINT sends SIGTERM to every worker, each of which
    drains as a single clocksvc does, and exits once they all have: 0 if
    none had to drop a connection, else 1; a second signal, or a worker
    still there a while after C{--shutdown-timeout}, gets SIGKILL;
  - starts a worker anew when one exits while the rest serve, on the same
    sockets, which it keeps open meanwhile: connections wait in the queue
    rather than being refused. At once if the worker had served a while;
    if it died soon after it began to serve, after a wait that doubles with
    each such death, as C{twisted.runner.procmon} does, so that a worker
    that crashes on every start (or on every request) is not restarted in
    a tight loop. A worker that exits before it ever served would only fail
    again, so then it stops the rest and exits 1.

Each worker is linked to the supervisor by a socket pair: a worker says
C{ready} on it once it serves, and ends if the supervisor goes away (killed
outright), rather than serving on as an orphan: gracefully if it serves,
at once if it is still starting (L{clocksvc._run._worker}).

Only worker 0 serves C{--admin-listen}: the C{/metrics} of one process that
a scraper always reaches, rather than of whichever worker accepted.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.error import ProcessDone, ProcessExitedAlready, ProcessTerminated
from twisted.internet.interfaces import (
    IDelayedCall,
    IProcessTransport,
    IStreamServerEndpoint,
)
from twisted.internet.protocol import ProcessProtocol, Protocol
from twisted.python.failure import Failure

from ._endpoints import describeAddress
from ._logging import say, sayCore, serviceLog
from ._options import Options
from ._signals import Reload, TwoStep, onStopSignals
from ._sockets import Listener, Only, bindListeners
from ._worker import READY

__all__ = ["WORKER_MODULE", "Supervisor", "supervise"]

#: The module a worker runs: its private entry point.
WORKER_MODULE = "clocksvc._run._workermain"

#: How long after C{--shutdown-timeout} the supervisor waits for a worker
#: before it kills it: by then each worker has dropped what it had left, and
#: needs only to write its last log lines and exit.
GRACE_SECONDS = 5.0

#: How long the supervisor waits before it starts a worker in the place of
#: one that died less than C{RESTART_THRESHOLD} after it began to serve; the
#: wait doubles with each such death of the same worker, up to
#: C{MAX_RESTART_DELAY} (C{minRestartDelay} and C{maxRestartDelay} of
#: L{twisted.runner.procmon.ProcessMonitor}).
MIN_RESTART_DELAY = 0.1

#: The longest wait before a worker is started anew: a worker that keeps
#: crashing is still tried twice a minute, so that it serves again soon
#: after whatever it lacked (a file, a backend) is back.
MAX_RESTART_DELAY = 30.0

#: How long a worker has to have served for its death to be taken as a
#: mishap rather than a crash loop: it is then started anew at once, and the
#: next wait is C{MIN_RESTART_DELAY} again. Counted from when it said it
#: serves, not from its start, so that a slow start-up does not count as
#: serving (C{threshold} of L{twisted.runner.procmon.ProcessMonitor} counts
#: from the start).
RESTART_THRESHOLD = 10.0

#: The variables of systemd's socket activation: the supervisor passes the
#: sockets on with --worker-fds, and the workers are not what systemd started.
_SYSTEMD_VARIABLES = ("LISTEN_FDS", "LISTEN_FDNAMES", "LISTEN_PID")


def _describeEnd(reason: Failure) -> str:
    """
    @return: how a process ended, e.g. C{exited with status 1}.
    """
    ended = reason.value
    if isinstance(ended, ProcessTerminated) and ended.signal is not None:
        try:
            name = signal.Signals(ended.signal).name
        except ValueError:
            name = f"signal {ended.signal}"
        return f"was killed by {name}"
    if isinstance(ended, (ProcessDone, ProcessTerminated)):
        return f"exited with status {ended.exitCode}"
    return f"ended: {ended}"


class _WorkerProcess(ProcessProtocol):
    """
    One worker, as the supervisor sees it.

    @ivar index: which worker it is, from 0: a worker started in the place
        of one that exited has the same.
    @ivar readyAt: when it said it serves, by the supervisor's clock; or
        C{None}, not yet.
    @ivar pid: its process ID, kept after it has exited.
    """

    def __init__(self, supervisor: Supervisor, index: int) -> None:
        self._supervisor = supervisor
        self.index = index
        self.readyAt: float | None = None
        self.process: IProcessTransport | None = None
        self.pid: int | None = None

    @property
    def ready(self) -> bool:
        """
        Whether it has said it serves.
        """
        return self.readyAt is not None

    def signal(self, name: str) -> None:
        """
        Send the process a signal, unless it has exited.
        """
        if self.process is not None and self.process.pid is not None:
            with contextlib.suppress(ProcessExitedAlready):
                self.process.signalProcess(name)

    def processEnded(self, reason: Failure) -> None:
        self._supervisor._ended(self, reason)


class _WorkerLink(Protocol):
    """
    The supervisor's end of its link to a worker, on which the worker says
    when it serves.
    """

    def __init__(self, worker: _WorkerProcess, ready: Callable[[], None]) -> None:
        """
        @param ready: notes the time on C{worker}, which makes it ready.
        """
        self._worker = worker
        self._ready = ready
        self._received = b""

    def dataReceived(self, data: bytes) -> None:
        self._received += data
        if not self._worker.ready and READY in self._received:
            self._ready()


class Supervisor:
    """
    Starts the workers, keeps them running, and stops them.

    @ivar finished: fires with the exit status once every worker has
        exited after L{stop}: 0, or 1 if a worker had to drop connections, was
        killed, or could not start.
    """

    def __init__(
        self,
        reactor: Any,
        count: int,
        listeners: Sequence[Listener],
        argv: Sequence[str],
        shutdownTimeout: float,
        stdout: TextIO,
        stderr: TextIO,
        executable: str = sys.executable,
        environ: Mapping[str, str] = os.environ,
        minRestartDelay: float = MIN_RESTART_DELAY,
        maxRestartDelay: float = MAX_RESTART_DELAY,
        restartThreshold: float = RESTART_THRESHOLD,
    ) -> None:
        """
        @param reactor: the reactor to spawn processes with, to time the
            shutdown and the restarts with, and to stop.
        @param count: how many workers to run.
        @param listeners: the sockets they serve.
        @param argv: the command line's options, passed on to each worker.
        @param shutdownTimeout: how long each worker's drain may take.
        @param stdout: where to say what is happening.
        @param stderr: where to report problems.
        @param executable: the Python to run C{-m clocksvc} with.
        @param environ: the workers' environment, less systemd's variables.
        @param minRestartDelay: the first wait before a worker that died
            soon after it began to serve is started anew.
        @param maxRestartDelay: the longest such wait.
        @param restartThreshold: how long a worker has to have served for
            its death not to count as soon: it is started anew at once, and
            the wait is back to C{minRestartDelay}.
        """
        self._reactor = reactor
        self._count = count
        self._listeners = list(listeners)
        self._argv = list(argv)
        self._shutdownTimeout = shutdownTimeout
        self._stdout = stdout
        self._stderr = stderr
        self._executable = executable
        self._environ = {
            k: v for k, v in environ.items() if k not in _SYSTEMD_VARIABLES
        }
        self._minRestartDelay = minRestartDelay
        self._maxRestartDelay = maxRestartDelay
        self._restartThreshold = restartThreshold
        self._workers: dict[int, _WorkerProcess] = {}
        # For each worker index: the wait before it is next started anew,
        # should it die soon; and the restart it waits for, if any.
        self._restartDelays: dict[int, float] = {}
        self._restarts: dict[int, IDelayedCall] = {}
        self._announced = False
        self._stopRequested = False
        self._stopping = False
        self._status = 0
        self._dropped = False
        self._timer: IDelayedCall | None = None
        self._closing: list[Deferred[None]] = []
        self._stopped: Deferred[None] | None = None
        self.finished: Deferred[int] = Deferred()
        #: A signal asked to stop: the first one stops gracefully, a second
        #: one kills the workers.
        self.requested = TwoStep(self._stopGracefully, self.force)

    @property
    def pids(self) -> list[int]:
        """
        The workers' process IDs, by index.
        """
        return [
            pid
            for _, worker in sorted(self._workers.items())
            if (pid := worker.pid) is not None
        ]

    def start(self) -> None:
        """
        Start every worker.
        """
        for index in range(self._count):
            if self._stopRequested:
                return
            self._spawn(index)

    def _spawn(self, index: int) -> None:
        """
        Start worker C{index}: C{python -m clocksvc} with the options given,
        its sockets as descriptors 3 and up, and its end of the link after
        them.
        """
        ours, theirs = socket.socketpair()
        try:
            devnull = os.open(os.devnull, os.O_RDONLY)
            try:
                childFDs: dict[int, int | str] = {0: devnull, 1: 1, 2: 2}
                spec = []
                for listener in self._listeners:
                    fd = listener.fdFor(index)
                    if fd is None:
                        spec.append("-")
                    else:
                        spec.append(str(len(childFDs)))
                        childFDs[len(childFDs)] = fd
                linkFD = len(childFDs)
                childFDs[linkFD] = theirs.fileno()
                args = [
                    self._executable,
                    "-m",
                    WORKER_MODULE,
                    ",".join(spec),
                    str(linkFD),
                    *self._argv,
                ]
                worker = _WorkerProcess(self, index)
                worker.process = self._reactor.spawnProcess(
                    worker,
                    self._executable,
                    args,
                    env=self._environ,
                    childFDs=childFDs,
                )
                worker.pid = worker.process.pid
            finally:
                os.close(devnull)
            self._workers[index] = worker
            ours.setblocking(False)
            link = _WorkerLink(worker, lambda: self._ready(worker))
            self._reactor.adoptStreamConnection(
                ours.fileno(), socket.AF_UNIX, Only(link)
            )
        except OSError as e:
            why = os.strerror(e.errno).lower() if e.errno else str(e)
            self._problem(f"cannot start worker {index}: {why}")
            self._fail()
        finally:
            # The worker has its own end, and the reactor a copy of ours.
            ours.close()
            theirs.close()

    def _ready(self, worker: _WorkerProcess) -> None:
        worker.readyAt = self._reactor.seconds()
        if self._stopping or self._workers.get(worker.index) is not worker:
            return
        if self._announced:
            self._say(f"worker {worker.index} started anew, pid {worker.pid}")
            serviceLog.info(
                "worker {index} started anew, pid {pid}",
                event="worker_started",
                index=worker.index,
                pid=worker.pid,
            )
        elif len(self._workers) == self._count and all(
            w.ready for w in self._workers.values()
        ):
            self._announce()

    def _announce(self) -> None:
        """
        Say where clocksvc serves, as a single clocksvc does: once, when
        every worker serves.
        """
        self._announced = True
        for listener in self._listeners:
            where = describeAddress(listener.address, listener.tls)
            what = "admin on" if listener.admin else "serving"
            self._say(f"{what} {where}")
            serviceLog.info(
                "{what} {address}", event="listening", what=what, address=where
            )
        pids = ", ".join(str(pid) for pid in self.pids)
        self._say(f"{self._count} workers, pids {pids}")
        serviceLog.info(
            "{count} workers, pids {pids}",
            event="workers",
            count=self._count,
            pids=pids,
        )
        sayCore(self._stdout)

    def _ended(self, worker: _WorkerProcess, reason: Failure) -> None:
        if self._workers.get(worker.index) is worker:
            del self._workers[worker.index]
        if self._stopRequested:
            # One that had not yet served dropped nothing, however it ended
            # (SIGTERM ends a Python that has not yet set its handler).
            if worker.ready and not isinstance(reason.value, ProcessDone):
                self._dropped = True
            if self._stopping and not self._workers:
                self._finish()
            return
        how = _describeEnd(reason)
        if worker.readyAt is None:
            self._problem(
                f"worker {worker.index} (pid {worker.pid}) {how} before it "
                "served; stopping"
            )
            self._fail()
            return
        delay = self._nextRestartDelay(
            worker.index, self._reactor.seconds() - worker.readyAt
        )
        when = f"in {delay:g} s" if delay else "at once"
        self._problem(
            f"worker {worker.index} (pid {worker.pid}) {how}; starting another {when}"
        )
        if delay:
            self._restarts[worker.index] = self._reactor.callLater(
                delay, self._restart, worker.index
            )
        else:
            self._spawn(worker.index)

    def _nextRestartDelay(self, index: int, served: float) -> float:
        """
        As L{twisted.runner.procmon.ProcessMonitor} does: a worker that
        served a while is started anew at once, and the wait for its index
        goes back to the shortest; one that died soon waits the current
        wait, and the next one doubles, up to the longest.

        @param index: the worker that died, having served.
        @param served: for how long it served, in seconds.
        @return: how long to wait before starting it anew, in seconds.
        """
        if served >= self._restartThreshold:
            self._restartDelays[index] = self._minRestartDelay
            return 0
        delay = self._restartDelays.get(index, self._minRestartDelay)
        self._restartDelays[index] = min(delay * 2, self._maxRestartDelay)
        return delay

    def _restart(self, index: int) -> None:
        """
        Start worker C{index} anew, once its wait is over.
        """
        del self._restarts[index]
        self._spawn(index)

    def _cancelRestarts(self) -> None:
        """
        Start no worker anew: the supervisor is stopping.
        """
        for restart in self._restarts.values():
            restart.cancel()
        self._restarts.clear()

    def _stopGracefully(self) -> None:
        if self._stopRequested:
            # Stopping already, for another reason: a signal now forces.
            self.force()
            return
        self._stopRequested = True
        self._cancelRestarts()
        self._reactor.stop()

    def _fail(self) -> None:
        """
        Stop with exit status 1.
        """
        self._status = 1
        self._cancelRestarts()
        if not self._stopRequested:
            self._stopRequested = True
            self._reactor.stop()

    def stop(self) -> Deferred[None]:
        """
        Stop gracefully: the reactor's "before shutdown" trigger, which it
        waits for. The public sockets close at once, so that the last worker
        to stop listening closes each for good; the admin ones stay open
        while the workers drain, as a single clocksvc's do.

        @return: fires when every worker has exited.
        """
        if self._stopped is not None:
            return self._stopped
        self._stopRequested = True
        self._stopping = True
        self._cancelRestarts()
        self._stopped = Deferred()
        self._closing = [
            listener.close() for listener in self._listeners if not listener.admin
        ]
        self._say(
            f"stopping: {len(self._workers)} worker(s) draining for up to "
            f"{self._shutdownTimeout:g} s",
            log=True,
        )
        for worker in self._workers.values():
            worker.signal("TERM")
        self._timer = self._reactor.callLater(
            self._shutdownTimeout + GRACE_SECONDS, self.force
        )
        if not self._workers:
            self._finish()
        return self._stopped

    def reload(self) -> None:
        """
        Pass SIGHUP on to every worker, which reopens its log file. A worker
        that has not yet begun to serve ignores it, and opens the file by
        its path when it does.
        """
        for worker in self._workers.values():
            worker.signal("HUP")

    def force(self) -> None:
        """
        Kill every worker now.
        """
        if self._workers:
            self._dropped = True
        for worker in self._workers.values():
            worker.signal("KILL")

    def _finish(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._closing += [listener.close() for listener in self._listeners]
        gatherResults(self._closing).addBoth(self._closed)

    def _closed(self, result: object) -> None:
        self._say(
            "stopped, dropping connections" if self._dropped else "stopped", log=True
        )
        if self._stopped is not None:
            self._stopped.callback(None)
        self.finished.callback(1 if self._dropped else self._status)

    def _say(self, message: str, log: bool = False) -> None:
        say(self._stdout, f"clocksvc: {message}")
        if log:
            serviceLog.info("{what}", event="shutdown", what=message)

    def _problem(self, message: str) -> None:
        say(self._stderr, f"clocksvc: {message}")
        serviceLog.warn("{what}", event="worker_exited", what=message)


async def supervise(
    reactor: Any,
    options: Options,
    argv: Sequence[str],
    endpoints: Sequence[tuple[str, IStreamServerEndpoint]],
    adminEndpoints: Sequence[tuple[str, IStreamServerEndpoint]],
    stdout: TextIO,
    stderr: TextIO,
    handleSignals: bool,
    reload: Reload | None = None,
) -> int:
    """
    Listen, start the workers, and supervise them until the reactor stops.

    @param reactor: the reactor.
    @param options: the options, checked.
    @param argv: the command line's arguments, for the workers.
    @param endpoints: the public endpoints, parsed.
    @param adminEndpoints: the C{--admin-listen} ones.
    @param stdout: where to say what is happening.
    @param stderr: where to report problems.
    @param handleSignals: whether SIGTERM and SIGINT are to stop the
        workers: for the real process only.
    @param reload: what SIGHUP does, to which passing it on to the workers
        is added.
    @return: the exit status.
    @raise Problem: if an endpoint cannot be listened on.
    """
    listeners = await bindListeners(endpoints, adminEndpoints, options["workers"])
    supervisor = Supervisor(
        reactor,
        options["workers"],
        listeners,
        argv,
        options["shutdown-timeout"],
        stdout,
        stderr,
    )
    reactor.addSystemEventTrigger("before", "shutdown", supervisor.stop)
    if handleSignals:
        onStopSignals(reactor, supervisor.requested)
    if reload is not None:
        reload.add(supervisor.reload)
    supervisor.start()
    return await supervisor.finished
