"""
Tests for L{clocksvc._run._roughtime}: the long-term key on disk
(C{roughtime-keygen}, C{--roughtime-key}), the C{--roughtime-*} options,
and C{python -m clocksvc} serving Roughtime as a real child process.
"""

from __future__ import annotations

import base64
import io
import os
import re
import socket
import sys

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase, TestCase

from clocksvc._roughtime import publicKeyOf
from clocksvc._run import _roughtime
from clocksvc._run._cli import run
from clocksvc._run._endpoints import Problem, parseEndpoints
from clocksvc._run._options import Options
from clocksvc._run._roughtime import (
    KeyProblem,
    RoughtimeAddress,
    keygen,
    loadKey,
    parseAddress,
)
from clocksvc._run._service import ClockService

from ._helpers import keepZoneDatabase
from ._process import spawnClocksvc


class KeyTests(SynchronousTestCase):
    """
    The key file: made readable by its owner alone, and refused otherwise.
    """

    def test_keygen(self) -> None:
        """
        C{keygen} writes a PEM key with mode 0600 and prints its public key
        in base64; the key reads back.
        """
        path = self.mktemp()
        out = io.StringIO()
        keygen(path, out)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        with open(path) as f:
            self.assertEqual(f.readline(), "-----BEGIN PRIVATE KEY-----\n")
        public = base64.b64decode(out.getvalue())
        self.assertEqual(publicKeyOf(loadKey(path)), public)
        self.assertEqual(len(public), 32)
        error = self.assertRaises(KeyProblem, keygen, path, out)
        self.assertEqual(str(error), f"cannot make {path}: File exists")

    def test_refused(self) -> None:
        """
        A key others may read, a file that is not a key, and a missing one
        are refused with one line.
        """
        path = self.mktemp()
        keygen(path, io.StringIO())
        os.chmod(path, 0o644)
        self.assertEqual(
            str(self.assertRaises(KeyProblem, loadKey, path)),
            f"{path} may be read by others (mode 0644): chmod 600 {path}",
        )
        other = self.mktemp()
        with open(other, "w") as f:
            f.write("not a key\n")
        os.chmod(other, 0o600)
        self.assertIn(
            "is not an Ed25519 private key",
            str(self.assertRaises(KeyProblem, loadKey, other)),
        )
        self.assertEqual(
            str(self.assertRaises(KeyProblem, loadKey, other + ".missing")),
            f"cannot read {other}.missing: No such file or directory",
        )

    def test_noCryptography(self) -> None:
        """
        Without C{cryptography}, neither is possible, and the line says what
        to install.
        """
        self.patch(_roughtime, "cryptographyMissing", lambda: "install it")
        self.assertEqual(str(self.assertRaises(KeyProblem, loadKey, "k")), "install it")
        self.assertEqual(
            str(self.assertRaises(KeyProblem, keygen, "k", io.StringIO())), "install it"
        )

    def test_cryptographyMissing(self) -> None:
        """
        Where C{cryptography} cannot be imported, the line names the extra
        to install.
        """
        from clocksvc._roughtime import cryptographyMissing

        self.assertIsNone(cryptographyMissing())
        name = "cryptography.hazmat.primitives.asymmetric"
        saved = sys.modules.get(name)
        sys.modules[name] = None  # type: ignore[assignment]
        try:
            self.assertEqual(
                cryptographyMissing(),
                "the Roughtime server needs the cryptography package: "
                "pip install clocksvc[roughtime]",
            )
        finally:
            if saved is None:
                del sys.modules[name]
            else:
                sys.modules[name] = saved

    def test_addresses(self) -> None:
        """
        C{[HOST:]PORT}, an IPv6 host in brackets; the wildcards publish no
        address.
        """
        self.assertEqual(parseAddress("2002"), RoughtimeAddress("", 2002))
        self.assertEqual(parseAddress("[::1]:0"), RoughtimeAddress("::1", 0))
        self.assertEqual(
            parseAddress("127.0.0.1:2002").published(2002), "127.0.0.1:2002"
        )
        self.assertEqual(parseAddress("[::1]:0").published(5), "[::1]:5")
        self.assertIsNone(parseAddress("0.0.0.0:2002").published(2002))
        for bad in ["", "x", "70000", "host:", ":2002", "[::1]"]:
            self.assertRaises(ValueError, parseAddress, bad)


