# -*- test-case-name: tests.test_transitions -*-
"""
A zone's state over time (its UTC offset, daylight-saving amount and
abbreviation) as the instants at which it changes, read from the zone's own
TZif data: its explicit transitions, then its footer's rules.

A zone's explicit transitions are read once, and the state of each of its
local time types asked of C{zoneinfo} once (so that the daylight-saving
amount is C{zoneinfo}'s, which infers it), and kept; the footer's are worked
out for the years asked about. So a range costs a binary search and a few
instants a year, whatever its years.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ._posixtz import TZString, parseTZString, yearOf
from ._tzdata import tzifBytes
from ._tzif import parseTZif

__all__ = ["FIRST", "LAST", "ZONES_KEPT", "ZoneState", "stateChanges"]

_DAY = 86_400
_UTC = timezone.utc

#: The first and last instants the timeline answers for: two days inside
#: the years 1 and 9999, so that no zone's local time of them leaves the
#: years C{datetime} can hold.
FIRST = -62_135_596_800 + 2 * _DAY
LAST = 253_402_300_799 - 2 * _DAY

#: How many zones' timelines are kept: more than the zone database has
#: (about 600), so that a zone is read at most once, and the cache is
#: bounded by the catalogue.
ZONES_KEPT = 1024


class ZoneState(NamedTuple):
    """
    A zone's state between two changes, as C{zoneinfo} reports it.

    @ivar offset: the UTC offset, in seconds east (C{utcoffset()}).
    @ivar saving: the daylight-saving amount, in seconds (C{dst()}):
        negative in tzdata's Irish and Moroccan winters.
    @ivar abbreviation: the abbreviation (C{tzname()}).
    """

    offset: int
    saving: int
    abbreviation: str


def _seconds(delta: timedelta | None) -> int:
    return 0 if delta is None else int(delta.total_seconds())


def _askZoneinfo(zone: ZoneInfo, seconds: int) -> ZoneState:
    local = datetime.fromtimestamp(seconds, _UTC).astimezone(zone)
    return ZoneState(
        _seconds(local.utcoffset()), _seconds(local.dst()), local.tzname() or ""
    )


class _Timeline:
    """
    One zone's changes of state.
    """

    def __init__(self, zone: ZoneInfo, data: bytes) -> None:
        tzif = parseTZif(data)
        known: dict[ZoneState, ZoneState] = {}

        def state(seconds: int) -> ZoneState:
            # One object for each state, however often it recurs.
            found = _askZoneinfo(zone, seconds)
            return known.setdefault(found, found)

        self._initial = state(FIRST)
        times: list[int] = []
        states: list[ZoneState] = []
        # zoneinfo's state after a transition is its local time type's (it
        # infers each type's daylight saving once): ask it once a type.
        byType: dict[int, ZoneState] = {}
        for instant, kind in zip(tzif.times, tzif.types):
            if FIRST < instant <= LAST:
                now = byType.get(kind)
                if now is None:
                    now = byType[kind] = state(instant)
                if now != (states[-1] if states else self._initial):
                    times.append(instant)
                    states.append(now)
        # Eight bytes an instant, not forty as int objects.
        self._times = array("q", times)
        self._states = tuple(states)
        # zoneinfo follows the footer after the last transition (or always,
        # where there is none), and the last transition's type for ever
        # where the footer is empty or absent.
        self._footerFrom: int | None = tzif.times[-1] if tzif.times else None
        self._rule: TZString | None = None
        if tzif.footer:
            rule = self._rule = parseTZString(tzif.footer)
            std = ZoneState(rule.stdOffset, 0, rule.std)
            self._std = known.setdefault(std, std)
            dst = ZoneState(
                rule.dstOffset, rule.dstOffset - rule.stdOffset, rule.dst or ""
            )
            self._dst = known.setdefault(dst, dst)

    def _inFooter(self, seconds: int) -> bool:
        return self._rule is not None and (
            self._footerFrom is None or seconds > self._footerFrom
        )

    def stateAt(self, seconds: int) -> ZoneState:
        """
        @return: the zone's state at C{seconds}.
        """
        if self._rule is not None and self._inFooter(seconds):
            return self._dst if self._rule.isDSTAt(seconds) else self._std
        index = bisect_right(self._times, seconds)
        return self._states[index - 1] if index else self._initial

    def changes(self, low: int, high: int) -> list[tuple[int, ZoneState]]:
        """
        @return: each instant after C{low} and at or before C{high} at which
            the state changes, with the state from it on.
        """
        found: list[tuple[int, ZoneState]] = []
        if not self._inFooter(low + 1):
            first = bisect_right(self._times, low)
            last = bisect_right(self._times, high)
            found.extend(zip(self._times[first:last], self._states[first:last]))
        rule = self._rule
        if rule is None or not self._inFooter(high):
            return found
        # The footer's instants, from the first it rules, are candidates:
        # each is a change unless it leaves the state as it was.
        since = low if self._footerFrom is None else max(low, self._footerFrom)
        candidates = [(since + 1, self.stateAt(since + 1))]
        for instant, on in rule.transitions(yearOf(since + 1) - 1, yearOf(high) + 1):
            if since + 1 < instant <= high:
                candidates.append((instant, self._dst if on else self._std))
        state = found[-1][1] if found else self.stateAt(low)
        for instant, now in candidates:
            if now != state:
                found.append((instant, now))
                state = now
        return found


@lru_cache(maxsize=ZONES_KEPT)
def _timeline(zone: ZoneInfo) -> _Timeline:
    if zone.key is None:
        raise ValueError("a zone made from a file has no TZif file to read")
    return _Timeline(zone, tzifBytes(zone.key))


def stateChanges(
    zone: ZoneInfo, low: int, high: int
) -> tuple[ZoneState, list[tuple[int, ZoneState]]]:
    """
    Find when a zone's state changes in a range.

    The first call for a zone reads its TZif file, from the zone database
    in use (see L{tzifBytes<clocksvc._time._tzdata.tzifBytes>}); later ones
    use what it read.

    @param zone: the zone, as C{ZoneInfo(key)} loads it.
    @param low: the range's start, in seconds since the epoch; moved up to
        L{FIRST} if it is earlier.
    @param high: the range's end; moved down to L{LAST} if it is later.
    @return: the state at C{low}, and each instant after C{low} and at or
        before C{high} at which the state changes (in its offset, its
        daylight saving or only its abbreviation), with the state from it
        on.
    """
    timeline = _timeline(zone)
    low, high = max(low, FIRST), min(high, LAST)
    return timeline.stateAt(low), timeline.changes(low, high)
