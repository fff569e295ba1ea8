"""
End-to-end test of C{POST /timesync} with the npm C{timesync} library's own
client, in node: the client that C{/timesync} is there to serve.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from . import executable, startClocksvc, unavailable

#: The timesync release tested against: its latest (npm view timesync).
TIMESYNC_VERSION = "1.0.11"

#: What npm installs. In node, timesync's lib/Promise.js requires the
#: C{promise} package, which it lists only among its devDependencies (the
#: version here), so a plain install cannot load; users install it beside
#: timesync, as kiva/ui#1371 does.
PACKAGES = [f"timesync@{TIMESYNC_VERSION}", "promise@8.2.0"]

#: Where installs of L{PACKAGES} are kept between runs; C{nox -s e2e} sets
#: it. Unset, each run installs afresh.
CACHE_VARIABLE = "CLOCKSVC_E2E_NODE"

CLIENT = Path(__file__).with_name("timesync_client.js")


def installTimesync(case: SynchronousTestCase, npm: str) -> Path:
    """
    Install L{PACKAGES} with npm, unless they are already installed.

    @param npm: the path of npm.
    @return: the C{node_modules} directory that holds them.
    """
    cache = os.environ.get(CACHE_VARIABLE)
    if cache:
        # One directory per set of versions: a new pin installs afresh.
        prefix = Path(cache).resolve() / "_".join(PACKAGES).replace("@", "-")
    else:
        prefix = Path(case.mktemp()).resolve()
    if (prefix / "node_modules" / "timesync" / "package.json").exists():
        return prefix / "node_modules"
    # Install beside it, then rename: an interrupted install is never taken
    # for a finished one.
    partial = prefix.with_name(f"{prefix.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        install = subprocess.run(
            [
                npm,
                "install",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--prefix",
                str(partial),
                *PACKAGES,
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except subprocess.TimeoutExpired:
        unavailable(f"npm could not install {' '.join(PACKAGES)} in 300 s")
    else:
        if install.returncode != 0:
            unavailable(
                f"npm could not install {' '.join(PACKAGES)}: "
                f"{install.stderr.strip()[-500:]}"
            )
        try:
            partial.rename(prefix)
        except OSError:
            # Another run installed it meanwhile.
            if not prefix.exists():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return prefix / "node_modules"


class TimesyncClientTests(SynchronousTestCase):
    """
    The npm C{timesync} client syncs with a real C{python -m clocksvc}.
    """

    def setUp(self) -> None:
        self.node = executable("node")
        self.nodeModules = installTimesync(self, executable("npm"))
        self.url = startClocksvc(self)

    def test_sync(self) -> None:
        """
        The client completes its exchanges and finds the machine's clock
        right: clocksvc answers with the time the client expects.
        """
        before = time.time() * 1000
        client = subprocess.run(
            [self.node, str(CLIENT), self.url],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env={**os.environ, "NODE_PATH": str(self.nodeModules)},
            timeout=30,
            check=False,
        )
        after = time.time() * 1000
        self.assertEqual(client.returncode, 0, client.stderr)
        report = json.loads(client.stdout.splitlines()[-1])
        self.assertEqual(report["errors"], [])
        # The library's default repeat: five exchanges, each one answered with
        # the server's time in milliseconds, read while the client ran.
        self.assertEqual(len(report["results"]), 5, report)
        for result in report["results"]:
            self.assertIsInstance(result, int)
            self.assertTrue(before - 1 <= result <= after + 1, (before, after, report))
        # Client and server read this machine's clock, so the true offset is
        # zero; the library's estimate is off by at most half a loopback round
        # trip. 50 ms leaves room for a loaded CI machine and still catches an
        # answer in seconds, or in another zone.
        self.assertLess(abs(report["offset"]), 50, report)
