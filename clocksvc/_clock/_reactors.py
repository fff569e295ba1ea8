# -*- test-case-name: tests.test_reactors,tests.test_private,tests.test_page -*-
"""
The global reactor, imported only when a caller did not supply its own; and
clocksvc's two clocks.

Importing C{twisted.internet.reactor} installs the default reactor as a side
effect, which would take the choice of reactor away from an application that
embeds clocksvc; so nothing in clocksvc imports it at module level.

A time service needs two clocks: one that schedules (deadlines, idle
timeouts, the drain, the ticker's next second), which must never jump, and
one that tells the time of day, which does whenever the system clock is
stepped. Twisted schedules on C{reactor.seconds()}, which is C{time.time()}:
a step of the wall clock fires every timer at once, or stalls them all.
L{useMonotonicTime} makes a reactor schedule on C{time.monotonic()} instead,
and L{WallClock} tells the time of day beside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, cast

from twisted.internet.interfaces import IDelayedCall, IReactorTCP, IReactorTime
from zope.interface import implementer

__all__ = ["WallClock", "defaultReactor", "defaultWallClock", "useMonotonicTime"]


def defaultReactor() -> IReactorTCP:
    """
    @return: the global reactor, to listen with.
    """
    from twisted.internet import reactor

    # The reactor module is typed as a module; at run time it is the installed
    # reactor, which provides IReactorTCP.
    return cast(IReactorTCP, reactor)


def defaultWallClock() -> IReactorTime:
    """
    @return: the global reactor, to read the time of day from.
    """
    from twisted.internet import reactor

    # As above: the installed reactor provides IReactorTime.
    return cast(IReactorTime, reactor)


@implementer(IReactorTime)
class WallClock:
    """
    The time of day, from the system's clock, beside a reactor that
    schedules: C{seconds()} is C{time.time()}, and C{callLater} is the
    reactor's, so that a delay is measured on the reactor's clock.
    """

    def __init__(self, timers: IReactorTime, now: Callable[[], float] = time.time):
        """
        @param timers: the reactor that schedules.
        @param now: the time of day, in seconds since the epoch.
        """
        self._timers = timers
        self.seconds = now

    def callLater(
        self, delay: float, callable: Callable[..., Any], *args: object, **kw: object
    ) -> IDelayedCall:
        return self._timers.callLater(delay, callable, *args, **kw)

    def getDelayedCalls(self) -> Sequence[IDelayedCall]:
        return self._timers.getDelayedCalls()


def useMonotonicTime(reactor: Any) -> bool:
    """
    Make C{reactor} schedule on C{time.monotonic()}, so that a step of the
    system's clock neither fires its timers early nor holds them back.

    Twisted's reactors (C{twisted.internet.base.ReactorBase}) read
    C{self.seconds()} to stamp each delayed call and to decide which are
    due and how long to wait for the next: the one method, replaced on the
    instance, moves all of it to the monotonic clock. Only an entry point may
    do this, and only before anything is scheduled: a call scheduled already
    holds a time of the old clock. L{tests.test_private} checks that
    Twisted still reads the time this way.

    @param reactor: a reactor that has scheduled nothing yet.
    @return: whether it now schedules on the monotonic clock; not if it has
        calls scheduled, which are then left as they are.
    """
    if reactor.seconds is time.monotonic:
        return True
    if reactor.getDelayedCalls():
        return False
    reactor.seconds = time.monotonic
    return True
