"""
clocksvc's development tasks. C{nox} runs tests, lint and typecheck;
C{nox -s NAME} runs one.
"""

from __future__ import annotations

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
