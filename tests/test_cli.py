"""
Tests for L{clocksvc._run._cli}: C{python -m clocksvc}.
"""

from __future__ import annotations

import errno
import io
import json
import socket
import time
import zoneinfo
from zoneinfo import ZoneInfo

import treq
from twisted.internet import reactor
from twisted.internet.address import IPv6Address, UNIXAddress
from twisted.internet.defer import Deferred
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocolFactory,
    IStreamServerEndpoint,
)
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import LogLevel, formatEvent
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.client import HTTPConnectionPool
from twisted.web.http_headers import Headers

from clocksvc import __version__
from clocksvc._clock import readKernelClock
from clocksvc._http import Limits
from clocksvc._run import _endpoints
from clocksvc._run._cli import run
from clocksvc._run._endpoints import (
    Problem,
    describeAddress,
    describeListenError,
    parseEndpoint,
    parseEndpoints,
)
from clocksvc._run._options import Options
from clocksvc._time import clockPageBody
from clocksvc._web import Readiness

from ._helpers import (
    SAID_CORE,
    accessLogged,
    capturedEvents,
    keepZoneDatabase,
    siteOf,
    stubTreq,
    useTimezone,
)
from ._process import ClocksvcProcess, spawnClocksvc


class RunTests(SynchronousTestCase):
    """
    L{run} parses the command line and listens, in memory.
    """

    def run_(
        self, *argv: str, reactor: MemoryReactorClock | None = None
    ) -> tuple[Deferred[None], str, str]:
        """
        Call L{run} with a memory reactor.

        @return: its L{Deferred}, and what it wrote to stdout and stderr.
        """
        stdout, stderr = io.StringIO(), io.StringIO()
        self.reactor = MemoryReactorClock() if reactor is None else reactor
        keepZoneDatabase(self)
        # As task.react does: run() waits for the reactor to be running.
        self.reactor.run()
        d = Deferred.fromCoroutine(run(self.reactor, argv, stdout, stderr))
        return d, stdout.getvalue(), stderr.getvalue()

    def assertExit(self, d: Deferred[None], code: int) -> None:
        """
        Assert that C{d} failed with C{SystemExit(code)}.
        """
        self.assertEqual(self.failureResultOf(d, SystemExit).value.code, code)

    def test_waitsForReactor(self) -> None:
        """
        Nothing is parsed or listened to until the reactor runs, when its
        signal handlers are in place.
        """
        stdout, stderr = io.StringIO(), io.StringIO()
        reactor = MemoryReactorClock()
        d = Deferred.fromCoroutine(run(reactor, ["--port", "8080"], stdout, stderr))
        self.assertEqual((reactor.tcpServers, stderr.getvalue()), ([], ""))
        reactor.run()
        self.assertNoResult(d)
        self.assertEqual(
            stderr.getvalue(), "clocksvc: serving http://0.0.0.0:8080/\n" + SAID_CORE
        )

    def test_default(self) -> None:
        """
        Without options it listens on TCP port 8880 on all interfaces, says
        so on standard error, and keeps serving; standard output is the
        log's.
        """
        d, out, err = self.run_()
        self.assertNoResult(d)
        [(port, _, _, interface)] = self.reactor.tcpServers
        self.assertEqual((port, interface), (8880, ""))
        self.assertEqual(err, "clocksvc: serving http://0.0.0.0:8880/\n" + SAID_CORE)
        self.assertEqual(out, "")

    def test_listenRepeated(self) -> None:
        """
        C{--listen} takes endpoint descriptions and may be repeated; C{--port}
        is short for a TCP one.
        """
        d, _, err = self.run_(
            "--listen",
            "tcp:8080:interface=127.0.0.1",
            "--port",
            "9090",
            "--listen=tcp6:7070:interface=\\:\\:1",
        )
        self.assertNoResult(d)
        self.assertEqual(
            [(port, interface) for port, _, _, interface in self.reactor.tcpServers],
            [(8080, "127.0.0.1"), (9090, ""), (7070, "::1")],
        )
        # The memory reactor's ports say 0.0.0.0 for any IPv4 interface;
        # ProcessTests sees the real addresses.
        self.assertEqual(
            err.splitlines(),
            [
                "clocksvc: serving http://0.0.0.0:8080/",
                "clocksvc: serving http://0.0.0.0:9090/",
                "clocksvc: serving http://[::1]:7070/",
                *SAID_CORE.splitlines(),
            ],
        )

    def test_unix(self) -> None:
        """
        A UNIX socket endpoint is reported by its path.
        """
        d, _, err = self.run_("--listen", "unix:/run/clocksvc.sock")
        self.assertNoResult(d)
        self.assertEqual(self.reactor.unixServers[0][0], "/run/clocksvc.sock")
        self.assertEqual(err, "clocksvc: serving unix:/run/clocksvc.sock\n" + SAID_CORE)

    def test_badOption(self) -> None:
        """
        An unknown option is one line on stderr and exit status 2.
        """
        d, out, err = self.run_("--frobnicate")
        self.assertExit(d, 2)
        self.assertEqual(
            err, "clocksvc: option --frobnicate not recognized (see --help)\n"
        )
        self.assertEqual(out, "")

    def test_badPort(self) -> None:
        """
        C{--port} needs a port number.
        """
        for value in ["http", "-1", "65536", ""]:
            d, _, err = self.run_("--port", value)
            self.assertExit(d, 2)
            self.assertEqual(
                err,
                f"clocksvc: --port needs a number from 0 to 65535, not {value!r}"
                " (see --help)\n",
            )
            self.assertEqual(self.reactor.tcpServers, [])

    def test_badEndpoint(self) -> None:
        """
        An endpoint description Twisted cannot parse is reported, and nothing
        listens, even on the good descriptions before it.
        """
        cases = {
            "bogus:1": "clocksvc: invalid endpoint 'bogus:1': unknown endpoint "
            "type 'bogus'; use tcp:, tcp6:, ssl:, unix:, systemd:, or haproxy: "
            "before one of them\n",
            "tcp": "clocksvc: invalid endpoint 'tcp': tcp: needs its port, as in "
            "tcp:8880\n",
            "tcp:80:frob=1": "clocksvc: invalid endpoint 'tcp:80:frob=1': "
            "unknown parameter 'frob' of tcp:PORT[:interface=][:backlog=]\n",
            "systemd:domain=INET:index=7": "clocksvc: invalid endpoint "
            "'systemd:domain=INET:index=7': no socket was passed at that index "
            "(systemd passes them in LISTEN_FDS)\n",
        }
        for description, message in cases.items():
            d, _, err = self.run_("--port", "8080", "--listen", description)
            self.assertExit(d, 2)
            self.assertEqual(err, message)
            self.assertEqual(self.reactor.tcpServers, [])

    def test_cannotListen(self) -> None:
        """
        When an endpoint cannot listen, the problem is one line naming the
        endpoint, and the ports already listening are stopped.
        """

        class SecondPortInUse(MemoryReactorClock):
            def listenTCP(
                self,
                port: int,
                factory: IProtocolFactory,
                backlog: int = 50,
                interface: str = "",
            ) -> IListeningPort:
                if self.tcpServers:
                    raise CannotListenError(
                        interface, port, OSError(errno.EADDRINUSE, "in use")
                    )
                listening: IListeningPort = super().listenTCP(
                    port, factory, backlog, interface
                )
                # Record the stop rather than make one: mypy forbids assigning
                # to a method, which is what a test double is for.
                listening.stopListening = lambda: stopped.append(port)  # type: ignore[method-assign]
                return listening

        stopped: list[int] = []

        reactor = SecondPortInUse()
        d, out, err = self.run_("--port", "8080", "--port", "8081", reactor=reactor)
        self.assertExit(d, 2)
        # Nothing said of the first: it never served.
        self.assertEqual(
            err, "clocksvc: cannot listen on tcp:8081: address already in use\n"
        )
        self.assertEqual(out, "")
        self.assertEqual(stopped, [8080])

    def test_timezone(self) -> None:
        """
        C{--timezone} sets the default zone, in any letter case.
        """
        d, _, err = self.run_("--timezone", "asia/kathmandu")
        self.assertNoResult(d)
        self.assertEqual(err, "clocksvc: serving http://0.0.0.0:8880/\n" + SAID_CORE)
        response = self.successResultOf(
            stubTreq(siteOf(self.reactor).resource).get("http://clock.example/now.txt")
        )
        body = self.successResultOf(response.content())
        self.assertIn(b"\ntimezone: Asia/Kathmandu\n", body)

    def test_startingZone(self) -> None:
        """
        Once it serves, the service log says which zone the server is in
        and why; a local zone without a name is UTC, with a warning.
        """
        events = capturedEvents(self)
        for args, tz, level, message in [
            (
                ["--timezone", "europe/berlin"],
                "Asia/Tokyo",
                LogLevel.info,
                "time zone Europe/Berlin (--timezone)",
            ),
            ([], "Asia/Tokyo", LogLevel.info, "time zone Asia/Tokyo (the local zone)"),
            (
                [],
                "JST-9",
                LogLevel.warn,
                "time zone UTC: the local zone has no name clocksvc knows (TZ or "
                "/etc/localtime); give one with --timezone",
            ),
        ]:
            useTimezone(self, tz)
            del events[:]
            d, _, err = self.run_(*args)
            self.assertEqual(
                err, "clocksvc: serving http://0.0.0.0:8880/\n" + SAID_CORE
            )
            self.assertNoResult(d)
            [event] = [event for event in events if event["event"] == "timezone"]
            self.assertEqual((event["log_level"], formatEvent(event)), (level, message))

    def test_unknownTimezone(self) -> None:
        """
        An unknown C{--timezone} is one line on stderr and exit status 2.
        """
        d, _, err = self.run_("--timezone", "Mars/Base")
        self.assertExit(d, 2)
        self.assertEqual(err, "clocksvc: unknown time zone 'Mars/Base' (see --help)\n")
        self.assertEqual(self.reactor.tcpServers, [])

    def test_badTzdata(self) -> None:
        """
        C{--tzdata} takes newest, system or package; anything else is one
        line on stderr and exit status 2.
        """
        d, _, err = self.run_("--tzdata", "latest")
        self.assertExit(d, 2)
        self.assertEqual(
            err,
            "clocksvc: --tzdata needs one of newest, system, package, not "
            "'latest' (see --help)\n",
        )
        self.assertEqual(self.reactor.tcpServers, [])

    def test_tzdata(self) -> None:
        """
        C{--tzdata package} makes zoneinfo read the package, and C{/healthz}
        says so.
        """
        d, _, err = self.run_("--tzdata", "package")
        self.assertNoResult(d)
        self.assertEqual(err, "clocksvc: serving http://0.0.0.0:8880/\n" + SAID_CORE)
        response = self.successResultOf(
            stubTreq(siteOf(self.reactor).resource).get("http://clock.example/healthz")
        )
        health = json.loads(self.successResultOf(response.content()))
        self.assertEqual(health["tzdata"]["source"], "package")
        self.assertEqual(zoneinfo.TZPATH, ())

    def test_limits(self) -> None:
        """
        The limit options reach the site; the others keep their defaults.
        """
        d, _, err = self.run_(
            "--header-timeout",
            "2.5",
            "--idle-timeout",
            "30",
            "--max-connections",
            "7",
        )
        self.assertNoResult(d)
        self.assertEqual(err, "clocksvc: serving http://0.0.0.0:8880/\n" + SAID_CORE)
        limits = siteOf(self.reactor).limits
        self.assertEqual(
            (limits.headerTimeout, limits.idleTimeout, limits.maxConnections),
            (2.5, 30.0, 7),
        )
        self.assertEqual(limits.maxBodySize, Limits().maxBodySize)

    def test_badLimits(self) -> None:
        """
        A limit that is not a positive number is one line and exit status 2.
        """
        for option, value, message in [
            ("--header-timeout", "soon", "a number of seconds above 0, not 'soon'"),
            ("--idle-timeout", "0", "a number of seconds above 0, not '0'"),
            ("--shutdown-timeout", "-1", "a number of seconds above 0, not '-1'"),
            ("--max-connections", "0", "a whole number above 0, not '0'"),
            ("--max-connections", "lots", "a whole number above 0, not 'lots'"),
        ]:
            d, _, err = self.run_(option, value)
            self.assertExit(d, 2)
            self.assertEqual(err, f"clocksvc: {option} needs {message} (see --help)\n")

    def test_badClockOptions(self) -> None:
        """
        A clock error bound that is not a positive number of milliseconds,
        or one without C{--require-synchronized-clock}, is one line and
        exit status 2.
        """
        for argv, message in [
            (
                ["--require-synchronized-clock", "--max-clock-error", "soon"],
                "--max-clock-error needs a number of milliseconds above 0, not 'soon'",
            ),
            (
                ["--require-synchronized-clock", "--max-clock-error", "0"],
                "--max-clock-error needs a number of milliseconds above 0, not '0'",
            ),
            (
                ["--max-clock-error", "5"],
                "--max-clock-error needs --require-synchronized-clock",
            ),
        ]:
            d, _, err = self.run_(*argv)
            self.assertExit(d, 2)
            self.assertEqual(err, f"clocksvc: {message} (see --help)\n")

    def test_clockOptions(self) -> None:
        """
        C{--require-synchronized-clock} and C{--max-clock-error} set what
        C{/readyz} asks of the clock.
        """
        options = Options()
        options.parseOptions([])
        self.assertEqual(options.readiness(), Readiness())
        options = Options()
        options.parseOptions(
            ["--require-synchronized-clock", "--max-clock-error", "2.5"]
        )
        self.assertEqual(options.readiness(), Readiness(True, 2.5))

    def test_drainsOnShutdown(self) -> None:
        """
        The reactor's shutdown drains the site, and then run() returns.
        """
        d, _, _ = self.run_("--port", "8080", "--shutdown-timeout", "3")
        [trigger] = self.reactor.triggers["before"]["shutdown"]
        function, args, kwargs = trigger
        self.successResultOf(function(*args, **kwargs))
        self.assertIsNone(self.successResultOf(d))

    def test_adminListen(self) -> None:
        """
        C{--admin-listen} serves C{/healthz} and C{/metrics} on a listener
        of their own, and takes them off the public one.
        """
        d, _, err = self.run_("--port", "8080", "--admin-listen", "tcp:9100")
        self.assertNoResult(d)
        self.assertEqual(
            err.splitlines(),
            [
                "clocksvc: serving http://0.0.0.0:8080/",
                "clocksvc: admin on http://0.0.0.0:9100/",
                *SAID_CORE.splitlines(),
            ],
        )
        public, admin = siteOf(self.reactor, 0), siteOf(self.reactor, 1)
        self.assertIsNone(public.resource.getStaticEntity(b"healthz"))
        self.assertIsNotNone(admin.resource.getStaticEntity(b"healthz"))
        self.assertIsNotNone(admin.resource.getStaticEntity(b"metrics"))

    def test_accessLog(self) -> None:
        """
        The access log is on by default, and off with C{--access-log off}.
        """
        path = self.mktemp()
        for argv, on in [
            ((), True),
            (("--access-log", "off"), False),
            (("--access-log", path), True),
        ]:
            d, _, err = self.run_(*argv)
            self.assertNoResult(d)
            self.assertEqual(
                err, "clocksvc: serving http://0.0.0.0:8880/\n" + SAID_CORE
            )
            self.assertEqual(accessLogged(siteOf(self.reactor)), on, argv)

    def test_accessLogUnwritable(self) -> None:
        """
        An access log that cannot be opened is one line and exit status 2.
        """
        d, _, err = self.run_("--access-log", "/nonexistent/dir/access.log")
        self.assertExit(d, 2)
        self.assertEqual(
            err,
            "clocksvc: cannot open access log /nonexistent/dir/access.log: "
            "no such file or directory\n",
        )

    def test_describeAddress(self) -> None:
        """
        Addresses are described as URLs for TCP, by path for UNIX sockets, and
        as Twisted prints them otherwise.
        """
        self.assertEqual(
            describeAddress(IPv6Address("TCP", "::", 80)), "http://[::]:80/"
        )
        self.assertEqual(
            describeAddress(UNIXAddress(b"/tmp/c.sock")), "unix:/tmp/c.sock"
        )
        self.assertEqual(describeAddress(UNIXAddress(None)), str(UNIXAddress(None)))

    def test_badLogFormat(self) -> None:
        """
        C{--log-format} takes json or text.
        """
        d, _, err = self.run_("--log-format", "yaml")
        self.assertExit(d, 2)
        self.assertEqual(
            err, "clocksvc: --log-format needs json or text, not 'yaml' (see --help)\n"
        )

    def test_describeListenError(self) -> None:
        """
        Listen errors are described by their cause, in lower case.
        """
        self.assertEqual(
            describeListenError(CannotListenError("", 8080, OSError(13, "x"))),
            "permission denied",
        )
        self.assertEqual(
            describeListenError(CannotListenError("", 80, OSError("odd"))), "odd"
        )
        self.assertEqual(describeListenError(RuntimeError("boom")), "boom")
        self.assertEqual(describeListenError(RuntimeError()), "RuntimeError")

    def test_describeListenErrorInTermsOfTheEndpoint(self) -> None:
        """
        An interface that is no address, one that is not this machine's, a
        port below 1024 without the right to it, and a UNIX socket's
        directory that is not there, are each said so.
        """
        unknown = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        for error, said in [
            (
                CannotListenError("999.1.1.1", 8080, unknown),
                "the interface '999.1.1.1' is not an IP address, nor a host name "
                "that resolves to one",
            ),
            (
                CannotListenError("10.9.9.9", 0, OSError(errno.EADDRNOTAVAIL, "x")),
                "no network interface of this machine has the address 10.9.9.9",
            ),
            (
                CannotListenError("", 80, OSError(errno.EACCES, "x")),
                "permission denied: ports below 1024 need root, or the "
                "CAP_NET_BIND_SERVICE capability",
            ),
            (
                FileNotFoundError(errno.ENOENT, "x", "1234", None, "/no/dir/s.lock"),
                "no such file or directory",
            ),
        ]:
            self.assertEqual(describeListenError(error), said)


