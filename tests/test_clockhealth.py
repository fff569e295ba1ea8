"""
Tests for L{clocksvc._clock._health} and L{clocksvc._web._health}: the
server clock's state as the kernel tells it, in every answer that reports
it; steps of the wall clock; and C{/readyz}.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from typing import Any

from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SkipTest, SynchronousTestCase
from twisted.web.resource import Resource

from clocksvc._clock._health import (
    STA_DEL,
    STA_INS,
    STA_PLL,
    STA_PPSTIME,
    STA_UNSYNC,
    TIME_DEL,
    TIME_ERROR,
    TIME_INS,
    TIME_OK,
    TIME_OOP,
    UNKNOWN,
    ClockHealth,
    ClockState,
    StepWatch,
    decodeTimex,
    kernelClockReader,
)
from clocksvc._http import ClockSite, Limits
from clocksvc._run._endpoints import parseEndpoints
from clocksvc._run._options import Options
from clocksvc._run._service import ClockService
from clocksvc._web._health import Readiness
from clocksvc._web._site import buildAdminSite, buildSite, clockStateOf

from ._helpers import (
    BILLENNIUM,
    SYNCHRONIZED,
    UNSYNCHRONIZED,
    RawConnection,
    capturedEvents,
    clockAt,
    keepZoneDatabase,
    stubTreq,
)

URL = "http://clock.example"


class DecodeTests(SynchronousTestCase):
    """
    L{decodeTimex} turns what C{ntp_adjtime} answers into a L{ClockState}.
    """

    def test_synchronized(self) -> None:
        """
        C{TIME_OK} without C{STA_UNSYNC}: synchronized by a time daemon, its
        errors in milliseconds.
        """
        self.assertEqual(
            decodeTimex(TIME_OK, STA_PLL, 1250, 500),
            ClockState(True, 1.25, 0.5, "none", "ntp"),
        )

    def test_unsynchronized(self) -> None:
        """
        C{TIME_ERROR} with C{STA_UNSYNC} and a 16 s bound, as this project's
        machine reports: not synchronized, and nothing disciplines it.
        """
        self.assertEqual(
            decodeTimex(TIME_ERROR, STA_UNSYNC, 16_000_000, 16_000_000),
            ClockState(False, 16000.0, 16000.0, "none", "none"),
        )

    def test_unsyncBitAlone(self) -> None:
        """
        C{STA_UNSYNC} makes the clock unsynchronized whatever the state.
        """
        self.assertFalse(decodeTimex(TIME_OK, STA_UNSYNC, 100, 10).synchronized)

    def test_leapSeconds(self) -> None:
        """
        A leap second to insert or delete at the end of the day, or one
        under way, is reported.
        """
        self.assertEqual(decodeTimex(TIME_INS, STA_INS, 1, 1).leap, "insert")
        self.assertEqual(decodeTimex(TIME_DEL, STA_DEL, 1, 1).leap, "delete")
        self.assertEqual(decodeTimex(TIME_OOP, STA_INS, 1, 1).leap, "in-progress")
        self.assertTrue(decodeTimex(TIME_OOP, STA_INS, 1, 1).synchronized)

    def test_pps(self) -> None:
        """
        A clock disciplined by a pulse-per-second signal says so.
        """
        self.assertEqual(decodeTimex(TIME_OK, STA_PPSTIME, 1, 1).source, "pps")

    def test_failed(self) -> None:
        """
        A failed call (-1), or a state this code does not know, is
        L{UNKNOWN}.
        """
        self.assertIs(decodeTimex(-1, 0, 0, 0), UNKNOWN)
        self.assertIs(decodeTimex(6, 0, 0, 0), UNKNOWN)


class StructuredFieldTests(SynchronousTestCase):
    """
    L{ClockState.structuredField} is C{Clock-Status}, an RFC 8941
    dictionary.
    """

    def test_synchronized(self) -> None:
        """
        C{sync=?1} and the maximum error in milliseconds.
        """
        self.assertEqual(SYNCHRONIZED.structuredField(), b"sync=?1, max-error=1.25")

    def test_unsynchronized(self) -> None:
        """
        C{sync=?0}, and a decimal keeps at least one fractional digit.
        """
        self.assertEqual(
            UNSYNCHRONIZED.structuredField(), b"sync=?0, max-error=16000.0"
        )

    def test_unknown(self) -> None:
        """
        An unknown state is not synchronized, with no bound.
        """
        self.assertEqual(UNKNOWN.structuredField(), b"sync=?0")

    def test_decimals(self) -> None:
        """
        At most three fractional digits and twelve integer ones, as RFC
        8941's decimals allow.
        """
        state = ClockState(True, 0.0004, 0.0, "none", "ntp")
        self.assertEqual(state.structuredField(), b"sync=?1, max-error=0.0")
        state = ClockState(True, 1e15, 0.0, "none", "ntp")
        self.assertEqual(
            state.structuredField(), b"sync=?1, max-error=999999999999.999"
        )


class KernelTests(SynchronousTestCase):
    """
    The real kernel's answer, and the platforms without one.
    """

    def test_plausible(self) -> None:
        """
        On Linux, C{ntp_adjtime} answers with a state whose values make
        sense: a known source, errors from 0 to the kernel's 16 s cap (a
        little more while it grows), the estimate within the bound.
        """
        if not sys.platform.startswith("linux"):
            raise SkipTest("ntp_adjtime is Linux's")
        state = kernelClockReader()()
        self.assertIn(state.synchronized, (True, False))
        self.assertIn(state.source, ("ntp", "pps", "none"))
        self.assertIn(state.leap, ("none", "insert", "delete", "in-progress"))
        assert state.maxErrorMs is not None and state.estErrorMs is not None
        self.assertGreaterEqual(state.maxErrorMs, 0)
        self.assertLessEqual(state.maxErrorMs, 16_500)
        self.assertGreaterEqual(state.estErrorMs, 0)
        self.assertLessEqual(state.estErrorMs, 16_500)
        self.assertEqual(state.synchronized, state.source != "none")

    def test_elsewhere(self) -> None:
        """
        Elsewhere, the state is unknown.
        """
        self.assertIs(kernelClockReader("darwin")(), UNKNOWN)
        self.assertIs(kernelClockReader("win32")(), UNKNOWN)


class ClockHealthTests(SynchronousTestCase):
    """
    L{ClockHealth} reads at most once a second, and logs each change of
    synchronization.
    """

    def setUp(self) -> None:
        self.timers = Clock()
        self.states = [SYNCHRONIZED]
        self.reads = 0
        self.events = capturedEvents(self)

        def read() -> ClockState:
            self.reads += 1
            return self.states[0]

        self.health = ClockHealth(self.timers, read)

    def test_onceASecond(self) -> None:
        """
        Within a second, the reading is reused; after it, read again.
        """
        for _ in range(100):
            self.assertEqual(self.health.state(), SYNCHRONIZED)
        self.assertEqual(self.reads, 1)
        self.timers.advance(0.999)
        self.health.state()
        self.assertEqual(self.reads, 1)
        self.timers.advance(0.001)
        self.health.state()
        self.assertEqual(self.reads, 2)

    def test_sameField(self) -> None:
        """
        The field is the same object while the state holds, and follows a
        change.
        """
        field = self.health.field()
        self.assertIs(self.health.field(), field)
        self.states[0] = UNSYNCHRONIZED
        self.timers.advance(1)
        self.assertEqual(self.health.field(), b"sync=?0, max-error=16000.0")

    def test_events(self) -> None:
        """
        Starting synchronized says nothing; losing and regaining
        synchronization are service events; a change of error alone is not.
        """
        self.health.state()
        self.assertEqual(self.events, [])
        self.states[0] = UNSYNCHRONIZED
        self.timers.advance(1)
        self.health.state()
        self.states[0] = ClockState(False, 16001.0, 16001.0, "none", "none")
        self.timers.advance(1)
        self.health.state()
        self.states[0] = SYNCHRONIZED
        self.timers.advance(1)
        self.health.state()
        self.states[0] = UNKNOWN
        self.timers.advance(1)
        self.health.state()
        self.assertEqual(
            [event["event"] for event in self.events],
            ["clock_unsynchronized", "clock_synchronized", "clock_unknown"],
        )

    def test_startUnsynchronized(self) -> None:
        """
        Starting unsynchronized is an event at the first reading.
        """
        self.states[0] = UNSYNCHRONIZED
        self.health.state()
        [event] = self.events
        self.assertEqual(event["event"], "clock_unsynchronized")
        self.assertEqual(event["maxError"], "16000 ms")


class StepWatchTests(SynchronousTestCase):
    """
    L{StepWatch} finds a step where the wall clock and the monotonic clock
    moved apart by more than a quarter of a second.
    """

    def setUp(self) -> None:
        self.wallClock = clockAt(BILLENNIUM)
        self.timers = Clock()
        self.watch = StepWatch(self.wallClock, self.timers)
        self.steps: list[float] = []
        self.watch.listen(self.steps.append)
        self.events = capturedEvents(self)

    def advance(self, seconds: float, step: float = 0.0) -> None:
        self.timers.advance(seconds)
        self.wallClock.rightNow += seconds + step

    def test_noStep(self) -> None:
        """
        Clocks that move together, or drift apart by up to 0.25 s between
        two looks (a clock being slewed), make no step.
        """
        self.advance(10)
        self.assertIsNone(self.watch.look())
        self.advance(1, 0.25)
        self.assertIsNone(self.watch.look())
        self.assertEqual((self.steps, self.watch.steps, self.events), ([], 0, []))

    def test_slewedOverLongGap(self) -> None:
        """
        Over a long gap between looks, the drift of a clock slewed at up to
        500 ppm is no step; beyond it, a gap is.
        """
        self.advance(3600, 0.25 + 3600 * 0.0005)
        self.assertIsNone(self.watch.look())
        self.advance(3600, 0.26 + 3600 * 0.0005)
        self.assertIsNotNone(self.watch.look())

    def test_stepBack(self) -> None:
        """
        A step back is found, with its size, once; its listeners hear it,
        and it is logged as C{clock_step} with C{step_ms}.
        """
        self.advance(1, -30)
        self.assertEqual(self.watch.look(), -30)
        self.assertIsNone(self.watch.look())
        self.assertEqual(self.steps, [-30])
        [event] = self.events
        self.assertEqual(event["event"], "clock_step")
        self.assertEqual(event["details"], {"step_ms": -30000})
        self.assertEqual(event["way"], "back")

    def test_stepAhead(self) -> None:
        """
        A step ahead is found too.
        """
        self.advance(0.5, 3600)
        self.assertEqual(self.watch.look(), 3600)
        self.assertEqual(self.watch.steps, 1)

    def test_healthLooks(self) -> None:
        """
        Each reading of L{ClockHealth} looks for a step, so steps are found
        while nobody streams.
        """
        health = ClockHealth(self.timers, lambda: SYNCHRONIZED, self.watch)
        health.state()
        self.advance(2, 5)
        health.state()
        self.assertEqual(self.steps, [5])


def _always(state: ClockState) -> Callable[[], ClockState]:
    return lambda: state


def _get(site: Any, path: str) -> tuple[int, dict[str, Any]]:
    tester = SynchronousTestCase()
    response = tester.successResultOf(stubTreq(site.resource).get(URL + path))
    return response.code, json.loads(tester.successResultOf(response.content()))


class ReadyTests(SynchronousTestCase):
    """
    C{/readyz} says whether to send the server traffic.
    """

    def ready(
        self, state: ClockState, readiness: Readiness | None = None
    ) -> tuple[int, dict[str, Any]]:
        site = buildSite(
            clockAt(BILLENNIUM), readClock=lambda: state, readiness=readiness
        )
        return _get(site, "/readyz")

    def test_default(self) -> None:
        """
        By default the clock's state is reported but does not matter:
        ready even with an unsynchronized clock.
        """
        self.assertEqual(
            self.ready(UNSYNCHRONIZED),
            (200, {"status": "ready", "clock": UNSYNCHRONIZED.asJSON()}),
        )

    def test_requireSynchronized(self) -> None:
        """
        With C{requireSynchronized}: 503 while the clock is unsynchronized
        or its state unknown, 200 once synchronized.
        """
        readiness = Readiness(requireSynchronized=True)
        for state in (UNSYNCHRONIZED, UNKNOWN):
            self.assertEqual(
                self.ready(state, readiness),
                (
                    503,
                    {
                        "status": "not ready",
                        "reason": "clock not synchronized",
                        "clock": state.asJSON(),
                    },
                ),
            )
        self.assertEqual(self.ready(SYNCHRONIZED, readiness)[0], 200)

    def test_maxError(self) -> None:
        """
        With a bound too: 503 while the maximum error is above it.
        """
        self.assertEqual(self.ready(SYNCHRONIZED, Readiness(True, 1.25))[0], 200)
        code, answer = self.ready(SYNCHRONIZED, Readiness(True, 1.0))
        self.assertEqual((code, answer["reason"]), (503, "clock error above 1 ms"))
        state = ClockState(True, None, None, "none", "ntp")
        self.assertEqual(self.ready(state, Readiness(True, 1.0))[0], 503)

    def test_draining(self) -> None:
        """
        While draining: 503 C{draining}, whatever the clock.
        """
        site = buildSite(clockAt(BILLENNIUM), readClock=lambda: SYNCHRONIZED)
        site.drain()
        self.assertEqual(
            _get(site, "/readyz"),
            (503, {"status": "draining", "clock": SYNCHRONIZED.asJSON()}),
        )

    def test_admin(self) -> None:
        """
        C{--admin-listen} moves C{/readyz} with C{/healthz}, on the same
        state and drain.
        """
        site = buildSite(
            clockAt(BILLENNIUM),
            readClock=lambda: UNSYNCHRONIZED,
            readiness=Readiness(True),
            adminResources=False,
        )
        admin = buildAdminSite(site)
        response = self.successResultOf(stubTreq(site.resource).get(URL + "/readyz"))
        self.assertEqual(response.code, 404)
        self.assertEqual(_get(admin, "/readyz")[0], 503)
        self.assertEqual(_get(admin, "/healthz")[1]["clock"], UNSYNCHRONIZED.asJSON())


class ClockStatusTests(SynchronousTestCase):
    """
    Every time answer carries C{Clock-Status}, which pages may read.
    """

    PATHS = (
        "/",
        "/now",
        "/now.txt",
        "/now?t1=5",
        "/api/timezone/Europe/Berlin",
        "/.well-known/time",
    )

    def test_everyTimeAnswer(self) -> None:
        """
        The resources' answers carry the state, in each state.
        """
        for state in (SYNCHRONIZED, UNSYNCHRONIZED, UNKNOWN):
            site = buildSite(clockAt(BILLENNIUM), readClock=_always(state))
            for path in self.PATHS:
                response = self.successResultOf(
                    stubTreq(site.resource).get(
                        URL + path, headers={"accept": "application/json"}
                    )
                )
                self.assertEqual(
                    response.headers.getRawHeaders(b"clock-status"),
                    [state.structuredField()],
                    path,
                )
                exposed = b", ".join(
                    response.headers.getRawHeaders(b"access-control-expose-headers")
                )
                self.assertIn(b"clock-status", exposed.lower(), path)

    def test_quickAnswers(self) -> None:
        """
        The quick answers carry it too, and follow a change of state within
        the second they cache their head for.
        """
        clock = clockAt(BILLENNIUM)
        states = [UNSYNCHRONIZED]
        site = buildSite(clock, readClock=lambda: states[0])
        request = b"GET /now HTTP/1.1\r\nHost: clock.example\r\n\r\n"
        connection = RawConnection(site)
        connection.send(request)
        self.assertIn(
            b"\r\nClock-Status: sync=?0, max-error=16000.0\r\n", connection.received()
        )
        states[0] = SYNCHRONIZED
        clock.advance(1)
        connection = RawConnection(site)
        connection.send(request)
        self.assertIn(
            b"\r\nClock-Status: sync=?1, max-error=1.25\r\n", connection.received()
        )

    def test_exchangeCarriesBound(self) -> None:
        """
        The C{?t1=} document carries the bound, so that one exchange gives a
        client its whole uncertainty.
        """
        site = buildSite(clockAt(BILLENNIUM), readClock=lambda: UNSYNCHRONIZED)
        _, document = _get(site, "/now?t1=5")
        self.assertEqual(
            (document["clock_synchronized"], document["clock_max_error_ms"]),
            (False, 16000.0),
        )


class ClockMetricsTests(SynchronousTestCase):
    """
    C{/metrics} reports the clock's state and steps.
    """

    def metrics(self, site: Any) -> dict[str, float]:
        response = self.successResultOf(stubTreq(site.resource).get(URL + "/metrics"))
        text = self.successResultOf(response.content()).decode()
        return {
            line.split()[0]: float(line.split()[1])
            for line in text.splitlines()
            if line.startswith("clocksvc_clock_")
        }

    def test_states(self) -> None:
        """
        Synchronized is 1 or 0, errors in seconds; unknown is NaN.
        """
        site = buildSite(clockAt(BILLENNIUM), readClock=lambda: SYNCHRONIZED)
        metrics = self.metrics(site)
        self.assertEqual(metrics["clocksvc_clock_synchronized"], 1)
        self.assertEqual(metrics["clocksvc_clock_max_error_seconds"], 0.00125)
        self.assertEqual(metrics["clocksvc_clock_estimated_error_seconds"], 0.0005)
        self.assertEqual(metrics["clocksvc_clock_steps_total"], 0)
        site = buildSite(clockAt(BILLENNIUM), readClock=lambda: UNSYNCHRONIZED)
        self.assertEqual(self.metrics(site)["clocksvc_clock_synchronized"], 0)
        site = buildSite(clockAt(BILLENNIUM), readClock=lambda: UNKNOWN)
        metrics = self.metrics(site)
        self.assertTrue(math.isnan(metrics["clocksvc_clock_synchronized"]))
        self.assertTrue(math.isnan(metrics["clocksvc_clock_max_error_seconds"]))

    def test_steps(self) -> None:
        """
        Each step of the wall clock is counted.
        """
        wallClock, timers = clockAt(BILLENNIUM), Clock()
        site = buildSite(wallClock, timers=timers, readClock=lambda: SYNCHRONIZED)
        wallClock.rightNow -= 30
        timers.advance(1)
        wallClock.advance(1)
        self.assertEqual(self.metrics(site)["clocksvc_clock_steps_total"], 1)


class ServiceTests(SynchronousTestCase):
    """
    clocksvc's service reads the clock's state as soon as it serves.
    """

    def test_loggedOnceServing(self) -> None:
        """
        Once every endpoint listens, the log says if the clock is not
        synchronized, and the site's answers carry that state.
        """
        events = capturedEvents(self)
        options = Options()
        options.parseOptions(["--access-log", "off"])
        memory = MemoryReactorClock()
        keepZoneDatabase(self)
        top = ClockService(
            memory,
            options,
            parseEndpoints(memory, ["tcp:0:interface=127.0.0.1"]),
            readClock=lambda: UNSYNCHRONIZED,
        )
        self.assertEqual(events, [])
        top.startService()
        self.assertEqual(
            [event["event"] for event in events if event["event"].startswith("clock")],
            ["clock_unsynchronized"],
        )
        self.assertIs(clockStateOf(top.site), UNSYNCHRONIZED)
        self.successResultOf(top.stopService())

    def test_notBuilt(self) -> None:
        """
        A site that L{buildSite} did not build has no clock state to tell,
        nor an admin site.
        """
        site = ClockSite(Resource(), Clock(), Limits())
        self.assertRaises(ValueError, clockStateOf, site)
        self.assertRaises(ValueError, buildAdminSite, site)
