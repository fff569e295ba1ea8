# -*- test-case-name: tests.test_cli -*-
"""
The command line: C{python -m clocksvc}.

It serves until SIGINT or SIGTERM, which stop it with exit status 0. A
problem it can name (a bad option, an endpoint that cannot be used) is one
line on standard error and exit status 2, never a traceback.
"""

from __future__ import annotations

import io
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TextIO

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.endpoints import serverFromString
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import (
    IAddress,
    IListeningPort,
    IReactorTime,
    IStreamServerEndpoint,
)
from twisted.logger import globalLogBeginner
from twisted.python import usage

from ._limits import Limits
from ._logging import JSONLinesObserver, ThreadedWriter, say, serviceLog
from ._server import ClockSite
from ._shutdown import GracefulShutdown
from ._site import buildAdminSite, buildSite, resolveZone
from ._version import __version__

if TYPE_CHECKING:
    from ._workers import Worker

__all__ = ["Options", "main", "run"]

DEFAULT_ENDPOINT = "tcp:8880"


class Options(usage.Options):
    """
    The options of C{python -m clocksvc}.
    """

    synopsis = "Usage: python -m clocksvc [options]"
    longdesc = (
        "Serve the current time over HTTP: the Twisted Web lesson's clock page "
        "at /. Without --listen or --port, it listens on " + DEFAULT_ENDPOINT + "."
    )

    optParameters: ClassVar[list[list[str | None]]] = [
        [
            "timezone",
            None,
            "UTC",
            "The IANA time zone of /now and of the time document at /, for "
            "clients that name none (any letter case).",
        ],
    ]

    def __init__(self) -> None:
        super().__init__()
        # usage.Options keeps the docstrings' line breaks and indentation,
        # which --help's re-wrapping would show as runs of spaces.
        self.docs = {
            name: " ".join(doc.split()) for name, doc in self.docs.items() if doc
        }
        self["listen"] = []
        self["admin-listen"] = []
        self["access-log"] = "-"
        self["shutdown-timeout"] = 10.0
        self["workers"] = 1
        self["worker-fds"] = None
        self["worker-link-fd"] = None

    def opt_listen(self, description: str) -> None:
        """
        Listen on a Twisted server endpoint description, such as
        tcp:8080:interface=127.0.0.1 or unix:/run/clocksvc.sock (repeatable).
        """
        self["listen"].append(description)

    def opt_port(self, port: str) -> None:
        """
        Listen on this TCP port on all interfaces (short for --listen tcp:PORT).
        """
        if not port.isdigit() or int(port) > 65535:
            raise usage.UsageError(
                f"--port needs a number from 0 to 65535, not {port!r}"
            )
        self["listen"].append(f"tcp:{int(port)}")

    def opt_header_timeout(self, value: str) -> None:
        """
        Seconds a client has to send a whole request, from its first byte or
        from connecting (default 10); then 408 and close.
        """
        self["header-timeout"] = _positive("--header-timeout", value)

    def opt_idle_timeout(self, value: str) -> None:
        """
        Seconds a kept-alive connection may sit idle (default 15).
        """
        self["idle-timeout"] = _positive("--idle-timeout", value)

    def opt_max_connections(self, value: str) -> None:
        """
        Connections served at once (default: the file-descriptor limit less
        64); beyond it, new connections get 503 and are closed.
        """
        if not value.isdigit() or int(value) < 1:
            raise usage.UsageError(
                f"--max-connections needs a whole number above 0, not {value!r}"
            )
        self["max-connections"] = int(value)

    def opt_shutdown_timeout(self, value: str) -> None:
        """
        Seconds that SIGTERM lets requests in flight finish before they are
        dropped (default 10).
        """
        self["shutdown-timeout"] = _positive("--shutdown-timeout", value)

    def limits(self) -> Limits:
        """
        @return: the limits the options ask for.
        """
        chosen = {
            "headerTimeout": self.get("header-timeout"),
            "idleTimeout": self.get("idle-timeout"),
            "maxConnections": self.get("max-connections"),
        }
        return Limits(**{k: v for k, v in chosen.items() if v is not None})

    def site(self, clock: IReactorTime) -> ClockSite:
        """
        @param clock: where the site reads the time.
        @return: the site the options ask for; C{/healthz} and C{/metrics}
            are on it unless C{--admin-listen} moves them.
        """
        return buildSite(
            clock,
            self["timezone"],
            self.limits(),
            accessLog=self["access-log"] != "off",
            adminResources=not self["admin-listen"],
        )

    def opt_admin_listen(self, description: str) -> None:
        """
        Serve /healthz and /metrics on this endpoint (repeatable) instead of
        on the public ones.
        """
        self["admin-listen"].append(description)

    def opt_access_log(self, value: str) -> None:
        """
        Where the log goes, one JSON object a line: a file's path, - for
        standard output (the default), or off for no access log (service
        events and errors then go to standard error).
        """
        self["access-log"] = value

    def opt_workers(self, value: str) -> None:
        """
        Serve with this many processes, sharing the listening sockets
        (default 1), or auto for one per CPU; with more than one, this
        process starts and supervises them.
        """
        if value == "auto":
            from ._workers import availableCPUs

            self["workers"] = availableCPUs()
            return
        if not (value.isascii() and value.isdigit()) or int(value) < 1:
            raise usage.UsageError(
                f"--workers needs a whole number above 0, or auto, not {value!r}"
            )
        self["workers"] = int(value)

    def opt_worker_fds(self, value: str) -> None:
        """
        (The supervisor's, for a worker: the inherited descriptor of each
        --listen, then each --admin-listen, or - for one it does not serve.)
        """
        try:
            self["worker-fds"] = [
                None if fd == "-" else int(fd) for fd in value.split(",")
            ]
        except ValueError:
            raise usage.UsageError(f"bad --worker-fds {value!r}") from None

    def opt_worker_link_fd(self, value: str) -> None:
        """
        (The supervisor's, for a worker: the descriptor of its link to the
        supervisor.)
        """
        if not value.isdigit():
            raise usage.UsageError(f"bad --worker-link-fd {value!r}")
        self["worker-link-fd"] = int(value)

    def getUsage(self, width: int | None = None) -> str:
        """
        The usage, less the options that only the supervisor gives its
        workers.
        """
        everyOption = self.longOpt
        self.longOpt = [o for o in everyOption if not o.startswith("worker-")]
        try:
            shown: str = super().getUsage(width)
        finally:
            self.longOpt = everyOption
        return shown

    def opt_version(self) -> None:
        """
        Print the version and exit.
        """
        print(f"clocksvc {__version__}")
        raise SystemExit(0)

    def postOptions(self) -> None:
        """
        Listen on the default endpoint when none was given, and check the
        time zone.
        """
        if not self["listen"]:
            self["listen"] = [DEFAULT_ENDPOINT]
        if (self["worker-fds"] is None) != (self["worker-link-fd"] is None):
            raise usage.UsageError("--worker-fds and --worker-link-fd go together")
        try:
            self["timezone"] = resolveZone(self["timezone"]).key
        except ValueError as e:
            raise usage.UsageError(str(e)) from None


