# -*- test-case-name: tests.test_workers -*-
"""
Several processes: C{python -m clocksvc --workers N}.

Each clocksvc process is single-threaded, so one of them keeps one core busy
at most. With C{--workers} above 1, the process started becomes a
supervisor, which serves nothing itself. It checks the options and binds the
listening sockets, so that a typo or a port in use is reported once, before
anything starts; then it starts the workers, C{python -m clocksvc} again with
the same options, each handed the sockets as inherited descriptors
(C{--worker-fds}), which it adopts and serves as a single clocksvc does.

The supervisor:

  - says where it serves once every worker serves;
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
C{ready} on it once it serves, and stops gracefully if the supervisor goes
away (killed outright), rather than serving on as an orphan.

Only worker 0 serves C{--admin-listen}: the C{/metrics} of one process that
a scraper always reaches, rather than of whichever worker accepted.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any, TextIO, cast

from twisted.internet import tcp, unix
from twisted.internet.abstract import isIPv6Address
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.defer import (
    Deferred,
    fail,
    gatherResults,
    maybeDeferred,
    succeed,
)
from twisted.internet.endpoints import AdoptedStreamServerEndpoint, serverFromString
from twisted.internet.error import (
    CannotListenError,
    ProcessDone,
    ProcessExitedAlready,
    ProcessTerminated,
)
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IListeningPort,
    IProcessTransport,
    IProtocolFactory,
    IStreamServerEndpoint,
)
from twisted.internet.protocol import (
    Factory,
    ProcessProtocol,
    Protocol,
    connectionDone,
)
from twisted.python.failure import Failure
from zope.interface import implementer

from ._cli import Options, _Exit, describeAddress, describeListenError
from ._logging import say, serviceLog

__all__ = [
    "LineFile",
    "Supervisor",
    "Worker",
    "availableCPUs",
    "bindListeners",
    "openSharedLog",
    "supervise",
]

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

#: What a worker says on its link to the supervisor once it serves.
READY = b"ready\n"

#: The variables of systemd's socket activation: the supervisor passes the
#: sockets on with --worker-fds, and the workers are not what systemd started.
_SYSTEMD_VARIABLES = ("LISTEN_FDS", "LISTEN_FDNAMES", "LISTEN_PID")

#: The most bytes one write(2) to a pipe writes atomically: 4096 on Linux,
#: and never less than 512 (POSIX).
PIPE_BUF: int = getattr(select, "PIPE_BUF", 512)


def availableCPUs() -> int:
    """
    @return: how many CPUs this process may run on (C{--workers auto}): fewer
        than the machine has when C{taskset} or a cgroup's cpuset limits it.
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class LineFile:
    """
    A log file that the supervisor and every worker write to at once: the
    same standard output, or the same file.

    One write(2) of at most C{PIPE_BUF} bytes to a pipe is atomic, and so is
    one to a file opened with C{O_APPEND}; a longer one to a pipe is not: once
    the pipe is full, the kernel lets other processes' writes in midway. The
    log's writer thread writes lines in batches of up to 1000, so this writes
    whole lines, as many as fit in C{PIPE_BUF} bytes, with one write(2) each.
    Only a line longer than that (a request with a huge C{User-Agent}) can be
    cut into, and only on a pipe whose reader has fallen behind.
    """

    def __init__(self, fd: int, write: Callable[[int, bytes], int] = os.write) -> None:
        """
        @param fd: the descriptor to write to; L{close} closes it.
        @param write: writes to a descriptor, as C{os.write}.
        """
        self._fd = fd
        self._write = write

    def write(self, text: str) -> int:
        """
        Write C{text}, which ends with a newline.

        @return: the number of characters written: all of them.
        """
        data = text.encode("utf-8")
        start = 0
        while start < len(data):
            end = start + PIPE_BUF
            if end < len(data):
                lastNewline = data.rfind(b"\n", start, end)
                if lastNewline >= 0:
                    end = lastNewline + 1
                else:
                    # A line longer than PIPE_BUF: whole, in as few writes as
                    # the kernel takes.
                    end = data.find(b"\n", end) + 1 or len(data)
            self._writeAll(data[start:end])
            start = end
        return len(text)

    def _writeAll(self, chunk: bytes) -> None:
        while chunk:
            chunk = chunk[self._write(self._fd, chunk) :]

    def flush(self) -> None:
        """
        Nothing is buffered: each L{write} is written before it returns.
        """

    def close(self) -> None:
        """
        Close the descriptor.
        """
        os.close(self._fd)


