"""
The /stream scale test: 10,000 Server-Sent Events clients on one clocksvc
process, each to get every tick within 100 ms of its second boundary.

Run it with C{python bench/stream.py [--clients N]} from the checkout; it is
the last step of C{nox -s bench}. clocksvc runs pinned to core 0; the clients
run in a second process of this script, pinned to core 1, on one event loop
(uvloop when it is installed). They connect over a few seconds, then for the
measured seconds record, for each event, its arrival time less the second in
its C{id:} line, which is the boundary it is for. The lateness is measured
by the client, so it includes the client's own delay in reading 10,000
sockets: it is an upper bound on clocksvc's (the client's CPU share is
reported to tell).

It prints the lateness distribution, the ticks missed, and clocksvc's memory
per connection, writes bench/stream.json, and says whether every client got
every tick within 100 ms, or by how much it missed; it exits non-zero only if
it measured nothing.

Then it measures the floor of that fan-out on this machine (L{floorSender}):
a bare Python loop, pinned to core 0 as clocksvc was, that sends one event
of clocksvc's size (one taken from its stream) to each of the same number of
loopback sockets once a second, read by the same client process: the time
of one C{send()} to an idle reader. The report says how close clocksvc's
fan-out (from the first client's arrival to the last's) comes to the
floor's, seen by the same clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import select
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from _servers import cpuSeconds, freePort, peakRSSMB, pinned, rssMB, running

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: The most an event may arrive after its second boundary.
ALLOWED_LATENESS = 0.100
_ID = re.compile(rb"^id: (\d+)\r?$", re.M)


def raiseFileLimit(needed: int) -> int:
    """
    Raise this process's soft limit on open files to C{needed} (children
    inherit it), as far as the hard limit allows.

    @return: the soft limit now.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


class _Client(asyncio.Protocol):
    """
    One /stream connection: records the lateness of each C{id:} line.
    """

    def __init__(self, record: list[tuple[int, float]]) -> None:
        self.record = record
        self.buffer = b""
        self.status = b""
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but write.
        cast(asyncio.WriteTransport, transport).write(
            b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream"
            b"\r\n\r\n"
        )

    def data_received(self, data: bytes) -> None:
        arrived = time.time()
        if not self.status:
            self.status = data[:12]
        # Only whole lines: an id line may be split between two reads. The
        # chunked encoding's size lines never look like one.
        data = self.buffer + data
        end = data.rfind(b"\n") + 1
        self.buffer = data[end:]
        for match in _ID.finditer(data, 0, end):
            self.record.append((int(match.group(1)), arrived))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True


