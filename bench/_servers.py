"""
Starting, probing and measuring the servers that the benchmarks load: what
bench/run.py and bench/stream.py share.

A server runs pinned to core 0 and the load generator to core 1, so that the
two do not take turns on one core; every server is a child process that is
killed when its C{with} block ends, however it ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

__all__ = [
    "CLOCK_TICKS",
    "cpuSeconds",
    "freePort",
    "getOK",
    "peakRSSMB",
    "pinned",
    "rssMB",
    "running",
    "stop",
    "waitUntilServing",
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


@contextlib.contextmanager
def running(
    command: Sequence[str],
    port: int,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    readyTimeout: float = 30.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """
    Run a server pinned to core 0 until the block ends, once it answers
    C{GET /} on C{port}.

    @param command: the server's command line, port included.
    @param env: variables to add to this process's environment.
    @param readyTimeout: how long it may take to start.
    """
    with tempfile.TemporaryDirectory(prefix="clocksvc-bench-") as tmp:
        log = Path(tmp) / "stderr"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                pinned(0, command),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env={**os.environ, **(env or {})},
                cwd=cwd,
            )
        try:
            try:
                waitUntilServing(process, port, readyTimeout, log)
            except RuntimeError as e:
                raise RuntimeError(f"{' '.join(command)}: {e}") from None
            yield process
        finally:
            stop(process)


def cpuSeconds(pid: int) -> float:
    """
    @return: the user and system CPU time of every thread of process C{pid}.
    """
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces; the fields after it do not.
    fields = stat[stat.rindex(")") + 2 :].split()
    # utime and stime are fields 14 and 15; fields[0] is field 3.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _status(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {key} for {pid}")


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
