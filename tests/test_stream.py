"""
Tests for L{clocksvc._web._stream}: the shared second ticker and C{/stream}.
"""

from __future__ import annotations

import json

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._clock._health import StepWatch
from clocksvc._web._site import buildSite
from clocksvc._web._stream import Ticker, stepEvent

from ._helpers import BILLENNIUM, RawConnection, clockAt, dechunk, useTimezone

STREAM_REQUEST = b"GET /stream HTTP/1.1\r\nHost: clock.example\r\n\r\n"


class TickerTests(SynchronousTestCase):
    """
    L{Ticker} calls its listeners at every second boundary, on one timer.
    """

    def setUp(self) -> None:
        self.clock = clockAt(BILLENNIUM + 0.25)
        self.ticker = Ticker(self.clock)
        self.ticks: list[tuple[int, float]] = []

    def listen(self, key: object = "a") -> None:
        self.ticker.subscribe(
            key, lambda second: self.ticks.append((second, self.clock.seconds()))
        )

    def test_boundaries(self) -> None:
        """
        The first tick comes at the next boundary, each one after it a
        second later, and the listener is told which second began.
        """
        self.listen()
        self.clock.advance(0.75)
        self.clock.advance(1)
        self.clock.advance(1)
        self.assertEqual(
            self.ticks,
            [
                (1000000001, 1000000001.0),
                (1000000002, 1000000002.0),
                (1000000003, 1000000003.0),
            ],
        )
        [call] = self.clock.calls
        self.assertEqual(call.getTime(), 1000000004)

    def test_noDrift(self) -> None:
        """
        Over an hour of ticks, each delivered 13 ms after its boundary, the
        ticks stay on the boundaries: none is lost, none doubled, and the
        next is always due at a whole second.
        """
        self.listen()
        self.clock.advance(0.763)
        for _ in range(3600):
            self.clock.advance(1)
        seconds = [second for second, _ in self.ticks]
        self.assertEqual(seconds, list(range(1000000001, 1000003602)))
        [call] = self.clock.calls
        self.assertEqual(call.getTime(), 1000003602)

    def test_skipsWhenLate(self) -> None:
        """
        A reactor held up for several seconds gets one late tick, then the
        next boundary still to come; missed boundaries are not replayed in a
        burst.
        """
        self.listen()
        self.clock.advance(3.9)
        self.assertEqual(self.ticks, [(1000000001, 1000000004.15)])
        [call] = self.clock.calls
        self.assertEqual(call.getTime(), 1000000005)

    def test_oneTimer(self) -> None:
        """
        Any number of listeners share one timer.
        """
        for key in range(100):
            self.listen(key)
        self.assertEqual(len(self.clock.calls), 1)
        self.clock.advance(0.75)
        self.assertEqual(len(self.ticks), 100)
        self.assertEqual(len(self.clock.calls), 1)

    def test_stopsWithLastListener(self) -> None:
        """
        The timer stops when the last listener leaves, and starts again with
        the next one.
        """
        self.listen("a")
        self.listen("b")
        self.ticker.unsubscribe("a")
        self.assertEqual(len(self.clock.calls), 1)
        self.ticker.unsubscribe("b")
        self.assertFalse(self.clock.calls)
        self.assertEqual(len(self.ticker), 0)
        self.ticker.unsubscribe("b")
        self.listen("c")
        [call] = self.clock.calls
        self.assertEqual(call.getTime(), 1000000001)


def events(data: bytes) -> list[dict[str, str]]:
    """
    @return: the server-sent events in C{data}, each as a field dictionary.
    """
    parsed = []
    for block in data.decode().split("\n\n"):
        if block:
            fields = dict(line.split(": ", 1) for line in block.split("\n"))
            parsed.append(fields)
    return parsed


