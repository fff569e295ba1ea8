"""
The transitions as clocksvc found them before it read TZif files, kept as an
oracle for L{clocksvc._time._transitions}: C{zoneinfo} probed once a day
across each calendar year, and bisected to the second where two probes
differ; each side's state is the time document's, whose daylight saving
looks for the period's ends by the same probing.

It is the code as it was (the modules C{_periods}, C{_transitions} and the
time document's C{_daylightSaving}, since split into C{_savingAt}),
gathered here so that it stays the old answer whatever the package does
later. It costs tens of milliseconds a century of a zone: use it on few
zones and short ranges, or with patience.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Optional
from zoneinfo import ZoneInfo

from clocksvc._time._document import formatOffset

_DAY = 86_400
SEARCH_YEARS = 5
_LAST = 253_402_300_799 - 2 * _DAY
_UTC = timezone.utc
_ZERO = timedelta(0)

State = tuple[Optional[timedelta], Optional[timedelta]]
Period = tuple[Optional[int], Optional[int]]
STATE_FIELDS = ("utc_offset", "abbreviation", "dst", "dst_offset", "raw_offset")


def stateAt(zone: ZoneInfo, seconds: int) -> State:
    local = datetime.fromtimestamp(seconds, _UTC).astimezone(zone)
    return (local.utcoffset(), local.dst())


def _yearStart(year: int) -> int:
    if year > 9999:
        return _LAST
    return min(calendar.timegm((year, 1, 1, 0, 0, 0)), _LAST)


@lru_cache(maxsize=8192)
def transitionsIn(zone: ZoneInfo, year: int) -> tuple[int, ...]:
    start, end = _yearStart(year), _yearStart(year + 1)
    found = []
    before = stateAt(zone, start)
    probe = start
    while probe < end:
        nextProbe = min(probe + _DAY, end)
        after = stateAt(zone, nextProbe)
        if after != before:
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


def periodAround(zone: ZoneInfo, seconds: int) -> Period:
    year = _utcYear(seconds)
    began = ends = None
    for candidate in range(year, max(year - SEARCH_YEARS, 0), -1):
        earlier = [t for t in transitionsIn(zone, candidate) if t <= seconds]
        if earlier:
            began = earlier[-1]
            break
    for candidate in range(year, min(year + SEARCH_YEARS, 9999) + 1):
        later = [t for t in transitionsIn(zone, candidate) if t > seconds]
        if later:
            ends = later[0]
            break
    return (began, ends)


def _daylightSaving(
    zone: ZoneInfo, seconds: int, dst: timedelta
) -> tuple[timedelta, Period | None]:
    if dst > _ZERO:
        return dst, periodAround(zone, seconds)
    if dst < _ZERO:
        return _ZERO, None
    began, ends = period = periodAround(zone, seconds)
    if began is None or ends is None:
        return _ZERO, None
    before = stateAt(zone, began - 1)[1] or _ZERO
    after = stateAt(zone, ends)[1] or _ZERO
    if before < _ZERO and after < _ZERO:
        return -after, period
    return _ZERO, None


def _state(zone: ZoneInfo, seconds: int) -> dict[str, object]:
    # The time document's fields of these, as timeDocument made them.
    local = datetime.fromtimestamp(seconds, _UTC).astimezone(zone)
    offset = local.utcoffset() or _ZERO
    dstAmount, period = _daylightSaving(zone, seconds, local.dst() or _ZERO)
    return {
        "utc_offset": formatOffset(offset),
        "abbreviation": local.tzname(),
        "dst": period is not None,
        "dst_offset": int(dstAmount.total_seconds()),
        "raw_offset": int((offset - dstAmount).total_seconds()),
    }


def probedTransitionsBetween(
    zone: ZoneInfo, start: int, end: int
) -> list[dict[str, object]]:
    """
    The old C{transitionsBetween}.
    """
    first = datetime.fromtimestamp(start, _UTC).year
    last = datetime.fromtimestamp(end, _UTC).year
    found: list[int] = []
    for year in range(first, last + 1):
        for instant in transitionsIn(zone, year):
            if start <= instant < end and (not found or found[-1] < instant):
                found.append(instant)
    transitions: list[dict[str, object]] = []
    for instant in found:
        after = _state(zone, instant)
        transitions.append(
            {
                "unixtime": instant,
                "utc_datetime": datetime.fromtimestamp(instant, _UTC).isoformat(),
                "before": _state(zone, instant - 1),
                "after": after,
                "dst": after["dst"],
            }
        )
    return transitions
