"""
The comparison benchmark: every time endpoint of clocksvc, on CPython
compiled and pure and on PyPy, with its access log off and on, against the
bare pages of the Twisted Web lesson it grew from, aiohttp, uvicorn and
granian.

Run it with C{nox -s bench}, or C{python bench/run.py [--quick]} with wrk on
the PATH, the C{bench} dependency group and clocksvc installed (C{pip
install .}, which compiles its core where there is a C compiler). Each
server runs alone, pinned to core 0, with wrk (2 threads, 50 connections)
pinned to core 1: for each endpoint, a warm-up, then a measured run. The
servers take turns in rounds (every server in round 1, then every server
in round 2, ...), so that a machine that drifts moves them all alike; each
figure reported is the median over the rounds, and each ratio is taken
within a round before its median is.

clocksvc is the installed package, started from bench/, where the
checkout's C{clocksvc/} is not importable; each start checks that its
C{/healthz} says the core its row is named for. Compiled, it answers every
endpoint of L{ENDPOINTS} (the time endpoints, the C{Accept} header's two
choices on C{/}, and C{POST /timesync}, sent by wrk scripts; then the
conversions, transitions, an area's list, a document at an instant, and
errors, L{MORE_ENDPOINTS}) and L{MIGRATION_ENDPOINTS} (other services'
APIs and zones from coordinates, each held to C{/now}'s throughput, and so
each measured right after a run of C{/now} of its own: the machine's speed
drifts by more than 10 % in the minutes between the first endpoint and
the last) with C{--access-log off}, and L{ADDRESS_ENDPOINTS} (timeapi.io's
and time.now's zones of an address, held alike) on the same build started
with the tests' GeoIP database; and the targeted endpoints
(L{TARGETED}) with the log to a file (truncated between endpoints, so that
the disk does not fill)
and with the default, the log to standard output, here a pipe that a
thread of this script reads as fast as it comes. Pure
(C{CLOCKSVC_NO_EXTENSIONS=1}), it answers the targeted endpoints with the
log off, for 3 s each rather than 5, held to the previous run's pure rows.
An install without a compiled core gives pure rows in the compiled ones'
places, named so, with a note. The peers answer C{/} only, with a bare
page and no access log: the lesson's code, aiohttp, a bare ASGI app on
uvicorn (httptools, uvloop) and a bare RSGI app on granian (one worker),
each the yardstick of a target.

With C{--baseline REV}, an earlier commit of clocksvc is measured beside
them, from its own sources (C{git archive}), pure and log off, on
L{ENDPOINTS}, and the pure rows on those endpoints too: each row's speed
over that commit's on the same endpoint in the same rounds is the report's
"before", and a target (issue 24: every endpoint at least as fast as
before). Without it, "before" is the previous run's, over uvicorn's C{/}
in each run.

It reports, for each server and endpoint: requests per second and the
ratio to each peer's C{/}, wrk's p50 and p99 latency, the CPU time per
request of the server's processes (utime and stime from /proc over the
measured run), and their peak RSS (VmHWM); then the start-up time of
clocksvc compiled, pure and on PyPy, and each target of the performance
issues, met or missed and by how much (L{targets}), the last of them
against the previous run's figures, which are read from bench/results.json
before it is overwritten and kept in the new one. bench/results.json holds
everything, the raw rounds included; bench/results.png charts every
endpoint, compiled, pure and on PyPy, against the peers' C{/}; C{python
bench/report.py} prints the table (bench/report.py names the rows).

With pypy3 on the PATH (Debian's package pypy3), the lesson (on C{/}) and
clocksvc (on the targeted endpoints, log off) run on PyPy too, from a
virtualenv this script makes; a row that cannot run there says why in the
report's notes.

How long: a round is 131 runs: the 4 peers' C{/}; compiled, 31 endpoints
log off and 15 each with the log to a file and to a pipe; pure, 15; on
PyPy, the lesson's C{/} and clocksvc's 15. At the defaults (5 s measured
after 1 s of warm-up; pure 3 s; PyPy 6 s of warm-up for its JIT) that is
about 626 s of load a round, some 640 s with the starts: 3 rounds take
about 32 minutes, and C{nox -s bench} with the soak, C{--workers},
C{/stream}, the compiled core and SNTP about 40. C{--quick} is one round
of 2 s runs, about 6 minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _servers import (
    NO_EXTENSIONS,
    Clocksvc,
    PyPy,
    addPyPyOptions,
    addRoundOptions,
    coreOf,
    cpuSeconds,
    freePort,
    locateClocksvc,
    peakRSSMB,
    processTree,
    pypyFromOptions,
    running,
    testsModule,
)
from _servers import machine as describeMachine
from _servers import wrk as runWrk
from report import (
    AIOHTTP,
    BEFORE,
    CLOCKSVC,
    CLOCKSVC_PURE,
    CLOCKSVC_PYPY,
    COMPILED,
    FILE_LOG,
    GRANIAN,
    LESSON,
    LESSON_PYPY,
    OLD_NAMES,
    PIPE_LOG,
    PURE,
    UVICORN,
    chart,
    clocksvcName,
)
from report import PEERS as PEER_NAMES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = HERE / "peers"
CONNECTIONS = 50
THREADS = 2
#: PyPy's JIT compiles the hot paths during the first seconds of load; a
#: long-running service is past that, so PyPy rows get a longer warm-up:
#: 6 s an endpoint with the default 1 s.
PYPY_WARMUP_FACTOR = 6
#: The pure rows are held to the previous run's, with no target against a
#: peer: 3 s an endpoint with the default 5 s, to keep the run near 40
#: minutes.
PURE_SECONDS_FACTOR = 0.6
#: The access log may cost this much of an endpoint's speed at most.
LOG_ON_FLOOR = 0.75
#: The longest start-up to the first answer, in seconds, where the previous
#: run timed none to hold it to.
STARTUP_CEILING = 0.5
#: What C{POST /timesync} sends, as the npm timesync client does.
TIMESYNC_BODY = '{"jsonrpc":"2.0","id":1,"method":"timesync"}'

Result = dict[str, Any]
Rounds = list[dict[str, dict[str, Result]]]


@dataclass(frozen=True)
class Endpoint:
    """
    One request that wrk repeats.

    @ivar key: its name in the results, the table and the chart.
    @ivar path: its path and query.
    @ivar method: its method; anything but C{GET} needs a script.
    @ivar headers: the headers it adds to wrk's.
    @ivar body: its body, sent with the headers' content type.
    @ivar status: the status it is answered with: an error's, for the
        endpoints that measure how errors are answered.
    """

    key: str
    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    status: int = 200

    def script(self) -> str | None:
        """
        @return: the wrk Lua script that makes this request, or C{None} for a
            plain C{GET}, which wrk makes from the URL alone.
        """
        if self.method == "GET" and not self.headers and not self.body:
            return None
        lines = [f"wrk.method = {_lua(self.method)}"]
        lines += [f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in self.headers]
        if self.body:
            lines.append(f"wrk.body = {_lua(self.body)}")
        return "\n".join(lines) + "\n"


def _lua(text: str) -> str:
    """
    @return: C{text} as a Lua string literal.
    """
    # JSON's escapes of printable ASCII (\" and \\) are Lua's too; anything
    # else would need Lua's own.
    if not (text.isascii() and text.isprintable()):
        raise ValueError(f"not printable ASCII: {text!r}")
    return json.dumps(text)


#: The bare page, the one endpoint every server answers.
PAGE = Endpoint("/", "/")
#: A client's send time for C{?t1=}: the milliseconds when this run began,
#: as a page syncing its clock sends its own.
_T1 = round(time.time() * 1000)
#: Every endpoint of clocksvc the performance issue sets a target for, in
#: its order.
TARGETED = (
    PAGE,
    Endpoint("/now", "/now"),
    Endpoint("/now.json", "/now.json"),
    Endpoint("/now.txt", "/now.txt"),
    Endpoint("/now?tz=Europe/Berlin", "/now?tz=Europe/Berlin"),
    Endpoint("/api/timezone/Europe/Berlin", "/api/timezone/Europe/Berlin"),
    Endpoint("/api/timezone/Europe/Berlin.txt", "/api/timezone/Europe/Berlin.txt"),
    Endpoint("/?iso", "/?iso"),
    Endpoint("/?ms", "/?ms"),
    Endpoint("/?iso&ms", "/?iso&ms"),
    Endpoint("/now?t1=…", f"/now?t1={_T1}"),
    Endpoint("/.well-known/time", "/.well-known/time"),
    Endpoint(
        "/ Accept: application/json", "/", headers=(("Accept", "application/json"),)
    ),
    Endpoint("/ Accept: text/plain", "/", headers=(("Accept", "text/plain"),)),
    Endpoint(
        "POST /timesync",
        "/timesync",
        "POST",
        (("Content-Type", "application/json"),),
        TIMESYNC_BODY,
    ),
)
#: The endpoints that the quick path answers too since issue 24, besides
#: those: measured, and held to the previous run's figures, with no target
#: of their own. /api/ip is answered 501 by a server without --geoip-db, as
#: this one is; each error endpoint measures how an error is answered.
MORE_ENDPOINTS = (
    Endpoint(
        "/api/convert",
        "/api/convert?from=Europe/Berlin&to=America/New_York&time=2024-03-31T12:00:00",
    ),
    Endpoint(
        "/transitions",
        "/api/timezone/Europe/Berlin/transitions"
        "?from=2024-01-01T00:00:00Z&to=2025-01-01T00:00:00Z",
    ),
    Endpoint("/api/timezone/Europe", "/api/timezone/Europe"),
    Endpoint("/now?at=…", "/now?at=2024-03-31T01:30:00Z"),
    Endpoint("/api/ip (501)", "/api/ip", status=501),
    Endpoint("/nowhere (404)", "/nowhere", status=404),
    Endpoint("/now?tz=Nowhere/Atlantis (404)", "/now?tz=Nowhere/Atlantis", status=404),
    Endpoint("/now?t1=soon (400)", "/now?t1=soon", status=400),
)
ENDPOINTS = TARGETED + MORE_ENDPOINTS
#: The GET (and HEAD) time endpoints: all the targeted ones but the POST.
TIME_ENDPOINTS = tuple(e for e in TARGETED if e.method == "GET")
#: The endpoints of other services' APIs (timeapi.io's, time.now's) and of
#: zones from coordinates (issue 28), each to answer within 10 % of
#: C{/now}'s throughput; measured on clocksvc (CPython, log off) alone. The
#: address endpoints, which need a GeoIP database, are L{ADDRESS_ENDPOINTS}.
MIGRATION_ENDPOINTS = (
    Endpoint(
        "/api/Time/current/zone",
        "/api/Time/current/zone?timeZone=Europe/Berlin",
    ),
    Endpoint(
        "/api/Time/current/coordinate",
        "/api/Time/current/coordinate?latitude=52.52&longitude=13.405",
    ),
    Endpoint("/api/TimeZone/zone", "/api/TimeZone/zone?timeZone=Europe/Berlin"),
    Endpoint(
        "/api/TimeZone/coordinate",
        "/api/TimeZone/coordinate?latitude=52.52&longitude=13.405",
    ),
    Endpoint("/api/TimeZone/AvailableTimeZones", "/api/TimeZone/AvailableTimeZones"),
    Endpoint(
        "POST /api/Conversion/ConvertTimeZone",
        "/api/Conversion/ConvertTimeZone",
        "POST",
        (("Content-Type", "application/json"),),
        '{"fromTimeZone":"Europe/Amsterdam","dateTime":"2021-03-14 17:45:00",'
        '"toTimeZone":"America/Los_Angeles","dstAmbiguity":""}',
    ),
    Endpoint("/api/coordinates", "/api/coordinates?lat=52.52&lon=13.405"),
    Endpoint(
        "/developer/api/timezone/Europe/Berlin",
        "/developer/api/timezone/Europe/Berlin",
    ),
)
#: An address the tests' GeoIP database places (in Europe/London).
PLACED_ADDRESS = "81.2.69.142"
#: Issue 28's endpoints that find the zone of an address, held as
#: L{MIGRATION_ENDPOINTS} are; measured on a server of their own, the same
#: build started with the tests' GeoIP database (C{--geoip-db}), whose
#: figures go in its build's rows: on a server with a database, C{/api/ip}
#: from 127.0.0.1 would answer 404, not the 501 that row measures.
#: time.now's C{/developer/api/ip} places the client, which is 127.0.0.1
#: here; the same resource answers it with the address in its path.
ADDRESS_ENDPOINTS = (
    Endpoint(
        "/api/Time/current/ip",
        f"/api/Time/current/ip?ipAddress={PLACED_ADDRESS}",
    ),
    Endpoint("/api/TimeZone/ip", f"/api/TimeZone/ip?ipAddress={PLACED_ADDRESS}"),
    Endpoint("/developer/api/ip/ADDRESS", f"/developer/api/ip/{PLACED_ADDRESS}"),
)
#: The endpoints each held to the run of L{PAIRED_WITH} just before it.
PAIRED_ENDPOINTS = MIGRATION_ENDPOINTS + ADDRESS_ENDPOINTS
#: Every endpoint measured on some server.
MEASURED = ENDPOINTS + PAIRED_ENDPOINTS
#: The GeoIP database's file, in the scratch folder of a server that has one.
GEOIP_DB = "geoip.mmdb"
#: What each of L{PAIRED_ENDPOINTS} is held to, measured just before it.
PAIRED_WITH = next(e for e in TARGETED if e.key == "/now")
#: The measurements of the run of L{PAIRED_WITH} before an endpoint, kept
#: in the endpoint's result under these names.
PAIRED_KEYS = {
    "requests_per_second": "paired_now_requests_per_second",
    "cpu_us_per_request": "paired_now_cpu_us_per_request",
}


@dataclass(frozen=True)
class Server:
    """
    A server to load.

    @ivar name: its name in the results.
    @ivar argv: its command line, for a port and a scratch folder that
        lasts while it runs.
    @ivar endpoints: what it is measured on.
    @ivar requires: a module it needs, without which it is left out.
    @ivar logFile: the file, in the scratch folder, that it logs each
        request to; emptied before each endpoint.
    @ivar pipeStdout: whether its standard output goes to a pipe that is
        read, rather than to C{/dev/null}.
    @ivar core: for clocksvc on CPython, the core its C{/healthz} must say
        it runs, checked each time it starts.
    @ivar secondsFactor: its share of each measured run's seconds.
    @ivar geoip: whether it is a clocksvc started with the tests' GeoIP
        database: written to its scratch folder as L{GEOIP_DB} before it
        starts, and given to it with C{--geoip-db}.
    @ivar resultsAs: the server whose results its own go in with, if not
        its own name's.
    """

    name: str
    argv: Callable[[int, Path], list[str]]
    endpoints: tuple[Endpoint, ...] = (PAGE,)
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = ROOT
    warmupFactor: float = 1.0
    requires: str | None = None
    logFile: str | None = None
    pipeStdout: bool = False
    core: str | None = None
    secondsFactor: float = 1.0
    geoip: bool = False
    resultsAs: str | None = None

    def seconds(self, seconds: int) -> int:
        """
        @return: how long each of its measured runs is, given the run's
            seconds.
        """
        return max(1, round(seconds * self.secondsFactor))

    def warmup(self, warmup: int) -> int:
        """
        @return: how long each of its warm-ups is, given the run's.
        """
        return max(1, round(warmup * self.warmupFactor))


def builds(notes: list[str]) -> tuple[Clocksvc | None, Clocksvc]:
    """
    Find the installed clocksvc (L{locateClocksvc}) and which core it runs,
    compiled and forced pure; say which in C{notes}.

    @return: the compiled build, or C{None} if the install has none; and
        the pure one.
    """
    python = sys.executable
    compiled = locateClocksvc(python, pure=False)
    pure = locateClocksvc(python, pure=True)
    if compiled.core == COMPILED:
        notes.append(
            f"clocksvc (compiled) and (pure): {compiled.where}; pure with "
            "CLOCKSVC_NO_EXTENSIONS=1"
        )
        return compiled, pure
    notes.append(
        f"clocksvc: {compiled.where} runs pure Python (no compiled core: "
        "built without a C compiler, or not installed): its rows are "
        "named pure, and the compiled rows' targets are not measured"
    )
    return None, pure


def servers(
    pypy: PyPy,
    compiled: Clocksvc | None,
    pure: Clocksvc,
    notes: list[str],
    before: Path | None = None,
) -> list[Server]:
    """
    @param compiled: the installed clocksvc with its compiled core, if it
        has one.
    @param pure: the same, forced pure.
    @param before: the sources of an earlier commit (C{--baseline}), to
        measure beside them, pure and log off, on L{ENDPOINTS}; and the
        pure rows then on those endpoints too, so that each has its
        "before" in the same run.
    @return: the servers to compare; a peer whose package is missing is
        left out with a note.
    """
    python = sys.executable

    def clocksvc(
        interpreter: str, accessLog: str | None
    ) -> Callable[[int, Path], list[str]]:
        def argv(port: int, scratch: Path) -> list[str]:
            command = [
                interpreter,
                "-m",
                "clocksvc",
                "--listen",
                f"tcp:{port}:interface=127.0.0.1",
            ]
            if accessLog is not None:
                command += ["--access-log", accessLog.format(scratch=scratch)]
            return command

        return argv

    def peer(script: str) -> Callable[[int, Path], list[str]]:
        return lambda port, scratch: [python, str(PEERS / script), str(port)]

    def granian(port: int, scratch: Path) -> list[str]:
        # One worker process (granian's main process supervises it), HTTP/1.1
        # only, no WebSockets, on uvloop as uvicorn is; granian's access log
        # is off unless asked for. From bench/peers/, where rsgi_app is.
        return [
            python,
            "-m",
            "granian",
            "--interface",
            "rsgi",
            "--workers",
            "1",
            "--http",
            "1",
            "--no-ws",
            "--loop",
            "uvloop",
            "--log-level",
            "warning",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "rsgi_app:app",
        ]

    chosen = [
        Server(LESSON, peer("lesson.py")),
        Server(AIOHTTP, peer("aiohttp_app.py"), requires="aiohttp"),
        Server(UVICORN, peer("asgi_app.py"), requires="uvicorn"),
        Server(GRANIAN, granian, cwd=PEERS, requires="granian"),
    ]
    # The build that the targets name: compiled, where the install has its
    # compiled core; else pure, named so, with the compiled rows left out.
    main = compiled or pure
    chosen += [
        Server(
            clocksvcName(main.core),
            clocksvc(python, "off"),
            ENDPOINTS + MIGRATION_ENDPOINTS,
            env=main.env,
            cwd=main.cwd,
            core=main.core,
        ),
        Server(
            f"{clocksvcName(main.core)} with --geoip-db",
            clocksvc(python, "off"),
            ADDRESS_ENDPOINTS,
            env=main.env,
            cwd=main.cwd,
            core=main.core,
            requires="mmdb_writer",
            geoip=True,
            resultsAs=clocksvcName(main.core),
        ),
        # The access log's cost is held on the targeted endpoints.
        Server(
            clocksvcName(main.core, FILE_LOG),
            clocksvc(python, "{scratch}/access.log"),
            TARGETED,
            logFile="access.log",
            env=main.env,
            cwd=main.cwd,
            core=main.core,
        ),
        # The default configuration: no --access-log, so standard output.
        Server(
            clocksvcName(main.core, PIPE_LOG),
            clocksvc(python, None),
            TARGETED,
            pipeStdout=True,
            env=main.env,
            cwd=main.cwd,
            core=main.core,
        ),
    ]
    if compiled is not None:
        # Held to the previous run's pure rows, which were measured on
        # these endpoints from the checkout.
        chosen.append(
            Server(
                CLOCKSVC_PURE,
                clocksvc(python, "off"),
                TARGETED if before is None else ENDPOINTS,
                env=pure.env,
                cwd=pure.cwd,
                core=pure.core,
                secondsFactor=PURE_SECONDS_FACTOR,
            )
        )
    if before is not None:
        # From the earlier commit's sources, which `python -m clocksvc` finds
        # first from there; pure whatever that commit knew of a compiled core.
        chosen.append(
            Server(
                BEFORE,
                clocksvc(python, "off"),
                ENDPOINTS,
                env={NO_EXTENSIONS: "1"},
                cwd=before,
                secondsFactor=PURE_SECONDS_FACTOR,
            )
        )
    for server in chosen:
        if server.requires and importlib.util.find_spec(server.requires) is None:
            notes.append(
                f"{server.name}: not measured, {server.requires} is missing "
                "(the bench group has it)"
            )
    chosen = [
        s
        for s in chosen
        if not s.requires or importlib.util.find_spec(s.requires) is not None
    ]
    if pypy.python is not None:
        chosen.append(
            Server(
                LESSON_PYPY,
                lambda port, scratch: [
                    pypy.python or "",
                    str(PEERS / "lesson.py"),
                    str(port),
                ],
                warmupFactor=PYPY_WARMUP_FACTOR,
            )
        )
        if pypy.clocksvcEnv is not None:
            chosen.append(
                Server(
                    CLOCKSVC_PYPY,
                    clocksvc(pypy.python, "off"),
                    TARGETED,
                    env=pypy.clocksvcEnv,
                    cwd=HERE,
                    warmupFactor=PYPY_WARMUP_FACTOR,
                )
            )
    return chosen


def wrk(port: int, endpoint: Endpoint, seconds: int, script: Path | None) -> Result:
    """
    Load C{endpoint} with wrk, pinned to core 1, for C{seconds}.
    """
    return runWrk(
        f"http://127.0.0.1:{port}{endpoint.path}",
        seconds,
        threads=THREADS,
        connections=CONNECTIONS,
        options=("--latency", *(("-s", str(script)) if script else ())),
    )


def measureServer(
    server: Server, seconds: int, warmup: int, scripts: dict[str, Path]
) -> dict[str, Result]:
    """
    Start C{server}, and load each of its endpoints in turn: a warm-up, then
    the run that is measured.

    @param scripts: the wrk script of each endpoint that needs one, by key.
    @return: each endpoint's measurements, by key.
    """
    port = freePort()
    results = {}
    drained = [0]
    with tempfile.TemporaryDirectory(prefix="clocksvc-bench-") as tmp:
        scratch = Path(tmp)
        logFile = scratch / server.logFile if server.logFile else None
        argv = server.argv(port, scratch)
        if server.geoip:
            writeGeoIP(scratch / GEOIP_DB)
            argv += ["--geoip-db", str(scratch / GEOIP_DB)]
        with running(
            argv,
            port,
            server.env,
            server.cwd,
            pipeStdout=server.pipeStdout,
            drained=drained,
        ) as process:
            if server.core is not None:
                # The build it runs, as it says itself: a compiled row that
                # ran pure would be a lie in the table.
                core = coreOf(port)
                if core != server.core:
                    raise RuntimeError(
                        f"{server.name}: /healthz says core {core!r}, "
                        f"not {server.core!r}"
                    )

            def measured(endpoint: Endpoint) -> Result:
                script = scripts.get(endpoint.key)
                if logFile is not None and logFile.exists():
                    # Opened to append, the log goes on from 0: the disk does
                    # not fill, and its size is this run's.
                    os.truncate(logFile, 0)
                # granian's worker is a child process; the others have none.
                tree = processTree(process.pid)
                before = sum(cpuSeconds(pid) for pid in tree)
                drainedBefore = drained[0]
                result = wrk(port, endpoint, server.seconds(seconds), script)
                cpu = sum(cpuSeconds(pid) for pid in tree) - before
                requests = max(result["requests"], 1)
                result["cpu_us_per_request"] = round(cpu * 1e6 / requests, 1)
                result["peak_rss_mb"] = round(sum(peakRSSMB(pid) for pid in tree), 1)
                # What the log took per request: a check that the rows with
                # the log on did log (the writer may lag by a batch).
                if logFile is not None:
                    logged = logFile.stat().st_size if logFile.exists() else 0
                    result["log_bytes_per_request"] = round(logged / requests)
                elif server.pipeStdout:
                    logged = drained[0] - drainedBefore
                    result["log_bytes_per_request"] = round(logged / requests)
                return result

            for endpoint in server.endpoints:
                wrk(port, endpoint, server.warmup(warmup), scripts.get(endpoint.key))
                paired = None
                if endpoint in PAIRED_ENDPOINTS:
                    paired = measured(PAIRED_WITH)
                result = measured(endpoint)
                if paired is not None:
                    for key, name in PAIRED_KEYS.items():
                        result[name] = paired[key]
                results[endpoint.key] = result
    return results


def writeGeoIP(path: Path) -> None:
    """
    Write the tests' GeoIP database (C{tests/_geoip.py}, with mmdb-writer
    from the bench group) to C{path}.
    """
    testsModule("_geoip").writeDatabase(str(path))


def measureStartup(server: Server, times: int) -> list[float]:
    """
    Start C{server} C{times} times, timing each from just before the process
    is made to its first 200 for C{GET /} (polled every 5 ms).

    @return: the times, in seconds.
    """
    found = []
    for _ in range(times):
        port = freePort()
        with tempfile.TemporaryDirectory(prefix="clocksvc-bench-") as tmp:
            started = time.monotonic()
            with running(server.argv(port, Path(tmp)), port, server.env, server.cwd):
                # running() returns as soon as the first GET / is answered.
                found.append(round(time.monotonic() - started, 3))
    return found


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def perRoundRatio(
    rounds: Rounds,
    a: str,
    pathA: str,
    b: str,
    pathB: str = "/",
    key: str = "requests_per_second",
) -> float | None:
    """
    @return: the median over the rounds of C{a}'s C{key} on C{pathA} over
        C{b}'s on C{pathB}, each ratio taken within one round; C{None} if
        either was not measured.
    """
    ratios = [
        r[a][pathA][key] / r[b][pathB][key]
        for r in rounds
        if pathA in r.get(a, {}) and pathB in r.get(b, {}) and r[b][pathB][key]
    ]
    return round(median(ratios), 3) if ratios else None


def pairedRatio(rounds: Rounds, name: str, path: str) -> float | None:
    """
    @return: the median over the rounds of C{name}'s requests a second on
        C{path} over its own on L{PAIRED_WITH} in the run just before;
        C{None} if it was not measured so.
    """
    paired = PAIRED_KEYS["requests_per_second"]
    ratios = [
        result["requests_per_second"] / result[paired]
        for r in rounds
        if (result := r.get(name, {}).get(path)) and result.get(paired)
    ]
    return round(median(ratios), 3) if ratios else None


def summarise(rounds: Rounds, names: list[str]) -> dict[str, dict[str, Result]]:
    """
    @return: for each server and endpoint, the median of each measurement
        over the rounds, and the ratio of its requests per second to each
        peer's C{/} (C{ratio_to}).
    """
    summary: dict[str, dict[str, Result]] = {}
    for name in names:
        measured = [r[name] for r in rounds if name in r]
        if not measured:
            continue
        summary[name] = {}
        for path in measured[0]:
            runs = [m[path] for m in measured if path in m]
            row: Result = {
                key: round(median([run[key] for run in runs]), 3)
                for key in runs[0]
                if key not in ("errors", "requests")
            }
            row["errors"] = sum(run["errors"] for run in runs)
            row["ratio_to"] = {
                peer: perRoundRatio(rounds, name, path, peer)
                for peer in PEER_NAMES
                if peer in names
            }
            summary[name][path] = row
    return summary


def readPrevious(path: Path) -> Result | None:
    """
    Read the figures of the run before, from its results file, for the
    comparison with this one: each clocksvc row's requests per second and
    its ratio to uvicorn's C{/} in that run, which stands for how fast the
    machine was then; and clocksvc's start-up times. A file from before the
    compiled core names its rows as L{OLD_NAMES} maps them: pure.

    @return: the figures, when, and which commit; or C{None} if there is no
        such file.
    """
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    summary = report.get("summary", {})
    rounds: Rounds = report.get("rounds", [])
    figures: dict[str, dict[str, Result]] = {}
    for name, byPath in summary.items():
        if not name.startswith("clocksvc"):
            continue
        figures[OLD_NAMES.get(name, name)] = byName = {}
        for endpoint, row in byPath.items():
            ratio = perRoundRatio(rounds, name, endpoint, UVICORN)
            if ratio is None and UVICORN in summary and "/" in summary[UVICORN]:
                ratio = round(
                    row["requests_per_second"]
                    / summary[UVICORN]["/"]["requests_per_second"],
                    3,
                )
            byName[endpoint] = {
                "requests_per_second": row["requests_per_second"],
                "ratio_to_uvicorn": ratio,
            }
    machine = report.get("machine", {})
    return {
        "date": machine.get("date"),
        "clocksvc_commit": machine.get("clocksvc_commit"),
        "figures": figures,
        "startup_seconds": {
            OLD_NAMES.get(name, name): times["median"]
            for name, times in report.get("startup_seconds", {}).items()
        },
    }


def earlierName(previous: Result | None, name: str) -> str | None:
    """
    @return: the row of the previous run that row C{name} of this one is
        held to: its namesake; or, for a compiled row where the previous
        run measured none, the pure row of the same log, which was what the
        package ran before it had a compiled core. C{None} if neither.
    """
    figures = (previous or {}).get("figures", {})
    if name in figures:
        return name
    if name.startswith(f"clocksvc ({COMPILED}"):
        pure = name.replace(COMPILED, PURE, 1)
        if pure in figures:
            return pure
    return None


def annotate(
    rounds: Rounds, summary: dict[str, dict[str, Result]], previous: Result | None
) -> None:
    """
    Add to each clocksvc row of C{summary} what the report compares: a log
    row's ratio to the same build's row with the log off
    (C{ratio_to_log_off}), and each row's to the previous run's
    (C{previous}: that row's name and requests per second, and the ratio
    of this run's ratio to uvicorn's C{/} to that run's); and, with
    C{--baseline}, each row's to the earlier commit's on the same endpoint
    in this run (C{baseline}).
    """
    for name, byPath in summary.items():
        if not name.startswith("clocksvc"):
            continue
        logOff = next(
            (
                clocksvcName(core)
                for core in (COMPILED, PURE)
                for log in (FILE_LOG, PIPE_LOG)
                if name == clocksvcName(core, log)
            ),
            None,
        )
        then = earlierName(previous, name)
        for endpoint, row in byPath.items():
            if name != BEFORE and endpoint in summary.get(BEFORE, {}):
                row["baseline"] = perRoundRatio(
                    rounds, name, endpoint, BEFORE, endpoint
                )
            if logOff is not None:
                row["ratio_to_log_off"] = perRoundRatio(
                    rounds, name, endpoint, logOff, endpoint
                )
            before = (previous or {}).get("figures", {}).get(then, {}).get(endpoint)
            nowRatio = perRoundRatio(rounds, name, endpoint, UVICORN)
            if before and before["ratio_to_uvicorn"] and nowRatio is not None:
                row["previous"] = {
                    "name": then,
                    "requests_per_second": before["requests_per_second"],
                    "ratio_to_uvicorn": before["ratio_to_uvicorn"],
                    "ratio": round(nowRatio / before["ratio_to_uvicorn"], 3),
                }


def _percent(fraction: float) -> str:
    # A miss of 0.3 % is not "0 %".
    return f"{fraction * 100:.1f} %" if fraction < 0.01 else f"{fraction * 100:.0f} %"


def _verdict(
    group: str,
    what: str,
    goal: str,
    measured: str | None,
    share: float | None,
    stretch: bool = False,
    atMost: bool = False,
) -> Result:
    """
    @param share: the measured figure over the goal's.
    @param atMost: whether the goal is a ceiling (a latency, a time) rather
        than a floor (a speed).
    @return: a target, met or missed, and by how much: the measured figure
        below or above the goal, as a share of the goal.
    """
    met = by = None
    if share is not None:
        met = share <= 1 if atMost else share >= 1
        gap = abs(share - 1)
        if met:
            by = f"met, {_percent(gap)} to spare"
        else:
            by = (
                f"missed, {_percent(gap)} over"
                if atMost
                else f"missed by {_percent(gap)}"
            )
    return {
        "group": group,
        "target": what,
        "goal": goal,
        "measured": measured,
        "met": met,
        "by": by,
        "stretch": stretch,
    }


def targets(
    rounds: Rounds,
    summary: dict[str, dict[str, Result]],
    startups: dict[str, float],
    previous: Result | None,
) -> list[Result]:
    """
    The performance issue's targets, each with what was measured: met or
    missed, and by how much. Those of CPython are the compiled rows', as
    issue 25 says; where the install had no compiled core they are not
    measured, and the log's and issue 28's are the pure rows'.

    @param startups: the median start-up of each server timed, by name.
    """
    found: list[Result] = []
    # The build with every endpoint and the log rows.
    main = CLOCKSVC if CLOCKSVC in summary else CLOCKSVC_PURE
    core = COMPILED if main == CLOCKSVC else PURE

    def atLeast(
        group: str,
        a: str,
        pathA: str,
        b: str,
        pathB: str,
        goal: float,
        stretch: bool = False,
    ) -> None:
        ratio = perRoundRatio(rounds, a, pathA, b, pathB)
        found.append(
            _verdict(
                group,
                pathA + (" (stretch)" if stretch else ""),
                f">= {goal}x",
                None if ratio is None else f"{ratio:.2f}x",
                None if ratio is None else ratio / goal,
                stretch,
            )
        )

    group = (
        f"issue 28's endpoints within 10 % of /now's throughput ({core}, "
        "each over the run of /now just before it)"
    )
    for e in PAIRED_ENDPOINTS:
        ratio = pairedRatio(rounds, main, e.key)
        found.append(
            _verdict(
                group,
                e.key,
                ">= 0.9x",
                None if ratio is None else f"{ratio:.2f}x",
                None if ratio is None else ratio / 0.9,
            )
        )
    group = "every GET time endpoint on CPython, compiled, >= 1.0x uvicorn's bare page"
    for e in TIME_ENDPOINTS:
        atLeast(group, CLOCKSVC, e.key, UVICORN, "/", 1.0)
    atLeast(
        "POST /timesync on CPython, compiled, >= 2.5x the lesson's page",
        CLOCKSVC,
        "POST /timesync",
        LESSON,
        "/",
        2.5,
    )
    for log in (FILE_LOG, PIPE_LOG):
        group = f"{log} ({core}) >= {LOG_ON_FLOOR}x the same endpoint, log off" + (
            " (the default)" if log == PIPE_LOG else ""
        )
        for e in TARGETED:
            atLeast(group, clocksvcName(core, log), e.key, main, e.key, LOG_ON_FLOOR)
    group = "/ on CPython, compiled, >= 0.75x granian's bare page (stretch: 1.0x)"
    atLeast(group, CLOCKSVC, "/", GRANIAN, "/", 0.75)
    atLeast(group, CLOCKSVC, "/", GRANIAN, "/", 1.0, stretch=True)
    group = "every endpoint on PyPy >= 1.0x granian's bare page"
    for e in TARGETED:
        atLeast(group, CLOCKSVC_PYPY, e.key, GRANIAN, "/", 1.0)

    if BEFORE in summary:
        # Issue 24: every endpoint at least as fast as before, the earlier
        # commit measured in the same rounds, so that the machine's drift
        # between runs does not enter.
        for name in (CLOCKSVC, CLOCKSVC_PURE):
            group = f"{name} at least as fast as the earlier commit, same run"
            for e in ENDPOINTS:
                if e.key in summary.get(name, {}):
                    atLeast(group, name, e.key, BEFORE, e.key, 1.0)

    group = (
        f"p99 at {CONNECTIONS} connections on CPython, compiled, "
        "<= uvicorn's on its bare page"
    )
    theirs = summary.get(UVICORN, {}).get("/", {}).get("p99_ms")
    for e in TARGETED:
        ours = summary.get(CLOCKSVC, {}).get(e.key, {}).get("p99_ms")
        found.append(
            _verdict(
                group,
                e.key,
                f"<= {theirs} ms",
                None if ours is None else f"{ours} ms",
                ours / theirs if ours and theirs else None,
                atMost=True,
            )
        )

    # The machine's speed drifts between runs far more than between rounds:
    # each run's figure is taken over uvicorn's / in that run (annotate).
    # Pure is issue 25's "no slower than today"; every other row is issue
    # 24's "at least as fast as before", a compiled row held to the pure
    # one before it when the previous run had no compiled core.
    for name, byPath in summary.items():
        group = (
            "pure CPython no slower than the previous run's pure (over uvicorn's /)"
            if name == CLOCKSVC_PURE
            else "no slower than the previous run (over uvicorn's /, which moves alike)"
        )
        for endpoint, now in byPath.items():
            then = now.get("previous")
            if then is None:
                continue
            found.append(
                _verdict(
                    group,
                    f"{name} {endpoint}"
                    + ("" if then["name"] == name else f" (then {then['name']})"),
                    f">= {then['ratio_to_uvicorn']:.2f}x uvicorn "
                    f"({then['requests_per_second']:,.0f} req/s then)",
                    f"{then['ratio'] * then['ratio_to_uvicorn']:.2f}x "
                    f"({now['requests_per_second']:,.0f} req/s)",
                    then["ratio"],
                )
            )
    # A start-up is not measured against uvicorn: the machine's drift is in
    # it, and a quiet machine is the lead's to find.
    earlier = (previous or {}).get("startup_seconds", {})
    for name in (CLOCKSVC, CLOCKSVC_PURE):
        thenName = earlierName({"figures": earlier}, name)
        then = earlier.get(thenName) if thenName else None
        goal = then or STARTUP_CEILING
        took = startups.get(name)
        found.append(
            _verdict(
                "start-up to the first answer no slower than the previous run's"
                f" (else <= {STARTUP_CEILING} s)",
                name + (f" (then {thenName})" if thenName not in (None, name) else ""),
                f"<= {goal:.3f} s",
                None if took is None else f"{took:.3f} s",
                None if took is None else took / goal,
                atMost=True,
            )
        )
    return found


def machine(pypy: PyPy) -> Result:
    """
    @return: what the figures were measured on.
    """
    granian = None
    if importlib.util.find_spec("granian") is not None:
        from importlib.metadata import version

        granian = version("granian")
    return {
        **describeMachine(ROOT),
        "pypy": pypy.version,
        "pypy_twisted": pypy.twisted,
        "granian": granian,
    }


def _printColumns(rows: list[Sequence[str]], left: int) -> None:
    """
    Print C{rows} in columns, the first C{left} of them to the left.
    """
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print(
            "  ".join(
                cell.ljust(w) if i < left else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(r, widths, strict=True))
            ).rstrip()
        )


def printTable(summary: dict[str, dict[str, Result]]) -> None:
    """
    Print every endpoint's figures, server by server, each endpoint's
    requests per second also over each peer's C{/}.
    """
    peers = [p for p in PEER_NAMES if p in summary]
    headings = (
        "endpoint",
        "server",
        "req/s",
        *(f"x {p.split()[0]} /" for p in peers),
        "p50 ms",
        "p99 ms",
        "CPU us/req",
        "RSS MB",
        "log B/req",
    )
    rows: list[Sequence[str]] = [headings]
    for e in MEASURED:
        for name, byPath in summary.items():
            row = byPath.get(e.key)
            if row is None:
                continue
            ratios = [row["ratio_to"].get(p) for p in peers]
            rows.append(
                (
                    e.key,
                    name,
                    f"{row['requests_per_second']:,.0f}",
                    *("-" if r is None else f"{r:.2f}" for r in ratios),
                    f"{row['p50_ms']:.2f}",
                    f"{row['p99_ms']:.2f}",
                    f"{row['cpu_us_per_request']:.0f}",
                    f"{row['peak_rss_mb']:.1f}",
                    f"{row['log_bytes_per_request']:.0f}"
                    if "log_bytes_per_request" in row
                    else "-",
                )
            )
    _printColumns(rows, 2)


def printTargets(found: list[Result]) -> None:
    """
    Print each group of targets with how many are met, then each target.
    """
    verdicts = {True: "met", False: "MISSED", None: "not measured"}
    groups: dict[str, list[Result]] = {}
    for t in found:
        groups.setdefault(t["group"], []).append(t)
    for group, members in groups.items():
        required = [t for t in members if not t["stretch"]]
        met = sum(1 for t in required if t["met"])
        unmeasured = sum(1 for t in required if t["met"] is None)
        print(
            f"target: {group}: {met} of {len(required)} met"
            + (f", {unmeasured} not measured" if unmeasured else "")
        )
        if unmeasured == len(members):
            continue
        rows: list[Sequence[str]] = [
            (
                "  " + t["target"],
                t["goal"],
                t["measured"] or "-",
                t["by"] or verdicts[t["met"]],
            )
            for t in members
        ]
        _printColumns(rows, 4)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    addRoundOptions(parser)
    # 131 runs a round (see the module's docstring): 5 s each, after 1 s of
    # warm-up (6 s on PyPy), keeps 3 rounds near 32 minutes.
    parser.set_defaults(seconds=5, warmup=1)
    parser.add_argument("--starts", type=int, default=5, help="start-ups to time")
    addPyPyOptions(parser)
    parser.add_argument(
        "--only",
        action="append",
        metavar="TEXT",
        help="measure only the servers whose name holds TEXT (repeatable): "
        "a check of some rows; the targets of the others are not measured",
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="measure this earlier commit too, from its sources (git archive), "
        "pure and log off, on the endpoints it shares: each row's 'before' "
        "in the same run",
    )
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    parser.add_argument(
        "--previous",
        type=Path,
        default=HERE / "results.json",
        help="the run to compare with (read before --output is written)",
    )
    options = parser.parse_args(argv)
    if options.quick:
        # One round of short runs: a check that every server and endpoint
        # works, in a few minutes; its figures are rough.
        options.rounds, options.seconds, options.warmup, options.starts = 1, 2, 1, 3
    if shutil.which("wrk") is None:
        print("bench: wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    # Read now: --output may be the same file.
    previous = readPrevious(options.previous)

    pypy = pypyFromOptions(options)
    notes = list(pypy.notes)
    compiled, pure = builds(notes)
    with contextlib.ExitStack() as stack:
        before = None
        if options.baseline:
            before = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            commit = extract(options.baseline, before)
            notes.append(f"{BEFORE}: {options.baseline} ({commit}), pure, log off")
        return measure(options, previous, pypy, notes, compiled, pure, before)


def extract(rev: str, into: Path) -> str:
    """
    Write the tree of commit C{rev} of this checkout into C{into}.

    @return: the commit's short name.
    """
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return commit


def measure(
    options: argparse.Namespace,
    previous: Result | None,
    pypy: PyPy,
    notes: list[str],
    compiled: Clocksvc | None,
    pure: Clocksvc,
    before: Path | None,
) -> int:
    """
    Run the rounds, then report and write the results.

    @param before: the sources of C{--baseline}'s commit, if it was given.
    @return: the exit status.
    """
    chosen = servers(pypy, compiled, pure, notes, before)
    if options.only:
        chosen = [s for s in chosen if any(text in s.name for text in options.only)]
    # Before the rounds: the commit is the one measured from the start.
    machineInfo = machine(pypy)
    if options.baseline:
        machineInfo["baseline"] = options.baseline
    # The servers' names in the results: one whose figures go in with
    # another's (resultsAs) adds none.
    names = list(dict.fromkeys(s.resultsAs or s.name for s in chosen))
    runs = sum(len(s.endpoints) for s in chosen)
    perRound = sum(
        len(s.endpoints) * (s.seconds(options.seconds) + s.warmup(options.warmup))
        for s in chosen
    )
    print(
        f"bench: {options.rounds} round(s) of {runs} runs of {options.seconds} s, "
        f"about {options.rounds * perRound / 60:.0f} minutes",
        flush=True,
    )
    rounds: Rounds = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="clocksvc-bench-wrk-") as tmp:
        scripts: dict[str, Path] = {}
        for e in MEASURED:
            text = e.script()
            if text is not None:
                scripts[e.key] = Path(tmp) / f"{len(scripts)}.lua"
                scripts[e.key].write_text(text)
        for n in range(options.rounds):
            # Each round starts one server later, so none is always first.
            order = chosen[n % len(chosen) :] + chosen[: n % len(chosen)]
            results: dict[str, dict[str, Result]] = {}
            for server in order:
                print(
                    f"bench: round {n + 1}/{options.rounds}: {server.name}",
                    flush=True,
                )
                results.setdefault(server.resultsAs or server.name, {}).update(
                    measureServer(server, options.seconds, options.warmup, scripts)
                )
            rounds.append(results)

    byName = {s.name: s for s in chosen}
    startups = {
        name: measureStartup(byName[name], options.starts)
        for name in (CLOCKSVC, CLOCKSVC_PURE, LESSON, CLOCKSVC_PYPY)
        if name in byName
    }

    summary = summarise(rounds, names)
    annotate(rounds, summary, previous)
    met = targets(
        rounds,
        summary,
        {name: median(times) for name, times in startups.items()},
        previous,
    )
    report = {
        "machine": machineInfo,
        "settings": {
            "rounds": options.rounds,
            "seconds": options.seconds,
            "warmup_seconds": options.warmup,
            "pypy_warmup_factor": PYPY_WARMUP_FACTOR,
            "pure_seconds_factor": PURE_SECONDS_FACTOR,
            "connections": CONNECTIONS,
            "wrk_threads": THREADS,
            "server_core": 0,
            "wrk_core": 1,
            "endpoints": {
                e.key: {
                    "method": e.method,
                    "path": e.path,
                    "headers": dict(e.headers),
                    "body": e.body,
                }
                for e in MEASURED
            },
        },
        "summary": summary,
        "startup_seconds": {
            name: {"median": median(times), "runs": times}
            for name, times in startups.items()
        },
        "targets": met,
        "previous": previous,
        "notes": notes,
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
    printTargets(met)
    required = [t for t in met if not t["stretch"]]
    print(
        f"targets met: {sum(1 for t in required if t['met'])} of {len(required)}"
        f" ({sum(1 for t in required if t['met'] is None)} not measured)"
    )
    for note in notes:
        print(f"note: {note}")
    # The error endpoints' answers are all errors to wrk: not those.
    answeredWithErrors = {e.key for e in ENDPOINTS if e.status >= 400}
    errors = {
        f"{name} {path}": row["errors"]
        for name, byPath in summary.items()
        for path, row in byPath.items()
        if row["errors"] and path not in answeredWithErrors
    }
    if errors:
        print(f"warning: wrk counted errors, which skew those rows: {errors}")
    try:
        chart(report, options.output.with_suffix(".png"))
    except ImportError:
        print("bench: no chart: matplotlib is missing (the bench group has it)")
    print(f"bench: wrote {options.output} and its chart")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
