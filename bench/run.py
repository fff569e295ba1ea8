"""
The comparison benchmark: clocksvc against the Twisted Web lesson it grew
from, aiohttp, and a bare ASGI app on uvicorn, on C{/} and C{/now}.

Run it with C{nox -s bench}, or C{python bench/run.py [--quick]} from the
checkout with wrk on the PATH and the C{bench} dependency group installed.
Each server runs alone, pinned to core 0, with wrk (2 threads, 50
connections) pinned to core 1: a warm-up, then a measured run, for each
endpoint. The servers take turns in rounds (every server in round 1, then
every server in round 2, ...), so that a machine that drifts moves them all
alike, and each figure reported is the median over the rounds.

It reports, for each server and endpoint: requests per second and the ratio
to the lesson, wrk's p50 and p99 latency, the server's CPU time per request
(utime and stime from /proc over the measured run), and its peak RSS
(VmHWM); then clocksvc's start-up time, and whether the performance issue's
targets are met. bench/results.json holds everything, the raw rounds
included, and bench/results.png charts the requests per second.

With pypy3 on the PATH (Debian's package pypy3), the lesson and clocksvc run
on PyPy too, from a virtualenv this script makes; a row that cannot run there
says why in the report's notes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _servers import addRoundOptions, cpuSeconds, freePort, peakRSSMB, running
from _servers import machine as describeMachine
from _servers import wrk as runWrk

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = HERE / "peers"
ENDPOINTS = ("/", "/now")
CONNECTIONS = 50
THREADS = 2
LESSON = "lesson"
CLOCKSVC = "clocksvc"
CLOCKSVC_PYPY = "clocksvc (PyPy)"
AIOHTTP = "aiohttp"
UVICORN = "uvicorn (ASGI)"
#: PyPy's JIT compiles the hot paths during the first seconds of load; a
#: long-running service is past that, so PyPy rows get a longer warm-up.
PYPY_WARMUP_FACTOR = 3

Result = dict[str, Any]


@dataclass(frozen=True)
class Server:
    """
    A server to load: a name for the table, and its command line for a port.
    """

    name: str
    argv: Callable[[int], list[str]]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = ROOT
    warmupFactor: float = 1.0


@dataclass
class PyPy:
    """
    What the PyPy virtualenv offers.
    """

    python: str | None = None
    version: str | None = None
    twisted: str | None = None
    clocksvcEnv: dict[str, str] | None = None
    notes: list[str] = field(default_factory=list)


def lastLine(text: str) -> str:
    """
    @return: the last line of C{text} that says something, such as the
        exception of a traceback or pip's C{ERROR:} line.
    """
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    return (errors or lines or [""])[-1]


def setUpPyPy(envDir: Path, source: Path | None) -> PyPy:
    """
    Make (or reuse) a PyPy virtualenv with clocksvc's dependencies, and find
    out whether clocksvc runs there: installed from the working copy, or from
    C{source} when given.
    """
    # tomllib is 3.11's; ruff sorts imports for PyPy's 3.9, where it is not
    # the standard library's.
    import tomllib

    # What clocksvc needs, less clocksvc itself: its dependencies as
    # pyproject.toml lists them, whose markers pip reads for PyPy's Python
    # (Debian's is 3.9: Twisted 26.4, the newest for it). The lesson needs
    # Twisted only.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    dependencies: list[str] = project["dependencies"]
    pypy = PyPy()
    pypy3 = shutil.which("pypy3")
    if pypy3 is None:
        pypy.notes.append("PyPy: not measured, pypy3 is not on the PATH")
        return pypy
    python = envDir / "bin" / "python"
    marker = envDir / ".bench-dependencies"
    try:
        if not python.exists():
            print(f"bench: making a PyPy virtualenv in {envDir}", flush=True)
            subprocess.run([pypy3, "-m", "venv", str(envDir)], check=True, timeout=300)
        if not marker.exists() or marker.read_text() != " ".join(dependencies):
            print("bench: installing clocksvc's dependencies on PyPy", flush=True)
            installed = subprocess.run(
                [str(python), "-m", "pip", "install", "-q", *dependencies],
                capture_output=True,
                text=True,
                timeout=900,
            )
            if installed.returncode:
                raise OSError(lastLine(installed.stderr))
            marker.write_text(" ".join(dependencies))
    except (subprocess.SubprocessError, OSError) as e:
        pypy.notes.append(f"PyPy: not measured, its virtualenv failed: {e}")
        return pypy
    pypy.python = str(python)
    versions = subprocess.run(
        [
            pypy.python,
            "-c",
            "import sys, twisted; print(sys.version.split()[0], "
            "'.'.join(map(str, sys.pypy_version_info[:3])), twisted.__version__)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.split()
    if len(versions) == 3:
        pypy.version = f"PyPy {versions[1]} (Python {versions[0]})"
        pypy.twisted = versions[2]
        pypy.notes.append(f"PyPy rows: {pypy.version}, Twisted {pypy.twisted}")

    def importable(env: dict[str, str]) -> str | None:
        # From bench/, where no clocksvc folder shadows the one to test.
        check = subprocess.run(
            [pypy.python or "", "-c", "import clocksvc._run._cli"],
            capture_output=True,
            text=True,
            cwd=HERE,
            env={**os.environ, **env},
            timeout=120,
        )
        return None if check.returncode == 0 else lastLine(check.stderr)

    if source is not None:
        env = {"PYTHONPATH": str(source)}
        failure = importable(env)
        if failure is None:
            pypy.clocksvcEnv = env
            pypy.notes.append(f"clocksvc (PyPy): imported from {source}")
        else:
            pypy.notes.append(f"clocksvc (PyPy): import from {source}: {failure}")
        return pypy
    install = subprocess.run(
        [
            pypy.python,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--force-reinstall",
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if install.returncode == 0:
        failure = importable({})
        if failure is None:
            pypy.clocksvcEnv = {}
            pypy.notes.append("clocksvc (PyPy): the working copy, installed")
            return pypy
        pypy.notes.append(f"clocksvc (PyPy): installed, but import fails: {failure}")
        return pypy
    pypy.notes.append(
        "clocksvc (PyPy): not measured, pip install --no-deps . fails: "
        + lastLine(install.stderr)
    )
    failure = importable({"PYTHONPATH": str(ROOT)})
    pypy.notes.append(
        "clocksvc (PyPy): the working copy on PYTHONPATH "
        + (f"fails to import: {failure}" if failure else "imports")
    )
    return pypy


def servers(pypy: PyPy) -> list[Server]:
    """
    @return: the servers to compare, those whose packages are missing left
        out with a note.
    """
    python = sys.executable

    def clocksvc(interpreter: str, accessLog: str) -> Callable[[int], list[str]]:
        return lambda port: [
            interpreter,
            "-m",
            "clocksvc",
            "--listen",
            f"tcp:{port}:interface=127.0.0.1",
            "--access-log",
            accessLog,
        ]

    def peer(script: str) -> Callable[[int], list[str]]:
        return lambda port: [python, str(PEERS / script), str(port)]

    chosen = [
        Server(LESSON, peer("lesson.py")),
        Server(AIOHTTP, peer("aiohttp_app.py")),
        Server(UVICORN, peer("asgi_app.py")),
        # From the checkout, where `python -m clocksvc` finds the working copy.
        Server(CLOCKSVC, clocksvc(python, "off")),
        # The access log goes through clocksvc's writer thread all the same.
        Server("clocksvc (access log on)", clocksvc(python, os.devnull)),
    ]
    if pypy.python is not None:
        chosen.append(
            Server(
                "lesson (PyPy)",
                lambda port: [pypy.python or "", str(PEERS / "lesson.py"), str(port)],
                warmupFactor=PYPY_WARMUP_FACTOR,
            )
        )
        if pypy.clocksvcEnv is not None:
            chosen.append(
                Server(
                    CLOCKSVC_PYPY,
                    clocksvc(pypy.python, "off"),
                    env=pypy.clocksvcEnv,
                    cwd=HERE,
                    warmupFactor=PYPY_WARMUP_FACTOR,
                )
            )
    return chosen


def wrk(port: int, path: str, seconds: int) -> Result:
    """
    Load C{path} with wrk, pinned to core 1, for C{seconds}.
    """
    return runWrk(
        f"http://127.0.0.1:{port}{path}",
        seconds,
        threads=THREADS,
        connections=CONNECTIONS,
    )


def measureServer(server: Server, seconds: int, warmup: int) -> dict[str, Result]:
    """
    Start C{server}, and load each endpoint in turn: a warm-up, then the run
    that is measured.

    @return: each endpoint's measurements.
    """
    port = freePort()
    results = {}
    with running(server.argv(port), port, server.env, server.cwd) as process:
        for path in ENDPOINTS:
            wrk(port, path, max(1, round(warmup * server.warmupFactor)))
            before = cpuSeconds(process.pid)
            result = wrk(port, path, seconds)
            cpu = cpuSeconds(process.pid) - before
            result["cpu_us_per_request"] = round(
                cpu * 1e6 / max(result["requests"], 1), 1
            )
            result["peak_rss_mb"] = round(peakRSSMB(process.pid), 1)
            results[path] = result
    return results


def measureStartup(server: Server, times: int) -> list[float]:
    """
    Start C{server} C{times} times, timing each from just before the process
    is made to its first 200 for C{GET /} (polled every 5 ms).

    @return: the times, in seconds.
    """
    found = []
    for _ in range(times):
        port = freePort()
        started = time.monotonic()
        with running(server.argv(port), port, server.env, server.cwd):
            # running() returns as soon as the first GET / is answered.
            found.append(round(time.monotonic() - started, 3))
    return found


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def perRoundRatio(
    rounds: list[dict[str, dict[str, Result]]],
    a: str,
    b: str,
    path: str,
    key: str = "requests_per_second",
) -> float | None:
    """
    @return: the median over the rounds of C{a}'s C{key} over C{b}'s, each
        ratio taken within one round; C{None} if either was not measured.
    """
    ratios = [
        r[a][path][key] / r[b][path][key]
        for r in rounds
        if a in r and b in r and r[b][path][key]
    ]
    return round(median(ratios), 3) if ratios else None


def summarise(
    rounds: list[dict[str, dict[str, Result]]], names: list[str]
) -> dict[str, dict[str, Result]]:
    """
    @return: for each server and endpoint, the median of each measurement
        over the rounds, and the ratio of requests per second to the lesson.
    """
    summary: dict[str, dict[str, Result]] = {}
    for name in names:
        measured = [r[name] for r in rounds if name in r]
        if not measured:
            continue
        summary[name] = {}
        for path in ENDPOINTS:
            runs = [m[path] for m in measured]
            row: Result = {
                key: round(median([run[key] for run in runs]), 3)
                for key in runs[0]
                if key not in ("errors", "requests")
            }
            row["errors"] = sum(run["errors"] for run in runs)
            row["ratio_to_lesson"] = perRoundRatio(rounds, name, LESSON, path)
            summary[name][path] = row
    return summary


def targets(
    rounds: list[dict[str, dict[str, Result]]],
    summary: dict[str, dict[str, Result]],
    startup: float | None,
) -> list[Result]:
    """
    The performance issue's targets, each with what was measured.
    """
    found: list[Result] = []

    def atLeast(what: str, a: str, b: str, goal: float, path: str = "/") -> None:
        ratio = perRoundRatio(rounds, a, b, path)
        found.append(
            {
                "target": what,
                "goal": f">= {goal}x",
                "measured": None if ratio is None else f"{ratio:.2f}x",
                "met": None if ratio is None else ratio >= goal,
            }
        )

    atLeast("/ on CPython vs the lesson", CLOCKSVC, LESSON, 1.5)
    atLeast("/ on CPython vs aiohttp", CLOCKSVC, AIOHTTP, 1.0)
    atLeast("/ on CPython vs uvicorn (stretch)", CLOCKSVC, UVICORN, 1.0)
    atLeast("/ on PyPy vs uvicorn", CLOCKSVC_PYPY, UVICORN, 1.0)
    for path in ENDPOINTS:
        if CLOCKSVC in summary and AIOHTTP in summary:
            ours = summary[CLOCKSVC][path]["p99_ms"]
            theirs = summary[AIOHTTP][path]["p99_ms"]
            found.append(
                {
                    "target": f"p99 of {path} at {CONNECTIONS} connections vs aiohttp",
                    "goal": f"<= {theirs} ms",
                    "measured": f"{ours} ms ({ours / theirs:.2f}x)",
                    "met": ours <= theirs,
                }
            )
    found.append(
        {
            "target": "start-up to the first answer",
            "goal": "<= 0.5 s",
            "measured": None if startup is None else f"{startup:.3f} s",
            "met": None if startup is None else startup <= 0.5,
        }
    )
    return found


def machine(pypy: PyPy) -> Result:
    """
    @return: what the figures were measured on.
    """
    return {**describeMachine(ROOT), "pypy": pypy.version, "pypy_twisted": pypy.twisted}


def printTable(summary: dict[str, dict[str, Result]]) -> None:
    headings = (
        "server",
        "endpoint",
        "req/s",
        "x lesson",
        "p50 ms",
        "p99 ms",
        "CPU us/req",
        "peak RSS MB",
    )
    rows = [
        (
            name,
            path,
            f"{row['requests_per_second']:,.0f}",
            "-" if row["ratio_to_lesson"] is None else f"{row['ratio_to_lesson']:.2f}",
            f"{row['p50_ms']:.2f}",
            f"{row['p99_ms']:.2f}",
            f"{row['cpu_us_per_request']:.0f}",
            f"{row['peak_rss_mb']:.1f}",
        )
        for path in ENDPOINTS
        for name, byPath in summary.items()
        for row in [byPath[path]]
    ]
    widths = [max(len(str(r[i])) for r in [headings, *rows]) for i in range(8)]
    for r in [headings, *rows]:
        print(
            "  ".join(
                str(cell).ljust(w) if i < 2 else str(cell).rjust(w)
                for i, (cell, w) in enumerate(zip(r, widths, strict=True))
            )
        )


def chart(summary: dict[str, dict[str, Result]], path: Path, title: str) -> None:
    """
    Bars of requests per second, one group per endpoint, with the lesson's
    figure as a reference line across each group.
    """
    import matplotlib  # only for the chart

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary)
    width = 0.8 / len(names)
    figure, axes = plt.subplots(figsize=(10, 5.5))
    for i, name in enumerate(names):
        xs = [g + (i - (len(names) - 1) / 2) * width for g in range(len(ENDPOINTS))]
        heights = [summary[name][p]["requests_per_second"] for p in ENDPOINTS]
        bars = axes.bar(xs, heights, width * 0.95, label=name)
        axes.bar_label(bars, labels=[f"{h:,.0f}" for h in heights], fontsize=7)
    if LESSON in summary:
        for g, p in enumerate(ENDPOINTS):
            axes.hlines(
                summary[LESSON][p]["requests_per_second"],
                g - 0.45,
                g + 0.45,
                colors="black",
                linestyles="dashed",
                # One legend entry for the lines: matplotlib leaves out
                # labels that start with an underscore.
                label="the lesson" if g == 0 else "_lesson",
            )
    axes.set_xticks(range(len(ENDPOINTS)), [f"GET {p}" for p in ENDPOINTS])
    axes.set_ylabel("requests per second (median over rounds)")
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    addRoundOptions(parser)
    parser.add_argument("--starts", type=int, default=5, help="start-ups to time")
    parser.add_argument("--no-pypy", action="store_true", help="leave PyPy out")
    parser.add_argument(
        "--pypy-env",
        type=Path,
        default=ROOT / ".nox" / "bench-pypy",
        help="the PyPy virtualenv to make or reuse",
    )
    parser.add_argument(
        "--pypy-source",
        type=Path,
        help="run clocksvc on PyPy from this folder (on PYTHONPATH) rather "
        "than installed from the working copy",
    )
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    options = parser.parse_args(argv)
    if options.quick:
        options.rounds, options.seconds, options.starts = 1, 3, 3
    if shutil.which("wrk") is None:
        print("bench: wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2

    pypy = PyPy(notes=["PyPy: left out (--no-pypy)"])
    if not options.no_pypy:
        pypy = setUpPyPy(options.pypy_env.resolve(), options.pypy_source)
    chosen = servers(pypy)
    # Before the rounds: the commit is the one measured from the start.
    machineInfo = machine(pypy)
    names = [s.name for s in chosen]
    rounds: list[dict[str, dict[str, Result]]] = []
    started = time.monotonic()
    for n in range(options.rounds):
        # Each round starts one server later, so none is always first.
        order = chosen[n % len(chosen) :] + chosen[: n % len(chosen)]
        results = {}
        for server in order:
            print(f"bench: round {n + 1}/{options.rounds}: {server.name}", flush=True)
            results[server.name] = measureServer(
                server, options.seconds, options.warmup
            )
        rounds.append(results)

    byName = {s.name: s for s in chosen}
    startups = {
        name: measureStartup(byName[name], options.starts)
        for name in (CLOCKSVC, LESSON, CLOCKSVC_PYPY)
        if name in byName
    }
    startup = median(startups[CLOCKSVC]) if CLOCKSVC in startups else None

    summary = summarise(rounds, names)
    met = targets(rounds, summary, startup)
    report = {
        "machine": machineInfo,
        "settings": {
            "rounds": options.rounds,
            "seconds": options.seconds,
            "warmup_seconds": options.warmup,
            "pypy_warmup_factor": PYPY_WARMUP_FACTOR,
            "connections": CONNECTIONS,
            "wrk_threads": THREADS,
            "server_core": 0,
            "wrk_core": 1,
        },
        "summary": summary,
        "startup_seconds": {
            name: {"median": median(times), "runs": times}
            for name, times in startups.items()
        },
        "targets": met,
        "notes": pypy.notes,
        "rounds": rounds,
        "elapsed_seconds": round(time.monotonic() - started, 1),
    }
    options.output.write_text(json.dumps(report, indent=2) + "\n")

    print()
    printTable(summary)
    print()
    for name, times in startups.items():
        print(f"start-up of {name}: median {median(times):.3f} s of {times}")
    print()
    for t in met:
        verdict = {True: "met", False: "MISSED", None: "not measured"}[t["met"]]
        print(
            f"target {t['target']} ({t['goal']}): {verdict}"
            + (f", {t['measured']}" if t["measured"] else "")
        )
    for note in pypy.notes:
        print(f"note: {note}")
    errors = {
        f"{name} {path}": row["errors"]
        for name, byPath in summary.items()
        for path, row in byPath.items()
        if row["errors"]
    }
    if errors:
        print(f"warning: wrk counted errors, which skew those rows: {errors}")
    try:
        chart(
            summary,
            options.output.with_suffix(".png"),
            f"{CONNECTIONS} connections, server on core 0, wrk on core 1; "
            f"{options.rounds} round(s) of {options.seconds} s",
        )
    except ImportError:
        print("bench: no chart: matplotlib is missing (the bench group has it)")
    print(f"bench: wrote {options.output} and its chart")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
