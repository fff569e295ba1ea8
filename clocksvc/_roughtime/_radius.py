# -*- test-case-name: tests.test_roughtime_server -*-
"""
RADI from the server clock's health (RFC 10049 section 5.2.5): the true
time must lie within C{(MIDP - RADI, MIDP + RADI)}, RADI is whole seconds
and never 0.
"""

from __future__ import annotations

import math

__all__ = ["LEAP_RADIUS", "UNSYNCHRONIZED_RADIUS", "radiusFor"]

#: The radius of an unsynchronized clock, or one whose state is unknown: a
#: day. No bound is known then; the radius says so to a client, which with
#: a few servers' answers ignores this one (section 7.2).
UNSYNCHRONIZED_RADIUS = 86400
#: Section 5.2.5: "Servers that do not have any leap second information
#: SHOULD set the value of RADI to at least 3".
LEAP_RADIUS = 3


def radiusFor(
    synchronized: bool | None,
    maxErrorMs: float | None,
    leap: str = "none",
    requireSynchronized: bool = False,
) -> int | None:
    """
    @param synchronized: whether the kernel says the clock is synchronized;
        L{None} if it cannot say.
    @param maxErrorMs: the kernel's bound on the clock's error.
    @param leap: the kernel's leap second state: C{"none"}, C{"insert"},
        C{"delete"}, C{"in-progress"} or C{"unknown"}.
    @param requireSynchronized: whether an unsynchronized clock answers
        nothing (C{--roughtime-require-synchronized}).
    @return: RADI, in seconds; or L{None} to answer nothing.
    """
    if not synchronized or maxErrorMs is None:
        return None if requireSynchronized else UNSYNCHRONIZED_RADIUS
    # MIDP is the clock rounded to the second, half a second off at most,
    # and the interval is open: the bound is the error plus that half,
    # strictly exceeded.
    radius = math.floor(maxErrorMs / 1000 + 0.5) + 1
    if leap == "unknown":
        radius = max(radius, LEAP_RADIUS)
    elif leap != "none":
        # A leap second pending or in progress: a second that the
        # timestamps cannot tell from its neighbour.
        radius += 1
    return min(radius, UNSYNCHRONIZED_RADIUS)