class EndpointProblemTests(SynchronousTestCase):
    """
    Every mistake in an endpoint description is said in terms of the
    description, rather than of the Python that parses it.
    """

    def problem(self, description: str) -> str:
        """
        @return: what parsing C{description} says is wrong with it.
        """
        with self.assertRaises(Problem) as raised:
            parseEndpoints(MemoryReactorClock(), ["tcp:0", description])
        return str(raised.exception)

    def test_problems(self) -> None:
        """
        Each mistake, with what is said of it.
        """
        escape = (
            "; a ':' inside a value needs a backslash before it, as in "
            "interface=\\:\\:1"
        )
        noType = "no endpoint type: a description starts with one, as in tcp:8880"
        types = "use tcp:, tcp6:, ssl:, unix:, systemd:, or haproxy: before one of them"
        for description, said in [
            ("", noType),
            (":80", noType),
            ("=80", noType),
            ("bogus:1", f"unknown endpoint type 'bogus'; {types}"),
            (
                "TCP:80",
                f"unknown endpoint type 'TCP' (types are lower case: tcp:); {types}",
            ),
            ("tcp", "tcp: needs its port, as in tcp:8880"),
            ("tcp:", "tcp: needs its port, as in tcp:8880"),
            ("tcp:notaport", "port 'notaport' is not a number from 0 to 65535"),
            ("tcp:65536", "port '65536' is not a number from 0 to 65535"),
            ("tcp:-1", "port '-1' is not a number from 0 to 65535"),
            ("tcp:\uff18\uff10", "port '\uff18\uff10' is not a number from 0 to 65535"),
            ("tcp:80:backlog=many", "backlog 'many' is not a whole number"),
            (
                "tcp:80:frob=1",
                "unknown parameter 'frob' of tcp:PORT[:interface=][:backlog=]",
            ),
            ("tcp:80:port=81", "port is given twice"),
            ("tcp:80:interface=::1", "interface is given twice" + escape),
            (
                "tcp:80:127.0.0.1:5:x",
                "too many values for tcp:PORT[:interface=][:backlog=]" + escape,
            ),
            (
                "tcp6:80:interface=127.0.0.1",
                "tcp6: listens on IPv6, and 127.0.0.1 is an IPv4 address (use tcp: "
                "for it)",
            ),
            ("ssl:https", "port 'https' is not a number from 0 to 65535"),
            (
                "ssl:443:privatekey=k.pem",
                "unknown parameter 'privatekey' of ssl:PORT[:privateKey=][:certKey=]"
                "[:sslmethod=][:interface=][:backlog=][:extraCertChain=]"
                "[:dhParameters=]",
            ),
            ("unix:", "unix: needs its path, as in unix:/run/clocksvc.sock"),
            (
                "unix:/run/c.sock:mode=rw",
                "mode 'rw' is not a file mode in octal, such as 660",
            ),
            (
                "unix:/run/c.sock:mode=999",
                "mode '999' is not a file mode in octal, such as 660",
            ),
            ("unix:/run/c.sock:lockfile=yes", "lockfile 'yes' is not a whole number"),
            (
                "systemd:",
                "systemd: needs its domain, as in systemd:domain=INET:index=0",
            ),
            ("systemd:domain=INET", "systemd: needs one of index= and name="),
            (
                "systemd:domain=INET:index=0:name=web",
                "systemd: needs one of index= and name=",
            ),
            ("systemd:domain=inet:index=0", "domain 'inet' is not INET, INET6 or UNIX"),
            ("systemd:domain=INET:index=first", "index 'first' is not a whole number"),
            (
                "systemd:domain=INET:index=7",
                "no socket was passed at that index (systemd passes them in "
                "LISTEN_FDS)",
            ),
            (
                "systemd:domain=INET:name=web",
                "no socket named 'web' was passed (systemd passes their names in "
                "LISTEN_FDNAMES)",
            ),
            ("haproxy:", noType),
            ("haproxy:haproxy:tcp:80", "haproxy: twice"),
            (
                "TCP6:80",
                f"unknown endpoint type 'TCP6' (types are lower case: tcp6:); {types}",
            ),
            (
                "HAPROXY:tcp:80",
                "unknown endpoint type 'HAPROXY' (types are lower case: haproxy:); "
                + types,
            ),
            ("haproxy:tcp:notaport", "port 'notaport' is not a number from 0 to 65535"),
            ("haproxy:bogus:1", f"unknown endpoint type 'bogus'; {types}"),
        ]:
            self.assertEqual(
                self.problem(description),
                f"invalid endpoint {description!r}: {said}",
                description,
            )

    def test_othersParsers(self) -> None:
        """
        What another type's parser (a plugin's) raises is said without
        Python's words.
        """
        for error, said in [
            (
                TypeError("_parse() got an unexpected keyword argument 'x'"),
                "wrong or missing arguments",
            ),
            (KeyError("x"), "wrong or missing arguments"),
            (ValueError("no such onion"), "no such onion"),
        ]:

            def parse(
                reactor: object, description: str, error: Exception = error
            ) -> None:
                raise error

            self.patch(_endpoints, "serverFromString", parse)
            with self.assertRaises(Problem) as raised:
                parseEndpoint(MemoryReactorClock(), "onion:80")
            self.assertEqual(
                str(raised.exception), f"invalid endpoint 'onion:80': {said}"
            )

    def test_good(self) -> None:
        """
        What Twisted takes stays taken: values by position, escaped colons,
        an empty interface, the PROXY protocol's wrapper.
        """
        memory = MemoryReactorClock()
        for description in [
            "tcp:80:127.0.0.1:5",
            "tcp:80:interface=\\:\\:1",
            "tcp:0:",
            "tcp6:80:backlog=5",
            "unix:/run/c.sock:mode=660:lockfile=0",
            "haproxy:tcp:80",
        ]:
            [(_, endpoint)] = parseEndpoints(memory, [description])
            self.assertTrue(IStreamServerEndpoint.providedBy(endpoint), description)