class SteppedTickerTests(SynchronousTestCase):
    """
    A L{Ticker} whose timer runs on a monotonic clock goes on ticking,
    within a second, when the wall clock is stepped either way.
    """

    def setUp(self) -> None:
        self.wallClock = clockAt(BILLENNIUM + 0.25)
        self.timers = Clock()
        self.watch = StepWatch(self.wallClock, self.timers)
        self.steps: list[float] = []
        self.watch.listen(self.steps.append)
        self.ticker = Ticker(self.wallClock, self.timers, self.watch)
        self.ticks: list[tuple[int, float]] = []
        self.ticker.subscribe(
            "a", lambda second: self.ticks.append((second, self.timers.seconds()))
        )

    def advance(self, seconds: float) -> None:
        """
        Let both clocks run for C{seconds}.
        """
        self.wallClock.rightNow += seconds
        self.timers.advance(seconds)

    def test_together(self) -> None:
        """
        While the clocks agree, the ticks come at the wall clock's
        boundaries, on the monotonic clock's timer.
        """
        self.advance(0.75)
        self.advance(1)
        self.assertEqual(self.ticks, [(1000000001, 0.75), (1000000002, 1.75)])
        self.assertEqual(self.wallClock.calls, [])
        self.assertEqual(self.steps, [])

    def test_stepBack(self) -> None:
        """
        After a step back of 30 s, the timer still fires when due: the step
        is found, the second the wall clock is in ticks at once, and the
        ticks keep to its new boundaries, their seconds 30 lower.
        """
        self.advance(0.75)
        self.wallClock.rightNow -= 30.5
        self.advance(1)
        self.assertEqual(self.steps, [-30.5])
        self.assertEqual(self.ticks[1], (1000000001 - 30, 1.75))
        self.advance(0.5)
        self.assertEqual(self.ticks[2], (1000000001 - 29, 2.25))
        self.advance(1)
        self.assertEqual(self.ticks[3], (1000000001 - 28, 3.25))

    def test_stepAhead(self) -> None:
        """
        After a step ahead of an hour, the ticks go on from the new time,
        within a second.
        """
        self.advance(0.75)
        self.wallClock.rightNow += 3600.25
        self.advance(0.5)
        self.assertEqual(self.ticks, [(1000000001, 0.75)])
        self.advance(0.5)
        self.assertEqual(self.steps, [3600.25])
        self.assertEqual(self.ticks[1], (1000003602, 1.75))
        self.advance(0.75)
        self.assertEqual(self.ticks[2], (1000003603, 2.5))

    def test_sameTimer(self) -> None:
        """
        Through steps, the ticker keeps one timer.
        """
        self.advance(0.75)
        self.wallClock.rightNow -= 30
        self.advance(1)
        self.wallClock.rightNow += 100
        self.advance(1)
        self.assertEqual(len(self.timers.calls), 1)