def openSharedLog(destination: TextIO | str) -> IO[str]:
    """
    Open the log for a supervisor or a worker, which share it.

    @param destination: the standard stream, or the path of the file, that
        C{--access-log} chose.
    @return: a L{LineFile} on it, for L{clocksvc._logging.ThreadedWriter}.
    """
    if isinstance(destination, str):
        # As open(path, "a") does, and with O_APPEND each write lands whole
        # at the end of the file, whoever else writes to it.
        fd = os.open(destination, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    else:
        destination.flush()
        fd = os.dup(destination.fileno())
    # ThreadedWriter calls only write, flush and close, which LineFile has;
    # it is not an IO[str] in full.
    return cast(IO[str], LineFile(fd))


# The supervisor's side.


class _WouldListen:
    """
    What an endpoint would listen on: found by letting it listen with a
    reactor that only notes it down (L{_ListenRecorder}).

    @ivar unix: whether it is a UNIX socket; if not, TCP.
    @ivar tls: for TCP, whether it speaks TLS.
    @ivar contextFactory: for TLS, the endpoint's context factory.
    """

    def __init__(
        self,
        unix: bool = False,
        port: int = 0,
        backlog: int = 50,
        interface: str = "",
        contextFactory: Any = None,
    ) -> None:
        self.unix = unix
        self.port = port
        self.backlog = backlog
        self.interface = interface
        self.tls = contextFactory is not None
        self.contextFactory = contextFactory


class _ListenRecorder:
    """
    A stand-in for the reactor of an endpoint, which notes down what the
    endpoint asks to listen on rather than listening.

    This asks Twisted's own endpoint parsers, through the reactor interfaces
    they call (L{IReactorTCP}, L{IReactorSSL}, L{IReactorUNIX}), rather than
    reading their private attributes or parsing descriptions a second way.
    """

    found: _WouldListen | None = None

    def listenTCP(
        self, port: int, factory: object, backlog: int = 50, interface: str = ""
    ) -> None:
        self.found = _WouldListen(port=port, backlog=backlog, interface=interface)

    def listenSSL(
        self,
        port: int,
        factory: object,
        contextFactory: Any,
        backlog: int = 50,
        interface: str = "",
    ) -> None:
        self.found = _WouldListen(
            port=port,
            backlog=backlog,
            interface=interface,
            contextFactory=contextFactory,
        )

    def listenUNIX(
        self,
        address: str,
        factory: object,
        backlog: int = 50,
        mode: int = 0o666,
        wantPID: int = 0,
    ) -> None:
        self.found = _WouldListen(unix=True)


def _wouldListen(description: str) -> _WouldListen | None:
    """
    @param description: an endpoint description that parses.
    @return: what it would listen on; C{None} for an endpoint that is not
        TCP, TLS or a UNIX socket.
    """
    recorder = _ListenRecorder()
    listening = serverFromString(recorder, description).listen(Factory())
    # Another kind of endpoint calls what the recorder lacks: that failure
    # means "not one of ours", and is not to be logged as unhandled.
    listening.addErrback(lambda failure: None)
    return recorder.found


class _Listener:
    """
    One endpoint as the supervisor holds it: its socket, or one socket for
    each worker.

    @ivar description: the endpoint description it was given as.
    @ivar address: where it listens.
    @ivar tls: whether it speaks TLS.
    @ivar admin: whether it is an C{--admin-listen} one, for worker 0 only.
    """

    def __init__(
        self,
        description: str,
        address: IAddress,
        fds: Sequence[int],
        close: Callable[[], object],
        tls: bool = False,
        admin: bool = False,
    ) -> None:
        """
        @param fds: the descriptor every worker shares, or one for each.
        @param close: closes the supervisor's own hold on the socket(s).
        """
        self.description = description
        self.address = address
        self.tls = tls
        self.admin = admin
        self._fds = list(fds)
        self._close = close
        self._closed = False

    def fdFor(self, index: int) -> int | None:
        """
        @return: the descriptor that worker C{index} is to serve, if any.
        """
        if self.admin and index != 0:
            return None
        return self._fds[index % len(self._fds)]

    def close(self) -> Deferred[None]:
        """
        Let go of the supervisor's hold on the socket(s), once; the workers'
        descriptors stay open until each closes its own.
        """
        if self._closed:
            return succeed(None)
        self._closed = True
        return maybeDeferred(self._close).addCallback(lambda _: None)


def _tcpSockets(
    interface: str, port: int, backlog: int, count: int
) -> tuple[IAddress, list[socket.socket]]:
    """
    Bind and listen: one socket for each of C{count} workers with
    C{SO_REUSEPORT}, or one shared socket when C{count} is 1.

    Why a socket each: with one shared socket, every worker's epoll wakes for
    each new connection, and the first to run accepts all that are queued
    (Twisted takes up to 100 at once), so a burst of connections (a load
    balancer's pool, a benchmark's 50) lands on one worker, and keep-alive
    keeps it there. Linux spreads connections over a group of C{SO_REUSEPORT}
    sockets by a hash of their addresses, evenly, and wakes only the worker
    whose socket got it. The cost: the connections queued on one worker's
    socket wait for that worker; when it dies, they wait for the one started
    in its place, on the same socket, which the supervisor keeps open.

    Where C{SO_REUSEPORT} does not spread connections (Linux's does, from
    3.9; elsewhere one socket of the group gets them all), it is one shared
    socket.

    Every socket of the group has to set C{SO_REUSEPORT} before it binds, and
    then any process of the same user that sets it too could join the group,
    and take a share of the connections. So the address is first bound
    without it, by a socket that fails, as a single clocksvc does, if anything
    listens there already, and that also learns the port the system picked
    for port 0; the group then binds beside it, and it is closed.

    @return: where they listen, and the sockets.
    @raise CannotListenError: if the address cannot be bound.
    """
    family = socket.AF_INET6 if isIPv6Address(interface) else socket.AF_INET
    address: tuple[Any, ...] = (interface, port)
    made: list[socket.socket] = []

    def make(reusePort: bool) -> socket.socket:
        made.append(socket.socket(family, socket.SOCK_STREAM))
        # As Twisted's own ports: SO_REUSEADDR, and not blocking.
        made[-1].setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reusePort:
            made[-1].setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        made[-1].setblocking(False)
        return made[-1]

    try:
        if family == socket.AF_INET6:
            # As Twisted resolves it, for a scope such as fe80::1%eth0.
            address = socket.getaddrinfo(
                interface, port, family, 0, 0, socket.AI_NUMERICHOST
            )[0][4]
        probe = make(False)
        probe.bind(address)
        if count == 1 or not _SPREADS_REUSEPORT:
            probe.listen(backlog)
            group = [probe]
        else:
            address = (address[0], probe.getsockname()[1], *address[2:])
            group = []
            for _ in range(count):
                group.append(make(True))
                group[-1].bind(address)
                group[-1].listen(backlog)
            probe.close()
    except OSError as e:
        for s in made:
            s.close()
        raise CannotListenError(interface, port, e) from e
    host, boundPort = group[0].getsockname()[:2]
    found = IPv6Address if family == socket.AF_INET6 else IPv4Address
    return found("TCP", host, boundPort), group


#: Whether the system spreads connections over SO_REUSEPORT sockets.
_SPREADS_REUSEPORT = sys.platform.startswith("linux") and hasattr(
    socket, "SO_REUSEPORT"
)


async def _bind(
    description: str,
    endpoint: IStreamServerEndpoint,
    count: int,
    admin: bool,
) -> _Listener:
    """
    Listen on one endpoint for C{count} workers.

    @raise _Exit: if it is a kind of endpoint that workers cannot share.
    @raise Exception: what listening raised.
    """
    if isinstance(endpoint, AdoptedStreamServerEndpoint):
        # A socket that systemd passed: shared as it is, and left to systemd.
        fd = endpoint.fileno
        with socket.socket(fileno=os.dup(fd)) as held:
            held.setblocking(False)
            address = _addressOf(held)
        return _Listener(description, address, [fd], lambda: os.close(fd), admin=admin)
    would = _wouldListen(description)
    if would is None:
        raise _Exit(
            f"--workers cannot share {description!r}: only tcp:, tcp6:, ssl:, "
            "unix: and systemd: endpoints"
        )
    if would.unix:
        # Twisted's own UNIX port, with its lock file and mode, which the
        # supervisor never reads from: the workers accept.
        # A unix.Port, whose stopReading and fileno IListeningPort does not
        # name.
        port: Any = await endpoint.listen(Factory())
        port.stopReading()
        return _Listener(
            description,
            port.getHost(),
            [port.fileno()],
            port.stopListening,
            admin=admin,
        )
    address, sockets = _tcpSockets(would.interface, would.port, would.backlog, count)

    def close() -> None:
        for s in sockets:
            s.close()

    return _Listener(
        description,
        address,
        [s.fileno() for s in sockets],
        close,
        tls=would.tls,
        admin=admin,
    )


def _addressOf(held: socket.socket) -> IAddress:
    """
    @return: where C{held} listens, as Twisted's ports say it.
    """
    if held.family == socket.AF_UNIX:
        name = held.getsockname()
        return UNIXAddress(os.fsencode(name) if isinstance(name, str) else name)
    host, port = held.getsockname()[:2]
    if held.family == socket.AF_INET6:
        return IPv6Address("TCP", host, port)
    return IPv4Address("TCP", host, port)


async def bindListeners(
    endpoints: Sequence[tuple[str, IStreamServerEndpoint]],
    adminEndpoints: Sequence[tuple[str, IStreamServerEndpoint]],
    workers: int,
) -> list[_Listener]:
    """
    Listen on every endpoint, for C{workers} workers; if one fails, let go
    of the others.

    @return: the listeners: the public ones, then the admin ones.
    @raise _Exit: if an endpoint cannot be listened on, or shared.
    """
    listeners: list[_Listener] = []
    targets = [(d, e, False) for d, e in endpoints]
    targets += [(d, e, True) for d, e in adminEndpoints]
    try:
        for description, endpoint, admin in targets:
            try:
                listeners.append(
                    await _bind(description, endpoint, 1 if admin else workers, admin)
                )
            except _Exit:
                raise
            except Exception as e:
                raise _Exit(
                    f"cannot listen on {description}: {describeListenError(e)}"
                ) from e
    except _Exit:
        for listener in listeners:
            await listener.close()
        raise
    return listeners


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


class _Only(Factory):
    """
    Builds one given protocol: for a connection adopted by descriptor.
    """

    def __init__(self, protocol: Protocol) -> None:
        self._protocol = protocol

    def buildProtocol(self, addr: IAddress | None) -> Protocol:
        return self._protocol


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
        listeners: Sequence[_Listener],
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
                    "clocksvc",
                    *self._argv,
                    f"--worker-fds={','.join(spec)}",
                    f"--worker-link-fd={linkFD}",
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
                ours.fileno(), socket.AF_UNIX, _Only(link)
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

    def requested(self) -> None:
        """
        A signal asked to stop: the first one stops gracefully, a second one
        kills the workers.
        """
        if self._stopRequested:
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
            serviceLog.info("{message}", event="shutdown", message=message)

    def _problem(self, message: str) -> None:
        say(self._stderr, f"clocksvc: {message}")
        serviceLog.warn("{message}", event="worker_exited", message=message)


async def supervise(
    reactor: Any,
    options: Options,
    argv: Sequence[str],
    endpoints: Sequence[tuple[str, IStreamServerEndpoint]],
    adminEndpoints: Sequence[tuple[str, IStreamServerEndpoint]],
    stdout: TextIO,
    stderr: TextIO,
    handleSignals: bool,
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
    @return: the exit status.
    @raise _Exit: if an endpoint cannot be listened on.
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

        def onSignal(signum: int, frame: object) -> None:
            reactor.callFromThread(supervisor.requested)

        signal.signal(signal.SIGTERM, onSignal)
        signal.signal(signal.SIGINT, onSignal)
    supervisor.start()
    return await supervisor.finished


# The worker's side.


class _SharedUNIXPort(unix.Port):
    """
    A worker's port on a UNIX socket that the supervisor (or systemd) made
    and keeps.

    Twisted's port for an adopted UNIX socket treats it as its own: it
    chmods the file to 0666 and listens anew (with a backlog of 50) when it
    starts, and when it stops it shuts the socket down, which stops it
    listening in every process, and removes the file. This one only starts
    and stops accepting on it.
    """

    # Close only this process's descriptor when it stops.
    _shouldShutdown = False

    def __init__(self, held: socket.socket, factory: IProtocolFactory, reactor: Any):
        super().__init__(held.getsockname(), factory, reactor=reactor)
        self._held = held

    def startListening(self) -> None:
        """
        What L{unix.Port.startListening} does with a socket it adopts, less
        the chmod and the C{listen()}.
        """
        # A descriptor kept for when accept() runs out, as Twisted's ports do.
        tcp._reservedFD.reserve()
        # Twisted types the factory as optional; a port always has one.
        cast(Factory, self.factory).doStart()
        self.connected = True
        self.socket = self._held
        # Twisted's ports assign it too (tcp.Port.startListening).
        self.fileno = self._held.fileno  # type: ignore[method-assign]
        self.numberAccepts = 100
        self.startReading()

    def connectionLost(self, reason: Failure) -> None:
        # tcp.Port's, without unix.Port's removal of the file and its lock.
        tcp.Port.connectionLost(self, reason)


@implementer(IStreamServerEndpoint)
class _InheritedEndpoint:
    """
    A listening socket that a worker inherited as a descriptor, as an
    endpoint to listen on once.
    """

    def __init__(self, reactor: Any, fd: int, contextFactory: Any = None) -> None:
        """
        @param reactor: the reactor to adopt it into.
        @param fd: the descriptor, which L{listen} closes.
        @param contextFactory: for TLS, what the reactor's C{listenSSL} takes:
            the C{ssl:} endpoint's context factory; else C{None}.
        """
        self._reactor = reactor
        self._fd = fd
        self._contextFactory = contextFactory

    def listen(self, protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:
        try:
            held = socket.socket(fileno=self._fd)
            # Not blocking, as it is already: a Python socket made from a
            # descriptor takes blocking for its mode, which its dup() would
            # set on the socket shared by every process (and then each would
            # block in accept() once another took the connection).
            held.setblocking(False)
        except OSError:
            return fail()
        try:
            if self._contextFactory is not None:
                from twisted.protocols.tls import TLSMemoryBIOFactory

                # What the reactor's listenSSL does with a TCP port.
                protocolFactory = TLSMemoryBIOFactory(
                    self._contextFactory, False, protocolFactory
                )
            if held.family == socket.AF_UNIX:
                port: IListeningPort = _SharedUNIXPort(
                    held.dup(), protocolFactory, self._reactor
                )
                port.startListening()
            else:
                port = self._reactor.adoptStreamPort(
                    held.fileno(), held.family, protocolFactory
                )
        except Exception:
            return fail()
        finally:
            held.close()
        return succeed(port)


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
        self, listen: Sequence[str], admin: Sequence[str]
    ) -> tuple[
        list[tuple[str, IStreamServerEndpoint]],
        list[tuple[str, IStreamServerEndpoint]],
    ]:
        """
        @return: the public and the admin endpoints to serve, each on its
            inherited socket.
        @raise _Exit: if the descriptors do not match the descriptions.
        """
        if len(self._fds) != len(listen) + len(admin):
            raise _Exit("--worker-fds needs a descriptor or - for each endpoint")
        found: list[tuple[str, IStreamServerEndpoint]] = []
        for description, fd in zip([*listen, *admin], self._fds):
            if fd is None:
                continue
            contextFactory = None
            if description.startswith("ssl:"):
                would = _wouldListen(description)
                contextFactory = None if would is None else would.contextFactory
            found.append(
                (description, _InheritedEndpoint(self._reactor, fd, contextFactory))
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

            def onSignal(signum: int, frame: object) -> None:
                self._reactor.callFromThread(self.stop)

            signal.signal(signal.SIGTERM, onSignal)
            # SIGINT is the supervisor's to forward as SIGTERM (see
            # clocksvc._cli.main).
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.set_blocking(self._linkFD, False)
        self._reactor.adoptStreamConnection(
            self._linkFD, socket.AF_UNIX, _Only(_SupervisorLink(self.stop))
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