def _positive(option: str, value: str) -> float:
    """
    @return: C{value} as a number of seconds above 0.
    @raise usage.UsageError: if it is not one.
    """
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 86400 * 365:
        raise usage.UsageError(
            f"{option} needs a number of seconds above 0, not {value!r}"
        )
    return seconds


class _Exit(Exception):
    """
    A problem to report in one line before exiting with status 2.
    """


def describeAddress(address: IAddress, tls: bool = False) -> str:
    """
    Say where a listening port can be reached.

    @param address: the port's C{getHost()}.
    @param tls: whether the port speaks TLS.
    @return: an URL for TCP, C{unix:PATH} for a UNIX socket.
    """
    scheme = "https" if tls else "http"
    if isinstance(address, IPv4Address):
        return f"{scheme}://{address.host}:{address.port}/"
    if isinstance(address, IPv6Address):
        return f"{scheme}://[{address.host}]:{address.port}/"
    if isinstance(address, UNIXAddress) and address.name is not None:
        return "unix:" + os.fsdecode(address.name)
    return str(address)


def describeListenError(error: BaseException) -> str:
    """
    Say in a few words why an endpoint could not listen.

    @param error: what listening raised.
    @return: e.g. C{address already in use}.
    """
    if isinstance(error, CannotListenError) and isinstance(error.socketError, OSError):
        socketError = error.socketError
        if socketError.errno is not None:
            return os.strerror(socketError.errno).lower()
        return str(socketError)
    return str(error) or type(error).__name__