class StreamTests(SynchronousTestCase):
    """
    C{/stream} sends one C{tick} event per second, from a real L{Site}.
    """

    def setUp(self) -> None:
        self.clock = clockAt(BILLENNIUM + 0.25)
        self.site = buildSite(self.clock)

    def assertOnlyIdleTimeout(self) -> None:
        """
        Assert that no tick is scheduled: the only call is the idle timeout
        of the kept-alive connection, 15 seconds from now.
        """
        self.assertEqual(
            [call.getTime() for call in self.clock.calls], [BILLENNIUM + 0.25 + 15]
        )

    def connect(self, request: bytes = STREAM_REQUEST) -> RawConnection:
        connection = RawConnection(self.site)
        connection.send(request)
        return connection

    def test_headers(self) -> None:
        """
        The answer is an uncached event stream that any page may read, and
        it opens by asking reconnecting clients to wait one second.
        """
        connection = self.connect()
        head, _, body = connection.received().partition(b"\r\n\r\n")
        self.assertIn(b"\r\nContent-Type: text/event-stream; charset=utf-8", head)
        self.assertIn(b"\r\nCache-Control: no-store", head)
        self.assertIn(b"\r\nAccess-Control-Allow-Origin: *", head)
        self.assertEqual(dechunk(body), b"retry: 1000\n\n")

    def test_events(self) -> None:
        """
        At each boundary comes one event: C{id} the second, C{event: tick},
        and the time document of that very second.
        """
        connection = self.connect()
        connection.received()
        self.clock.advance(0.75)
        self.clock.advance(1)
        [first, second] = events(dechunk(connection.received()))
        self.assertEqual((first["id"], first["event"]), ("1000000001", "tick"))
        self.assertEqual((second["id"], second["event"]), ("1000000002", "tick"))
        document = json.loads(second["data"])
        self.assertEqual(document["unixtime"], 1000000002)
        self.assertEqual(document["utc_datetime"], "2001-09-09T01:46:42.000000+00:00")
        self.assertEqual(document["timezone"], "UTC")
        self.assertEqual(document["client_ip"], "127.0.0.1")

    def test_nothingBetweenBoundaries(self) -> None:
        """
        Nothing is sent between boundaries.
        """
        connection = self.connect()
        connection.received()
        self.clock.advance(0.7499)
        self.assertEqual(connection.received(), b"")

    def test_timezone(self) -> None:
        """
        C{?tz=} picks the zone of the documents, as for C{/now}.
        """
        connection = self.connect(
            b"GET /stream?tz=asia/kathmandu HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        connection.received()
        self.clock.advance(0.75)
        [event] = events(dechunk(connection.received()))
        document = json.loads(event["data"])
        self.assertEqual(document["timezone"], "Asia/Kathmandu")
        self.assertEqual(document["datetime"], "2001-09-09T07:31:41.000000+05:45")

    def test_serverZone(self) -> None:
        """
        Without C{?tz=}, the documents are in the server's zone: the local
        one, when it names none, as its page's and C{/now}'s are.
        """
        useTimezone(self, "Asia/Tokyo")
        self.site = buildSite(self.clock)
        connection = self.connect()
        connection.received()
        self.clock.advance(0.75)
        [event] = events(dechunk(connection.received()))
        document = json.loads(event["data"])
        self.assertEqual(document["timezone"], "Asia/Tokyo")
        self.assertEqual(document["datetime"], "2001-09-09T10:46:41.000000+09:00")
        page = RawConnection(self.site)
        page.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(
            page.received().endswith(
                b"<html><body>Sun Sep  9 10:46:41 2001</body></html>"
            )
        )

    def test_badZone(self) -> None:
        """
        A bad C{tz} is answered at once with the JSON error, no stream.
        """
        connection = self.connect(b"GET /stream?tz=Nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
        head, _, body = connection.received().partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 404 "), head)
        self.assertEqual(json.loads(body), {"error": "unknown location"})
        self.assertOnlyIdleTimeout()

    def test_disconnectForgets(self) -> None:
        """
        A client that goes away is forgotten at once: with it the last
        listener goes, and nothing is left scheduled.
        """
        connection = self.connect()
        self.clock.advance(0.75)
        connection.disconnect()
        self.assertFalse(self.clock.calls)
        self.clock.advance(10)
        self.assertEqual(connection.received().count(b"event: tick"), 1)

    def test_manyClientsOneTimer(self) -> None:
        """
        Many clients share one timer, and each gets every tick; the timer
        outlives a client that leaves while others stay.
        """
        connections = [self.connect() for _ in range(20)]
        self.assertEqual(len(self.clock.calls), 1)
        self.clock.advance(0.75)
        for connection in connections:
            self.assertEqual(connection.received().count(b"event: tick"), 1)
        connections.pop().disconnect()
        self.assertEqual(len(self.clock.calls), 1)
        self.clock.advance(1)
        for connection in connections:
            self.assertEqual(connection.received().count(b"id: 1000000002\n"), 1)
        for connection in connections:
            connection.disconnect()
        self.assertFalse(self.clock.calls)

    def test_head(self) -> None:
        """
        HEAD answers the stream's headers and ends, subscribing nothing.
        """
        connection = self.connect(b"HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        head = connection.received()
        self.assertTrue(head.startswith(b"HTTP/1.1 200 OK\r\n"), head)
        self.assertIn(b"\r\nContent-Type: text/event-stream; charset=utf-8", head)
        self.assertTrue(head.endswith(b"\r\n\r\n"), head)
        self.assertOnlyIdleTimeout()


class StreamStepTests(SynchronousTestCase):
    """
    C{/stream} tells its clients of a step of the wall clock.
    """

    def test_stepEvent(self) -> None:
        """
        A step is a C{step} event with the step in milliseconds, before the
        first tick of the new time.
        """
        wallClock, timers = clockAt(BILLENNIUM + 0.25), Clock()
        site = buildSite(wallClock, timers=timers)
        connection = RawConnection(site)
        connection.send(STREAM_REQUEST)
        connection.received()
        wallClock.rightNow -= 30
        wallClock.rightNow += 0.75
        timers.advance(0.75)
        step, tick = events(dechunk(connection.received()))
        self.assertEqual(step, {"event": "step", "data": '{"step_ms":-30000.0}'})
        self.assertEqual((tick["event"], tick["id"]), ("tick", str(BILLENNIUM - 29)))

    def test_stepEventBytes(self) -> None:
        """
        The event is rounded to the microsecond, and ahead is positive.
        """
        self.assertEqual(
            stepEvent(3600.0000004), b'event: step\ndata: {"step_ms":3600000.0}\n\n'
        )
