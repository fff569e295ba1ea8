# -*- test-case-name: tests.test_convert -*-
"""
A local date-time in one zone, as the instants it can name: one, none (in
the gap a transition skips, as when clocks spring forward) or two (in the
overlap a transition repeats, as when they fall back).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

__all__ = ["DISAMBIGUATIONS", "LocalInstants", "chosenInstant", "localInstants"]

#: How a local time in a gap or an overlap may be resolved: refused, or
#: read as the earlier or the later of the two instants it can mean.
DISAMBIGUATIONS = ("reject", "earlier", "later")

_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_MICROSECOND = timedelta(microseconds=1)


class LocalInstants:
    """
    What a local date-time names in a zone.

    @ivar kind: C{"unique"}, C{"gap"} (it never happened: the clocks skipped
        it) or C{"overlap"} (it happened twice).
    @ivar earlier: the earlier instant it can name, in microseconds since
        the epoch. In a gap, that is the date-time read with the offset after
        the transition, which is before it: the time moved back by the gap.
    @ivar later: the later one; in a gap, the date-time read with the offset
        before the transition, moved forward by the gap. Equal to C{earlier}
        when the date-time is unique.
    """

    def __init__(self, kind: str, earlier: int, later: int) -> None:
        self.kind = kind
        self.earlier = earlier
        self.later = later


def _micros(local: datetime) -> int:
    return (local.astimezone(_UTC) - _EPOCH) // _MICROSECOND


def localInstants(zone: ZoneInfo, local: datetime) -> LocalInstants:
    """
    @param zone: the zone.
    @param local: a date-time without a zone.
    @return: the instants it names in C{zone}.
    """
    # zoneinfo reads an ambiguous or skipped date-time with the offset before
    # the transition when fold is 0 and after it when fold is 1 (PEP 495): two
    # readings that differ exactly when the date-time is not unique.
    first = _micros(local.replace(tzinfo=zone, fold=0))
    second = _micros(local.replace(tzinfo=zone, fold=1))
    earlier, later = min(first, second), max(first, second)
    if earlier == later:
        return LocalInstants("unique", earlier, later)
    back = (_EPOCH + timedelta(microseconds=earlier)).astimezone(zone)
    # In an overlap, both readings come back to the date-time itself.
    kind = "overlap" if back.replace(tzinfo=None) == local else "gap"
    return LocalInstants(kind, earlier, later)


def chosenInstant(found: LocalInstants, how: str) -> int | None:
    """
    Resolve a local date-time as C{how} (one of L{DISAMBIGUATIONS}) says:
    the one instant it names if it is unique; in a gap or an overlap, the
    earlier or the later of the two, or none if C{how} is C{reject}.

    @return: the instant, in microseconds since the epoch; or L{None} for a
        local time in a gap or an overlap that is to be refused.
    """
    if found.kind != "unique" and how == "reject":
        return None
    return found.later if how == "later" else found.earlier
