"""
Tests for the SNTP options (L{clocksvc._run._ntpoptions}, and their place
in C{python -m clocksvc}'s options), and for C{python -m clocksvc
--ntp-listen} as a real child process.
"""

from __future__ import annotations

import socket

from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase, TestCase

from clocksvc._ntp import RateLimit
from clocksvc._run._ntpoptions import describeNTPAddress, parseNTPAddress
from clocksvc._run._options import Options
from clocksvc._run._tap import Options as TapOptions

from ._ntp import fields, request
from ._process import ClocksvcProcess, spawnClocksvc


class AddressTests(SynchronousTestCase):
    """
    C{--ntp-listen [HOST:]PORT}.
    """

    def test_forms(self) -> None:
        """
        A bare port is every IPv4 interface; IPv4 and bracketed IPv6
        addresses are taken as they are.
        """
        self.assertEqual(parseNTPAddress("123"), ("", 123))
        self.assertEqual(parseNTPAddress("127.0.0.1:1123"), ("127.0.0.1", 1123))
        self.assertEqual(parseNTPAddress("[::]:123"), ("::", 123))
        self.assertEqual(parseNTPAddress("[::1]:0"), ("::1", 0))

    def test_described(self) -> None:
        """
        An address is described as it is written.
        """
        for text in ("123", "127.0.0.1:1123", "[::]:123"):
            self.assertEqual(describeNTPAddress(parseNTPAddress(text)), text)

    def test_invalid(self) -> None:
        """
        A host name, an IPv6 address without brackets, a port out of range
        or missing, are one line naming the option.
        """
        for text in ("", "ntp", "localhost:123", "::1:123", "[::1]", "70000", "1:2:3"):
            with self.assertRaises(usage.UsageError) as raised:
                parseNTPAddress(text)
            self.assertIn("--ntp-listen", str(raised.exception))


class OptionsTests(SynchronousTestCase):
    """
    The SNTP options of C{python -m clocksvc} and C{twist clocksvc}.
    """

    def test_defaults(self) -> None:
        """
        Off by default, stratum 2, no local stratum, the default rate limit.
        """
        options = Options()
        options.parseOptions([])
        self.assertEqual(
            (
                options["ntp-listen"],
                options["ntp-stratum"],
                options["ntp-local-stratum"],
                options["ntp-rate-limit"],
            ),
            ([], 2, None, None),
        )

    def test_given(self) -> None:
        """
        Each option is read; C{--ntp-listen} repeats.
        """
        options = Options()
        options.parseOptions(
            [
                "--ntp-listen=127.0.0.1:1123",
                "--ntp-listen=[::1]:1123",
                "--ntp-stratum=3",
                "--ntp-local-stratum=10",
                "--ntp-rate-limit=4/32",
            ]
        )
        self.assertEqual(options["ntp-listen"], [("127.0.0.1", 1123), ("::1", 1123)])
        self.assertEqual(
            (options["ntp-stratum"], options["ntp-local-stratum"]), (3, 10)
        )
        self.assertEqual(options["ntp-rate-limit"], RateLimit(4.0, 32.0))

    def test_invalid(self) -> None:
        """
        A stratum outside 1 to 15, or a rate limit that is not RATE/BURST,
        is a UsageError.
        """
        for argv in (
            ["--ntp-stratum=0"],
            ["--ntp-stratum=16"],
            ["--ntp-local-stratum=x"],
            ["--ntp-rate-limit=fast"],
        ):
            self.assertRaises(usage.UsageError, Options().parseOptions, argv)

    def test_notWithWorkers(self) -> None:
        """
        One process answers SNTP: C{--ntp-listen} and C{--workers 2} are
        refused together.
        """
        with self.assertRaises(usage.UsageError) as raised:
            Options().parseOptions(["--ntp-listen=1123", "--workers=2"])
        self.assertIn("--workers", str(raised.exception))

    def test_twist(self) -> None:
        """
        C{twist clocksvc} takes them too.
        """
        options = TapOptions()
        options.parseOptions(["--ntp-listen=127.0.0.1:0", "--ntp-stratum=4"])
        self.assertEqual(options["ntp-listen"], [("127.0.0.1", 0)])


def _ask(port: int) -> bytes:
    """
    Send one request to C{port} on 127.0.0.1, and return the reply.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(10)
        client.sendto(request(), ("127.0.0.1", port))
        return client.recv(1024)


class ProcessTests(TestCase):
    """
    C{python -m clocksvc --ntp-listen} as a real child process.
    """

    timeout = 60

    def spawn(self, *args: str) -> ClocksvcProcess:
        """
        Start clocksvc with C{args}; killed at cleanup if still running.
        """
        process = spawnClocksvc(
            "--listen", "tcp:0:interface=127.0.0.1", "--access-log", "off", *args
        )

        async def kill() -> None:
            process.signal("KILL")
            await process.exited

        self.addCleanup(lambda: Deferred.fromCoroutine(kill()))
        return process

    async def test_serves(self) -> None:
        """
        It says where it serves SNTP after where it serves HTTP, answers
        there, with the local stratum given (this machine's clock is not
        known to be synchronized), and SIGTERM stops it with status 0.
        """
        process = self.spawn("--ntp-listen", "127.0.0.1:0", "--ntp-local-stratum", "7")
        first = await process.firstLine
        self.assertTrue(first.startswith(b"clocksvc: serving http://"), first)
        found = await process.printed(rb"clocksvc: serving ntp://127\.0\.0\.1:(\d+)\n")
        reply = fields(await deferToThread(_ask, int(found.group(1))))
        self.assertEqual((reply[2], reply[3]), (4, 7))
        process.signal("TERM")
        self.assertEqual(await process.exited, 0)

    async def test_portInUse(self) -> None:
        """
        A UDP port in use is one line on standard error, and exit status 2.
        """
        taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        process = self.spawn("--ntp-listen", f"127.0.0.1:{port}")
        self.assertEqual(await process.exited, 2)
        said = [
            line
            for line in process.stderr.decode().splitlines()
            if line.startswith("clocksvc:")
        ]
        self.assertEqual(
            said,
            [
                f"clocksvc: cannot listen on ntp:127.0.0.1:{port}: "
                "address already in use"
            ],
        )
