# -*- test-case-name: tests.test_clockhealth -*-
"""
How good the server's clock is, as the kernel tells it.

On Linux, C{ntp_adjtime(2)} with C{modes = 0} only reads: whether a time
daemon (chrony, ntpd, systemd-timesyncd) keeps the clock synchronized, the
kernel's maximum and estimated error, and a pending leap second. It needs no
privilege, and no package on PyPI wraps it, so it is called here through
C{ctypes}. Elsewhere, or if the call fails, the state is unknown.

L{decodeTimex} is the pure part: it turns what the kernel answers into a
L{ClockState}. L{ClockHealth} is what the rest of clocksvc asks: it reads
through an injected reader (so tests set every state) at most once a second,
and says when the clock gains or loses synchronization.
"""

from __future__ import annotations

import ctypes
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

__all__ = [
    "STEP_THRESHOLD",
    "UNKNOWN",
    "ClockHealth",
    "ClockState",
    "StepWatch",
    "decodeTimex",
    "kernelClockReader",
    "readKernelClock",
]

# The service log's namespace, which the run layer writes as events.
_serviceLog = Logger(namespace="clocksvc.service")

# From <sys/timex.h>: the clock states ntp_adjtime returns, and those of the
# status bits it reports that decodeTimex reads, with STA_PLL (a daemon's
# phase lock), which the tests set as a daemon would.
TIME_OK, TIME_INS, TIME_DEL, TIME_OOP, TIME_WAIT, TIME_ERROR = range(6)
STA_PLL = 0x0001
STA_PPSFREQ = 0x0002
STA_PPSTIME = 0x0004
STA_INS = 0x0010
STA_DEL = 0x0020
STA_UNSYNC = 0x0040


@dataclass(frozen=True)
class ClockState:
    """
    The state of the server's clock.

    @ivar synchronized: whether a time source keeps it synchronized;
        L{None} if unknown.
    @ivar maxErrorMs: the kernel's bound on its error, in milliseconds;
        L{None} if unknown.
    @ivar estErrorMs: the kernel's estimate of its error, in milliseconds;
        L{None} if unknown.
    @ivar leap: a pending leap second: C{"none"}, C{"insert"},
        C{"delete"} (at the end of the UTC day), C{"in-progress"}, or
        C{"unknown"}.
    @ivar source: what disciplines the clock: C{"ntp"} (a time daemon),
        C{"pps"} (a pulse-per-second signal), C{"none"} (nothing does), or
        C{"unknown"}.
    """

    synchronized: bool | None
    maxErrorMs: float | None
    estErrorMs: float | None
    leap: str
    source: str

    def asJSON(self) -> dict[str, object]:
        """
        @return: the state as C{/healthz}'s C{clock} object.
        """
        return {
            "synchronized": self.synchronized,
            "max_error_ms": self.maxErrorMs,
            "est_error_ms": self.estErrorMs,
            "leap": self.leap,
            "source": self.source,
        }

    def structuredField(self) -> bytes:
        """
        @return: the state as the C{Clock-Status} field, an RFC 8941
            dictionary: C{sync=?1, max-error=1.25}, the error in
            milliseconds; with no C{max-error} when it is unknown.
        """
        sync = b"sync=?1" if self.synchronized else b"sync=?0"
        if self.maxErrorMs is None:
            return sync
        return sync + b", max-error=" + _decimal(self.maxErrorMs)


#: The state where the kernel cannot be asked.
UNKNOWN = ClockState(None, None, None, "unknown", "unknown")

# RFC 8941's decimals have at most 12 integer digits.
_LARGEST_DECIMAL = 999_999_999_999.999


def _decimal(value: float) -> bytes:
    """
    @return: C{value} as an RFC 8941 decimal: at most three fractional
        digits, at least one.
    """
    text = f"{min(max(value, 0.0), _LARGEST_DECIMAL):.3f}"
    text = text.rstrip("0")
    return (text + "0" if text.endswith(".") else text).encode()


def decodeTimex(state: int, status: int, maxError: int, estError: int) -> ClockState:
    """
    Decode what C{ntp_adjtime} answers.

    @param state: its return value: C{TIME_OK} ... C{TIME_ERROR}, or -1 if
        it failed.
    @param status: the C{status} bits of C{struct timex}.
    @param maxError: its C{maxerror}, in microseconds.
    @param estError: its C{esterror}, in microseconds.
    @return: the clock's state.
    """
    if not TIME_OK <= state <= TIME_ERROR:
        return UNKNOWN
    # The kernel says TIME_ERROR, and sets STA_UNSYNC, when no daemon has
    # told it the clock is right for long enough that its maximum error,
    # which grows by 500 ppm, has reached 16 s.
    synchronized = state != TIME_ERROR and not status & STA_UNSYNC
    if state == TIME_OOP:
        leap = "in-progress"
    elif status & STA_INS:
        leap = "insert"
    elif status & STA_DEL:
        leap = "delete"
    else:
        leap = "none"
    if not synchronized:
        source = "none"
    elif status & (STA_PPSTIME | STA_PPSFREQ):
        source = "pps"
    else:
        source = "ntp"
    return ClockState(synchronized, maxError / 1000, estError / 1000, leap, source)


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):
    """
    Linux's C{struct timex}, as C{<sys/timex.h>} lays it out.
    """

    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time", _Timeval),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 11),
    ]


