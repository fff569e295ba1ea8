# -*- test-case-name: tests.test_cli -*-
"""
The command line: C{python -m clocksvc}.

It serves until SIGINT or SIGTERM, which stop it with exit status 0. A
problem it can name (a bad option, an endpoint that cannot be used) is one
line on standard error and exit status 2, never a traceback.

Standard output is the log's alone, when the log goes there (the default):
one JSON object a line, which C{jq} or a log shipper reads as it is. The
lines for people (where it serves, that it stops) go to standard error.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Sequence
from typing import IO, Any, TextIO

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IListeningPort
from twisted.logger import globalLogBeginner
from twisted.python import usage

from .._clock import useMonotonicTime
from ._endpoints import Problem, describeAddress, logDestination, parseEndpoints
from ._logging import JSONLinesObserver, ThreadedWriter, inFormat, say, serviceLog
from ._options import Options
from ._roughtime import KeyProblem, keygen
from ._service import ClockService
from ._sharedlog import openSharedLog
from ._signals import Reload, onReloadSignal, onStopSignals
from ._supervisor import supervise
from ._worker import Worker

__all__ = ["main", "run"]


def _startLog(
    reactor: Any,
    destination: TextIO | str,
    access: bool,
    shared: bool,
    stderr: TextIO,
    format: str = "json",
) -> tuple[ThreadedWriter, Callable[[str], None]]:
    """
    Send the log, one JSON object a line (or text), to C{destination}, from
    a thread of its own; its last lines are written as the reactor shuts
    down.

    @param shared: whether other processes write to it too (a supervisor
        and its workers).
    @param stderr: where the writer says that the log fails.
    @param format: C{--log-format}.
    @return: the writer, which L{ThreadedWriter.reopen} reopens a file's
        path; and what takes the log's JSON lines, in C{format} for it.
    """
    if shared:
        path = destination

        def reopenShared() -> IO[str]:
            return openSharedLog(path)

        writer = ThreadedWriter(
            openSharedLog(destination),
            closeFile=True,
            stderr=stderr,
            reopen=reopenShared if isinstance(destination, str) else None,
        )
    elif isinstance(destination, str):
        name = destination

        def reopen() -> IO[str]:
            return open(name, "a", encoding="utf-8")

        # The writer closes it, after the last line at shutdown.
        writer = ThreadedWriter(reopen(), closeFile=True, stderr=stderr, reopen=reopen)
    else:
        writer = ThreadedWriter(destination, stderr=stderr)
    write = inFormat(writer.write, format)
    globalLogBeginner.beginLoggingTo(
        [JSONLinesObserver(write, access=access)], redirectStandardIO=False
    )
    reactor.addSystemEventTrigger("after", "shutdown", writer.close)
    return writer, write


async def run(
    reactor: Any,
    argv: Sequence[str],
    stdout: TextIO,
    stderr: TextIO,
    handleSignals: bool = False,
    worker: Worker | None = None,
) -> None:
    """
    Parse C{argv}, listen, and serve until the reactor stops; then drain.

    @param reactor: the reactor to listen with and read the time from.
    @param argv: the arguments, without the program name.
    @param stdout: where the log goes by default.
    @param stderr: where to say where it is serving, and report problems.
    @param handleSignals: whether SIGTERM and SIGINT are to start a graceful
        shutdown, and a second one to force it: for the real process only.
    @param worker: when this process is a worker of C{--workers}, its side of
        the supervisor's sockets and link.
    @raise SystemExit: with status 2 after reporting a problem, 0 after
        C{--help} or C{--version}, 1 after a shutdown that had to drop
        connections.
    """
    # The reactor installs its SIGINT and SIGTERM handlers as it starts: only
    # then may the "serving" line tell a supervisor (or a test) that a signal
    # will stop clocksvc cleanly.
    running: Deferred[None] = Deferred()
    reactor.callWhenRunning(running.callback, None)
    await running
    # SIGHUP reopens the log file (once there is one) and is passed on to
    # workers; from now on it never ends the process, as its default would.
    reload = Reload()
    if handleSignals:
        onReloadSignal(reactor, reload)
    if list(argv[:1]) == ["roughtime-keygen"]:
        _keygen(argv[1:], stdout, stderr)
        return
    options = Options()
    # Where the lines for people go: standard error, so that standard output
    # is the log's alone; a worker leaves them to its supervisor.
    peopleOut = stderr if worker is None else io.StringIO()
    try:
        try:
            options.parseOptions(list(argv))
        except usage.UsageError as e:
            raise Problem(f"{e} (see --help)") from e
        supervising = worker is None and options["workers"] > 1
        # SIGHUP reads each ssl: endpoint's certificate again, where it
        # serves: not in a supervisor, whose workers serve.
        certificates = None if supervising else reload.add
        if worker is not None:
            endpoints, adminEndpoints = worker.endpoints(
                options["listen"], options["admin-listen"], certificates
            )
        else:
            endpoints = parseEndpoints(reactor, options["listen"], certificates)
            adminEndpoints = parseEndpoints(
                reactor, options["admin-listen"], certificates
            )
        destination, accessLogOn = logDestination(options["access-log"], stdout, stderr)
        accessLines: Callable[[str], None] | None = None
        if handleSignals:
            writer, write = _startLog(
                reactor,
                destination,
                accessLogOn,
                shared=worker is not None or supervising,
                stderr=stderr,
                format=options["log-format"],
            )
            reload.add(writer.reopen)
            if accessLogOn:
                accessLines = write
        if supervising:
            status = await supervise(
                reactor,
                options,
                argv,
                endpoints,
                adminEndpoints,
                # Its lines for people, as ours.
                stderr,
                stderr,
                handleSignals,
                reload,
            )
            if status:
                raise SystemExit(status)
            return
        service = ClockService(
            reactor,
            options,
            endpoints,
            adminEndpoints,
            peopleOut,
            # Straight to the writer: a third of the cost of an event.
            accessLines=accessLines,
        )
        if options["geoip-db"] is not None:
            # Read again on SIGHUP, after geoipupdate's weekly update.
            reload.add(options["geoip-db"].reload)

        def listening(description: str, port: IListeningPort, admin: bool) -> None:
            where = describeAddress(port.getHost(), description.startswith("ssl:"))
            what = "admin on" if admin else "serving"
            say(stderr, f"clocksvc: {what} {where}")
            serviceLog.info(
                "{what} {address}", event="listening", what=what, address=where
            )

        # A worker leaves saying where it serves to its supervisor.
        await service.listen(listening if worker is None else None)
    except Problem as e:
        say(stderr, f"clocksvc: {e}")
        raise SystemExit(2) from None
    service.startService()
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    if worker is not None:
        worker.serving(service.requested, handleSignals)
    elif handleSignals:
        onStopSignals(reactor, service.requested)
    # Serve until the reactor shuts down and the drain is over.
    status = await service.stopped
    if status:
        raise SystemExit(status)


def _keygen(argv: Sequence[str], stdout: TextIO, stderr: TextIO) -> None:
    """
    C{python -m clocksvc roughtime-keygen FILE}: make a Roughtime long-term
    key in FILE and print its public key.

    @raise SystemExit: with status 2 after reporting a problem.
    """
    if len(argv) != 1 or argv[0].startswith("-"):
        say(stderr, "clocksvc: usage: python -m clocksvc roughtime-keygen FILE")
        raise SystemExit(2)
    try:
        keygen(argv[0], stdout)
    except KeyProblem as e:
        say(stderr, f"clocksvc: roughtime-keygen: {e}")
        raise SystemExit(2) from None


def main(reactor: Any, *argv: str) -> Deferred[None]:
    """
    The entry point for L{twisted.internet.task.react}.

    @param reactor: the global reactor, which from now on schedules on the
        monotonic clock, so that a step of the system's clock moves no timer.
    @param argv: the command-line arguments.
    @return: a L{Deferred} that fires when clocksvc has stopped.
    """
    useMonotonicTime(reactor)
    return Deferred.fromCoroutine(
        run(reactor, argv, sys.stdout, sys.stderr, handleSignals=True)
    )
