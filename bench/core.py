"""
The compiled core against pure Python: microseconds per call of the hot
functions of the modules mypyc compiles (C{clocksvc._compiled.COMPILED}),
each run compiled and from its source, side by side in one process.

Run it with the clocksvc to measure installed, from anywhere: C{python
bench/core.py} puts C{bench/}, not the checkout, on C{sys.path}, so that
the installed (compiled) package is the one imported; its sources, the
pure build, are loaded apart (C{pureModule}). Without a compiled build
both columns are pure. C{--markdown} prints the table of
docs/explanation/performance.md.

Each figure is the least, over 25 alternating rounds of the two builds, of
the mean time per call within a round: the least is the run that the rest
of a busy machine disturbed least, and alternating lets a drift of the
machine touch both builds alike.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable
from functools import partial
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

from clocksvc._compiled import CORE, pureModule
from clocksvc._http import Limits

#: A browser's request for /now, 11 fields.
BROWSER = (
    b"GET /now/Europe/Berlin HTTP/1.1\r\nHost: time.example.org\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 "
    b"Firefox/128.0\r\nAccept: application/json,text/html;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
    b"Connection: keep-alive\r\nSec-Fetch-Dest: empty\r\nSec-Fetch-Mode: cors\r\n"
    b"Sec-Fetch-Site: same-origin\r\nPriority: u=4"
)
#: curl's, 3 fields.
CURL = (
    b"GET /now HTTP/1.1\r\nHost: localhost:8880\r\nUser-Agent: curl/8.5.0\r\n"
    b"Accept: */*"
)
LIMITS = Limits()
ZONE = ZoneInfo("Europe/Berlin")
#: 2025-11-24T16:00:00.123456Z.
NOW = 1764000000.123456
FIELDS = [
    (b"Server", b"clocksvc"),
    (b"Content-Type", b"application/json"),
    (b"Content-Length", b"412"),
]

#: Each call measured: its name, its module, and the call, given the module.
CALLS: list[tuple[str, str, Callable[[Any], object]]] = [
    (
        "splitHead, a browser's head",
        "clocksvc._http._grammar",
        lambda g: g.splitHead(BROWSER + b"\r\n\r\n", LIMITS, False),
    ),
    (
        "parseHead, a browser's head (11 fields)",
        "clocksvc._http._grammar",
        lambda g: g.parseHead(BROWSER, LIMITS),
    ),
    (
        "parseHead, curl's head (3 fields)",
        "clocksvc._http._grammar",
        lambda g: g.parseHead(CURL, LIMITS),
    ),
    (
        "responseHead, 3 fields",
        "clocksvc._http._grammar",
        lambda g: g.responseHead(200, FIELDS),
    ),
    (
        "documentJSONAt (/now, the second's pieces kept)",
        "clocksvc._time._document",
        lambda d: d.documentJSONAt(NOW, ZONE, "127.0.0.1"),
    ),
    (
        "documentTextAt (/now.txt)",
        "clocksvc._time._document",
        lambda d: d.documentTextAt(NOW, ZONE, "127.0.0.1"),
    ),
    (
        "timeDocument + documentJSON (a new second)",
        "clocksvc._time._document",
        lambda d: d.documentJSON(d.timeDocument(NOW, ZONE, "127.0.0.1")),
    ),
    (
        "clockPageBody, in a zone (/)",
        "clocksvc._time._formats",
        lambda f: f.clockPageBody(NOW, ZONE),
    ),
    (
        "akamaiTime, ?iso&ms",
        "clocksvc._time._formats",
        lambda f: f.akamaiTime(NOW, {b"iso", b"ms"}),
    ),
    (
        "parseInstant, RFC 3339",
        "clocksvc._time._instants",
        lambda i: i.parseInstant("2024-03-31T02:30:00.123456Z"),
    ),
    (
        "parseInstant, Unix seconds",
        "clocksvc._time._instants",
        lambda i: i.parseInstant("1711848600.5"),
    ),
]


def perCall(
    call: Callable[[], object], other: Callable[[], object]
) -> tuple[float, float]:
    """
    @return: the microseconds per call of C{call} and of C{other}, measured
        in alternating rounds.
    """
    first, second = timeit.Timer(call), timeit.Timer(other)
    # About 20 ms a round.
    number = max(1, second.autorange()[0] // 10)
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(25):
        times[0].append(first.timeit(number) / number)
        times[1].append(second.timeit(number) / number)
    return min(times[0]) * 1e6, min(times[1]) * 1e6


def measure() -> list[tuple[str, float, float]]:
    """
    @return: each call's name, and its microseconds per call pure and as
        imported (compiled, where the build is).
    """
    imported: dict[str, ModuleType] = {}
    pure: dict[str, ModuleType] = {}
    rows = []
    for name, module, call in CALLS:
        if module not in imported:
            __import__(module)
            imported[module] = sys.modules[module]
            pure[module] = pureModule(module)
        a, b = imported[module], pure[module]
        if call(a) != call(b):
            raise SystemExit(f"{name}: the builds differ: {call(a)!r} {call(b)!r}")
        compiledTime, pureTime = perCall(partial(call, a), partial(call, b))
        rows.append((name, pureTime, compiledTime))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markdown", action="store_true", help="a Markdown table")
    options = parser.parse_args()
    rows = measure()
    if options.markdown:
        print("| call | pure µs | compiled µs | speed-up |")
        print("| --- | ---: | ---: | ---: |")
        for name, pureTime, compiledTime in rows:
            print(
                f"| {name} | {pureTime:.2f} | {compiledTime:.2f} "
                f"| {pureTime / compiledTime:.2f}× |"
            )
        return
    print(f"clocksvc's core as installed: {CORE}")
    print(f"{'call':50} {'pure µs':>8} {CORE + ' µs':>12} {'×':>6}")
    for name, pureTime, compiledTime in rows:
        print(
            f"{name:50} {pureTime:8.2f} {compiledTime:12.2f} "
            f"{pureTime / compiledTime:6.2f}"
        )


if __name__ == "__main__":
    main()