def parseEndpoints(
    reactor: Any, descriptions: Sequence[str]
) -> list[tuple[str, IStreamServerEndpoint]]:
    """
    Parse every endpoint description before listening on any, so that a typo
    in the second one leaves nothing half started.

    @param reactor: the reactor the endpoints listen with.
    @param descriptions: the descriptions given on the command line.
    @return: each description with its endpoint.
    @raise _Exit: if a description cannot be parsed.
    """
    endpoints = []
    for description in descriptions:
        try:
            endpoint = serverFromString(reactor, description)
        except ValueError as e:
            raise _Exit(f"invalid endpoint {description!r}: {e}") from e
        except IndexError as e:
            # What Twisted's systemd parser raises when no socket was passed.
            raise _Exit(
                f"invalid endpoint {description!r}: no socket was passed at that "
                "index (systemd passes them in LISTEN_FDS)"
            ) from e
        except (TypeError, KeyError) as e:
            # Twisted's parsers raise these for missing or unknown arguments,
            # with messages about Python functions rather than endpoints.
            raise _Exit(
                f"invalid endpoint {description!r}: wrong or missing arguments"
            ) from e
        endpoints.append((description, endpoint))
    return endpoints


def logDestination(
    value: str, stdout: TextIO, stderr: TextIO
) -> tuple[TextIO | str, bool]:
    """
    Check where C{--access-log} sends the log.

    @return: the stream, or the path of the file (checked to be writable),
        that the log goes to; and whether the access log is on.
    @raise _Exit: if the file cannot be written.
    """
    if value == "off":
        return stderr, False
    if value == "-":
        return stdout, True
    try:
        open(value, "a", encoding="utf-8").close()
    except OSError as e:
        raise _Exit(
            f"cannot open access log {value}: {os.strerror(e.errno or 0).lower()}"
        ) from e
    return value, True


