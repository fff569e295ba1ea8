# -*- test-case-name: tests.test_periods,tests.test_document -*-
"""
When a zone's current UTC offset began and when it ends.

C{zoneinfo} answers "what is the offset at this instant" but does not list
transitions, so they are found by probing: one probe a day across a calendar
year, then bisection to the second wherever two probes differ. A year's
transitions are cached, so a zone costs a few hundred probes once a year and a
few lookups per request after that. A change and its reversal within one day
would be missed; no zone has one since the 1940s.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Optional
from zoneinfo import ZoneInfo

__all__ = [
    "ALWAYS_SEARCHED",
    "Period",
    "periodAround",
    "searchedSpan",
    "stateAt",
    "transitionsIn",
]

_DAY = 86_400
#: How many years either way to look for the end of a period: a bound on the
#: cost, longer than nearly every daylight-saving period in the database (the
#: US's War Time lasted 3.6), but not all: Ireland's summer time of 1940-46
#: lasted 6.6 years, Argentina's of 1946-63 17, and such a period's far edge
#: is reported as unknown.
SEARCH_YEARS = 5
#: How near an instant L{periodAround} always looks: L{searchedSpan} holds
#: every instant less than this far before it, and this far after it, as
#: far as it looks at all (from the year 1 to the last days of 9999).
ALWAYS_SEARCHED = (SEARCH_YEARS - 1) * 365 * _DAY
# datetime cannot go past the end of year 9999: the search stops two days
# short of it, so that no zone's local time of a probe overflows.
_LAST = 253_402_300_799 - 2 * _DAY

# These aliases are evaluated at run time, where PyPy's Python 3.9 has no
# X | Y: hence Optional.
#: A zone's state at an instant: its UTC offset and its daylight-saving amount.
State = tuple[Optional[timedelta], Optional[timedelta]]
#: The instants, in whole seconds since the epoch, at which a period began
#: and ends; L{None} where it is further away than the search reaches.
Period = tuple[Optional[int], Optional[int]]

_UTC = timezone.utc


def stateAt(zone: ZoneInfo, seconds: int) -> State:
    """
    @return: the zone's UTC offset and daylight-saving amount at C{seconds}.
    """
    local = datetime.fromtimestamp(seconds, _UTC).astimezone(zone)
    return (local.utcoffset(), local.dst())


def _yearStart(year: int) -> int:
    if year > 9999:
        return _LAST
    return min(calendar.timegm((year, 1, 1, 0, 0, 0)), _LAST)


@lru_cache(maxsize=8192)
def transitionsIn(zone: ZoneInfo, year: int) -> tuple[int, ...]:
    """
    Find the zone's transitions in one UTC calendar year.

    @return: each instant C{t}, in the year or at the first second of the
        next, at which the state differs from the state a second earlier.
    """
    start, end = _yearStart(year), _yearStart(year + 1)
    found = []
    before = stateAt(zone, start)
    probe = start
    while probe < end:
        nextProbe = min(probe + _DAY, end)
        after = stateAt(zone, nextProbe)
        if after != before:
            # Invariant: the state at low is `before`, at high it is not.
            low, high = probe, nextProbe
            while high - low > 1:
                middle = (low + high) // 2
                if stateAt(zone, middle) == before:
                    low = middle
                else:
                    high = middle
            found.append(high)
        before, probe = after, nextProbe
    return tuple(found)


def _utcYear(seconds: int) -> int:
    return datetime.fromtimestamp(seconds, _UTC).year


def searchedSpan(seconds: int) -> tuple[int, int]:
    """
    Say how far L{periodAround} looks: through the UTC years from
    L{SEARCH_YEARS} - 1 before an instant's to L{SEARCH_YEARS} after it (and
    not past the last days of year 9999).

    @return: the instants between which L{periodAround} finds the changes
        around C{seconds}: a period's beginning only after the first, and
        its end only at or before the second.
    """
    return _searchedYears(_utcYear(seconds))


# Kept, since a list of transitions asks for each one's: a century's worth,
# and a few hundred bytes in all.
@lru_cache(maxsize=128)
def _searchedYears(year: int) -> tuple[int, int]:
    return (
        _yearStart(max(year - SEARCH_YEARS + 1, 1)),
        _yearStart(min(year + SEARCH_YEARS, 9999) + 1),
    )


def periodAround(zone: ZoneInfo, seconds: int) -> Period:
    """
    Find the period of constant offset and daylight-saving amount that
    contains an instant.

    @param zone: the zone.
    @param seconds: the instant, in whole seconds since the epoch.
    @return: the instant the period began (at or before C{seconds}) and the
        instant it ends (after C{seconds}); either is L{None} when it lies more
        than L{SEARCH_YEARS} away, or past the last days of year 9999.
    """
    year = _utcYear(seconds)
    earliest, latest = searchedSpan(seconds)
    began = ends = None
    for candidate in range(year, _utcYear(earliest) - 1, -1):
        earlier = [t for t in transitionsIn(zone, candidate) if t <= seconds]
        if earlier:
            began = earlier[-1]
            break
    for candidate in range(year, _utcYear(latest - 1) + 1):
        later = [t for t in transitionsIn(zone, candidate) if t > seconds]
        if later:
            ends = later[0]
            break
    return (began, ends)
