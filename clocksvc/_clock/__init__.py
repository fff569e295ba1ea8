# -*- test-case-name: tests.test_clockhealth,tests.test_reactors -*-
"""
clocksvc's clock layer: the server's own clock, which every answer is
dated by and every timer runs on. How good it is, as the kernel tells it
(L{ClockHealth}, L{ClockState}, L{readKernelClock}), when it is stepped
(L{StepWatch}), and its two faces: the time of day (L{WallClock}) beside a
reactor that schedules on the monotonic clock (L{useMonotonicTime}); and
the global reactor, imported only when a caller supplied none
(L{defaultReactor}, L{defaultWallClock}).

It imports Twisted and the standard library, and nothing of clocksvc above
the time layer.
"""

from ._health import (
    STEP_THRESHOLD,
    UNKNOWN,
    ClockHealth,
    ClockState,
    StepWatch,
    decodeTimex,
    kernelClockReader,
    readKernelClock,
)
from ._reactors import WallClock, defaultReactor, defaultWallClock, useMonotonicTime

__all__ = [
    "STEP_THRESHOLD",
    "UNKNOWN",
    "ClockHealth",
    "ClockState",
    "StepWatch",
    "WallClock",
    "decodeTimex",
    "defaultReactor",
    "defaultWallClock",
    "kernelClockReader",
    "readKernelClock",
    "useMonotonicTime",
]
