"""
Signed Roughtime replies a second, on one core: clocksvc's server with
batching on (up to 64 requests in 1 ms share a signature) and off (a
signature a request), and roughly's own server (asyncio, its 5 ms window),
each in a process pinned to CPU 0, loaded from CPU 1 over loopback UDP.

Usage: python bench/roughtime.py [SECONDS] [ROUGHLY_PYTHON]

The load is bounded: one socket keeps at most 64 requests of 1024 bytes in
flight for SECONDS (5) against each server, counting the replies; a request
unanswered for half a second is written off. It prints, and writes to
bench/roughtime.json, the replies a second and the mean batch size.
ROUGHLY_PYTHON is a Python with roughly installed (tests/_roughly.py makes
one); without it, roughly's server is left out.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clocksvc._roughtime._wire import request  # noqa: E402

IN_FLIGHT = 64

_CLOCKSVC = """
import os, sys
os.sched_setaffinity(0, {0})
sys.path.insert(0, %r)
from twisted.internet import reactor
from clocksvc._roughtime import Responder, RoughtimeUDP, generateKey
responder = Responder(generateKey(), reactor, reactor, lambda: 1, maxBatch=%d)
port = reactor.listenUDP(0, RoughtimeUDP(responder, None), interface="127.0.0.1")
print(port.getHost().port, flush=True)
def report():
    s = responder.stats
    print(s.batchRequests, sum(s.batches.values()), flush=True)
reactor.addSystemEventTrigger("before", "shutdown", report)
reactor.run()
"""

_ROUGHLY = """
import asyncio, os
os.sched_setaffinity(0, {0})
import roughly.server as rs
async def main():
    loop = asyncio.get_running_loop()
    server = rs.Server.create()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: rs.UDPHandler(server), local_addr=("127.0.0.1", 0))
    print(transport.get_extra_info("sockname")[1], flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


def load(port: int, seconds: float) -> tuple[int, int]:
    """
    @return: the replies received, and the requests written off.
    """
    os.sched_setaffinity(0, {1})
    packets = [request(os.urandom(32)) for _ in range(256)]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    replies = lost = inFlight = sent = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        while inFlight < IN_FLIGHT:
            s.send(packets[sent % len(packets)])
            sent += 1
            inFlight += 1
        ready, _, _ = select.select([s], [], [], 0.5)
        if not ready:
            lost += inFlight
            inFlight = 0
            continue
        while True:
            try:
                s.recv(2048)
            except BlockingIOError:
                break
            replies += 1
            inFlight -= 1
    s.close()
    return replies, lost


def measure(command: list[str], seconds: float) -> dict[str, float]:
    # SIGINT stops each; asyncio's servers say so with a traceback.
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        load(port, 0.5)  # warm up
        replies, lost = load(port, seconds)
    finally:
        server.send_signal(2)
        out = server.communicate(timeout=30)[0].split()
    result: dict[str, float] = {
        "replies_per_second": round(replies / seconds),
        "lost": lost,
    }
    if len(out) == 2 and int(out[1]):
        result["mean_batch"] = round(int(out[0]) / int(out[1]), 1)
    return result


def main(seconds: float = 5.0, roughlyPython: str | None = None) -> None:
    results = {
        "clocksvc, batching on": measure(
            [sys.executable, "-c", _CLOCKSVC % (str(ROOT), 64)], seconds
        ),
        "clocksvc, batching off": measure(
            [sys.executable, "-c", _CLOCKSVC % (str(ROOT), 1)], seconds
        ),
    }
    if roughlyPython:
        results["roughly 0.3.0"] = measure([roughlyPython, "-c", _ROUGHLY], seconds)
    print(json.dumps(results, indent=1))
    (ROOT / "bench" / "roughtime.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0, *sys.argv[2:3])