async def run(
    reactor: Any,
    argv: Sequence[str],
    stdout: TextIO,
    stderr: TextIO,
    handleSignals: bool = False,
) -> None:
    """
    Parse C{argv}, listen, and serve until the reactor stops; then drain.

    @param reactor: the reactor to listen with and read the time from.
    @param argv: the arguments, without the program name.
    @param stdout: where to say where it is serving.
    @param stderr: where to report problems.
    @param handleSignals: whether SIGTERM and SIGINT are to start a graceful
        shutdown, and a second one to force it: for the real process only.
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
    options = Options()
    ports: list[IListeningPort] = []
    worker: Worker | None = None
    # Where the lines for people go: a worker leaves them to its supervisor.
    peopleOut = stdout
    try:
        try:
            options.parseOptions(list(argv))
        except usage.UsageError as e:
            raise _Exit(f"{e} (see --help)") from e
        if options["worker-fds"] is not None:
            from ._workers import Worker

            worker = Worker(reactor, options["worker-fds"], options["worker-link-fd"])
            endpoints, adminEndpoints = worker.endpoints(
                options["listen"], options["admin-listen"]
            )
            peopleOut = io.StringIO()
        else:
            endpoints = parseEndpoints(reactor, options["listen"])
            adminEndpoints = parseEndpoints(reactor, options["admin-listen"])
        destination, accessLogOn = logDestination(options["access-log"], stdout, stderr)
        supervising = worker is None and options["workers"] > 1
        if handleSignals:
            if worker is not None or supervising:
                from ._workers import openSharedLog

                writer = ThreadedWriter(openSharedLog(destination), closeFile=True)
            elif isinstance(destination, str):
                # The writer closes it, after the last line at shutdown.
                writer = ThreadedWriter(
                    open(destination, "a", encoding="utf-8"),  # noqa: SIM115
                    closeFile=True,
                )
            else:
                writer = ThreadedWriter(destination)
            globalLogBeginner.beginLoggingTo(
                [JSONLinesObserver(writer.write, access=accessLogOn)],
                redirectStandardIO=False,
            )
            reactor.addSystemEventTrigger("after", "shutdown", writer.close)
        if supervising:
            from ._workers import supervise

            status = await supervise(
                reactor,
                options,
                argv,
                endpoints,
                adminEndpoints,
                stdout,
                stderr,
                handleSignals,
            )
            if status:
                raise SystemExit(status)
            return
        # By --admin-listen, not adminEndpoints: a worker other than the
        # first has none.
        site = options.site(IReactorTime(reactor))
        targets = [(description, endpoint, site) for description, endpoint in endpoints]
        adminSite = buildAdminSite(site) if adminEndpoints else None
        if adminSite is not None:
            targets += [(d, endpoint, adminSite) for d, endpoint in adminEndpoints]
        for description, endpoint, serving in targets:
            try:
                port = await endpoint.listen(serving)
            except Exception as e:
                raise _Exit(
                    f"cannot listen on {description}: {describeListenError(e)}"
                ) from e
            ports.append(port)
            if worker is not None:
                continue
            where = describeAddress(port.getHost(), description.startswith("ssl:"))
            what = "serving" if serving is site else "admin on"
            say(stdout, f"clocksvc: {what} {where}")
            serviceLog.info(
                "{what} {address}", event="listening", what=what, address=where
            )
    except _Exit as e:
        for port in ports:
            await maybeDeferred(port.stopListening)
        say(stderr, f"clocksvc: {e}")
        raise SystemExit(2) from None
    # The admin listeners stay open through the drain, so that probes see
    # /healthz say "draining" rather than find nothing there.
    shutdown = GracefulShutdown(
        reactor,
        site,
        ports[: len(endpoints)],
        options["shutdown-timeout"],
        peopleOut,
        adminPorts=ports[len(endpoints) :],
    )
    reactor.addSystemEventTrigger("before", "shutdown", shutdown.drainNow)
    if worker is not None:
        worker.serving(shutdown.requested, handleSignals)
    elif handleSignals:
        # In place of the reactor's handlers, which would only stop it: the
        # second signal must force the drain it started.
        def onSignal(signum: int, frame: object) -> None:
            reactor.callFromThread(shutdown.requested)

        signal.signal(signal.SIGTERM, onSignal)
        signal.signal(signal.SIGINT, onSignal)
    # Serve until the reactor shuts down and the drain is over.
    status = await shutdown.finished
    if status:
        raise SystemExit(status)


def main(reactor: Any, *argv: str) -> Deferred[None]:
    """
    The entry point for L{twisted.internet.task.react}.

    @param reactor: the global reactor.
    @param argv: the command-line arguments.
    @return: a L{Deferred} that fires when clocksvc has stopped.
    """
    if any(arg.startswith("--worker-fds") for arg in argv):
        # A worker of --workers. Ctrl-C sends SIGINT to every process of the
        # terminal's foreground group, and the supervisor forwards it as
        # SIGTERM, so workers ignore it; from before the reactor runs, which
        # then leaves it ignored.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    return Deferred.fromCoroutine(
        run(reactor, argv, sys.stdout, sys.stderr, handleSignals=True)
    )