class OptionTests(SynchronousTestCase):
    """
    The C{--roughtime-*} options, checked together: each problem is one
    line and exit status 2.
    """

    def run_(self, *argv: str) -> tuple[Deferred[None], str, str]:
        stdout, stderr = io.StringIO(), io.StringIO()
        reactor = MemoryReactorClock()
        keepZoneDatabase(self)
        reactor.run()
        d = Deferred.fromCoroutine(run(reactor, argv, stdout, stderr))
        return d, stdout.getvalue(), stderr.getvalue()

    def assertProblem(self, argv: list[str], line: str) -> None:
        d, out, err = self.run_(*argv)
        self.assertEqual(self.failureResultOf(d, SystemExit).value.code, 2)
        self.assertEqual((out, err), ("", f"clocksvc: {line}\n"))

    def test_problems(self) -> None:
        """
        Each option that needs another, a bad address, --workers, and a key
        file others may read.
        """
        key = self.mktemp()
        keygen(key, io.StringIO())
        see = " (see --help)"
        for argv, line in [
            (
                ["--roughtime-listen", "2002"],
                "--roughtime-listen needs --roughtime-key FILE",
            ),
            (["--roughtime-key", key], "--roughtime-key needs --roughtime-listen"),
            (["--roughtime-tcp"], "--roughtime-tcp needs --roughtime-listen"),
            (
                ["--roughtime-require-synchronized"],
                "--roughtime-require-synchronized needs --roughtime-listen",
            ),
            (
                ["--roughtime-listen", "x:y"],
                "--roughtime-listen needs [HOST:]PORT, such as 2002 or "
                "127.0.0.1:2002, not 'x:y'",
            ),
            (
                [
                    "--roughtime-listen",
                    "2002",
                    "--roughtime-key",
                    key,
                    "--workers",
                    "2",
                ],
                "--roughtime-listen serves from one process: not with --workers",
            ),
        ]:
            self.assertProblem(argv, line + see)
        os.chmod(key, 0o640)
        self.assertProblem(
            ["--roughtime-listen", "2002", "--roughtime-key", key],
            f"--roughtime-key: {key} may be read by others (mode 0640): "
            f"chmod 600 {key}" + see,
        )

    def test_keygen(self) -> None:
        """
        C{roughtime-keygen FILE} prints the public key; without exactly one
        file, or with one that exists, it says so in one line.
        """
        path = self.mktemp()
        d, out, err = self.run_("roughtime-keygen", path)
        self.successResultOf(d)
        self.assertEqual((len(base64.b64decode(out)), err), (32, ""))
        self.assertProblem(
            ["roughtime-keygen"], "usage: python -m clocksvc roughtime-keygen FILE"
        )
        self.assertProblem(
            ["roughtime-keygen", path],
            f"roughtime-keygen: cannot make {path}: File exists",
        )


class ListenTests(TestCase):
    """
    A Roughtime address that cannot be listened on is one line, and
    nothing is left listening.
    """

    async def test_inUse(self) -> None:
        """
        A UDP port in use: the problem names it, and the HTTP port that
        listened first is closed again.
        """
        taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        key = self.mktemp()
        keygen(key, io.StringIO())
        options = Options()
        options.parseOptions(
            [
                "--access-log=off",
                f"--roughtime-listen=127.0.0.1:{port}",
                "--roughtime-key",
                key,
            ]
        )
        keepZoneDatabase(self)
        service = ClockService(
            reactor, options, parseEndpoints(reactor, ["tcp:0:interface=127.0.0.1"])
        )
        problem = None
        try:
            await service.listen()
        except Problem as e:
            problem = str(e)
        self.assertEqual(
            problem,
            f"cannot listen for Roughtime on udp 127.0.0.1:{port}: "
            "address already in use",
        )
        self.assertEqual(service.site.openConnections, 0)


class ProcessTests(TestCase):
    """
    C{python -m clocksvc} makes a key and serves Roughtime, as a real
    process.
    """

    timeout = 120

    async def test_serves(self) -> None:
        """
        With a key from C{roughtime-keygen}, it says where it serves
        Roughtime, over UDP and TCP, and stops on SIGTERM.
        """
        path = self.mktemp()
        keygen_ = spawnClocksvc("roughtime-keygen", path)
        self.assertEqual(await keygen_.exited, 0)
        server = spawnClocksvc(
            "--listen=tcp:0:interface=127.0.0.1",
            "--access-log=off",
            "--roughtime-listen=127.0.0.1:0",
            "--roughtime-tcp",
            "--roughtime-key",
            path,
        )
        self.addCleanup(server.signal, "KILL")
        await server.firstLine

        def said() -> list[str]:
            # The lines for people, on standard error beside the log's
            # (--access-log off).
            lines = server.stderr.decode().splitlines()
            return [line for line in lines if line.startswith("clocksvc:")]

        while len(said()) < 3 and not server.exited.called:
            # Polled: the lines come from another process's pipe.
            await deferLater(reactor, 0.05, lambda: None)
        lines = said()
        self.assertRegex(lines[1], r"^clocksvc: roughtime on udp 127\.0\.0\.1:\d+$")
        self.assertRegex(lines[2], r"^clocksvc: roughtime on tcp 127\.0\.0\.1:\d+$")
        server.signal("TERM")
        self.assertEqual(await server.exited, 0)
        self.assertIsNone(re.search(rb"Traceback", server.stderr))
