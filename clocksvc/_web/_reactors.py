# -*- test-case-name: tests.test_page -*-
"""
The global reactor, imported only when a caller did not supply its own.

Importing C{twisted.internet.reactor} installs the default reactor as a side
effect, which would take the choice of reactor away from an application that
embeds clocksvc; so nothing in clocksvc imports it at module level.
"""

from __future__ import annotations

from typing import cast

from twisted.internet.interfaces import IReactorTCP, IReactorTime

__all__ = ["defaultClock", "defaultReactor"]


def defaultReactor() -> IReactorTCP:
    """
    @return: the global reactor, to listen with.
    """
    from twisted.internet import reactor

    # The reactor module is typed as a module; at run time it is the installed
    # reactor, which provides IReactorTCP.
    return cast(IReactorTCP, reactor)


def defaultClock() -> IReactorTime:
    """
    @return: the global reactor, to read the time from.
    """
    from twisted.internet import reactor

    # As above: the installed reactor provides IReactorTime.
    return cast(IReactorTime, reactor)
