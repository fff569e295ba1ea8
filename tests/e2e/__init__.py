"""
End-to-end tests: real third-party clients (headless Chromium, the npm
C{timesync} library) against C{python -m clocksvc} running as a child process.

They need tools the rest of the suite does not: selenium, Chromium and its
driver, node and npm. Where one is missing they skip, so C{nox -s tests}
passes on a machine without them; C{nox -s e2e} sets C{CLOCKSVC_E2E=1}, and
then a missing tool fails the test instead, so CI cannot pass by skipping.

Everything here blocks (selenium, subprocess), so the tests are
L{SynchronousTestCase}s that never touch the reactor.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

from twisted.trial.unittest import FailTest, SkipTest, SynchronousTestCase

import clocksvc

__all__ = [
    "CHROMEDRIVER",
    "CHROMIUM",
    "REQUIRED",
    "executable",
    "startClocksvc",
    "startLogged",
    "unavailable",
]

#: Debian's chromium and chromium-driver packages; named exactly, so that
#: Selenium Manager is never asked to find (or download) a browser.
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

#: Whether the end-to-end tests must run: set by C{nox -s e2e}.
REQUIRED = os.environ.get("CLOCKSVC_E2E", "") not in ("", "0")

#: How long C{python -m clocksvc} may take to say where it serves.
STARTUP_TIMEOUT = 20.0

# The child imports the same clocksvc the tests do: the working copy when the
# tests run from the checkout, as tests/_process.py arranges for the CLI tests.
_IMPORT_ROOT = str(Path(clocksvc.__file__).resolve().parent.parent)

_SERVING = re.compile(r"clocksvc: serving (http://127\.0\.0\.1:\d+/)")


def unavailable(problem: str) -> NoReturn:
    """
    Skip the test for want of a tool, or fail it when the end-to-end tests
    are required.

    @param problem: what is missing.
    """
    if REQUIRED:
        raise FailTest(f"{problem}, and CLOCKSVC_E2E is set")
    raise SkipTest(f"{problem} (set CLOCKSVC_E2E=1 to make this a failure)")


def executable(name: str) -> str:
    """
    Find a program, or skip (or fail) the test if it is not installed.

    @param name: its absolute path, or a name to look up on C{PATH}.
    @return: its path.
    """
    path = shutil.which(name)
    if path is None:
        unavailable(f"{name} is not installed")
    return path


def startClocksvc(
    case: SynchronousTestCase,
    *options: str,
    module: str = "clocksvc",
    environment: Mapping[str, str] | None = None,
) -> str:
    """
    Start C{python -m clocksvc} on a free port of 127.0.0.1, and stop it when
    C{case} ends.

    @param options: its options, besides C{--listen}.
    @param module: the module to run: C{tests.e2e._serve} for clocksvc with
        its clock's state given.
    @param environment: variables to set in its environment, such as C{TZ}.
    @return: the URL it serves, ending in C{/}.
    """
    url, _ = startLogged(case, *options, module=module, environment=environment)
    return url


def startLogged(
    case: SynchronousTestCase,
    *options: str,
    module: str = "clocksvc",
    environment: Mapping[str, str] | None = None,
) -> tuple[str, Path]:
    """
    L{startClocksvc}, and say where its standard output goes: its access
    log, one JSON object a line (the line that says where it serves is on
    standard error).

    @return: the URL it serves, and the file of its standard output.
    """
    # Output goes to files, not pipes: nobody reads the child's output after
    # its first line, and a full pipe would stop it.
    directory = Path(case.mktemp())
    directory.mkdir(parents=True)
    stdoutPath, stderrPath = directory / "stdout", directory / "stderr"
    env = {**os.environ, **(environment or {})}
    env["PYTHONPATH"] = os.pathsep.join(
        [_IMPORT_ROOT, *filter(None, [env.get("PYTHONPATH")])]
    )
    with stdoutPath.open("wb") as stdout, stderrPath.open("wb") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                module,
                "--listen",
                "tcp:0:interface=127.0.0.1",
                *options,
            ],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            env=env,
        )
    case.addCleanup(_stop, process, stderrPath)

    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        # The lines for people are on standard error.
        output = stderrPath.read_text()
        if "\n" in output:
            break
        if process.poll() is not None or time.monotonic() > deadline:
            raise FailTest(
                f"clocksvc did not start (exit status {process.poll()}): "
                f"{stderrPath.read_text()!r}"
            )
        time.sleep(0.05)
    firstLine = output.split("\n", 1)[0]
    match = _SERVING.fullmatch(firstLine)
    if match is None:
        raise FailTest(f"unexpected first line from clocksvc: {firstLine!r}")
    return match.group(1), stdoutPath


def _stop(process: subprocess.Popen[bytes], stderrPath: Path) -> None:
    """
    Stop a child with SIGTERM, as a supervisor would; kill it if it lingers.

    @raise FailTest: if it had already exited: it died while being tested.
    """
    status = process.poll()
    if status is not None:
        raise FailTest(
            f"clocksvc exited with status {status} during the test: "
            f"{stderrPath.read_text()!r}"
        )
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
