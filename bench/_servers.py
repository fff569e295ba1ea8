"""
Starting, probing and measuring the servers that the benchmarks load: what
bench/run.py and bench/stream.py share.

A server runs pinned to core 0 and the load generator to core 1, so that the
two do not take turns on one core; every server is a child process that is
killed when its C{with} block ends, however it ends.
"""

from __future__ import annotations

import argparse
import contextlib
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
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = [
    "CLOCK_TICKS",
    "addRoundOptions",
    "contextSwitches",
    "cpuSeconds",
    "freePort",
    "getOK",
    "machine",
    "parseWrk",
    "peakRSSMB",
    "pinned",
    "processTree",
    "rssMB",
    "running",
    "stop",
    "waitUntilServing",
    "wrk",
]

#: The unit of utime and stime in /proc/PID/stat.
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


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
