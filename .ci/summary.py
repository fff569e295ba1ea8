"""
Read the output of C{nox} running several sessions, and print one plain line,
C{N passed, N failed, N skipped}, summed over every session: the tests that
trial ran in each session that runs trial, and each other session (lint,
typecheck, docs, fuzz) as one check of its own.

    python3 .ci/summary.py NOX_OUTPUT

Exits 1 when anything failed, or when the output holds no session at all, so
that a CI run which ran nothing cannot pass.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

#: nox starts a session: C{nox > Running session tests}.
_STARTED = re.compile(r"^nox > Running session (\S+)", re.M)
#: nox's closing list: C{nox > * tests: success, took 3 minutes}.
_ENDED = re.compile(r"^nox > \* (\S+): (\w+)", re.M)
#: trial's last line: C{PASSED (skips=27, successes=664)} or
#: C{FAILED (failures=1, errors=2, successes=10)}.
_TRIAL = re.compile(r"^(PASSED|FAILED) \(([^)]*)\)\s*$", re.M)


@dataclass
class Count:
    """
    Checks passed, failed and skipped.
    """

    passed: int = 0
    failed: int = 0
    skipped: int = 0

    def add(self, other: Count) -> None:
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped


@dataclass
class Session:
    """
    One nox session: its name, what trial said in it, and how nox ended it.
    """

    name: str
    trial: list[Count] = field(default_factory=list)
    status: str | None = None


def trialCount(summary: str) -> Count:
    """
    @param summary: what trial's closing line has in parentheses, such as
        C{skips=27, expectedFailures=1, successes=664}.
    @return: the tests it counts: successes and expected failures pass;
        failures, errors and unexpected successes fail; skips are skipped.
    """
    values = {name: int(number) for name, number in re.findall(r"(\w+)=(\d+)", summary)}
    return Count(
        passed=values.get("successes", 0) + values.get("expectedFailures", 0),
        failed=values.get("failures", 0)
        + values.get("errors", 0)
        + values.get("unexpectedSuccesses", 0),
        skipped=values.get("skips", 0),
    )


def sessions(output: str) -> list[Session]:
    """
    @param output: what nox printed.
    @return: each session it ran, in order, with trial's counts in it and
        nox's verdict on it.
    """
    found: list[Session] = []
    starts = list(_STARTED.finditer(output))
    for i, start in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(output)
        session = Session(start.group(1))
        session.trial = [
            trialCount(m.group(2)) for m in _TRIAL.finditer(output, start.end(), end)
        ]
        found.append(session)
    verdicts = dict(_ENDED.findall(output))
    for session in found:
        session.status = verdicts.get(session.name)
    return found


def total(found: list[Session]) -> Count:
    """
    @return: the checks of every session: trial's tests where it ran (and
        one failure more if nox failed the session all the same, say on
        coverage), else the session itself as one check.
    """
    count = Count()
    for session in found:
        ok = session.status == "success"
        if session.trial:
            for run in session.trial:
                count.add(run)
            if not ok and not any(run.failed for run in session.trial):
                count.failed += 1
        elif ok:
            count.passed += 1
        elif session.status == "skipped":
            count.skipped += 1
        else:
            count.failed += 1
    return count


def main(argv: list[str]) -> int:
    output = Path(argv[1]).read_text(errors="replace")
    found = sessions(output)
    count = total(found)
    for session in found:
        runs = Count()
        for run in session.trial:
            runs.add(run)
        detail = (
            f" (trial: {runs.passed} ok, {runs.failed} not, {runs.skipped} skipped)"
            if session.trial
            else ""
        )
        print(f"ci: session {session.name}: {session.status or 'unfinished'}{detail}")
    print(f"{count.passed} passed, {count.failed} failed, {count.skipped} skipped")
    return 1 if count.failed or not found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
