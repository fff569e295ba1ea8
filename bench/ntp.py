"""
The SNTP benchmark: replies a second on one core, clocksvc's SNTP server
against chrony serving the same machine, with the same load generator.

Run it with C{python bench/ntp.py} from the checkout, with Debian's chrony
installed (C{apt-get install chrony}); C{nox -s bench} does not run it. The
server runs pinned to core 0, the generator to core 1. Each server takes
its turn in each round, a warm-up then a measured run; the figures are the
medians over the rounds, and the ratio is taken within a round before its
median is. Everything is on 127.0.0.1, bounded in time (C{--seconds}) and in
count (C{--max-replies}), and stops by itself.

chrony runs in the foreground (C{chronyd -d -x}: it never touches the
clock) with a configuration of its own in a temporary directory: a high
port, C{allow 127.0.0.1}, C{local stratum 8} so that it serves whatever the
host's clock, no command port. clocksvc runs as C{python -m clocksvc
--ntp-listen 127.0.0.1:PORT --ntp-local-stratum 8}, with a rate limit too
high to reach (the generator is one address): the limiter's bookkeeping is
still done for each request, as in production.

The generator (C{--generate}) keeps C{--window} requests in flight on one
socket: each reply received sends the next, and a window that loses a
datagram is refilled when nothing comes for 50 ms. It counts the server
replies. Written in Python for this benchmark, it may not keep a server
busy on a small machine: so beside the replies a second it measured, each
server's one-core capacity is reported, from the CPU time (user and
system, from /proc) it spent a reply; both ratios are in the results.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _servers import cpuSeconds, machine, pinned, stop

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).with_name("ntp.json")

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


def startClocksvc(port: int, directory: Path) -> subprocess.Popen[bytes]:
    """
    @return: clocksvc serving SNTP on C{port}.
    """
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        pinned(
            0,
            [
                sys.executable,
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
        env=env,
    )


def measure(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """
    Start server C{name}, warm it up, measure it, stop it.

    @return: its replies a second, and its CPU seconds a reply.
    """
    port = freeUDPPort()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        start = startChrony if name == "chrony" else startClocksvc
        server = start(port, directory)
        try:
            deadline = time.monotonic() + 30
            while not answers(port):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{name} did not start")
            run = [
                sys.executable,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--window", type=int, default=32)
    parser.add_argument("--max-replies", type=int, default=5_000_000)
    parser.add_argument("--generate", type=int, metavar="PORT")
    args = parser.parse_args()
    if args.generate is not None:
        print(
            json.dumps(
                generate(args.generate, args.seconds, args.window, args.max_replies)
            )
        )
        return
    rounds: list[dict[str, Any]] = []
    for number in range(1, args.rounds + 1):
        found: dict[str, Any] = {
            name: measure(name, args) for name in ("chrony", "clocksvc")
        }
        found["ratio"] = round(
            found["clocksvc"]["replies_per_second"]
            / found["chrony"]["replies_per_second"],
            3,
        )
        found["capacity_ratio"] = round(
            found["clocksvc"]["one_core_capacity"]
            / found["chrony"]["one_core_capacity"],
            3,
        )
        print(f"round {number}: {json.dumps(found)}", flush=True)
        rounds.append(found)
    summary: dict[str, float] = {
        name: statistics.median(r[name]["replies_per_second"] for r in rounds)
        for name in ("chrony", "clocksvc")
    }
    summary["ratio"] = statistics.median(r["ratio"] for r in rounds)
    for name in ("chrony", "clocksvc"):
        summary[f"{name}_one_core_capacity"] = statistics.median(
            r[name]["one_core_capacity"] for r in rounds
        )
    summary["capacity_ratio"] = statistics.median(r["capacity_ratio"] for r in rounds)
    chrony = subprocess.run(["chronyd", "-v"], capture_output=True, text=True)
    results = {
        "machine": {
            **machine(ROOT),
            "chrony": " ".join(chrony.stdout.split()[2:4]) or "unknown",
        },
        "summary": summary,
        "rounds": rounds,
    }
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
