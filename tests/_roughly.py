"""
C{roughly}, the Roughtime client the tests verify clocksvc's answers with:
it needs Python 3.12 or later, which the suite may not run on (PyPy 3.9,
CPython 3.11), so it lives in a virtual environment of its own, made once
with a Python 3.12 the machine has and kept in the user's cache directory
(C{$XDG_CACHE_HOME}, or C{~/.cache}) for later runs.

The tests run C{tests/roughtime_client.py} with it, as a child process.
Where the machine has no Python 3.12 the tests skip, saying so; under CI
(C{CI} set) they fail instead, since CI's machine has one (pyenv's).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from twisted.trial.unittest import SkipTest

__all__ = ["ROUGHLY", "clientCommand", "roughlyPython"]

#: The release the tests were written against: its client checks version
#: 1's signatures with the RFC's context strings ("Roughtime v1 ...").
ROUGHLY = "roughly==0.3.0"

_CLIENT = Path(__file__).with_name("roughtime_client.py")


def _candidates() -> list[str]:
    """
    @return: Pythons that may be 3.12 or later: pyenv's, then those on the
        PATH.
    """
    home = os.path.expanduser("~/.pyenv/versions")
    found = sorted(glob.glob(os.path.join(home, "3.1[2-9]*", "bin", "python")))
    for name in ("python3.12", "python3.13", "python3.14", "python3"):
        path = shutil.which(name)
        if path is not None:
            found.append(path)
    return found


def _atLeast312(python: str) -> bool:
    try:
        subprocess.run(
            [python, "-c", "import sys; assert sys.version_info >= (3, 12)"],
            check=True,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def _cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "clocksvc-tests" / ROUGHLY.replace("==", "-")


def roughlyPython() -> str:
    """
    Make the virtual environment, if it is not there yet: blocking, so
    call it from a thread.

    @return: its Python, which can run L{_CLIENT}.
    @raise SkipTest: if the machine has no Python 3.12 and CI is not set.
    @raise RuntimeError: if it has none under CI, or C{pip} fails.
    """
    venv = _cache()
    python = venv / "bin" / "python"
    if python.exists():
        return str(python)
    base = next((p for p in _candidates() if _atLeast312(p)), None)
    if base is None:
        reason = "roughly needs Python 3.12 or later, and this machine has none"
        if os.environ.get("CI"):
            raise RuntimeError(reason)
        raise SkipTest(reason)
    venv.parent.mkdir(parents=True, exist_ok=True)
    # Made aside, then renamed into place: a run that stops half-way, or
    # another making it at once, leaves no broken one behind.
    building = Path(tempfile.mkdtemp(prefix="building-", dir=venv.parent))
    try:
        subprocess.run([base, "-m", "venv", str(building)], check=True, timeout=300)
        pip = subprocess.run(
            [str(building / "bin" / "python"), "-m", "pip", "install", "-q", ROUGHLY],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if pip.returncode:
            raise RuntimeError(f"pip install {ROUGHLY} failed: {pip.stderr}")
        # Another run may have made it first: then that one is used.
        with contextlib.suppress(OSError):
            building.rename(venv)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return str(python)


def clientCommand(python: str, *args: str) -> list[str]:
    """
    @return: the command that runs the client script with C{args}.
    """
    return [python, str(_CLIENT), *args]
