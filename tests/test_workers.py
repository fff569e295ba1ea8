"""
Tests for C{python -m clocksvc --workers N} as a whole: the option, the
command line that hands over to the supervisor or serves as a worker (in
memory), and the whole as a real process tree, checked through C{/proc}:
which process holds each connection, and which are the supervisor's
children.

Its parts have their own tests: the supervisor's decisions in
C{tests.test_supervisor}, the worker's side in C{tests.test_worker}, the
sockets in C{tests.test_sockets}, the shared log in C{tests.test_sharedlog}.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import stat
import sys
import time
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path

import treq
from twisted.internet import reactor
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.testing import MemoryReactorClock
from twisted.internet.threads import deferToThread
from twisted.python import usage
from twisted.trial.unittest import FailTest, SkipTest, SynchronousTestCase, TestCase
from twisted.web.client import HTTPConnectionPool

import clocksvc
from clocksvc._http import ClockSite
from clocksvc._run._cli import run
from clocksvc._run._endpoints import Problem
from clocksvc._run._options import MAX_WORKERS_PER_CPU, Options, availableCPUs
from clocksvc._run._sockets import _tcpSockets
from clocksvc._run._supervisor import MIN_RESTART_DELAY, WORKER_MODULE
from clocksvc._run._worker import Worker
from clocksvc._run._workermain import parseWorkerArguments

from ._helpers import SAID_CORE, eventually, keepZoneDatabase, socketPath, within
from ._process import PATIENCE, ClocksvcProcess, curl, peopleLines, spawnActivated
from ._rawhttp import receive
from ._tls import TLS_MISSING, makeCredentials
from ._workers import ProcessReactor, childrenOf, exited, parentOf, startKillingWorkers

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


def workersIn(output: bytes) -> list[int]:
    """
    @return: the PIDs that the supervisor's line C{N workers, pids ...} gives.
    """
    for line in peopleLines(output):
        found = re.fullmatch(r"clocksvc: \d+ workers, pids ([\d, ]+)", line)
        if found:
            return [int(pid) for pid in found.group(1).split(", ")]
    raise FailTest(f"no workers' line in {output!r}")


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


#: How many lines a supervisor of 2 workers on one endpoint says as they
#: serve: where, the workers' PIDs, and whether it runs pure Python.
_ANNOUNCED = 2 + SAID_CORE.count("\n")


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
