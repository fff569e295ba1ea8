"""
The benchmark's figures as Markdown, from bench/results.json (written by
bench/run.py): the compact table, and the docs' full report.

C{python bench/report.py --markdown} prints the compact table; the docs'
performance page shows the full report (C{--full}). tests/test_examples.py
checks that the README's summary quotes what this prints from the committed
results, so that the two cannot drift.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["load", "markdown", "verdicts"]

HERE = Path(__file__).resolve().parent

#: bench/run.py's names of its servers.
CLOCKSVC = "clocksvc"
PEERS = ("lesson", "aiohttp", "uvicorn (ASGI)", "granian (RSGI)")
#: clocksvc's other rows, each a column of the compact table.
VARIANTS = (
    ("clocksvc (log to a file)", "log to a file"),
    ("clocksvc (log to a pipe)", "log to a pipe"),
    ("clocksvc (PyPy)", "on PyPy"),
)


def load(path: Path) -> dict[str, Any]:
    """
    @return: the results that bench/run.py wrote to C{path}.
    """
    results: dict[str, Any] = json.loads(path.read_text())
    return results


def _rate(row: dict[str, Any] | None) -> str:
    return "–" if row is None else f"{row['requests_per_second']:,.0f}"


def _ratio(row: dict[str, Any] | None, peer: str) -> str:
    if row is None or row.get("ratio_to", {}).get(peer) is None:
        return "–"
    return f"{row['ratio_to'][peer]:.2f}×"


def machine(results: dict[str, Any]) -> str:
    """
    @return: one sentence saying where and how the figures were measured.
    """
    m, s = results["machine"], results["settings"]
    return (
        f"Measured {m['date'][:10]} at commit {m['clocksvc_commit']} on "
        f"{m['nproc']} cores ({m['cpu_model']}, Linux {m['kernel']}), "
        f"CPython {m['python']} with Twisted {m['twisted']}"
        + (f", {m['pypy']} with Twisted {m['pypy_twisted']}" if m.get("pypy") else "")
        + f"; {s['rounds']} round{'s' if s['rounds'] != 1 else ''} of "
        f"{s['seconds']} s an endpoint, medians; "
        f"the server on one core, wrk ({s['connections']} connections) on the "
        "other."
    )


def compact(results: dict[str, Any]) -> str:
    """
    @return: the compact table: every endpoint of clocksvc, its requests per
        second with the log off and its ratio to each peer's bare page, its
        p99, its requests per second with the log to a file, to a pipe and
        on PyPy; then each peer's bare page.
    """
    summary = results["summary"]
    ours = summary[CLOCKSVC]
    shortNames = [peer.split(" ")[0] for peer in PEERS]
    lines = [
        "| endpoint | req/s | "
        + " | ".join(f"× {name} `/`" for name in shortNames)
        + " | p99 ms | "
        + " | ".join(label for _, label in VARIANTS)
        + " |",
        "| --- | ---: | "
        + " | ".join("---:" for _ in PEERS)
        + " | ---: | "
        + " | ".join("---:" for _ in VARIANTS)
        + " |",
    ]
    for endpoint, row in ours.items():
        lines.append(
            f"| `{endpoint}` | {_rate(row)} | "
            + " | ".join(_ratio(row, peer) for peer in PEERS)
            + f" | {row['p99_ms']:.1f} | "
            + " | ".join(
                _rate(summary.get(name, {}).get(endpoint)) for name, _ in VARIANTS
            )
            + " |"
        )
    for peer in PEERS:
        row = summary.get(peer, {}).get("/")
        if row is not None:
            lines.append(
                f"| {peer}, bare `/` | {_rate(row)} | "
                + " | ".join(_ratio(row, other) for other in PEERS)
                + f" | {row['p99_ms']:.1f} | "
                + " | ".join("" for _ in VARIANTS)
                + " |"
            )
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


def markdown(results: dict[str, Any], full: bool = False) -> str:
    """
    @param full: with every target too, as the docs show them.
    @return: the report as Markdown: the compact table, where it was
        measured, and the targets met and missed.
    """
    text = compact(results) + "\n" + machine(results) + "\n\n" + verdicts(results)
    if full:
        text += "\n" + targets(results)
    return text


def main(argv: list[str]) -> int:
    """
    Print the report.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--markdown", action="store_true", help="the compact table (the default)"
    )
    parser.add_argument("--full", action="store_true", help="with every target too")
    parser.add_argument("--results", type=Path, default=HERE / "results.json")
    options = parser.parse_args(argv)
    sys.stdout.write(markdown(load(options.results), options.full))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
