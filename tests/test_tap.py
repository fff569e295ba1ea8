"""
Tests for L{clocksvc._run._tap} and the twist plugin: C{twist clocksvc}.
"""

from __future__ import annotations

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
from twisted.internet.testing import MemoryReactorClock
from twisted.plugin import getPlugins
from twisted.python.usage import UsageError
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from clocksvc._http import ClockSite
from clocksvc._run import _options, _tap
from clocksvc._run._service import ClockService
from clocksvc._web import accessLogged

from ._helpers import keepZoneDatabase


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

    def test_badEndpoint(self) -> None:
        """
        An endpoint that cannot be parsed is a usage error, which twist shows
        with the usage.
        """
        with self.assertRaises(UsageError) as raised:
            _tap.Options().parseOptions(["--listen", "bogus:1"])
        self.assertEqual(
            str(raised.exception),
            "invalid endpoint 'bogus:1': Unknown endpoint type: 'bogus'",
        )

    def test_workers(self) -> None:
        """
        C{--workers} other than 1 is a usage error: twist runs one process.
        """
        _tap.Options().parseOptions(["--workers", "1"])
        with self.assertRaises(UsageError) as raised:
            _tap.Options().parseOptions(["--workers", "2"])
        self.assertEqual(
            str(raised.exception),
            "twist clocksvc runs one process; for several, use "
            "python -m clocksvc --workers",
        )


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

    def test_plugin(self) -> None:
        """
        twist finds the plugin by its name, pointing at L{_tap}.
        """
        [maker] = [p for p in getPlugins(IServiceMaker) if p.tapname == "clocksvc"]
        self.assertEqual(maker.options, _tap.Options)


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