async def clients(port: int, count: int, ramp: float, seconds: int) -> dict[str, Any]:
    """
    Open C{count} streams over C{ramp} seconds, then record C{seconds}
    whole seconds of ticks.

    @return: the measurements.
    """
    loop = asyncio.get_running_loop()
    records: list[list[tuple[int, float]]] = []
    protocols: list[_Client] = []
    failures: list[str] = []

    async def connect() -> None:
        record: list[tuple[int, float]] = []
        try:
            _, protocol = await loop.create_connection(
                lambda: _Client(record), "127.0.0.1", port
            )
        except OSError as e:
            failures.append(str(e))
            return
        records.append(record)
        protocols.append(protocol)

    opening = time.monotonic()
    batch = max(1, count // max(1, int(ramp * 100)))
    pending = []
    for first in range(0, count, batch):
        pending += [
            asyncio.ensure_future(connect()) for _ in range(min(batch, count - first))
        ]
        await asyncio.sleep(0.01)
    await asyncio.wait_for(asyncio.gather(*pending), 60)
    connected = time.monotonic() - opening
    print(f"connected {len(protocols)}", flush=True)
    # Measure whole seconds, from the second boundary after a settling one.
    start = int(time.time()) + 2
    end = start + seconds
    await asyncio.sleep(start + 1 - time.time())
    cpuBefore = time.process_time()
    await asyncio.sleep(end + 0.5 - time.time())
    cpu = time.process_time() - cpuBefore
    for protocol in protocols:
        protocol.buffer = b""

    expected = set(range(start + 1, end + 1))
    lateness: list[float] = []
    missed = late = complete = 0
    for record in records:
        got = {second: arrived - second for second, arrived in record}
        inWindow = [got[s] for s in expected if s in got]
        lateness += inWindow
        missed += len(expected) - len(inWindow)
        tooLate = sum(1 for x in inWindow if x > ALLOWED_LATENESS)
        late += tooLate
        complete += len(inWindow) == len(expected) and not tooLate
    lateness.sort()
    # The first and last arrival of each tick: the first bounds when clocksvc
    # began sending it, the spread how long it took to reach every client.
    bySecond: dict[int, list[float]] = {}
    for record in records:
        for second, arrived in record:
            if second in expected:
                bySecond.setdefault(second, []).append(arrived - second)
    firsts = [min(v) for v in bySecond.values()]
    spreads = [max(v) - min(v) for v in bySecond.values()]

    def quantile(q: float) -> float | None:
        if not lateness:
            return None
        return round(lateness[min(len(lateness) - 1, int(q * len(lateness)))], 4)

    return {
        "clients": count,
        "connected": len(protocols),
        "connect_failures": len(failures),
        "connect_failure_examples": sorted(set(failures))[:3],
        "not_200": sum(1 for p in protocols if p.status != b"HTTP/1.1 200"),
        "closed_early": sum(1 for p in protocols if p.closed),
        "connect_seconds": round(connected, 2),
        "ticks_per_client": len(expected),
        "events": len(lateness),
        "missed": missed,
        "late": late,
        "clients_with_every_tick_in_time": complete,
        "lateness_p50_s": quantile(0.50),
        "lateness_p99_s": quantile(0.99),
        "lateness_max_s": round(lateness[-1], 4) if lateness else None,
        "lateness_mean_s": round(statistics.fmean(lateness), 4) if lateness else None,
        "first_arrival_median_s": round(statistics.median(firsts), 4)
        if firsts
        else None,
        "spread_median_s": round(statistics.median(spreads), 4) if spreads else None,
        # The client's own CPU over the measured seconds: near 1.0 would
        # make it, not clocksvc, the cause of lateness.
        "client_cpu_share": round(cpu / seconds, 3),
    }


def clientMain(port: int, count: int, ramp: float, seconds: int) -> None:
    """
    The client process: print C{connected N} once the streams are open, then
    the measurements as one line of JSON.
    """
    raiseFileLimit(count + 100)
    try:
        import uvloop  # the bench group has it; asyncio's own loop will do

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(clients(port, count, ramp, seconds))), flush=True)


def eventChunk(port: int, timeout: float = 10.0) -> bytes | None:
    """
    Read one tick event from clocksvc's C{/stream} on C{port}, as it goes on
    the wire: one chunk of a chunked body, its size line and CRLF included.

    @return: the chunk, or C{None} if none came in C{timeout} seconds.
    """
    deadline = time.monotonic() + timeout
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(
            b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream"
            b"\r\n\r\n"
        )
        while time.monotonic() < deadline:
            more = s.recv(65536)
            if not more:
                return None
            data += more
            _, _, body = data.partition(b"\r\n\r\n")
            position = 0
            while (end := body.find(b"\r\n", position)) >= 0:
                try:
                    size = int(body[position:end].split(b";")[0], 16)
                except ValueError:
                    return None
                after = end + 2 + size + 2
                if after > len(body):
                    break
                if _ID.search(body[end + 2 : after]):
                    return body[position:after]
                position = after
    return None


def floorSender(count: int, chunk: bytes) -> None:
    """
    The floor's sender process: listen on a port it prints, accept C{count}
    connections (for up to a minute), answer each with a chunked C{200}
    head, then once a second send C{chunk} (its C{id:} set to the second) to
    each, timing the loop, until its standard input closes; then print the
    times as one line of JSON.

    Each send is a non-blocking C{socket.send()} of a few hundred bytes to a
    socket whose reader is idle, as clocksvc's are between ticks: the least a
    fan-out in Python can spend per client.
    """
    raiseFileLimit(count + 100)
    found = _ID.search(chunk)
    if found is None:
        raise SystemExit(f"stream: no id line in {chunk!r}")
    template = found.group(1)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    print(listener.getsockname()[1], flush=True)
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    sockets: list[socket.socket] = []
    listener.settimeout(60)
    try:
        while len(sockets) < count:
            accepted, _ = listener.accept()
            accepted.setblocking(False)
            accepted.send(head)
            sockets.append(accepted)
    except OSError:
        pass
    ticks: list[float] = []
    failures = 0
    while True:
        now = time.time()
        second = int(now) + 1
        if select.select([sys.stdin], [], [], second - now)[0]:
            # Standard input closed: the clients are done.
            break
        if time.time() < second:
            continue
        event = chunk.replace(template, b"%d" % second)
        started = time.perf_counter()
        for s in sockets:
            try:
                s.send(event)
            except OSError:
                failures += 1
        ticks.append(time.perf_counter() - started)
    for s in sockets:
        s.close()
    print(
        json.dumps({"sockets": len(sockets), "ticks": ticks, "failures": failures}),
        flush=True,
    )


