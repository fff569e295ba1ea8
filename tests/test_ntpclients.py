"""
Real SNTP clients against clocksvc's SNTP server on the loopback: chrony
(C{chronyd -Q}, Debian's C{chrony}), ntpsec's C{ntpdig} (Debian's
C{ntpsec-ntpdig}) and the C{ntplib} package. Each must take the server's
time while it serves (an offset within 10 ms of the host's clock, which the
server's is), and refuse it while the server says its clock is
unsynchronized.

The server runs in the test's reactor, on the real wall clock, with the
clock state a test chooses (the host's own kernel is likely unsynchronized
in a container); the clients run as child processes, or in a thread for
C{ntplib}, while the reactor serves them.

A missing tool skips its test, with the package to install; under CI (the
C{CI} variable set, as C{nox -s tests} sets it) it fails instead, so that CI
cannot pass by skipping. C{.ci/run} installs the packages.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

from twisted.internet import reactor
from twisted.internet.interfaces import IReactorTime, IReactorUDP
from twisted.internet.threads import deferToThread
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import FailTest, SkipTest, TestCase

from clocksvc import listenNTP
from clocksvc._clock import ClockState, WallClock
from clocksvc._web import buildSite

from ._helpers import SYNCHRONIZED, UNSYNCHRONIZED

#: Whether a missing client fails the test rather than skipping it.
REQUIRED = os.environ.get("CI", "") not in ("", "0")

#: Debian's chrony daemon, and ntpsec's ntpdig.
CHRONYD = "/usr/sbin/chronyd"
NTPDIG = "/usr/bin/ntpdig"

#: The most a client's offset may be from the host's clock, on the
#: loopback, with a server in the same machine's clock.
TOLERANCE = 0.010

_udp: IReactorUDP = reactor  # type: ignore[assignment]
_timers: IReactorTime = reactor

# ntpdig has no option for the server's port: it always asks port 123,
# which would need privileges and a free port 123. It is run unchanged,
# under its own interpreter, with getaddrinfo answering the test's port
# where ntpdig asks for 123.
_NTPDIG_ON_PORT = """
import runpy, socket, sys
port, script = int(sys.argv[1]), sys.argv[2]
sys.argv = [script, *sys.argv[3:]]
lookUp = socket.getaddrinfo
def getaddrinfo(host, service, *args, **kwargs):
    return lookUp(host, port if service == 123 else service, *args, **kwargs)
