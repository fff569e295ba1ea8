# -*- test-case-name: tests.test_transitions -*-
"""
A zone's transitions in a range of instants: when its UTC offset or its
daylight saving changes, and to what.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from ._document import timeDocument
from ._periods import transitionsIn

__all__ = ["LONGEST_RANGE", "STATE_FIELDS", "Transition", "transitionsBetween"]

#: The longest range asked about, in seconds: a hundred years of 365.25
#: days, so that an answer lists a few hundred transitions at most.
LONGEST_RANGE = 100 * 36_525 * 864

#: A transition as the API describes it: field names to JSON values.
Transition = dict[str, object]

_UTC = timezone.utc

#: The time document's fields that describe a zone's state before and after
#: a transition.
STATE_FIELDS = ("utc_offset", "abbreviation", "dst", "dst_offset", "raw_offset")


def _state(zone: ZoneInfo, seconds: int) -> dict[str, object]:
    # The document's own view of daylight saving, so that the two agree (as
    # on Irish time, whose negative saving tzdata's main format records).
    document = timeDocument(seconds, zone, "")
    return {name: document[name] for name in STATE_FIELDS}


def transitionsBetween(zone: ZoneInfo, start: int, end: int) -> list[Transition]:
    """
    @param zone: the zone.
    @param start: the first instant of the range, in seconds since the epoch.
    @param end: the instant after the range's last.
    @return: each transition at or after C{start} and before C{end}: its
        instant (C{unixtime}, C{utc_datetime}), the state a second before it
        (C{before}) and the state from it on (C{after}), and whether daylight
        saving is in effect after it (C{dst}).
    """
    first = datetime.fromtimestamp(start, _UTC).year
    last = datetime.fromtimestamp(end, _UTC).year
    found: list[int] = []
    for year in range(first, last + 1):
        for instant in transitionsIn(zone, year):
            # transitionsIn may give the first second of the next year too.
            if start <= instant < end and (not found or found[-1] < instant):
                found.append(instant)
    transitions: list[Transition] = []
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
