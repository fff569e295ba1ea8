"""
Tests for C{.ci/summary.py}: the last line of a CI run, which the tools
around CI read as its count of tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

_SUMMARY = Path(__file__).parent.parent / ".ci" / "summary.py"

#: What nox prints, cut down: a trial session that passed with skips and an
#: expected failure, a lint session that passed, a trial session with a
#: failure and an error, and a typecheck session that failed.
_MIXED = """\
nox > Running session tests
nox > coverage run -m twisted.trial tests.test_a tests.test_b
tests.test_a
  ATests
    test_one ...                                               [OK]
-------------------------------------------------------------------------------
Ran 692 tests in 143.038s

PASSED (skips=27, expectedFailures=1, successes=664)
nox > Session tests was successful in 3 minutes.
nox > Running session lint
nox > ruff check .
All checks passed!
nox > Session lint was successful in 3 seconds.
nox > Running session pypy
Ran 12 tests in 1.000s

FAILED (skips=2, failures=1, errors=1, successes=8)
nox > Session pypy failed.
nox > Running session typecheck
nox > mypy
Found 1 error in 1 file (checked 80 source files)
nox > Session typecheck failed.
nox > Ran multiple sessions:
nox > * tests: success, took 3 minutes
nox > * lint: success, took 3 seconds
nox > * pypy: failed, took 3 minutes
nox > * typecheck: failed, took 40 seconds
"""


class SummaryTests(SynchronousTestCase):
    """
    C{.ci/summary.py NOX_OUTPUT} prints one plain line of counts last, and
    exits non-zero when anything failed.
    """

    def summarize(self, output: str) -> tuple[int, list[str]]:
        """
        @return: the script's exit code and the lines it printed, given
            C{output} as nox's.
        """
        path = Path(self.mktemp())
        path.write_text(output)
        result = subprocess.run(
            [sys.executable, str(_SUMMARY), str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual(result.stderr, "")
        return result.returncode, result.stdout.splitlines()

    def test_mixed(self) -> None:
        """
        Trial's tests are summed over its sessions (expected failures pass,
        errors fail); a session without trial is one check; the last line is
        the sum; a failure makes the exit code 1.
        """
        code, lines = self.summarize(_MIXED)
        self.assertEqual(lines[-1], "674 passed, 3 failed, 29 skipped")
        self.assertEqual(
            lines[:-1],
            [
                "ci: session tests: success (trial: 665 ok, 0 not, 27 skipped)",
                "ci: session lint: success",
                "ci: session pypy: failed (trial: 8 ok, 2 not, 2 skipped)",
                "ci: session typecheck: failed",
            ],
        )
        self.assertEqual(code, 1)

    def test_allPassed(self) -> None:
        """
        When every session passes, the exit code is 0.
        """
        passed = _MIXED.split("nox > Running session pypy")[0]
        code, lines = self.summarize(
            passed
            + "nox > * tests: success, took 3 minutes\n"
            + "nox > * lint: success, took 3 seconds\n"
        )
        self.assertEqual((code, lines[-1]), (0, "666 passed, 0 failed, 27 skipped"))

    def test_failedAfterTests(self) -> None:
        """
        A trial session whose tests all passed but which nox failed all the
        same (coverage under its bound, say) counts one failure.
        """
        code, lines = self.summarize(
            "nox > Running session tests\n"
            "PASSED (successes=5)\n"
            "Coverage failure: total of 90 is less than fail-under=95\n"
            "nox > * tests: failed, took 1 minute\n"
        )
        self.assertEqual((code, lines[-1]), (1, "5 passed, 1 failed, 0 skipped"))

    def test_nothingRan(self) -> None:
        """
        Output with no session in it fails: a run that ran nothing did not
        pass.
        """
        code, lines = self.summarize("nox > Error while collecting sessions.\n")
        self.assertEqual((code, lines), (1, ["0 passed, 0 failed, 0 skipped"]))