def kernelClockReader(
    platform: str = sys.platform,
) -> Callable[[], ClockState]:
    """
    @param platform: the platform, as C{sys.platform} names it.
    @return: a reader of the kernel's clock state: C{ntp_adjtime} on Linux;
        elsewhere, or where the C library has none, one that says
        L{UNKNOWN}.
    """
    if not platform.startswith("linux"):
        return lambda: UNKNOWN
    try:
        call = ctypes.CDLL(None, use_errno=True).ntp_adjtime
    except (OSError, AttributeError):  # pragma: no cover (a libc without it)
        return lambda: UNKNOWN

    def read() -> ClockState:
        # modes = 0: read, never adjust; no privilege needed.
        timex = _Timex()
        state = call(ctypes.byref(timex))
        return decodeTimex(state, timex.status, timex.maxerror, timex.esterror)

    return read


#: Reads the kernel's clock state now.
readKernelClock = kernelClockReader()


class ClockHealth:
    """
    The server clock's state, read at most once a second, for every answer
    that reports it; and a service event when the clock gains or loses
    synchronization.
    """

    #: How long one reading serves, in seconds.
    INTERVAL = 1.0

    def __init__(
        self,
        timers: IReactorTime,
        read: Callable[[], ClockState] = readKernelClock,
        watch: StepWatch | None = None,
        wallClock: IReactorTime | None = None,
    ) -> None:
        """
        @param timers: the clock that measures how old a reading is (a
            monotonic one).
        @param read: reads the state now.
        @param watch: looks for a step of the wall clock at each reading.
        @param wallClock: the wall clock, which dates the readings that say
            synchronized (L{synchronizedAt}).
        """
        self._timers = timers
        self._read = read
        self._watch = watch
        self._wallClock = wallClock
        #: When the state was last read as synchronized, on the wall clock:
        #: an SNTP reply's reference timestamp. L{None} until it has been,
        #: or without a wall clock.
        self.synchronizedAt: float | None = None
        self._readAt = -math.inf
        self._state = UNKNOWN
        self._field = UNKNOWN.structuredField()
        self._first = True

    def state(self) -> ClockState:
        """
        @return: the clock's state, read within the last second.
        """
        self.field()
        return self._state

    def field(self) -> bytes:
        """
        Read the clock's state, if the last reading is a second old or
        more; every time answer asks, so this is the one call.

        @return: the C{Clock-Status} field of the state now; the same
            object while the state is the same.
        """
        now = self._timers.seconds()
        if not 0 <= now - self._readAt < self.INTERVAL:
            self._readAt = now
            if self._watch is not None:
                self._watch.look()
            state = self._read()
            if state.synchronized and self._wallClock is not None:
                self.synchronizedAt = self._wallClock.seconds()
            if state != self._state:
                self._changed(self._state, state)
                self._state = state
                self._field = state.structuredField()
        return self._field

    def _changed(self, old: ClockState, new: ClockState) -> None:
        first, self._first = self._first, False
        if first and new.synchronized:
            return
        if old.synchronized == new.synchronized and not first:
            return
        if new.synchronized:
            message = "the clock is synchronized"
            event = "clock_synchronized"
        elif new.synchronized is None:
            message = "the clock's state cannot be read"
            event = "clock_unknown"
        else:
            message = "the clock is not synchronized"
            event = "clock_unsynchronized"
        maxError = "unknown" if new.maxErrorMs is None else f"{new.maxErrorMs:g} ms"
        # Not "message": twisted.python.log's observers take that key for
        # their own, and overwrite it in the event every observer shares.
        _serviceLog.info(
            "{state} (maximum error {maxError})",
            event=event,
            state=message,
            maxError=maxError,
        )


#: A gap above this between the wall clock's progress and the monotonic
#: clock's, over a second, is a step, not the drift of a clock being slewed.
STEP_THRESHOLD = 0.25
#: How fast a slewed clock may drift from the monotonic one, in seconds a
#: second: the kernel's classic bound (500 ppm), which ntpd keeps to, and
#: chrony does but while correcting a large offset. Over a long gap between
#: two looks, drift is allowed for on top of L{STEP_THRESHOLD}.
SLEW_RATE = 0.0005

#: Told of each step of the wall clock, with its size in seconds: ahead if
#: positive, back if negative.
StepListener = Callable[[float], None]


class StepWatch:
    """
    Finds steps of the wall clock, by comparing its progress with the
    monotonic clock's between two looks, and tells its listeners of each.
    The stream's ticker looks each second while anyone streams, and
    L{ClockHealth} at each of its readings.
    """

    def __init__(self, wallClock: IReactorTime, timers: IReactorTime) -> None:
        """
        @param wallClock: the wall clock.
        @param timers: the monotonic clock.
        """
        self._wallClock = wallClock
        self._timers = timers
        self._listeners: list[StepListener] = []
        self._last = (wallClock.seconds(), timers.seconds())
        #: How many steps it has found.
        self.steps = 0

    def listen(self, listener: StepListener) -> None:
        """
        Tell C{listener} of every step from now on.
        """
        self._listeners.append(listener)

    def look(self) -> float | None:
        """
        Compare the clocks' progress since the last look.

        @return: the step since then, in seconds, if there was one.
        """
        wall, monotonic = self._wallClock.seconds(), self._timers.seconds()
        lastWall, lastMonotonic = self._last
        self._last = (wall, monotonic)
        step = (wall - lastWall) - (monotonic - lastMonotonic)
        if abs(step) <= STEP_THRESHOLD + SLEW_RATE * (monotonic - lastMonotonic):
            return None
        self.steps += 1
        _serviceLog.info(
            "the clock was stepped {way} by {size:.3f} s",
            event="clock_step",
            way="ahead" if step > 0 else "back",
            size=abs(step),
            details={"step_ms": round(step * 1000, 3)},
        )
        for listener in list(self._listeners):
            listener(step)
        return step
