"""
Starting, probing and measuring the servers that the benchmarks load: what
bench/run.py and bench/stream.py share.

A server runs pinned to core 0 and the load generator to core 1, so that the
two do not take turns on one core; every server is a child process that is
killed when its C{with} block ends, however it ends.

Which clocksvc runs is decided here for every benchmark: on CPython the
installed package, started from bench/, where the checkout's C{clocksvc/}
is not importable (L{locateClocksvc}), compiled or pure as asked and as
its C{/healthz} confirms (L{coreOf}); on PyPy, from a virtualenv that
L{setUpPyPy} makes and the benchmarks share.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = [
    "CLOCK_TICKS",
    "Clocksvc",
    "PyPy",
    "addPyPyOptions",
    "addRoundOptions",
    "contextSwitches",
    "coreOf",
    "cpuSeconds",
    "freePort",
    "getOK",
    "lastLine",
    "locateClocksvc",
    "machine",
    "parseWrk",
    "peakRSSMB",
    "pinned",
    "processTree",
    "pypyFromOptions",
    "rssMB",
    "running",
    "setUpPyPy",
    "stop",
    "testsModule",
    "waitUntilServing",
    "wrk",
]

#: The unit of utime and stime in /proc/PID/stat.
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: clocksvc's switch to pure Python (clocksvc._compiled.NO_EXTENSIONS).
NO_EXTENSIONS = "CLOCKSVC_NO_EXTENSIONS"


def testsModule(name: str) -> ModuleType:
    """
    @param name: a module of the tests' own, such as C{_geoip}.
    @return: C{tests/NAME.py}, loaded by its path: the C{tests} package's
        C{__init__} imports hypothesis, which the benchmarks do not need.
    """
    spec = importlib.util.spec_from_file_location(
        f"clocksvc_tests_{name}", ROOT / "tests" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pinned(cpu: int, command: Sequence[str]) -> list[str]:
    """
    @return: C{command}, pinned to C{cpu} when taskset is there and the
        machine has that core. taskset execs the command, so the process
        keeps taskset's PID.
    """
    if shutil.which("taskset") and (os.cpu_count() or 1) > cpu:
        return ["taskset", "-c", str(cpu), *command]
    return list(command)


def freePort() -> int:
    """
    @return: a TCP port on 127.0.0.1 that nothing listens on just now.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def getOK(port: int, path: str = "/", timeout: float = 1.0) -> bool:
    """
    One raw HTTP/1.1 GET, without any client library to import or warm up.

    @return: whether the server on C{port} answered 200.
    """
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(
                b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                % path.encode()
            )
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def waitUntilServing(
    process: subprocess.Popen[bytes],
    port: int,
    timeout: float,
    log: Path | None = None,
    interval: float = 0.005,
) -> float:
    """
    Poll the server with L{getOK} every C{interval} seconds until it answers.

    @return: the monotonic time of the first 200.
    @raise RuntimeError: if the process exits or C{timeout} passes first.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if getOK(port):
            return time.monotonic()
        if process.poll() is not None:
            raise RuntimeError(
                f"exited with status {process.returncode} before serving"
                + (f":\n{_tail(log)}" if log else "")
            )
        time.sleep(interval)
    raise RuntimeError(f"not serving after {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """
    SIGTERM, then SIGKILL if the process is still there after 10 s.
    """
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _drain(fd: int, counted: list[int]) -> None:
    """
    Read C{fd} until its end, throwing the bytes away as fast as they come
    and adding their number to C{counted[0]}; then close it.
    """
    try:
        # Large reads: a few a second keep up with any access log, so the
        # reader costs next to nothing on either core.
        while chunk := os.read(fd, 1 << 20):
            counted[0] += len(chunk)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def running(
    command: Sequence[str],
    port: int,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    readyTimeout: float = 30.0,
    pipeStdout: bool = False,
    drained: list[int] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """
    Run a server pinned to core 0 until the block ends, once it answers
    C{GET /} on C{port}.

    @param command: the server's command line, port included.
    @param env: variables to add to this process's environment.
    @param readyTimeout: how long it may take to start.
    @param pipeStdout: send the server's standard output into a pipe that a
        thread of this process reads and throws away as fast as it comes,
        as a log collector that keeps up would (journald, a container
        runtime); otherwise it goes to C{/dev/null}, which costs a writer
        nothing. The thread is not pinned: it wakes a few times a second.
    @param drained: with C{pipeStdout}, where the thread counts the bytes
        it has read, in its only item.
    """
    with tempfile.TemporaryDirectory(prefix="clocksvc-bench-") as tmp:
        log = Path(tmp) / "stderr"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                pinned(0, command),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if pipeStdout else subprocess.DEVNULL,
                stderr=stderr,
                env={**os.environ, **(env or {})},
                cwd=cwd,
            )
        reader = None
        if process.stdout is not None:
            # The thread owns the descriptor from here, and closes it.
            fd = os.dup(process.stdout.fileno())
            process.stdout.close()
            reader = threading.Thread(
                target=_drain,
                args=(fd, drained if drained is not None else [0]),
                name="stdout-drain",
                daemon=True,
            )
            reader.start()
        try:
            try:
                waitUntilServing(process, port, readyTimeout, log)
            except RuntimeError as e:
                raise RuntimeError(f"{' '.join(command)}: {e}") from None
            yield process
        finally:
            stop(process)
            if reader is not None:
                # The server is gone, so the pipe ends and the thread too.
                reader.join(10)


def cpuSeconds(pid: int) -> float:
    """
    @return: the user and system CPU time of every thread of process C{pid}.
    """
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces; the fields after it do not.
    fields = stat[stat.rindex(")") + 2 :].split()
    # utime and stime are fields 14 and 15; fields[0] is field 3.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def processTree(pid: int) -> list[int]:
    """
    @return: C{pid} and its children: a supervisor and its workers, or
        granian's main process and its worker.
    """
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name (field 2) may hold spaces; the fields after it do
        # not. The parent is field 4.
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
            children.append(int(entry))
    return [pid, *sorted(children)]


def _status(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {key} for {pid}")


def contextSwitches(pid: int) -> tuple[int, int]:
    """
    @return: how many times the main thread of process C{pid} (a reactor's)
        gave up the CPU to wait, as epoll_wait does when nothing is ready,
        and how many times it was made to: voluntary and involuntary
        context switches.
    """
    counts = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
            counts[key] = int(value)
    return counts["voluntary_ctxt_switches"], counts["nonvoluntary_ctxt_switches"]


def peakRSSMB(pid: int) -> float:
    """
    @return: the largest resident set size that process C{pid} has had, in
        MiB (VmHWM).
    """
    return _status(pid, "VmHWM")


def rssMB(pid: int) -> float:
    """
    @return: the resident set size of process C{pid} now, in MiB.
    """
    return _status(pid, "VmRSS")


_LATENCY = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.M)
_TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parseWrk(output: str) -> dict[str, Any]:
    """
    Read wrk's summary.

    @return: requests, requests per second, the latency percentiles it
        printed (with C{--latency}) in ms, and errors (non-2xx/3xx answers
        and socket errors).
    @raise RuntimeError: if C{output} has no summary.
    """
    requests = re.search(r"(\d+) requests in", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if requests is None or rate is None:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    latency = {
        f"p{p}_ms": round(float(value) * _TO_MS[unit], 3)
        for p, value, unit in _LATENCY.findall(output)
    }
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socketErrors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "requests": int(requests.group(1)),
        "requests_per_second": float(rate.group(1)),
        **latency,
        "errors": (int(failed.group(1)) if failed else 0)
        + (sum(int(n) for n in socketErrors.groups()) if socketErrors else 0),
    }


def wrk(
    url: str,
    seconds: int,
    *,
    threads: int = 2,
    connections: int = 50,
    pin: bool = True,
    options: Sequence[str] = ("--latency",),
) -> dict[str, Any]:
    """
    Load C{url} with wrk for C{seconds}; with C{pin}, on core 1.

    @param options: more of wrk's options, such as C{-s script.lua}.
    @return: what L{parseWrk} reads of its summary.
    """
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        *options,
        url,
    ]
    output = subprocess.run(
        pinned(1, command) if pin else command,
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    return parseWrk(output)


def machine(root: Path) -> dict[str, Any]:
    """
    @param root: the checkout the measured clocksvc comes from.
    @return: what the figures were measured on, and which clocksvc: the
        checkout's commit, and whether its clocksvc/ differed from it.
    """
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, cwd=root
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "clocksvc")
    # bench/ntp.py needs no wrk: then it is not there to name.
    wrkVersion = subprocess.run(
        ["wrk", "-v"] if shutil.which("wrk") else ["true"],
        capture_output=True,
        text=True,
    )
    import twisted  # only for its version

    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "twisted": twisted.__version__,
        "wrk": wrkVersion.stdout.split(" [")[0].strip(),
        "clocksvc_commit": (commit + (" with changes" if dirty else "")) or None,
    }


def addRoundOptions(parser: argparse.ArgumentParser) -> None:
    """
    Add the options of a benchmark that measures in rounds: C{--quick},
    C{--rounds}, C{--seconds} and C{--warmup}.
    """
    parser.add_argument("--quick", action="store_true", help="1 short round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="each measured run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds before each")


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


def addPyPyOptions(parser: argparse.ArgumentParser) -> None:
    """
    Add the options of a benchmark with PyPy rows: C{--no-pypy},
    C{--pypy-env} (one virtualenv for every benchmark) and C{--pypy-source}.
    """
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


def pypyFromOptions(options: argparse.Namespace) -> PyPy:
    """
    @return: the PyPy virtualenv that L{addPyPyOptions}' options ask for,
        set up; or none, with a note, for C{--no-pypy}.
    """
    if options.no_pypy:
        return PyPy(notes=["PyPy: left out (--no-pypy)"])
    return setUpPyPy(options.pypy_env.resolve(), options.pypy_source)


@dataclass(frozen=True)
class Clocksvc:
    """
    How to start one build of clocksvc on CPython.

    @ivar core: what it runs, C{"compiled"} or C{"pure"}, as its
        C{clocksvc._compiled.CORE} says.
    @ivar env: the variables to add to the environment to start it.
    @ivar cwd: the folder to start C{python -m clocksvc} from.
    @ivar where: where it is imported from, for the notes.
    """

    core: str
    env: dict[str, str]
    cwd: Path
    where: str


def locateClocksvc(python: str, pure: bool) -> Clocksvc:
    """
    Find the clocksvc that C{python -m clocksvc} runs from bench/, where
    the checkout's C{clocksvc/} is not importable: the installed package,
    compiled where its build compiled it, unless C{pure}; or, if none is
    installed, the checkout's, on C{PYTHONPATH}, which is pure.

    @param pure: whether to force pure Python (C{CLOCKSVC_NO_EXTENSIONS=1});
        otherwise the variable is set empty, so that one inherited from
        the environment does not make the compiled rows pure unseen.
    @return: how to start it, and which core it runs.
    """
    env = {NO_EXTENSIONS: "1" if pure else ""}

    def probe(more: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                python,
                "-c",
                "import clocksvc, clocksvc._compiled as c; "
                "print(c.CORE, clocksvc.__file__)",
            ],
            capture_output=True,
            text=True,
            cwd=HERE,
            env={**os.environ, **env, **more},
            timeout=120,
        )

    found = probe({})
    if found.returncode == 0:
        core, where = found.stdout.split(maxsplit=1)
        return Clocksvc(core, env, HERE, str(Path(where.strip()).parent))
    env["PYTHONPATH"] = str(ROOT)
    found = probe({})
    if found.returncode:
        raise RuntimeError(f"clocksvc does not import: {lastLine(found.stderr)}")
    core = found.stdout.split()[0]
    return Clocksvc(core, env, HERE, f"the checkout, {ROOT} (not installed)")


def coreOf(port: int, timeout: float = 5.0) -> str | None:
    """
    Ask the clocksvc on C{port} which core it runs, as C{/healthz} says.

    @return: C{"compiled"} or C{"pure"}; C{None} if it did not say.
    """
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(
                b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        _, _, body = b"".join(chunks).partition(b"\r\n\r\n")
        core = json.loads(body).get("core")
    except (OSError, ValueError, AttributeError):
        return None
    return core if isinstance(core, str) else None
