"""
A running C{python -m clocksvc} whose wall clock is stepped, back and
forth, under Debian's libfaketime (the C{faketime} package): its timers run
on the monotonic clock, so ticks go on, connections stay, and the step is
reported in the log, in C{/metrics} and to C{/stream}.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure
from twisted.trial.unittest import SkipTest, TestCase

from ._process import ClocksvcProcess, spawnClocksvc

#: Where Debian's faketime package puts the library.
LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

_TICK = re.compile(rb"id: ([0-9]+)\nevent: tick\n")
_STEP = re.compile(rb'event: step\ndata: \{"step_ms":(-?[0-9.e+]+)\}\n')


class _Client(Protocol):
    """
    A raw HTTP/1.1 client connection: what it has received, and a way to
    wait for what is still to come.
    """

    def __init__(self) -> None:
        self.received = b""
        self._waiting: list[tuple[Callable[[bytes], bool], Deferred[None]]] = []
        self.lost: Deferred[None] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        for entry in list(self._waiting):
            if entry[0](self.received):
                self._waiting.remove(entry)
                entry[1].callback(None)

    def connectionLost(self, reason: Failure | None = None) -> None:
        for _, waiting in self._waiting:
            waiting.errback(AssertionError("the connection was closed"))
        self._waiting = []
        self.lost.callback(None)

    def until(self, done: Callable[[bytes], bool]) -> Deferred[None]:
        """
        @return: fires once what has been received makes C{done} true.
        """
        waiting: Deferred[None] = Deferred()
        if done(self.received):
            waiting.callback(None)
        else:
            self._waiting.append((done, waiting))
        return waiting


def _ticks(data: bytes) -> list[int]:
    return [int(second) for second in _TICK.findall(data)]


def _steps(data: bytes) -> list[float]:
    return [float(step) for step in _STEP.findall(data)]


class WallClockStepTests(TestCase):
    """
    C{python -m clocksvc} under libfaketime, with only the wall clock faked
    (C{FAKETIME_DONT_FAKE_MONOTONIC}), and read afresh from a file at each
    call (C{FAKETIME_NO_CACHE}), as an NTP step or C{date -s} moves it.
    """

    # The child starts, is stepped twice, and drains; on a busy machine.
    timeout = 120

    def setUp(self) -> None:
        if not os.path.exists(LIBFAKETIME):
            raise SkipTest(f"needs Debian's faketime package ({LIBFAKETIME})")
        self.fake = Path(self.mktemp())
        self.fake.write_text("+0\n")
        self.log = Path(self.mktemp())

    def step(self, offset: str) -> None:
        """
        Set the server's wall clock to the real time plus C{offset} seconds.
        """
        # Written whole and renamed, so that the server never reads half.
        partial = self.fake.with_suffix(".partial")
        partial.write_text(offset + "\n")
        partial.replace(self.fake)

    async def serve(self) -> tuple[ClocksvcProcess, int]:
        process = spawnClocksvc(
            "--listen",
            "tcp:0:interface=127.0.0.1",
            "--access-log",
            str(self.log),
            environment={
                "LD_PRELOAD": LIBFAKETIME,
                "FAKETIME_TIMESTAMP_FILE": str(self.fake),
                "FAKETIME_NO_CACHE": "1",
                "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            },
        )

        async def stop() -> None:
            process.signal("TERM")
            await process.exited

        self.addCleanup(lambda: Deferred.fromCoroutine(stop()))
        line = await process.firstLine
        found = re.search(rb"127\.0\.0\.1:([0-9]+)", line)
        self.assertIsNotNone(found, process.stderr)
        assert found is not None
        return process, int(found.group(1))

    async def connect(self, port: int, request: bytes) -> _Client:
        client: _Client = await connectProtocol(
            TCP4ClientEndpoint(reactor, "127.0.0.1", port), _Client()
        )
        transport = client.transport
        assert transport is not None
        self.addCleanup(transport.loseConnection)
        transport.write(request)
        return client

    async def stepAndTick(self, stream: _Client, offset: str, steps: int) -> int:
        """
        Step the wall clock, and wait for the step's event and the tick
        after it.

        @return: that tick's id less the last one received before the step.
        """
        before = _ticks(stream.received)[-1]
        self.step(offset)
        await stream.until(lambda data: len(_steps(data)) == steps)
        at = stream.received.rindex(b"event: step")
        await stream.until(lambda data: bool(_ticks(data[at:])))
        return _ticks(stream.received[at:])[0] - before

    async def test_stepBackAndForth(self) -> None:
        """
        After a step of -30 s, then one of +3600 s, C{/stream}'s ticks go on
        at the first second boundary after the step, on the server's own
        clocks (so within a second, however busy this machine), their ids
        following the wall clock; each step is a C{step} event with its
        size, a C{clock_step} line in the log, and counted in C{/metrics};
        and a kept-alive idle connection survives the step ahead, which
        would have fired its idle timeout.
        """
        process, port = await self.serve()
        stream = await self.connect(
            port, b"GET /stream HTTP/1.1\r\nHost: clock.example\r\n\r\n"
        )
        idle = await self.connect(
            port, b"GET /now HTTP/1.1\r\nHost: clock.example\r\n\r\n"
        )
        await idle.until(lambda data: data.endswith(b"}"))
        await stream.until(lambda data: len(_ticks(data)) >= 2)

        # The last tick seen was for second S: the step came before S + 1,
        # whose timer (on the monotonic clock) finds it and ticks for the
        # wall clock's second then, S + 1 - 30. Or, if tick S + 1 was on
        # its way as the clock was stepped, at S + 2, a second later.
        # Before this fix, no tick came at all (the test timed out).
        self.assertIn(await self.stepAndTick(stream, "-30", 1), (-29, -28))
        self.assertIn(await self.stepAndTick(stream, "+3570", 2), (3601, 3602))
        back, ahead = _steps(stream.received)
        self.assertLess(abs(back + 30000), 250)
        self.assertLess(abs(ahead - 3600000), 250)

        # The connection that sat idle through the step still answers.
        answered = len(idle.received)
        assert idle.transport is not None
        idle.transport.write(
            b"GET /metrics HTTP/1.1\r\nHost: clock.example\r\nConnection: close\r\n\r\n"
        )
        await idle.lost
        metrics = idle.received[answered:]
        self.assertTrue(metrics.startswith(b"HTTP/1.1 200 OK\r\n"), metrics[:100])
        self.assertIn(b"\nclocksvc_clock_steps_total 2.0\n", metrics)

        process.signal("TERM")
        self.assertEqual(await process.exited, 0)
        lines = [json.loads(line) for line in self.log.read_text().splitlines()]
        stepLines = [line for line in lines if line.get("event") == "clock_step"]
        self.assertEqual(
            [round(line["step_ms"], -3) for line in stepLines], [-30000, 3600000]
        )
        # The message gives the step it measured, which is the 30 s asked
        # for give or take the time the reactor took to notice (as step_ms).
        said = re.search(r"stepped back by (\d+\.\d{3}) s", stepLines[0]["message"])
        assert said is not None, stepLines[0]["message"]
        # (trial's assertAlmostEqual takes places, not a delta.)
        self.assertLessEqual(
            abs(float(said.group(1)) * 1000 + stepLines[0]["step_ms"]), 1
        )
