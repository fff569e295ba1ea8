"""
The workers benchmark: C{python -m clocksvc --workers 1} against
C{--workers 2}, on C{/}.

Run it with C{python bench/workers.py [--quick] [--pin]} from the checkout,
with wrk on the PATH. Each server runs alone with its access log off, loaded
by wrk (2 threads, 50 connections): a warm-up, then a measured run. The two
take turns in rounds, each round starting with the other, and each figure
reported is the median over the rounds.

Without C{--pin}, unlike in bench/run.py, nothing is pinned: the point of
workers is to use every core, so the server may use both of this 2-core
machine's, and wrk shares them with it. So req/s here measures the machine,
load generator included; the CPU time per request (utime and stime from
/proc, summed over the supervisor and all its workers, over the measured
run) says whether a worker costs more per request than a single process
does, though with three busy processes on two cores it includes their
taking turns. It writes bench/workers.json: the settings, the machine, every
round, and the medians, with each worker's share of the CPU time (how evenly
the connections were spread).

With C{--pin}, every clocksvc process runs on core 0 and wrk on core 1, and
the report goes to bench/workers-pinned.json: both settings then have the
same one core, so any difference in CPU time per request is the cost of
several processes as such, without wrk competing for the cores.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _servers import (
    addRoundOptions,
    contextSwitches,
    cpuSeconds,
    freePort,
    pinned,
    processTree,
    stop,
    waitUntilServing,
)
from _servers import machine as describeMachine
from _servers import wrk as runWrk

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKERS = (1, 2)
PATH = "/"
CONNECTIONS = 50
THREADS = 2

Result = dict[str, Any]


@contextmanager
def clocksvc(
    workers: int, pin: bool, readyTimeout: float = 60.0
) -> Iterator[tuple[int, int]]:
    """
    Run C{python -m clocksvc --workers N}, from the checkout, until the block
    ends, once every worker serves; with C{pin}, all its processes on core 0
    (taskset's affinity is inherited).

    @return: the port, and the supervisor's PID (the process's, for 1).
    """
    port = freePort()
    command = [
        sys.executable,
        "-m",
        "clocksvc",
        "--workers",
        str(workers),
        "--listen",
        f"tcp:{port}:interface=127.0.0.1",
        "--access-log",
        "off",
    ]
    with tempfile.TemporaryDirectory(prefix="clocksvc-bench-") as tmp:
        out, log = Path(tmp) / "stdout", Path(tmp) / "stderr"
        with out.open("wb") as stdout, log.open("wb") as stderr:
            process = subprocess.Popen(
                pinned(0, command) if pin else command,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                cwd=ROOT,
            )
        try:
            # The serving line comes once every worker serves.
            deadline = time.monotonic() + readyTimeout
            while b"clocksvc: serving " not in log.read_bytes():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{' '.join(command)}: not serving:\n{log.read_text()}"
                    )
                time.sleep(0.05)
            waitUntilServing(process, port, readyTimeout, log)
            yield port, process.pid
        finally:
            stop(process)


def wrk(port: int, seconds: int, pin: bool, connections: int = CONNECTIONS) -> Result:
    """
    Load C{/} with wrk for C{seconds}; with C{pin}, on core 1.
    """
    return runWrk(
        f"http://127.0.0.1:{port}{PATH}",
        seconds,
        threads=THREADS,
        connections=connections,
        pin=pin,
    )


def measure(
    workers: int, seconds: int, warmup: int, pin: bool, connections: int
) -> Result:
    """
    Start clocksvc with C{workers}, warm it up, and load it.

    @return: wrk's figures, the CPU time per request of the whole process
        tree, its reactors' wake-ups and preemptions per request, and each
        worker's share of the workers' CPU time.
    """
    with clocksvc(workers, pin) as (port, pid):
        wrk(port, warmup, pin, connections)
        tree = processTree(pid)
        before = [cpuSeconds(p) for p in tree]
        switchesBefore = [contextSwitches(p) for p in tree]
        result = wrk(port, seconds, pin, connections)
        spent = [cpuSeconds(p) - b for p, b in zip(tree, before)]
        switches = [
            (v - vb, n - nb)
            for (v, n), (vb, nb) in zip(
                [contextSwitches(p) for p in tree], switchesBefore
            )
        ]
    result["processes"] = len(tree)
    result["cpu_us_per_request"] = round(
        sum(spent) * 1e6 / max(result["requests"], 1), 1
    )
    # A reactor that waits in epoll_wait gives up the CPU: voluntary switches
    # count its wake-ups, and requests over them how many each one answers.
    requests = max(result["requests"], 1)
    result["wakeups_per_request"] = round(sum(v for v, _ in switches) / requests, 3)
    result["preemptions_per_request"] = round(sum(n for _, n in switches) / requests, 3)
    result["supervisor_cpu_seconds"] = round(spent[0], 3) if workers > 1 else None
    workersSpent = spent[1:] if workers > 1 else spent
    result["worker_cpu_shares"] = [
        round(s / max(sum(workersSpent), 1e-9), 3) for s in workersSpent
    ]
    return result


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def summarise(rounds: list[dict[str, Result]]) -> dict[str, Result]:
    """
    @return: for each number of workers, the median of each figure over the
        rounds; and the ratios of 2 workers to 1, each taken within a round.
    """
    summary: dict[str, Result] = {}
    for workers in WORKERS:
        runs = [r[str(workers)] for r in rounds]
        summary[str(workers)] = {
            key: round(median([run[key] for run in runs]), 3)
            for key in (
                "requests_per_second",
                "cpu_us_per_request",
                "wakeups_per_request",
                "preemptions_per_request",
                "p50_ms",
                "p99_ms",
            )
        }
        summary[str(workers)]["errors"] = sum(run["errors"] for run in runs)
    for key in ("requests_per_second", "cpu_us_per_request"):
        summary[f"ratio_2_to_1_{key}"] = {
            "median": round(median([r["2"][key] / r["1"][key] for r in rounds]), 3)
        }
    return summary


def machine() -> Result:
    """
    @return: what the figures were measured on.
    """
    return describeMachine(ROOT)


NOTE = (
    "Nothing is pinned: clocksvc and wrk share this machine's {nproc} cores, "
    "so req/s is the machine's with its load generator; on a machine with "
    "cores to spare for the workers, throughput grows about linearly with "
    "--workers up to the number of cores."
)
PINNED_NOTE = (
    "Pinned: every clocksvc process on core 0 and wrk on core 1, so that both "
    "settings have the same one core; what differs is the cost of the "
    "processes themselves (supervisor, sockets, several reactors taking "
    "turns), not throughput."
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    addRoundOptions(parser)
    parser.add_argument(
        "--pin",
        action="store_true",
        help="every clocksvc process on core 0 and wrk on core 1",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=CONNECTIONS,
        help="wrk's connections: few keep the server from saturating",
    )
    parser.add_argument("--output", type=Path)
    options = parser.parse_args(argv)
    if options.quick:
        options.rounds, options.seconds = 1, 3
    if options.output is None:
        options.output = HERE / (
            "workers-pinned.json" if options.pin else "workers.json"
        )
    if shutil.which("wrk") is None:
        print("bench: wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2

    machineInfo = machine()
    rounds: list[dict[str, Result]] = []
    started = time.monotonic()
    for n in range(options.rounds):
        # Each round starts with the other, so that neither is always first.
        order = WORKERS if n % 2 == 0 else WORKERS[::-1]
        results = {}
        for workers in order:
            print(
                f"bench: round {n + 1}/{options.rounds}: --workers {workers}",
                flush=True,
            )
            results[str(workers)] = measure(
                workers,
                options.seconds,
                options.warmup,
                options.pin,
                options.connections,
            )
        rounds.append(results)

    summary = summarise(rounds)
    note = PINNED_NOTE if options.pin else NOTE.format(nproc=machineInfo["nproc"])
    report = {
        "machine": machineInfo,
        "settings": {
            "rounds": options.rounds,
            "seconds": options.seconds,
            "warmup_seconds": options.warmup,
            "connections": options.connections,
            "wrk_threads": THREADS,
            "path": PATH,
            "access_log": "off",
            "pinned": options.pin,
        },
        "summary": summary,
        "note": note,
        "rounds": rounds,
        "elapsed_seconds": round(time.monotonic() - started, 1),
    }
    options.output.write_text(json.dumps(report, indent=2) + "\n")

    print()
    print(
        f"{'workers':<8} {'req/s':>8} {'CPU us/req':>11} {'wake-ups/req':>13} "
        f"{'preempted/req':>14} {'p50 ms':>7} {'p99 ms':>7}"
    )
    for workers in WORKERS:
        row = summary[str(workers)]
        print(
            f"{workers:<8} {row['requests_per_second']:>8,.0f} "
            f"{row['cpu_us_per_request']:>11.1f} "
            f"{row['wakeups_per_request']:>13.3f} "
            f"{row['preemptions_per_request']:>14.3f} {row['p50_ms']:>7.2f} "
            f"{row['p99_ms']:>7.2f}"
        )
    print()
    for key, what in [
        ("requests_per_second", "req/s"),
        ("cpu_us_per_request", "CPU per request"),
    ]:
        ratio = summary[f"ratio_2_to_1_{key}"]["median"]
        print(f"{what}, 2 workers over 1: {ratio:.2f}x (median of per-round ratios)")
    shares = [r["2"]["worker_cpu_shares"] for r in rounds]
    print(f"each worker's share of the workers' CPU time, by round: {shares}")
    print(f"note: {note}")
    errors = {
        w: summary[str(w)]["errors"] for w in WORKERS if summary[str(w)]["errors"]
    }
    if errors:
        print(f"warning: wrk counted errors, which skew those rows: {errors}")
    print(f"bench: wrote {options.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
