"""
The SNTP benchmark: replies a second on one core, clocksvc's SNTP server on
CPython and on PyPy against chrony serving the same machine, with the same
load generator.

Run it with C{python bench/ntp.py} from the checkout, with Debian's chrony
installed (C{apt-get install chrony}), and pypy3 for the PyPy row; C{nox
-s bench} runs it last (C{--no-ntp} leaves it out). The servers run pinned
to core 0, the generator to core 1. Each server takes its turn in each
round, a warm-up then a measured run; the figures are the medians over
the rounds, and each ratio is taken within a round before its median is.
Everything is on 127.0.0.1, bounded in time (C{--seconds}) and in count
(C{--max-replies}), and stops by itself. 3 rounds of 3 servers, 1 s of
warm-up and 5 s measured each, take about a minute and a half.

chrony runs in the foreground (C{chronyd -d -x}: it never touches the
clock) with a configuration of its own in a temporary directory: a high
port, C{allow 127.0.0.1}, C{local stratum 8} so that it serves whatever the
host's clock, no command port. clocksvc runs as C{python -m clocksvc
--ntp-listen 127.0.0.1:PORT --ntp-local-stratum 8}, with a rate limit too
high to reach (the generator is one address): the limiter's bookkeeping is
still done for each request, as in production. On CPython it is the
installed package, compiled where it was built so, as bench/run.py runs it
(C{_servers.locateClocksvc}); on PyPy, from the virtualenv that
bench/run.py makes (C{_servers.setUpPyPy}).

The generator (C{--generate}) keeps C{--window} requests in flight on one
socket: each reply received sends the next, and a window that loses a
datagram is refilled when nothing comes for 50 ms. It counts the server
replies. Written in Python for this benchmark, it may not keep a server
busy on a small machine: it runs on PyPy where there is one, which sends
several times as many requests a second as CPython; and beside the replies
a second it measured, each server's one-core capacity is reported, from
the CPU time (user and system, from /proc) it spent a reply. That is the
comparison that holds, and the targets' (L{TARGETS}): clocksvc on CPython
at least half of chrony's capacity, on PyPy at least all of it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _servers import (
    PyPy,
    addPyPyOptions,
    cpuSeconds,
    locateClocksvc,
    machine,
    pinned,
    pypyFromOptions,
    stop,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "ntp.json"
CHRONY = "chrony"
CLOCKSVC = "clocksvc"
CLOCKSVC_PYPY = "clocksvc (PyPy)"
#: Each clocksvc row's least capacity on one core, as a share of chrony's.
TARGETS = {CLOCKSVC: 0.5, CLOCKSVC_PYPY: 1.0}
#: Starts a server on a port, with a scratch folder that lasts while it runs.
Start = Callable[[int, Path], "subprocess.Popen[bytes]"]

_REQUEST = struct.Struct("!B47x")
_TRANSMIT = struct.Struct("!Q")


def freeUDPPort() -> int:
    """
    @return: a UDP port on 127.0.0.1 that nothing is bound to just now.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(serial: int) -> bytes:
    """
    @return: a version-4 client request whose transmit timestamp is
        C{serial}, which the reply's origin timestamp gives back.
    """
    return _REQUEST.pack(0x23)[:40] + _TRANSMIT.pack(serial)


def generate(port: int, seconds: float, window: int, maxReplies: int) -> dict[str, Any]:
    """
    Load the server on C{port} for C{seconds}, or until C{maxReplies}.

    @return: the replies counted, the seconds taken and the requests sent.
    """
    server = ("127.0.0.1", port)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    client.connect(server)
    client.setblocking(False)
    sent = replies = 0
    for serial in range(1, window + 1):
        client.send(request(serial))
    sent = window
    recv, send = client.recv, client.send
    start = time.monotonic()
    deadline = start + seconds
    poller = select.poll()
    poller.register(client, select.POLLIN)
    while replies < maxReplies:
        if not poller.poll(50):
            # Every request in flight was lost: fill the window again.
            if time.monotonic() >= deadline:
                break
            for _ in range(window):
                sent += 1
                send(request(sent))
            continue
        while True:
            try:
                reply = recv(1024)
            except BlockingIOError:
                break
            if len(reply) == 48 and reply[0] & 7 == 4:
                replies += 1
                sent += 1
                with contextlib.suppress(BlockingIOError):
                    send(request(sent))
        if time.monotonic() >= deadline:
            break
    elapsed = time.monotonic() - start
    client.close()
    return {"replies": replies, "seconds": elapsed, "sent": sent}


