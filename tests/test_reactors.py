"""
Tests for L{clocksvc._clock._reactors}: the wall clock beside a reactor, and a
reactor moved to the monotonic clock.
"""

from __future__ import annotations

import time

from twisted.internet.interfaces import IReactorTime
from twisted.internet.selectreactor import SelectReactor
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from clocksvc._clock._reactors import WallClock, useMonotonicTime


class WallClockTests(SynchronousTestCase):
    """
    L{WallClock} tells the time of day, and schedules on its reactor.
    """

    def test_timeOfDay(self) -> None:
        """
        By default it is the system's clock, whatever the reactor's says.
        """
        wallClock = WallClock(Clock())
        before = time.time()
        now = wallClock.seconds()
        self.assertLessEqual(before, now)
        self.assertLessEqual(now, time.time())

    def test_schedulesOnReactor(self) -> None:
        """
        Its timers are the reactor's, their delays on the reactor's clock.
        """
        timers = Clock()
        wallClock = WallClock(timers, lambda: 1e9)
        self.assertTrue(verifyObject(IReactorTime, wallClock))
        ran: list[int] = []
        call = wallClock.callLater(2, ran.append, 1)
        self.assertEqual(wallClock.getDelayedCalls(), [call])
        self.assertEqual(call.getTime(), 2)
        timers.advance(2)
        self.assertEqual((ran, wallClock.seconds()), ([1], 1e9))


class UseMonotonicTimeTests(SynchronousTestCase):
    """
    L{useMonotonicTime} moves a reactor that has scheduled nothing to the
    monotonic clock.
    """

    def reactor(self) -> SelectReactor:
        reactor = SelectReactor()
        self.addCleanup(reactor.waker.connectionLost, None)
        self.addCleanup(reactor.removeReader, reactor.waker)
        return reactor

    def test_moved(self) -> None:
        """
        Its timers are then stamped by C{time.monotonic()}; doing it again
        changes nothing.
        """
        reactor = self.reactor()
        self.assertTrue(useMonotonicTime(reactor))
        self.assertTrue(useMonotonicTime(reactor))
        before = time.monotonic()
        call = reactor.callLater(10, lambda: None)
        self.assertLessEqual(before + 10, call.getTime())
        self.assertLessEqual(call.getTime(), time.monotonic() + 10)
        call.cancel()

    def test_scheduled(self) -> None:
        """
        A reactor with calls scheduled already is left as it is: they hold
        times of its own clock.
        """
        reactor = self.reactor()
        call = reactor.callLater(10, lambda: None)
        self.assertFalse(useMonotonicTime(reactor))
        self.assertNotEqual(reactor.seconds, time.monotonic)
        call.cancel()
