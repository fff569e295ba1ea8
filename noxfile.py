"""
clocksvc's development tasks. C{nox} runs tests, lint and typecheck;
C{nox -s NAME} runs one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False

PYPROJECT = nox.project.load_toml("pyproject.toml")


@nox.session
def tests(session: nox.Session) -> None:
    """
    Run the test suite under coverage, and fail below 95 %.

    The suite runs against the working copy (trial is started from the
    checkout), and so do the child processes the CLI tests start.
    """
    session.install(".", *nox.project.dependency_groups(PYPROJECT, "tests"))
    # Then the working copy's wheel again, over the installed one of the
    # same version that pip would keep: the twist plugin's test runs it.
    session.install("--force-reinstall", "--no-deps", ".")
    session.run("coverage", "erase")
    session.run(
        "coverage",
        "run",
        "-m",
        "twisted.trial",
        *(session.posargs or ["tests"]),
        env={"CI": "1"} if "CI" not in session.env else {},
    )
    session.run("coverage", "combine", "--quiet")
    session.run("coverage", "report")


@nox.session
def lint(session: nox.Session) -> None:
    """
    Check style with ruff: lint rules, then formatting.
    """
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """
    Check types with mypy in strict mode, with the zope.interface plugin.
    """
    session.install(".", *nox.project.dependency_groups(PYPROJECT, "typecheck"))
    session.run("mypy")


@nox.session
def e2e(session: nox.Session) -> None:
    """
    End-to-end tests with real third-party clients: headless Chromium on
    /live and the npm timesync client. Needs Debian's chromium and
    chromium-driver, and node with npm; not in the default sessions.

    CLOCKSVC_E2E=1 makes a missing tool fail the tests rather than skip them,
    and npm's installs are kept in nox's cache between runs.
    """
    missing = [
        name
        for name in ("/usr/bin/chromium", "/usr/bin/chromedriver", "node", "npm")
        if shutil.which(name) is None
    ]
    if missing:
        session.error(
            f"e2e needs {', '.join(missing)}: apt-get install chromium "
            "chromium-driver, and node with npm"
        )
    session.install(".", *nox.project.dependency_groups(PYPROJECT, "tests", "e2e"))
    session.run(
        "python",
        "-m",
        "twisted.trial",
        *(session.posargs or ["tests.e2e"]),
        env={
            "CLOCKSVC_E2E": "1",
            "CLOCKSVC_E2E_NODE": str(Path(session.cache_dir) / "e2e-node"),
        },
    )


@nox.session
def bench(session: nox.Session) -> None:
    """
    The soak test: a million requests mixed across the endpoints, with zero
    errors and flat memory (bench/soak.py; a count as argument runs fewer).
    Needs wrk (apt-get install wrk); not in the default sessions.
    """
    if shutil.which("wrk") is None:
        session.error("bench needs wrk: apt-get install wrk")
    session.install(".")
    session.run("python", "bench/soak.py", *session.posargs)
