# -*- test-case-name: tests.test_site,tests.test_page,tests.test_ntpserver -*-
"""
The keywords of clocksvc's public API that were renamed, still taken for a
while: each warns, as Twisted's deprecations do, and names the keyword that
replaces it.

C{clock} was once where an embedder's clocksvc read the time of day, and,
in L{listen<clocksvc.listen>}, where it ran its timers too; each is now
named for what it is: C{wallClock}, and C{timers}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from incremental import Version
from twisted.internet.interfaces import IReactorTime
from twisted.python.deprecate import deprecatedKeywordParameter

__all__ = ["CLOCK_RENAMED", "clockRenamed", "wallClockOf"]

_F = TypeVar("_F", bound=Callable[..., Any])

#: The release in which C{clock=} became C{wallClock=}.
CLOCK_RENAMED = Version("clocksvc", 0, 2, 0)


def clockRenamed(f: _F) -> _F:
    """
    Warn when C{f} is given its deprecated C{clock} keyword.

    @param f: a callable that takes C{wallClock}, and C{clock} as a
        deprecated keyword-only alias of it.
    @return: C{f}, warning with a L{DeprecationWarning} that names
        C{wallClock} whenever it is given C{clock}.
    """
    return deprecatedKeywordParameter(CLOCK_RENAMED, "clock", "wallClock")(f)


def wallClockOf(
    wallClock: IReactorTime | None, clock: IReactorTime | None
) -> IReactorTime | None:
    """
    @param wallClock: the wall clock a caller gave by its name, if any.
    @param clock: the same, given by its deprecated name, if it was.
    @return: the wall clock the caller gave, if any.
    @raise TypeError: if the caller gave both.
    """
    if clock is None:
        return wallClock
    if wallClock is not None:
        raise TypeError("clock is wallClock's deprecated name: give only wallClock")
    return clock
