"""
Tests for L{clocksvc._run._tap} and the twist plugin: C{twist clocksvc}.
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import cast

from twisted.application.service import IServiceMaker
from twisted.internet.defer import Deferred, fail
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IListeningPort, IStreamServerEndpoint
from twisted.internet.testing import MemoryReactorClock
from twisted.plugin import getPlugins
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase
from zope.interface import implementer

from clocksvc._http import ClockSite
from clocksvc._run import _options, _tap
from clocksvc._run._service import ClockService

from ._helpers import accessLogged, keepZoneDatabase, within
from ._process import ClocksvcProcess, runProcess, spawnTwist
from ._tls import TLS_MISSING, makeCredentials


class OptionsTests(SynchronousTestCase):
    """
    The plugin takes C{python -m clocksvc}'s options.
    """

    def test_sameOptions(self) -> None:
        """
        It is the CLI's parser, so the two cannot drift apart.
        """
        self.assertTrue(issubclass(_tap.Options, _options.Options))
        options = _tap.Options()
        options.parseOptions(
            ["--listen", "tcp:0:interface=127.0.0.1", "--timezone", "asia/tokyo"]
        )
        self.assertEqual(options["listen"], ["tcp:0:interface=127.0.0.1"])
        self.assertEqual(options["timezone"], "Asia/Tokyo")

    def parseOptions(self, *argv: str) -> tuple[int, str]:
        """
        Parse C{argv} with the plugin's options, expecting them to exit.

        @return: the exit status, and what they wrote to standard error.
        """
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        with self.assertRaises(SystemExit) as raised:
            _tap.Options().parseOptions(list(argv))
        code = raised.exception.code
        assert isinstance(code, int)
        return code, stderr.getvalue()

    def test_badEndpoint(self) -> None:
        """
        An endpoint that cannot be parsed is one line on standard error and
        exit status 2, as under C{python -m clocksvc}, rather than twist's
        usage and status 64.
        """
        self.assertEqual(
            self.parseOptions("--listen", "bogus:1"),
            (
                2,
                "clocksvc: invalid endpoint 'bogus:1': unknown endpoint type "
                "'bogus'; use tcp:, tcp6:, ssl:, unix:, systemd:, or haproxy: "
                "before one of them\n",
            ),
        )

    def test_workers(self) -> None:
        """
        C{--workers} other than 1 is a usage error: twist runs one process.
        """
        _tap.Options().parseOptions(["--workers", "1"])
        self.assertEqual(
            self.parseOptions("--workers", "2"),
            (
                2,
                "clocksvc: twist clocksvc runs one process; for several, use "
                "python -m clocksvc --workers (see twist clocksvc --help)\n",
            ),
        )

    def test_synopsis(self) -> None:
        """
        The plugin's synopsis follows twist's own, as twist web's does.
        """
        self.assertEqual(_tap.Options.synopsis, "[clocksvc options]")


class MakeServiceTests(SynchronousTestCase):
    """
    L{_tap.makeService} builds clocksvc's one service, which listens on each
    endpoint as it starts.
    """

    def test_services(self) -> None:
        """
        Each endpoint is listened on; the public ones share the site, the
        admin ones another.
        """
        options = _tap.Options()
        options.parseOptions(
            [
                "--listen",
                "tcp:0:interface=127.0.0.1",
                "--listen",
                "tcp:0:interface=127.0.0.2",
                "--admin-listen",
                "tcp:0:interface=127.0.0.1",
                "--access-log",
                "off",
            ]
        )
        memory = MemoryReactorClock()
        keepZoneDatabase(self)
        top = _tap.makeService(options, memory)
        self.assertIsInstance(top, ClockService)
        top.startService()
        self.assertEqual(len(memory.tcpServers), 3)
        public, second, admin = (server[1] for server in memory.tcpServers)
        self.assertIs(public, second)
        self.assertIsInstance(public, ClockSite)
        self.assertIsNot(admin, public)
        site = cast(ClockSite, public)
        self.assertFalse(accessLogged(site))
        self.assertIsNone(site.resource.getStaticEntity(b"healthz"))
        self.assertIsNotNone(
            cast(ClockSite, admin).resource.getStaticEntity(b"healthz")
        )
        stopped = top.stopService()
        self.assertIsNone(self.successResultOf(stopped))

    def test_cannotListen(self) -> None:
        """
        An endpoint that cannot be listened on as the service starts is one
        line on standard error and exit status 2; the endpoints before it
        stop listening.
        """
        stderr = io.StringIO()
        memory = MemoryReactorClock()
        options = _tap.Options()
        options.parseOptions(["--access-log", "off"])
        refused = _Refusing(succeed=False)
        top = ClockService(
            memory,
            options,
            [("tcp:8080", TCP4ServerEndpoint(memory, 8080)), ("tcp:80", refused)],
            stderr=stderr,
        )
        with self.assertRaises(SystemExit) as raised:
            top.startService()
        self.assertEqual(raised.exception.code, 2)
        self.assertEqual(
            stderr.getvalue(),
            "clocksvc: cannot listen on tcp:80: permission denied"
            ": ports below 1024 need root, or the CAP_NET_BIND_SERVICE capability\n",
        )
        self.assertEqual(len(memory.tcpServers), 1)
        # Once only: twistd calls both.
        top.privilegedStartService()
        self.assertEqual(len(memory.tcpServers), 1)

    def test_cannotListenLater(self) -> None:
        """
        An endpoint that fails only once the reactor runs: one line, then
        the reactor stops, and the process exits 2 after its shutdown.
        """
        stderr = io.StringIO()
        memory = MemoryReactorClock()
        options = _tap.Options()
        options.parseOptions(["--access-log", "off"])
        later = _Refusing(succeed=True)
        exits: list[int] = []
        top = ClockService(
            memory, options, [("onion:80", later)], stderr=stderr, exit=exits.append
        )
        top.startService()
        self.assertEqual(stderr.getvalue(), "")
        later.listening.errback(
            CannotListenError("", 80, OSError(errno.EADDRINUSE, ""))
        )
        self.assertEqual(
            stderr.getvalue(),
            "clocksvc: cannot listen on onion:80: address already in use\n",
        )
        self.assertTrue(memory.hasStopped)
        [(trigger, args, _)] = memory.triggers["after"]["shutdown"]
        trigger(*args)
        self.assertEqual(exits, [2])

    def test_cannotServe(self) -> None:
        """
        What is not an endpoint's problem is logged with its traceback, and
        exit status 1.
        """
        options = _tap.Options()
        options.parseOptions(["--access-log", "off"])
        top = ClockService(MemoryReactorClock(), options, [])

        async def broken(listening: object = None) -> list[object]:
            raise RuntimeError("a bug")

        self.patch(top, "listen", broken)
        with self.assertRaises(SystemExit) as raised:
            top.startService()
        self.assertEqual(raised.exception.code, 1)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_certificateGone(self) -> None:
        """
        A certificate gone between the options and the service is one line
        and exit status 2 too.
        """
        if TLS_MISSING is not None:
            raise SkipTest(TLS_MISSING)
        credentials = makeCredentials(self.mktemp())
        options = _tap.Options()
        options.parseOptions(["--listen", credentials.endpoint()])
        os.remove(credentials.certFile)
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        with self.assertRaises(SystemExit) as raised:
            _tap.makeService(options, MemoryReactorClock())
        self.assertEqual(raised.exception.code, 2)
        self.assertEqual(
            stderr.getvalue(),
            f"clocksvc: {credentials.endpoint()}: cannot read the certificate "
            f"{credentials.certFile}: no such file or directory\n",
        )

    def test_plugin(self) -> None:
        """
        twist finds the plugin by its name, pointing at L{_tap}.
        """
        [maker] = [p for p in getPlugins(IServiceMaker) if p.tapname == "clocksvc"]
        self.assertEqual(maker.options, _tap.Options)


@implementer(IStreamServerEndpoint)
class _Refusing:
    """
    An endpoint that cannot be listened on: at once, or later.
    """

    def __init__(self, succeed: bool) -> None:
        self._later = succeed
        self.listening: Deferred[IListeningPort] = Deferred()

    def listen(self, factory: object) -> Deferred[IListeningPort]:
        if self._later:
            return self.listening
        return fail(CannotListenError("", 80, OSError(errno.EACCES, "")))


def _askUNIX(path: Path, target: bytes) -> bytes:
    """
    GET C{target} from a server on the UNIX socket at C{path}.

    @return: the response body, or C{b""} if nothing listens yet.
    """
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(10)
    try:
        client.connect(str(path))
    except OSError:
        client.close()
        return b""
    with client:
        client.sendall(
            b"GET "
            + target
            + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        response = b""
        while chunk := client.recv(65536):
            response += chunk
    return response.partition(b"\r\n\r\n")[2]


def installedTwist() -> str:
    """
    @return: the path of the C{twist} beside an installed clocksvc, whose
        plugin it finds.
    @raise SkipTest: if clocksvc is not installed (C{nox -s tests}
        installs it), unless the tests run in CI.
    """
    try:
        distribution("clocksvc")
    except PackageNotFoundError:
        if os.environ.get("CI"):
            raise
        raise SkipTest("clocksvc is not installed (nox -s tests installs it)") from None
    return str(Path(sys.executable).parent / "twist")


class TwistProcessTests(TestCase):
    """
    C{twist clocksvc} as a real child process, running the working copy:
    what it says when it cannot serve, and its C{--help}.
    """

    timeout = 120

    def setUp(self) -> None:
        self.twist = installedTwist()

    async def twistExits(self, *args: str) -> tuple[int | None, ClocksvcProcess]:
        """
        Run C{twist clocksvc ARGS}, which is to exit by itself.

        @return: its exit status, and the process.
        """
        process = spawnTwist(self.twist, *args)

        async def kill() -> None:
            process.signal("KILL")
            await process.exited

        self.addCleanup(lambda: Deferred.fromCoroutine(kill()))
        code = await within(process.exited, 60, "twist's exit")
        return code, process

    def assertOneLine(self, process: ClocksvcProcess, line: str) -> None:
        """
        Assert that C{process} wrote C{line} and nothing else to standard
        error, and no traceback anywhere.
        """
        self.assertNotIn(b"Traceback", process.stdout + process.stderr)
        self.assertEqual(process.stderr.decode(), line + "\n")

    async def test_portInUse(self) -> None:
        """
        A port in use is one line on standard error and exit status 2, as
        under C{python -m clocksvc}, rather than a log line and a twist that
        serves nothing.
        """
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        description = f"tcp:{taken.getsockname()[1]}:interface=127.0.0.1"
        code, process = await self.twistExits("--listen", description)
        self.assertOneLine(
            process, f"clocksvc: cannot listen on {description}: address already in use"
        )
        self.assertEqual(code, 2)

    async def test_badInput(self) -> None:
        """
        A bad option, a bad endpoint and a certificate that is not there are
        each one line on standard error, and exit status 2.
        """
        for args, line in [
            (
                ["--frobnicate"],
                "clocksvc: option --frobnicate not recognized "
                "(see twist clocksvc --help)",
            ),
            (
                ["--listen", "tcp:notaport"],
                "clocksvc: invalid endpoint 'tcp:notaport': port 'notaport' is "
                "not a number from 0 to 65535",
            ),
            (
                ["--listen", "ssl:0:privateKey=/nope.key:certKey=/nope.crt"],
                "clocksvc: ssl:0:privateKey=/nope.key:certKey=/nope.crt: cannot "
                "read the certificate /nope.crt: no such file or directory",
            ),
        ]:
            code, process = await self.twistExits(*args)
            self.assertOneLine(process, line)
            self.assertEqual(code, 2, args)

    async def test_help(self) -> None:
        """
        C{twist clocksvc --help} reads as C{twist web --help} does: its
        synopsis after twist's own, then the options.
        """
        web = await runProcess([self.twist, "web", "--help"], 60)
        code, process = await self.twistExits("--help")
        self.assertEqual(code, 0)
        ours = process.stdout.decode().splitlines()
        theirs = web.stdout.decode().splitlines()
        self.assertEqual(
            ours[:2],
            [
                theirs[0].replace("web [web options]", "clocksvc [clocksvc options]"),
                theirs[1],
            ],
        )
        self.assertEqual(
            ours[0],
            "Usage: twist [options] plugin [plugin_options] clocksvc "
            "[clocksvc options]",
        )
        self.assertIn("      --listen=", process.stdout.decode())


class InstalledWheelTests(SynchronousTestCase):
    """
    The plugin works from the installed wheel, as a user runs it: C{twist
    clocksvc} from a directory away from the checkout.
    """

    def setUp(self) -> None:
        try:
            distribution("clocksvc")
        except PackageNotFoundError:
            if os.environ.get("CI"):
                raise
            raise SkipTest(
                "clocksvc is not installed (nox -s tests installs it)"
            ) from None
        self.twist = Path(sys.executable).parent / "twist"

    def test_serves(self) -> None:
        """
        C{twist clocksvc --listen unix:PATH} serves the time; SIGTERM stops it.
        """
        # A short absolute path: UNIX socket paths may not pass 108 bytes, and
        # twist runs from this directory.
        workdir = Path(tempfile.mkdtemp(prefix="clocksvc-"))
        self.addCleanup(shutil.rmtree, workdir, True)
        socketPath = workdir / "clocksvc.sock"
        # The installed clocksvc, not the checkout's.
        environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        server = subprocess.Popen(
            [str(self.twist), "clocksvc", "--listen", f"unix:{socketPath}"],
            cwd=workdir,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.addCleanup(server.kill)
        answer = b""
        for _ in range(100):
            answer = _askUNIX(socketPath, b"/now?tz=UTC")
            if answer:
                break
            time.sleep(0.1)
        document = json.loads(answer)
        self.assertEqual(document["timezone"], "UTC")
        # The plugin module came from the wheel, not from the checkout.
        found = subprocess.run(
            [sys.executable, "-c", "import clocksvc; print(clocksvc.__file__)"],
            cwd=workdir,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        self.assertIn("site-packages", found)
        server.terminate()
        # twist shuts down cleanly, then reports the signal that stopped it,
        # as Unix programs do (python -m clocksvc exits 0 instead).
        self.assertEqual(server.wait(15), -signal.SIGTERM)
        assert server.stdout is not None
        log = server.stdout.read()
        self.assertIn(b"Main loop terminated.", log)
        self.assertIn(b'"log_namespace": "clocksvc.access"', log)

    def test_hangup(self) -> None:
        """
        Under twist, SIGHUP reopens clocksvc's own C{--access-log} file,
        after logrotate has renamed it, and does not stop twist.
        """
        workdir = Path(tempfile.mkdtemp(prefix="clocksvc-"))
        self.addCleanup(shutil.rmtree, workdir, True)
        socketPath = workdir / "clocksvc.sock"
        log = workdir / "access.log"
        environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        server = subprocess.Popen(
            [
                str(self.twist),
                "clocksvc",
                "--listen",
                f"unix:{socketPath}",
                "--access-log",
                str(log),
            ],
            cwd=workdir,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.addCleanup(server.kill)
        for _ in range(100):
            if _askUNIX(socketPath, b"/now?first"):
                break
            time.sleep(0.1)
        log.rename(workdir / "access.log.1")
        server.send_signal(signal.SIGHUP)
        for _ in range(100):
            if log.exists():
                break
            time.sleep(0.1)
        self.assertTrue(_askUNIX(socketPath, b"/now?second"))
        server.terminate()
        self.assertEqual(server.wait(15), -signal.SIGTERM)
        self.assertIn(b"/now?first", (workdir / "access.log.1").read_bytes())
        self.assertIn(b"/now?second", log.read_bytes())
