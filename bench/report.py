"""
The benchmark's figures as Markdown and as a chart, from bench/results.json
(written by bench/run.py): the per-endpoint table, the targets, and
bench/results.png.

C{python bench/report.py --markdown} prints the per-endpoint table, where
it was measured and the targets' verdicts; C{--full} adds every target, as
the docs' performance page shows them (its C{clocksvc-bench} directive
calls L{markdown} on the committed results when the docs are built, so the
page follows the file); C{--chart} draws bench/results.png again from the
file. tests/test_examples.py checks that the README's summary quotes what
this prints from the committed results, so that the two cannot drift.

The row names are decided here, and bench/run.py takes them from here: a
results file from before the compiled core, whose clocksvc rows ran pure
from the checkout as C{clocksvc}, C{clocksvc (log to a file)} and
C{clocksvc (log to a pipe)}, is read with those rows as pure
(L{OLD_NAMES}).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "OLD_NAMES",
    "chart",
    "clocksvcName",
    "compact",
    "load",
    "markdown",
    "verdicts",
]

HERE = Path(__file__).resolve().parent

#: bench/run.py's names of its peers, each answering its bare page, C{/}.
LESSON = "lesson"
AIOHTTP = "aiohttp"
UVICORN = "uvicorn (ASGI)"
GRANIAN = "granian (RSGI)"
PEERS = (LESSON, AIOHTTP, UVICORN, GRANIAN)
LESSON_PYPY = "lesson (PyPy)"
#: What a clocksvc row runs on CPython, and where its access log goes.
COMPILED = "compiled"
PURE = "pure"
FILE_LOG = "log to a file"
PIPE_LOG = "log to a pipe"


def clocksvcName(core: str, log: str | None = None) -> str:
    """
    @param core: what the row runs on CPython: C{"compiled"} or C{"pure"}.
    @param log: where its access log goes, if anywhere.
    @return: the name of a clocksvc row on CPython.
    """
    return f"clocksvc ({core}{', ' + log if log else ''})"


#: The installed package with its compiled core: log off, to a file, and to
#: standard output, a pipe (the default).
CLOCKSVC = clocksvcName(COMPILED)
CLOCKSVC_FILE = clocksvcName(COMPILED, FILE_LOG)
CLOCKSVC_PIPE = clocksvcName(COMPILED, PIPE_LOG)
#: The same package, pure (C{CLOCKSVC_NO_EXTENSIONS=1}), log off.
CLOCKSVC_PURE = clocksvcName(PURE)
CLOCKSVC_PYPY = "clocksvc (PyPy)"
#: An earlier commit of clocksvc (C{--baseline REV}), from its sources,
#: pure, log off: "before", measured in the same run.
BEFORE = "clocksvc (before)"
#: The rows of clocksvc with the log off, one per interpreter and build:
#: the table's columns and the chart's bars.
LOG_OFF = (CLOCKSVC, CLOCKSVC_PURE, CLOCKSVC_PYPY)
#: What results files from before the compiled core called the rows:
#: clocksvc ran from the checkout, so pure.
OLD_NAMES = {
    "clocksvc": CLOCKSVC_PURE,
    "clocksvc (log to a file)": clocksvcName(PURE, FILE_LOG),
    "clocksvc (log to a pipe)": clocksvcName(PURE, PIPE_LOG),
}


def load(path: Path) -> dict[str, Any]:
    """
    @return: the results that bench/run.py wrote to C{path}, with the rows
        of an older file renamed (L{OLD_NAMES}).
    """
    results: dict[str, Any] = json.loads(path.read_text())
    results["summary"] = {
        OLD_NAMES.get(name, name): rows for name, rows in results["summary"].items()
    }
    return results


def _rate(row: dict[str, Any] | None) -> str:
    return "–" if row is None else f"{row['requests_per_second']:,.0f}"


def _ratio(row: dict[str, Any] | None, peer: str) -> str:
    if row is None or row.get("ratio_to", {}).get(peer) is None:
        return "–"
    return f"{row['ratio_to'][peer]:.2f}×"


def _times(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def machine(results: dict[str, Any]) -> str:
    """
    @return: one sentence saying where and how the figures were measured.
    """
    m, s = results["machine"], results["settings"]
    pure = s.get("pure_seconds_factor")
    return (
        f"Measured {m['date'][:10]} at commit {m['clocksvc_commit']} on "
        f"{m['nproc']} cores ({m['cpu_model']}, Linux {m['kernel']}), "
        f"CPython {m['python']} with Twisted {m['twisted']}"
        + (f", {m['pypy']} with Twisted {m['pypy_twisted']}" if m.get("pypy") else "")
        + f"; {s['rounds']} round{'s' if s['rounds'] != 1 else ''} of "
        f"{s['seconds']} s an endpoint"
        + (
            f" ({max(1, round(s['seconds'] * pure))} s for pure)"
            if pure is not None
            else ""
        )
        + f", medians; the server on one core, wrk ({s['connections']} "
        "connections) on the other."
    )


def _logOnOverOff(summary: dict[str, Any], core: str, endpoint: str) -> str:
    """
    @return: the default access log's (to a pipe) requests per second over
        the log off's, per round where the file says, for build C{core}.
    """
    on = summary.get(clocksvcName(core, PIPE_LOG), {}).get(endpoint)
    off = summary.get(clocksvcName(core), {}).get(endpoint)
    if on is None or off is None:
        return "–"
    ratio = on.get("ratio_to_log_off")
    if ratio is None:
        ratio = on["requests_per_second"] / off["requests_per_second"]
    return _times(ratio)


def _previous(row: dict[str, Any] | None, name: str) -> str:
    """
    @return: row C{name}'s speed over the earlier commit's measured in the
        same run (C{--baseline}), where there is one; else its ratio to
        uvicorn's C{/} over the previous run's, saying so when the previous
        run's row was another build's (pure, before the compiled core).
    """
    if row is not None and row.get("baseline") is not None:
        return _times(row["baseline"])
    if row is None or row.get("previous") is None:
        return "–"
    then = row["previous"]
    return _times(then["ratio"]) + ("" if then["name"] == name else " (pure then)")


def compact(results: dict[str, Any]) -> str:
    """
    @return: the per-endpoint table: for each endpoint of clocksvc, its
        requests per second on CPython compiled (with its ratio to each
        yardstick's bare page, and its p99), on CPython pure and on PyPy
        (each with its ratio to uvicorn's bare page; PyPy's to granian's
        too), the default access log's cost (log on over log off), and
        each build's speed over the earlier commit's in the same run
        (C{--baseline}), or else over the previous run's (each over
        uvicorn's C{/} in its run); then each peer's bare page.
    """
    summary = results["summary"]
    compiled = summary.get(CLOCKSVC, {})
    pure = summary.get(CLOCKSVC_PURE, {})
    pypy = summary.get(CLOCKSVC_PYPY, {})
    # The log rows are the compiled build's, or the pure one's where the
    # install had no compiled core.
    logCore = COMPILED if compiled else PURE
    lines = [
        "| endpoint | compiled req/s | × lesson `/` | × uvicorn `/` "
        "| × granian `/` | p99 ms | pure req/s | × uvicorn `/` | PyPy req/s "
        "| × uvicorn `/` | × granian `/` | log on ÷ off "
        "| compiled ÷ before | pure ÷ before |",
        "| --- |" + " ---: |" * 13,
    ]
    endpoints = list(results["settings"]["endpoints"])
    for endpoint in endpoints:
        rows = [byPath.get(endpoint) for byPath in (compiled, pure, pypy)]
        if not any(rows):
            continue
        c, p, y = rows
        lines.append(
            f"| `{endpoint}` | {_rate(c)} | {_ratio(c, LESSON)} "
            f"| {_ratio(c, UVICORN)} | {_ratio(c, GRANIAN)} "
            f"| {'–' if c is None else format(c['p99_ms'], '.1f')} "
            f"| {_rate(p)} | {_ratio(p, UVICORN)} "
            f"| {_rate(y)} | {_ratio(y, UVICORN)} | {_ratio(y, GRANIAN)} "
            f"| {_logOnOverOff(summary, logCore, endpoint)} "
            f"| {_previous(c, CLOCKSVC)} | {_previous(p, CLOCKSVC_PURE)} |"
        )
    for peer in (*PEERS, LESSON_PYPY):
        row = summary.get(peer, {}).get("/")
        if row is None:
            continue
        if peer == LESSON_PYPY:
            cells = ["", "", "", "", "", "", "", _rate(row)]
            cells += [_ratio(row, UVICORN), _ratio(row, GRANIAN)]
        else:
            cells = [_rate(row), _ratio(row, LESSON), _ratio(row, UVICORN)]
            cells += [_ratio(row, GRANIAN), f"{row['p99_ms']:.1f}"]
            cells += ["", "", "", "", ""]
        lines.append(f"| {peer}, bare `/` | " + " | ".join(cells) + " | | | |")
    return "\n".join(lines) + "\n"


def verdicts(results: dict[str, Any]) -> str:
    """
    @return: each group of targets of the performance issue, with how many
        of its targets were met, and each missed one by how much.
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for t in results["targets"]:
        groups.setdefault(t["group"], []).append(t)
    lines = []
    for group, members in groups.items():
        measured = [t for t in members if t["met"] is not None]
        met = sum(1 for t in measured if t["met"])
        missed = [
            f"`{t['target']}` {t['measured']}, "
            f"{t['by'].removeprefix('missed').strip(' ,')}"
            for t in measured
            if not t["met"]
        ]
        line = f"- {group}: {met} of {len(measured)} met"
        if len(measured) < len(members):
            line += f" ({len(members) - len(measured)} not measured)"
        if missed:
            line += "; missed: " + "; ".join(missed)
        lines.append(line + ".")
    return "\n".join(lines) + "\n"


def targets(results: dict[str, Any]) -> str:
    """
    @return: a table of every target of the performance issue: met or
        missed, and by how much.
    """
    verdict = {True: "met", False: "**missed**", None: "not measured"}
    lines = ["| target | goal | measured | verdict |", "| --- | --- | --- | --- |"]
    group = None
    for t in results["targets"]:
        if t["group"] != group:
            group = t["group"]
            lines.append(f"| **{group}** | | | |")
        lines.append(
            f"| {t['target']}{' (stretch)' if t['stretch'] else ''} | {t['goal']} | "
            f"{t['measured'] or '–'} | {t['by'] or verdict[t['met']]} |"
        )
    return "\n".join(lines) + "\n"


def startups(results: dict[str, Any]) -> str:
    """
    @return: each server's start-up to its first answer, one sentence.
    """
    times = {
        OLD_NAMES.get(name, name): found["median"]
        for name, found in results.get("startup_seconds", {}).items()
    }
    if not times:
        return ""
    return (
        "Start-up to the first answer (median): "
        + "; ".join(f"{name} {seconds:.3f} s" for name, seconds in times.items())
        + ".\n"
    )


def markdown(results: dict[str, Any], full: bool = False) -> str:
    """
    @param full: with every target too, as the docs show them.
    @return: the report as Markdown: the per-endpoint table, where it was
        measured, the start-ups, and the targets met and missed.
    """
    text = (
        compact(results)
        + "\n"
        + machine(results)
        + "\n\n"
        + startups(results)
        + "\n"
        + verdicts(results)
    )
    if full:
        text += "\n" + targets(results)
    return text


def chart(results: dict[str, Any], path: Path) -> None:
    """
    Draw C{path}: horizontal bars of requests per second, a group per
    endpoint with a bar for each of clocksvc's builds with the log off
    (CPython compiled, CPython pure, PyPy), and each peer's C{/} as a line
    across them all: the lines are the targets' yardsticks.
    """
    import matplotlib  # only for the chart

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary, settings = results["summary"], results["settings"]
    names = [n for n in LOG_OFF if n in summary]
    keys = [k for k in settings["endpoints"] if any(k in summary[n] for n in names)]
    if not names or not keys:
        return
    height = 0.8 / len(names)
    figure, axes = plt.subplots(figsize=(11, 1.0 + 0.6 * len(keys)))
    for i, name in enumerate(names):
        ys = [g + (i - (len(names) - 1) / 2) * height for g in range(len(keys))]
        widths = [
            summary[name].get(k, {}).get("requests_per_second", 0.0) for k in keys
        ]
        bars = axes.barh(ys, widths, height * 0.95, label=name)
        axes.bar_label(
            bars,
            labels=[f"{w:,.0f}" if w else "" for w in widths],
            fontsize=6,
            padding=2,
        )
    styles = {LESSON: ":", AIOHTTP: "-.", UVICORN: "--", GRANIAN: "-"}
    for peer in PEERS:
        if peer in summary:
            axes.axvline(
                summary[peer]["/"]["requests_per_second"],
                color="black",
                linestyle=styles[peer],
                linewidth=1,
                label=f"{peer}, its bare /",
            )
    # Room for the last bar's label and the rightmost line.
    axes.set_xlim(0, axes.get_xlim()[1] * 1.08)
    axes.set_yticks(range(len(keys)), keys, fontsize=8)
    # The first endpoint at the top, as in the table.
    axes.invert_yaxis()
    axes.set_xlabel("requests per second (median over rounds), access log off")
    axes.set_title(
        f"{settings['connections']} connections, server on core 0, wrk on core "
        f"1; {settings['rounds']} round(s) of {settings['seconds']} s per endpoint",
        fontsize=10,
    )
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str]) -> int:
    """
    Print the report, or draw the chart.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--markdown", action="store_true", help="the per-endpoint table (the default)"
    )
    parser.add_argument("--full", action="store_true", help="with every target too")
    parser.add_argument(
        "--chart", type=Path, metavar="PNG", help="draw the chart to PNG instead"
    )
    parser.add_argument("--results", type=Path, default=HERE / "results.json")
    options = parser.parse_args(argv)
    results = load(options.results)
    if options.chart is not None:
        chart(results, options.chart)
        return 0
    sys.stdout.write(markdown(results, options.full))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
