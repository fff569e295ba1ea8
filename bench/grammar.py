"""
The request-head parser's micro-benchmark: microseconds to find and read
one head (L{splitHead} then L{parseHead}, as the channel does for each
request), for three heads as clients send them.

Run it from the checkout with C{python bench/grammar.py} (or C{pypy3
bench/grammar.py} with Twisted importable): it measures
C{clocksvc/_http/_grammar.py} and, beside it, the regular-expression parser
it replaced, kept in C{tests/_oldgrammar.py} as the differential tests'
oracle, in the same process, so that the ratio holds on a busy machine; and
httptools, the C parser uvicorn uses, where it is installed (C{pip install
httptools}; it has no PyPy wheel). It prints a Markdown table of each
parser's best time per head (the least disturbed of several repeats), and
the ratio of the two of clocksvc.

Then the chunked body decoder: milliseconds of CPU to decode 512 KiB of
1-byte chunks arriving in one read, and the same bytes in 4 KiB reads. A
decoder that copies the rest of its read at each chunk costs the one read
several times the small ones (830 ms against 160 before that was fixed);
a linear one about the same.

The heads: wrk's (its request line and C{Host}, nothing more); curl's
(C{User-Agent} and C{Accept} besides); and a browser's, eleven fields as
Chrome sends them for a page. The same head comes again and again, as from
a load generator, so the caches of request lines and hosts are warm, as
they are on a server under load.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _servers import testsModule

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: Each head, as received: the request line, the field lines, the empty line.
HEADS = {
    "wrk": b"GET / HTTP/1.1\r\nHost: localhost:8880\r\n\r\n",
    "curl": (
        b"GET /now HTTP/1.1\r\nHost: localhost:8880\r\n"
        b"User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"
    ),
    "browser (11 fields)": (
        b"GET /now HTTP/1.1\r\n"
        b"Host: localhost:8880\r\n"
        b"Connection: keep-alive\r\n"
        b'sec-ch-ua: "Chromium";v="124", "Google Chrome";v="124", '
        b'"Not-A.Brand";v="99"\r\n'
        b"sec-ch-ua-mobile: ?0\r\n"
        b'sec-ch-ua-platform: "Linux"\r\n'
        b"Upgrade-Insecure-Requests: 1\r\n"
        b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
        b"(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n"
        b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,"
        b"image/avif,image/webp,image/apng,*/*;q=0.8,"
        b"application/signed-exchange;v=b3;q=0.7\r\n"
        b"Sec-Fetch-Site: none\r\n"
        b"Accept-Encoding: gzip, deflate, br, zstd\r\n"
        b"Accept-Language: en-US,en;q=0.9\r\n"
        b"\r\n"
    ),
}


def parser(module: Any, limits: object) -> Callable[[bytes], object]:
    """
    @return: a function that finds and reads a head as the channel does,
        with C{module}'s C{splitHead} and C{parseHead}.
    """
    splitHead = module.splitHead
    parseHead = module.parseHead

    def parse(buffer: bytes) -> object:
        found = splitHead(buffer, limits, False)
        return parseHead(found[0], limits)

    return parse


class _Collected:
    """
    What httptools' parser says of a request, kept as uvicorn keeps it: the
    target and the header fields.
    """

    def __init__(self) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []

    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))


def httptoolsParser() -> Callable[[bytes], object] | None:
    """
    @return: a function that reads a head with httptools (llhttp, in C), as
        uvicorn does: one parser for the connection, fed each request; or
        L{None} if httptools is not installed.
    """
    try:
        httptools = importlib.import_module("httptools")
    except ImportError:
        return None
    collected = _Collected()
    reader = httptools.HttpRequestParser(collected)

    def parse(buffer: bytes) -> object:
        reader.feed_data(buffer)
        return reader.get_method(), collected.url, collected.headers

    return parse


#: How many copies of a head each run cycles through.
COPIES = 64


def copies(buffer: bytes) -> list[bytes]:
    """
    @return: L{COPIES} copies of C{buffer}, each its own object: the same
        bytes object in every call would let PyPy's JIT take what it
        computes of them (a C{find}, a C{startswith}) for a constant, and
        compute it once for the whole loop.
    """
    return [bytes(bytearray(buffer)) for _ in range(COPIES)]


def run(parse: Callable[[bytes], object], buffers: list[bytes], rounds: int) -> float:
    """
    @return: the CPU seconds that C{rounds} rounds of C{parse} over each of
        C{buffers} take.
    """
    start = time.process_time()
    for _ in range(rounds):
        for buffer in buffers:
            parse(buffer)
    return time.process_time() - start


def best(parse: Callable[[bytes], object], buffer: bytes, repeats: int) -> float:
    """
    @return: the least microseconds per call of C{parse(buffer)} over
        C{repeats} runs of about a tenth of a second each, in this process's
        CPU time: on a machine that other work shares, the time the process
        was not running is left out.
    """
    buffers = copies(buffer)
    rounds = 1
    while (elapsed := run(parse, buffers, rounds)) < 0.1:
        rounds *= 2
    times = [elapsed] + [run(parse, buffers, rounds) for _ in range(repeats - 1)]
    return min(times) / (rounds * len(buffers)) * 1e6


def warm(parse: Callable[[bytes], object], buffer: bytes, seconds: float) -> None:
    """
    Call C{parse} on C{buffer} for C{seconds}: PyPy's JIT compiles the loop
    during the first of them.
    """
    buffers = copies(buffer)
    end = time.process_time() + seconds
    while time.process_time() < end:
        run(parse, buffers, 10)


def oldParser() -> Any:
    """
    @return: C{tests/_oldgrammar.py}, loaded by its path: the C{tests}
        package would import hypothesis, which the benchmark does not need.
    """
    return testsModule("_oldgrammar")


def main(argv: list[str]) -> int:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("--repeats", type=int, default=7)
    arguments.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds of warm-up per parser and head (default: 3 on PyPy, 0.2)",
    )
    options = arguments.parse_args(argv)
    pypy = platform.python_implementation() == "PyPy"
    warmup = options.warmup if options.warmup is not None else 3.0 if pypy else 0.2
    # The checkout's clocksvc, not an installed one.
    sys.path.insert(0, str(ROOT))
    limits = importlib.import_module("clocksvc._http._limits").Limits()
    parsers = {
        "regex (before), µs": oldParser(),
        "bytes (now), µs": importlib.import_module("clocksvc._http._grammar"),
    }
    reads = {name: parser(module, limits) for name, module in parsers.items()}
    # Beside them, where it is installed, the C parser uvicorn uses.
    httptools = httptoolsParser()
    columns = [*reads, "ratio"]
    if httptools is not None:
        columns.append("httptools, µs")
    print(f"{platform.python_implementation()} {platform.python_version()}")
    print()
    print("| head | " + " | ".join(columns) + " |")
    print("| --- |" + " ---: |" * len(columns))
    for label, buffer in HEADS.items():
        figures = []
        for parse in reads.values():
            warm(parse, buffer, warmup)
            figures.append(best(parse, buffer, options.repeats))
        cells = [f"{figure:.2f}" for figure in figures]
        cells.append(f"{figures[0] / figures[1]:.1f}\N{MULTIPLICATION SIGN}")
        if httptools is not None:
            warm(httptools, buffer, warmup)
            cells.append(f"{best(httptools, buffer, options.repeats):.2f}")
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)
    print()
    chunked(importlib.import_module("clocksvc._http._grammar"), options.repeats)
    return 0


def chunked(grammar: Any, repeats: int) -> None:
    """
    Print the chunked decoder's CPU time for one read of tiny chunks and
    for the same bytes in 4 KiB reads, the best of C{repeats} each.
    """
    data = b"1\r\nX\r\n" * (512 * 1024 // 6)

    def cost(size: int) -> float:
        decoder = grammar.ChunkedDecoder(
            lambda data: None,
            lambda rest: None,
            lambda status: None,
            len(data),
            8192,
            100,
        )
        started = time.process_time()
        for start in range(0, len(data), size):
            decoder.dataReceived(data[start : start + size])
        return time.process_time() - started

    whole = min(cost(len(data)) for _ in range(repeats)) * 1000
    pieces = min(cost(4096) for _ in range(repeats)) * 1000
    print("| 512 KiB of 1-byte chunks | one read, ms | 4 KiB reads, ms | ratio |")
    print("| --- | ---: | ---: | ---: |")
    ratio = f"{whole / pieces:.1f}\N{MULTIPLICATION SIGN}"
    print(f"| chunked body | {whole:.0f} | {pieces:.0f} | {ratio} |")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