class ProcessTests(TestCase):
    """
    C{python -m clocksvc} as a real child process.
    """

    timeout = 30

    async def serve(
        self, *args: str, environment: dict[str, str] | None = None
    ) -> tuple[str, ClocksvcProcess]:
        """
        Start clocksvc on a free port of 127.0.0.1.

        @param environment: variables to set in its environment.
        @return: its URL and the process, which is killed at cleanup if the
            test has not ended it.
        """
        process = spawnClocksvc(
            "--listen", "tcp:0:interface=127.0.0.1", *args, environment=environment
        )

        async def kill() -> None:
            process.signal("KILL")
            await process.exited

        self.addCleanup(lambda: Deferred.fromCoroutine(kill()))
        line = (await process.firstLine).decode()
        prefix = "clocksvc: serving "
        self.assertTrue(line.startswith(prefix), (line, process.stderr))
        return line[len(prefix) :], process

    async def test_serves(self) -> None:
        """
        It serves the lesson's page, and SIGTERM stops it with status 0.
        """
        url, process = await self.serve()
        pool = HTTPConnectionPool(reactor, persistent=False)
        response = await treq.get(url, pool=pool)
        body = await response.content()
        self.assertEqual(response.code, 200)
        self.assertRegex(
            body,
            rb"^<html><body>\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}</body></html>$",
        )
        process.signal("TERM")
        self.assertEqual(await process.exited, 0)

    async def oneZone(self, zone: str, *args: str) -> None:
        """
        Check that a clocksvc whose local zone is New York, started with
        C{args}, answers C{/}, C{/now} and C{/stream} in C{zone}, and says
        which zone at start-up.
        """
        url, process = await self.serve(
            "--access-log", "off", *args, environment={"TZ": "America/New_York"}
        )
        pool = HTTPConnectionPool(reactor, persistent=False)
        before = time.time()
        page = await (await treq.get(url, pool=pool)).content()
        document = json.loads(await (await treq.get(url + "now", pool=pool)).content())
        received = b""

        class Enough(Exception):
            """
            A tick is in: treq closes the connection on a collector's error.
            """

        def collect(data: bytes) -> None:
            nonlocal received
            received += data
            if b"\n\n" in received.partition(b"event: tick")[2]:
                raise Enough()

        response = await treq.get(url + "stream", pool=pool, unbuffered=True)
        with self.assertRaises(Enough):
            await treq.collect(response, collect)
        after = time.time()
        tick = received.partition(b"event: tick\ndata: ")[2].partition(b"\n")[0]
        # The page is the time in that zone as ctime writes it, at one of the
        # seconds the exchange took.
        seconds = range(int(before), int(after) + 1)
        self.assertIn(page, [clockPageBody(t, ZoneInfo(zone)) for t in seconds])
        self.assertEqual(document["timezone"], zone)
        self.assertEqual(json.loads(tick)["timezone"], zone)
        process.signal("TERM")
        self.assertEqual(await process.exited, 0)
        [started] = [
            event
            for event in map(json.loads, _logLines(process.stderr))
            if event["event"] == "timezone"
        ]
        self.assertEqual(started["zone"], zone)

    async def test_oneZone(self) -> None:
        """
        C{--timezone} is the server's one zone: the page, C{/now} and
        C{/stream} are in Tokyo, though the local zone is New York.
        """
        await self.oneZone("Asia/Tokyo", "--timezone", "Asia/Tokyo")

    async def test_localZone(self) -> None:
        """
        Without C{--timezone}, the server's one zone is the local zone.
        """
        await self.oneZone("America/New_York")

    async def test_readyz(self) -> None:
        """
        With C{--require-synchronized-clock}, C{/readyz} is 503 while the
        kernel says the clock is not synchronized (as on this project's
        machine) and 200 while it is; without it, 200 either way; and
        C{/healthz} and C{Clock-Status} say what the kernel says.
        """
        state = readKernelClock()
        pool = HTTPConnectionPool(reactor, persistent=False)
        for args, ready in [
            ((), True),
            (("--require-synchronized-clock",), bool(state.synchronized)),
        ]:
            url, process = await self.serve(*args)
            response = await treq.get(url + "readyz", pool=pool)
            answer = json.loads(await response.content())
            self.assertEqual(response.code, 200 if ready else 503, answer)
            self.assertEqual(answer["clock"]["synchronized"], state.synchronized)
            response = await treq.get(url + "healthz", pool=pool)
            answer = json.loads(await response.content())
            self.assertEqual(
                (response.code, answer["clock"]["synchronized"]),
                (200, state.synchronized),
            )
            response = await treq.get(url + "now", pool=pool)
            await response.content()
            [status] = response.headers.getRawHeaders(b"clock-status")
            self.assertTrue(
                status.startswith(b"sync=?1" if state.synchronized else b"sync=?0"),
                status,
            )
            process.signal("TERM")
            self.assertEqual(await process.exited, 0)

    async def test_sigint(self) -> None:
        """
        SIGINT, as from Ctrl-C, stops it with status 0 too.
        """
        _, process = await self.serve()
        process.signal("INT")
        self.assertEqual(await process.exited, 0)
        self.assertEqual(
            process.stderr.decode().splitlines()[1:],
            [
                *SAID_CORE.splitlines(),
                "clocksvc: stopping: draining 0 connection(s) for up to 10 s",
                "clocksvc: stopped",
            ],
        )

    async def test_portInUse(self) -> None:
        """
        A port in use is one line on stderr and exit status 2, no traceback.
        """
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        portNumber = taken.getsockname()[1]
        description = f"tcp:{portNumber}:interface=127.0.0.1"
        process = spawnClocksvc("--listen", description)
        self.assertEqual(await process.exited, 2)
        message = f"clocksvc: cannot listen on {description}: address already in use"
        self.assertEqual(process.stderr, message.encode() + b"\n")
        self.assertEqual(process.stdout, b"")

    async def test_badEndpoints(self) -> None:
        """
        An endpoint description that is wrong, or names an interface that is
        no address, is one line on standard error that says what is wrong,
        and exit status 2, no traceback.
        """
        for description, said in [
            ("tcp:notaport", "port 'notaport' is not a number from 0 to 65535"),
            (
                "tcp:0:interface=::1",
                "interface is given twice; a ':' inside a value needs a backslash "
                "before it, as in interface=\\:\\:1",
            ),
        ]:
            process = spawnClocksvc("--listen", description)
            self.assertEqual(await process.exited, 2)
            self.assertNotIn(b"Traceback", process.stdout + process.stderr)
            self.assertEqual(
                process.stderr.decode(),
                f"clocksvc: invalid endpoint {description!r}: {said}\n",
            )
        description = "tcp:0:interface=999.1.1.1"
        process = spawnClocksvc("--listen", description)
        self.assertEqual(await process.exited, 2)
        self.assertEqual(
            process.stderr.decode(),
            f"clocksvc: cannot listen on {description}: the interface '999.1.1.1' is "
            "not an IP address, nor a host name that resolves to one\n",
        )

    async def test_stdoutIsTheLog(self) -> None:
        """
        With the log on standard output (the default), standard output is
        JSON lines alone, as C{python -m clocksvc | jq -c .} needs it: each
        line parses as a JSON object, from the first to the last after
        SIGTERM. The lines for people are on standard error.
        """
        url, process = await self.serve()
        pool = HTTPConnectionPool(reactor, persistent=False)
        for path in ["now", "?iso", "nope"]:
            response = await treq.get(url + path, pool=pool)
            await response.content()
        process.signal("TERM")
        self.assertEqual(await process.exited, 0)
        lines = process.stdout.decode().splitlines()
        records = [json.loads(line) for line in lines]
        self.assertTrue(all(isinstance(r, dict) for r in records), lines)
        self.assertEqual(
            [(r["path"], r["status"]) for r in records if "path" in r],
            [("/now", 200), ("/?iso", 200), ("/nope", 404)],
        )
        self.assertEqual(
            [
                r["event"]
                for r in records
                if r.get("event") in ("listening", "shutdown")
            ],
            ["listening", "shutdown", "shutdown"],
        )
        self.assertEqual(
            process.stderr.decode().splitlines(),
            [
                f"clocksvc: serving {url}",
                *SAID_CORE.splitlines(),
                "clocksvc: stopping: draining 0 connection(s) for up to 10 s",
                "clocksvc: stopped",
            ],
        )

    async def test_logFormatText(self) -> None:
        """
        C{--log-format text} writes the log for people reading a terminal:
        an access line as C{TIME CLIENT "METHOD PATH" STATUS BYTES
        DURATIONms SCHEME "USER-AGENT"}, an event as C{TIME LEVEL MESSAGE};
        what a client sent that a terminal would act on (a tab, an escape)
        is written as Python writes it in a string.
        """
        url, process = await self.serve("--log-format", "text")
        pool = HTTPConnectionPool(reactor, persistent=False)
        response = await treq.get(
            url + "now", headers=Headers({"User-Agent": ["probe/1\tx"]}), pool=pool
        )
        await response.content()
        process.signal("TERM")
        self.assertEqual(await process.exited, 0)
        lines = process.stdout.decode().splitlines()
        time = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00"
        self.assertRegex(lines[0], f"^{time} info serving {url}$")
        [access] = [line for line in lines if '"GET /now"' in line]
        self.assertRegex(
            access,
            f'^{time} 127\\.0\\.0\\.1 "GET /now" 200 \\d+ [\\d.]+ms http '
            '"probe/1\\\\tx"$',
        )
        self.assertRegex(lines[-1], f"^{time} info stopped$")

    async def test_help(self) -> None:
        """
        C{--help} describes the options and exits 0.
        """
        process = spawnClocksvc("--help")
        self.assertEqual(await process.exited, 0)
        self.assertIn(b"Usage: python -m clocksvc [options]", process.stdout)
        for option in [b"--listen=", b"--port=", b"--version", b"--help"]:
            self.assertIn(option, process.stdout)

    async def test_version(self) -> None:
        """
        C{--version} prints the version and exits 0.
        """
        process = spawnClocksvc("--version")
        self.assertEqual(await process.exited, 0)
        self.assertEqual(process.stdout, f"clocksvc {__version__}\n".encode())


def _logLines(stderr: bytes) -> list[str]:
    """
    @return: the log's lines in C{stderr} (C{--access-log off}), without
        those for people beside them.
    """
    return [line for line in stderr.decode().splitlines() if line.startswith("{")]
