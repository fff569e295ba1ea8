"""
The soak test: a million requests, mixed across clocksvc's endpoints, from
wrk, with zero errors and flat memory.

Run it with C{nox -s bench}, or C{python bench/soak.py [REQUESTS]} with wrk
(Debian's package C{wrk}) on the PATH. The server runs pinned to one core and
wrk to the other. It prints a report and exits non-zero if a request failed
or memory grew by more than the allowance.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _servers import pinned, rssMB
from _servers import wrk as runWrk

HERE = Path(__file__).resolve().parent
# RSS after all the requests may exceed RSS after the warm-up by this much.
ALLOWED_GROWTH_MB = 10.0
WARMUP = 10_000


def wrk(
    url: str, seconds: int, threads: int = 2, connections: int = 50
) -> dict[str, float]:
    """
    Load clocksvc with the soak mix for C{seconds}, pinned to core 1.

    @return: requests made, failed requests, and requests per second.
    """
    return runWrk(
        url,
        seconds,
        threads=threads,
        connections=connections,
        options=("-s", str(HERE / "soak.lua")),
    )


def soak(total: int, roundSeconds: int = 30) -> dict[str, object]:
    """
    Start clocksvc, warm it up with at least L{WARMUP} requests, then load it
    in rounds until C{total} requests more have been answered, measuring its
    memory after each round.

    @return: the report.
    """
    logDirectory = tempfile.TemporaryDirectory()
    logPath = Path(logDirectory.name) / "access.log"
    server = subprocess.Popen(
        pinned(
            0,
            [
                sys.executable,
                "-m",
                "clocksvc",
                "--listen",
                "tcp:0:interface=127.0.0.1",
                "--max-connections",
                "1000",
                # The access log on, to a file, as deployed; the pipe below
                # (standard error, where it says where it serves) is read
                # for the first line only.
                "--access-log",
                str(logPath),
            ],
        ),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        url = server.stderr.readline().split()[-1]
        warm = wrk(url, 3)
        if warm["requests"] < WARMUP:
            warm = wrk(url, 10)
        baseline = rssMB(server.pid)
        done = errors = 0
        rounds = []
        started = time.monotonic()
        while done < total:
            run = wrk(url, roundSeconds)
            done += int(run["requests"])
            errors += int(run["errors"])
            rounds.append(
                {
                    "requests": done,
                    "requests_per_second": run["requests_per_second"],
                    "rss_mb": round(rssMB(server.pid), 1),
                }
            )
            print(f"soak: {done:,} requests, RSS {rounds[-1]['rss_mb']} MB", flush=True)
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(15)
        logLines = sum(1 for _ in logPath.open()) if logPath.exists() else 0
        logDirectory.cleanup()
    final = float(rounds[-1]["rss_mb"])
    return {
        "requests": done,
        "errors": errors + int(warm["errors"]),
        "seconds": round(elapsed, 1),
        "warmup_requests": int(warm["requests"]),
        "rss_after_warmup_mb": round(baseline, 1),
        "rss_after_soak_mb": final,
        "rss_growth_mb": round(final - baseline, 1),
        "rounds": rounds,
        "access_log_lines": logLines,
        "exit_status": server.returncode,
    }


def main(argv: list[str]) -> int:
    if shutil.which("wrk") is None:
        print("soak: wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    total = int(argv[0]) if argv else 1_000_000
    report = soak(total, roundSeconds=30 if total >= 500_000 else 5)
    (HERE / "soak.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "rounds"}, indent=2))
    failures = []
    if report["errors"]:
        failures.append(f"{report['errors']} errors")
    if float(str(report["rss_growth_mb"])) > ALLOWED_GROWTH_MB:
        failures.append(f"memory grew by {report['rss_growth_mb']} MB")
    if report["exit_status"] != 0:
        failures.append(f"clocksvc exited {report['exit_status']} on SIGTERM")
    print("soak: " + ("; ".join(failures) if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