def answers(port: int) -> bool:
    """
    @return: whether a server on C{port} answers one request within 0.2 s.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        s.sendto(request(1), ("127.0.0.1", port))
        try:
            return len(s.recv(1024)) == 48
        except OSError:
            return False


def startChrony(port: int, directory: Path) -> subprocess.Popen[bytes]:
    """
    @return: chronyd serving on C{port}, in the foreground.
    """
    config = directory / "chrony.conf"
    config.write_text(
        f"port {port}\n"
        "bindaddress 127.0.0.1\n"
        "allow 127.0.0.1\n"
        "local stratum 8\n"
        "cmdport 0\n"
        f"pidfile {directory / 'chronyd.pid'}\n"
    )
    user = ["-u", "root"] if os.geteuid() == 0 else ["-U"]
    return subprocess.Popen(
        pinned(0, ["chronyd", "-d", "-x", "-f", str(config), *user]),
        stdout=subprocess.DEVNULL,
        stderr=(directory / "chronyd.log").open("wb"),
    )


def startClocksvc(
    port: int, directory: Path, python: str, env: dict[str, str], cwd: Path
) -> subprocess.Popen[bytes]:
    """
    @param python: the interpreter to run it on.
    @param env: the variables to add to the environment.
    @param cwd: the folder to start it from.
    @return: clocksvc serving SNTP on C{port}.
    """
    return subprocess.Popen(
        pinned(
            0,
            [
                python,
                "-m",
                "clocksvc",
                "--listen",
                "tcp:0:interface=127.0.0.1",
                "--access-log",
                "off",
                "--ntp-listen",
                f"127.0.0.1:{port}",
                "--ntp-local-stratum",
                "8",
                "--ntp-rate-limit",
                "1000000000/1000000000",
            ],
        ),
        stdout=subprocess.DEVNULL,
        stderr=(directory / "clocksvc.log").open("wb"),
        env={**os.environ, **env},
        cwd=cwd,
    )


def servers(pypy: PyPy, notes: list[str]) -> dict[str, Start]:
    """
    @return: how to start each server to measure, by name: chrony,
        clocksvc on CPython and, where the PyPy virtualenv has it, on PyPy.
    """
    build = locateClocksvc(sys.executable, pure=False)
    notes.append(f"clocksvc: {build.core}, from {build.where}")
    found: dict[str, Start] = {
        CHRONY: startChrony,
        CLOCKSVC: lambda port, directory: startClocksvc(
            port, directory, sys.executable, build.env, build.cwd
        ),
    }
    if pypy.python is not None and pypy.clocksvcEnv is not None:
        python, env = pypy.python, pypy.clocksvcEnv
        found[CLOCKSVC_PYPY] = lambda port, directory: startClocksvc(
            port, directory, python, env, HERE
        )
    return found


def measure(
    name: str, start: Start, generator: str, args: argparse.Namespace
) -> dict[str, Any]:
    """
    Start server C{name}, warm it up, measure it, stop it.

    @param generator: the interpreter to run the load generator on.
    @return: its replies a second, and its CPU seconds a reply.
    """
    port = freeUDPPort()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        server = start(port, directory)
        try:
            deadline = time.monotonic() + 30
            while not answers(port):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{name} did not start")
            run = [
                generator,
                __file__,
                "--generate",
                str(port),
                "--window",
                str(args.window),
                "--max-replies",
                str(args.max_replies),
            ]
            subprocess.run(
                pinned(1, [*run, "--seconds", str(args.warmup)]),
                check=True,
                capture_output=True,
            )
            before = cpuSeconds(server.pid)
            result = subprocess.run(
                pinned(1, [*run, "--seconds", str(args.seconds)]),
                check=True,
                capture_output=True,
                text=True,
            )
            cpu = cpuSeconds(server.pid) - before
        finally:
            stop(server)
    found: dict[str, Any] = json.loads(result.stdout)
    rate = found["replies"] / found["seconds"]
    return {
        "replies_per_second": round(rate),
        # What one core would answer, from the CPU time a reply took: the
        # generator, in Python, cannot keep a server busy.
        "one_core_capacity": round(
            1e6 / max(cpu / max(found["replies"], 1) * 1e6, 1e-3)
        ),
        "cpu_us_per_reply": round(cpu / max(found["replies"], 1) * 1e6, 2),
        "cpu_share": round(cpu / found["seconds"], 2),
        **found,
    }


def summarise(rounds: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    """
    @return: each server's median replies a second and one-core capacity,
        and each clocksvc row's ratios to chrony's (the median of each
        round's ratio); the row on CPython keeps the keys of the files from
        before PyPy was measured (C{ratio}, C{capacity_ratio}).
    """
    summary: dict[str, Any] = {}
    for name in names:
        summary[name] = statistics.median(r[name]["replies_per_second"] for r in rounds)
        summary[f"{name}_one_core_capacity"] = statistics.median(
            r[name]["one_core_capacity"] for r in rounds
        )
    for name in names:
        if name == CHRONY:
            continue
        prefix = "" if name == CLOCKSVC else f"{name}_"
        for key, figure in (
            ("ratio", "replies_per_second"),
            ("capacity_ratio", "one_core_capacity"),
        ):
            summary[prefix + key] = round(
                statistics.median(r[name][figure] / r[CHRONY][figure] for r in rounds),
                3,
            )
    return summary


def targets(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """
    @return: each clocksvc row's target against chrony's capacity on one
        core: met, missed, or not measured.
    """
    found = []
    for name, goal in TARGETS.items():
        ratio = summary.get(("" if name == CLOCKSVC else f"{name}_") + "capacity_ratio")
        found.append(
            {
                "target": f"{name} on one core >= {goal}x chrony's replies a second",
                "measured": ratio,
                "met": None if ratio is None else ratio >= goal,
            }
        )
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--window", type=int, default=32)
    parser.add_argument("--max-replies", type=int, default=5_000_000)
    parser.add_argument("--output", type=Path, default=RESULTS)
    addPyPyOptions(parser)
    parser.add_argument("--generate", type=int, metavar="PORT")
    args = parser.parse_args()
    if args.generate is not None:
        print(
            json.dumps(
                generate(args.generate, args.seconds, args.window, args.max_replies)
            )
        )
        return 0
    if shutil.which("chronyd") is None:
        print("bench: chronyd is missing: apt-get install chrony", file=sys.stderr)
        return 2
    pypy = pypyFromOptions(args)
    notes = list(pypy.notes)
    chosen = servers(pypy, notes)
    # On PyPy the generator sends several times as fast as on CPython:
    # closer to keeping chrony busy.
    generator = pypy.python or sys.executable
    notes.append(f"the load generator ran on {'PyPy' if pypy.python else 'CPython'}")
    rounds: list[dict[str, Any]] = []
    for number in range(1, args.rounds + 1):
        found = {
            name: measure(name, start, generator, args)
            for name, start in chosen.items()
        }
        print(f"round {number}: {json.dumps(found)}", flush=True)
        rounds.append(found)
    summary = summarise(rounds, list(chosen))
    met = targets(summary)
    chrony = subprocess.run(["chronyd", "-v"], capture_output=True, text=True)
    results = {
        "machine": {
            **machine(ROOT),
            "chrony": " ".join(chrony.stdout.split()[2:4]) or "unknown",
            "pypy": pypy.version,
            "pypy_twisted": pypy.twisted,
        },
        "settings": {
            "rounds": args.rounds,
            "seconds": args.seconds,
            "warmup_seconds": args.warmup,
            "window": args.window,
        },
        "summary": summary,
        "targets": met,
        "notes": notes,
        "rounds": rounds,
    }
    args.output.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(summary))
    verdict = {True: "met", False: "MISSED", None: "not measured"}
    for t in met:
        print(f"target: {t['target']}: {t['measured']}x, {verdict[t['met']]}")
    for note in notes:
        print(f"note: {note}")
    print(f"bench: wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