socket.getaddrinfo = getaddrinfo
runpy.run_path(script, run_name="__main__")
"""


def unavailable(problem: str) -> NoReturn:
    """
    Skip the test for want of a client, or fail it under CI.
    """
    if REQUIRED:
        raise FailTest(f"{problem}, and CI is set")
    raise SkipTest(f"{problem} (CI=1 makes this a failure)")


def installed(path: str, package: str) -> str:
    """
    @return: C{path}, if it is installed.
    """
    if not os.path.exists(path):
        unavailable(f"{path} is not installed (apt-get install {package})")
    return path


class RealClientTests(TestCase):
    """
    chrony, ntpdig and ntplib against a server of the test's clock state.
    """

    # chrony's first samples come 4 a second (minpoll -2): a run takes a
    # second; generous for a busy machine.
    timeout = 120

    def serve(self, state: ClockState, localStratum: int | None = None) -> int:
        """
        Start a server on 127.0.0.1, on the real wall clock, whose kernel
        state is C{state}.

        @return: its port.
        """
        site = buildSite(WallClock(_timers), readClock=lambda: state, timers=_timers)
        port = listenNTP(
            0, "127.0.0.1", reactor=_udp, site=site, localStratum=localStratum
        )
        self.addCleanup(port.stopListening)
        number: int = port.getHost().port  # type: ignore[attr-defined]
        return number

    async def runClient(
        self,
        executable: str,
        args: Sequence[str],
        env: Mapping[str, str] | None = None,
    ) -> tuple[str, int]:
        """
        Run a client to its end, while the reactor serves it.

        @return: its standard output and error, and its exit status.
        """
        out, err, code = await getProcessOutputAndValue(
            executable, list(args), env=dict(env or os.environ)
        )
        return (out + err).decode("utf-8", "replace"), code

    async def chrony(self, port: int) -> tuple[str, int]:
        """
        Run C{chronyd -Q} against the server on C{port}: it takes samples,
        logs how wrong the system clock is by the server, and exits without
        setting it; with no usable source it logs that, and exits 1 after
        its timeout. Its files are the test's; it changes nothing of the
        system's.
        """
        chronyd = installed(CHRONYD, "chrony")
        directory = Path(self.mktemp())
        directory.mkdir()
        config = directory / "chrony.conf"
        config.write_text(
            # minpoll -2: a sample every quarter second, so that -Q has its
            # samples in about a second, not in minutes.
            f"server 127.0.0.1 port {port} iburst minpoll -2 maxpoll -2\n"
            f"pidfile {directory / 'chronyd.pid'}\n"
            # No command port, no drift file: nothing outside the directory.
            "cmdport 0\n"
        )
        # Root keeps root (-u root) rather than switch to _chrony, who could
        # not read the test's directory; anyone else says they know (-U).
        user = ["-u", "root"] if os.geteuid() == 0 else ["-U"]
        return await self.runClient(
            chronyd, ["-Q", "-f", str(config), "-t", "15", "-L", "0", *user]
        )

    async def test_chronyAccepts(self) -> None:
        """
        chrony takes a synchronized server's time: within 10 ms.
        """
        port = self.serve(SYNCHRONIZED)
        output, code = await self.chrony(port)
        found = re.search(r"System clock wrong by (-?[0-9.]+) seconds", output)
        self.assertIsNotNone(found, output)
        assert found is not None
        self.assertLess(abs(float(found.group(1))), TOLERANCE, output)
        self.assertEqual(code, 0, output)

    async def test_chronyRefuses(self) -> None:
        """
        chrony finds no usable source in an unsynchronized server: for its
        leap indicator and stratum alone, since its error (1 s) is within
        what chrony would take (C{maxdistance}, 3 s).
        """
        port = self.serve(ClockState(False, 1000.0, 1000.0, "none", "none"))
        output, code = await self.chrony(port)
        self.assertIn("No suitable source for synchronisation", output)
        self.assertNotIn("System clock wrong by", output)
        self.assertEqual(code, 1, output)

    async def test_chronyLocalStratum(self) -> None:
        """
        With C{--ntp-local-stratum}, chrony takes an unsynchronized server's
        time.
        """
        port = self.serve(UNSYNCHRONIZED, localStratum=8)
        output, code = await self.chrony(port)
        self.assertIn("System clock wrong by", output)
        self.assertEqual(code, 0, output)

    async def ntpdig(self, port: int) -> tuple[str, int]:
        """
        Run ntpdig, asking for JSON, against the server on C{port}.
        """
        script = installed(NTPDIG, "ntpsec-ntpdig")
        interpreter = Path(script).read_text().split("\n", 1)[0].lstrip("#! ").split()
        if not interpreter or shutil.which(interpreter[0]) is None:
            unavailable(f"{script}'s interpreter is not installed")
        return await self.runClient(
            interpreter[0],
            [
                *interpreter[1:],
                "-c",
                _NTPDIG_ON_PORT,
                str(port),
                script,
                "--json",
                "--timeout",
                "5",
                "127.0.0.1",
            ],
        )

    async def test_ntpdigAccepts(self) -> None:
        """
        ntpdig takes a synchronized server's time: within 10 ms, at stratum
        2, with no leap second pending.
        """
        port = self.serve(SYNCHRONIZED)
        output, code = await self.ntpdig(port)
        self.assertEqual(code, 0, output)
        found = json.loads(output.strip().splitlines()[-1])
        self.assertLess(abs(found["offset"]), TOLERANCE, output)
        self.assertEqual((found["stratum"], found["leap"]), (2, "no-leap"))

    async def test_ntpdigRefuses(self) -> None:
        """
        ntpdig drops an unsynchronized server's answer, and has none.
        """
        port = self.serve(UNSYNCHRONIZED)
        output, code = await self.ntpdig(port)
        self.assertIn("Response dropped", output)
        self.assertIn("no eligible servers", output)
        self.assertEqual(code, 1, output)

    def ntplib(self, port: int) -> object:
        """
        @return: what C{ntplib} makes of the server on C{port}'s answer.
        """
        try:
            # ntplib has no type information.
            import ntplib  # type: ignore[import-untyped]
        except ImportError:
            unavailable("ntplib is not installed (the tests dependency group)")
        return ntplib.NTPClient().request("127.0.0.1", version=4, port=port, timeout=5)

    async def test_ntplibAccepts(self) -> None:
        """
        ntplib reads a synchronized server's time: within 10 ms, at stratum
        2, with no leap second pending.
        """
        port = self.serve(SYNCHRONIZED)
        stats = await deferToThread(self.ntplib, port)
        self.assertLess(abs(stats.offset), TOLERANCE)  # type: ignore[attr-defined]
        self.assertEqual((stats.stratum, stats.leap), (2, 0))  # type: ignore[attr-defined]

    async def test_ntplibRefuses(self) -> None:
        """
        ntplib reads an unsynchronized server's answer as unusable: the
        leap indicator it decodes is the alarm, and the stratum invalid.
        """
        import ntplib

        port = self.serve(UNSYNCHRONIZED)
        stats = await deferToThread(self.ntplib, port)
        self.assertEqual(
            (
                ntplib.leap_to_text(stats.leap),  # type: ignore[attr-defined]
                # Not ntplib.stratum_to_text, whose entry for 0 has no %d to
                # format and raises TypeError (ntplib 0.4.0).
                ntplib.NTP.STRATUM_TABLE[stats.stratum],  # type: ignore[attr-defined]
            ),
            ("unknown (clock unsynchronized)", "unspecified or invalid"),
        )