def floor(count: int, ramp: float, seconds: int, chunk: bytes) -> dict[str, Any]:
    """
    Measure the fan-out's floor: L{floorSender} pinned to core 0, read by
    the client process of L{run}, pinned to core 1.

    @return: the time of one send, and what the clients saw.
    """
    here = str(Path(__file__).resolve())
    sender = subprocess.Popen(
        pinned(
            0,
            [
                sys.executable,
                here,
                "--floor-sender",
                chunk.hex(),
                "--clients",
                str(count),
            ],
        ),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sender.stdin is not None and sender.stdout is not None
        port = int(sender.stdout.readline())
        seen = clientRun(port, count, ramp, seconds)
        sender.stdin.close()
        sent = json.loads(sender.stdout.readline() or "{}")
        sender.wait(30)
    finally:
        if sender.poll() is None:
            sender.kill()
            sender.wait(10)
    ticks = [t for t in sent.get("ticks", []) if t > 0]
    sockets = max(1, int(sent.get("sockets", 0)))
    perSend = [t / sockets for t in ticks]
    return {
        "clients": count,
        "sockets": sent.get("sockets", 0),
        "event_bytes": len(chunk),
        "ticks": len(ticks),
        "send_failures": sent.get("failures"),
        "per_send_us_median": round(statistics.median(perSend) * 1e6, 2)
        if perSend
        else None,
        "per_send_us_min": round(min(perSend) * 1e6, 2) if perSend else None,
        "loop_ms_median": round(statistics.median(ticks) * 1000, 1) if ticks else None,
        "client_spread_median_s": seen.get("spread_median_s"),
        "client_first_arrival_median_s": seen.get("first_arrival_median_s"),
        "client_lateness_p99_s": seen.get("lateness_p99_s"),
        "client_missed": seen.get("missed"),
        "client_cpu_share": seen.get("client_cpu_share"),
    }


def clientRun(
    port: int,
    count: int,
    ramp: float,
    seconds: int,
    connected: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """
    Run the client process, pinned to core 1, against C{port}.

    @param connected: called once every stream is open.
    @return: its measurements.
    """
    client = subprocess.Popen(
        pinned(
            1,
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--client",
                str(port),
                "--clients",
                str(count),
                "--ramp",
                str(ramp),
                "--seconds",
                str(seconds),
            ],
        ),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert client.stdout is not None
        first = client.stdout.readline()
        if not first.startswith("connected"):
            raise SystemExit(f"stream: the client failed: {first.strip()!r}")
        connected()
        result: dict[str, Any] = json.loads(client.stdout.readline() or "{}")
        client.wait(30)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait(10)
    return result


def run(count: int, ramp: float, seconds: int) -> dict[str, Any]:
    """
    Start clocksvc, run the client process against it, and measure clocksvc's
    memory and CPU as it goes.
    """
    limit = raiseFileLimit(count + 1000)
    if limit < count + 100:
        raise SystemExit(
            f"stream: {count} clients need more than {limit} open files; "
            "raise the hard limit (ulimit -Hn) or ask for fewer (--clients)"
        )
    port = freePort()
    server = [
        sys.executable,
        "-m",
        "clocksvc",
        "--listen",
        f"tcp:{port}:interface=127.0.0.1",
        "--access-log",
        "off",
        "--max-connections",
        str(count + 100),
    ]
    with running(server, port, cwd=ROOT) as process:
        # One event as the wire carries it, for the floor's sends; before the
        # baseline, so that its connection has gone.
        chunk = eventChunk(port)
        baseline = rssMB(process.pid)
        measured: dict[str, float] = {}

        def allOpen() -> None:
            # A second for the last connections' first bytes, then memory
            # with every stream open, and CPU over the measured seconds.
            time.sleep(1)
            measured["withStreams"] = rssMB(process.pid)
            measured["cpu"] = cpuSeconds(process.pid)
            measured["before"] = time.monotonic()

        result = clientRun(port, count, ramp, seconds, allOpen)
        cpu = cpuSeconds(process.pid) - measured["cpu"]
        elapsed = time.monotonic() - measured["before"]
        withStreams = measured["withStreams"]
        peak = peakRSSMB(process.pid)
    connected = max(1, int(result.get("connected", 0)))
    result.update(
        {
            "rss_before_mb": round(baseline, 1),
            "rss_with_streams_mb": round(withStreams, 1),
            "peak_rss_mb": round(peak, 1),
            "rss_per_connection_kb": round(
                (withStreams - baseline) * 1024 / connected, 1
            ),
            "server_cpu_share": round(cpu / elapsed, 3),
            "event_chunk": None if chunk is None else chunk.decode("latin-1"),
        }
    )
    return result


def reportFloor(result: dict[str, Any]) -> None:
    """
    Say what one C{send()} costs here, and how close clocksvc's fan-out
    comes to the floor's.
    """
    if not result.get("event_chunk"):
        print("stream: no floor: no event was read from clocksvc's /stream")
        return
    found = result.get("send_floor")
    if not found or found.get("per_send_us_median") is None:
        print("stream: no floor measured")
        return
    sockets = found["sockets"]
    print(
        f"stream: the floor: one send() of a {found['event_bytes']}-byte event "
        f"to an idle loopback reader takes {found['per_send_us_median']:.1f} us "
        f"(median over {found['ticks']} ticks; best {found['per_send_us_min']:.1f}"
        f" us), {found['loop_ms_median']:.0f} ms for all {sockets:,}"
    )
    ours, theirs = result.get("spread_median_s"), found.get("client_spread_median_s")
    if ours is not None and theirs:
        print(
            f"stream: clocksvc's fan-out, first client to last: {ours * 1000:.0f} ms"
            f", {ours / theirs:.2f}x the floor's {theirs * 1000:.0f} ms as the "
            f"same clients saw it, {ours * 1e6 / max(1, result['connected']):.1f}"
            " us a client"
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--ramp", type=float, default=5.0, help="seconds to connect")
    parser.add_argument("--seconds", type=int, default=15, help="seconds measured")
    parser.add_argument("--output", type=Path, default=HERE / "stream.json")
    parser.add_argument(
        "--floor-seconds", type=int, default=5, help="seconds of the floor measured"
    )
    parser.add_argument(
        "--no-floor", action="store_true", help="leave the send() floor out"
    )
    parser.add_argument("--client", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--floor-sender", metavar="HEX", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.client is not None:
        clientMain(options.client, options.clients, options.ramp, options.seconds)
        return 0
    if options.floor_sender is not None:
        floorSender(options.clients, bytes.fromhex(options.floor_sender))
        return 0
    result = run(options.clients, options.ramp, options.seconds)
    chunk = result.get("event_chunk")
    if not options.no_floor and chunk:
        result["send_floor"] = floor(
            options.clients,
            options.ramp,
            options.floor_seconds,
            chunk.encode("latin-1"),
        )
    options.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if not result.get("events"):
        print("stream: no events were measured", file=sys.stderr)
        return 1
    late = options.clients - result.get("clients_with_every_tick_in_time", 0)
    if late == 0:
        print("stream: target met: every client got every tick within 100 ms")
    else:
        p99 = result.get("lateness_p99_s") or 0.0
        print(
            f"stream: target missed: {late} of {options.clients} clients missed "
            f"a tick or got one late; p99 lateness {p99 * 1000:.0f} ms, "
            f"{p99 / ALLOWED_LATENESS:.1f}x the {ALLOWED_LATENESS * 1000:.0f} ms "
            "allowed (why: docs/explanation/performance.md)"
        )
    reportFloor(result)
    # Like bench/run.py, it fails only if it cannot measure: a missed target
    # is a finding to report, not a broken benchmark.
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
