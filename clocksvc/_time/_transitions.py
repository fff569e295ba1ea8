# -*- test-case-name: tests.test_transitions -*-
"""
A zone's transitions in a range of instants: when its UTC offset or its
daylight saving changes, and to what.

They are read from the zone's own TZif data (L{stateChanges}), so a range
costs the same whatever its years: no probing, and nothing kept per range.
L{transitionsBetween} lists them as dicts; L{transitionsJSON} writes the
same list as JSON, from each state's JSON written once, for the API.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

from ._document import formatOffset, reportedSaving
from ._periods import ALWAYS_SEARCHED, searchedSpan
from ._timeline import ZoneState, stateChanges

__all__ = [
    "LONGEST_RANGE",
    "STATE_FIELDS",
    "Transition",
    "transitionsBetween",
    "transitionsJSON",
]

#: The longest range asked about, in seconds: a hundred years of 365.25
#: days, so that an answer lists a few hundred transitions at most.
LONGEST_RANGE = 100 * 36_525 * 864

#: A transition as the API describes it: field names to JSON values.
Transition = dict[str, object]

#: The time document's fields that describe a zone's state before and after
#: a transition.
STATE_FIELDS = ("utc_offset", "abbreviation", "dst", "dst_offset", "raw_offset")


#: The fields of each state and the saving reported in it, made once: a
#: zone has a few dozen states, and the database a few thousand.
_described: dict[tuple[ZoneState, int | None], dict[str, object]] = {}


def _fields(state: ZoneState, saving: int | None) -> dict[str, object]:
    """
    @param saving: the daylight saving reported, in seconds, as
        L{reportedSaving} decides it; L{None} when off.
    @return: the state as the time document's fields describe it.
    """
    key = (state, saving)
    fields = _described.get(key)
    if fields is None:
        amount = saving or 0
        fields = _described[key] = {
            "utc_offset": formatOffset(timedelta(seconds=state.offset)),
            "abbreviation": state.abbreviation,
            "dst": saving is not None,
            "dst_offset": amount,
            "raw_offset": state.offset - amount,
        }
    # A copy, so that no caller can change another's answer.
    return fields.copy()


#: Each time of day, in seconds, as an instant's ISO form ends in UTC: a
#: day's worth at most, a few hundred in the zone database.
_clockTimes: dict[int, str] = {}
#: The proleptic ordinal of 1970-01-01.
_EPOCH_ORDINAL = 719_163


def _isoUTC(seconds: int) -> str:
    """
    @return: C{datetime.fromtimestamp(seconds, timezone.utc).isoformat()},
        in half the time: its date, then its time of day, kept (transitions
        happen at a few hundred times of day).
    """
    days, time = divmod(seconds, 86_400)
    clock = _clockTimes.get(time)
    if clock is None:
        hours, rest = divmod(time, 3600)
        clock = _clockTimes[time] = (
            f"T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}+00:00"
        )
    return date.fromordinal(days + _EPOCH_ORDINAL).isoformat() + clock


#: L{reportedSaving}'s decisions, in seconds, by its arguments in seconds:
#: as few as the savings that zones have had, so kept. For each, the
#: decision without the period before, and without the period after.
_decided: dict[
    tuple[int, int | None, int | None],
    tuple[int | None, int | None, int | None],
] = {}


def _decide(saving: int, before: int | None, after: int | None) -> int | None:
    decided = reportedSaving(
        timedelta(seconds=saving),
        None if before is None else timedelta(seconds=before),
        None if after is None else timedelta(seconds=after),
    )
    return None if decided is None else int(decided.total_seconds())


def _decisions(
    saving: int, before: int | None, after: int | None
) -> tuple[int | None, int | None, int | None]:
    key = (saving, before, after)
    decisions = _decided.get(key)
    if decisions is None:
        decisions = _decided[key] = (
            _decide(saving, before, after),
            _decide(saving, None, after),
            _decide(saving, before, None),
        )
    return decisions


def _reported(
    changes: list[tuple[int, ZoneState]], initial: ZoneState, marks: list[int]
) -> tuple[list[int | None], list[int | None]]:
    """
    Decide the daylight saving reported in each period between transitions
    as the time document decides it: from the savings of the periods either
    side, each where L{periodAround<clocksvc._time._periods.periodAround>}
    would find it from there (see L{searchedSpan}).

    @param changes: a zone's changes of state, as L{stateChanges} lists
        them, from before the first transition asked about as far as the
        document looks, to after the last as far as it looks.
    @param initial: the state before the first change.
    @param marks: the positions in C{changes} of the transitions.
    @return: for each transition, the saving reported (in seconds; L{None}
        when off) a second before it, and from it on: in the period that it
        ends, and in the one it starts.
    """
    # The saving in each period: before the first transition, then from each.
    savings = [(changes[marks[0] - 1][1] if marks[0] else initial).saving]
    savings.extend(changes[index][1].saving for index in marks)
    last = len(savings) - 1
    ending: list[int | None] = []
    starting: list[int | None] = []
    for period, saving in enumerate(savings):
        # The period from transition period - 1 to transition period.
        before = savings[period - 1] if period else None
        after = savings[period + 1] if period < last else None
        decided, withoutBefore, withoutAfter = _decisions(saving, before, after)
        # Where a neighbour decides something, and the period is so long
        # that the document might not find it, look as far as it does.
        far = (
            0 < period < last
            and changes[marks[period]][0] - changes[marks[period - 1]][0]
            > ALWAYS_SEARCHED
        )
        if period:
            # Seen from its start, its end.
            found = decided
            if far and decided != withoutAfter:
                opens = changes[marks[period - 1]][0]
                if changes[marks[period]][0] > searchedSpan(opens)[1]:
                    found = withoutAfter
            starting.append(found)
        if period < last:
            # And seen from its end, its start.
            found = decided
            if far and decided != withoutBefore:
                closes = changes[marks[period]][0]
                if changes[marks[period - 1]][0] <= searchedSpan(closes - 1)[0]:
                    found = withoutBefore
            ending.append(found)
    return ending, starting


#: A state as a transition lists it: the zone's state, and the daylight
#: saving reported in it (in seconds; L{None} when off).
_Side = tuple[ZoneState, Optional[int]]


def _listed(zone: ZoneInfo, start: int, end: int) -> list[tuple[int, _Side, _Side]]:
    """
    @return: each transition at or after C{start} and before C{end}: its
        instant, and the states a second before it and from it on.
    """
    if end <= start:
        return []
    # The changes in the range, and beyond it as far as the time document
    # looks for the ends of a period.
    initial, changes = stateChanges(
        zone, searchedSpan(start - 1)[0], searchedSpan(end - 1)[1]
    )
    # The transitions: the changes of offset or saving (a change of
    # abbreviation alone is none).
    marks = []
    previous = initial
    for index, (_, state) in enumerate(changes):
        if state[:2] != previous[:2]:
            marks.append(index)
        previous = state
    if not marks:
        return []
    ending, starting = _reported(changes, initial, marks)
    listed = []
    for mark, index in enumerate(marks):
        instant, state = changes[index]
        if start <= instant < end:
            before = changes[index - 1][1] if index else initial
            listed.append((instant, (before, ending[mark]), (state, starting[mark])))
    return listed


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
    transitions: list[Transition] = []
    for instant, before, after in _listed(zone, start, end):
        fields = _fields(*after)
        transitions.append(
            {
                "unixtime": instant,
                "utc_datetime": _isoUTC(instant),
                "before": _fields(*before),
                "after": fields,
                "dst": fields["dst"],
            }
        )
    return transitions


#: Each side's fields as compact JSON, by the same keys as L{_described}.
_encoded: dict[_Side, str] = {}


def transitionsJSON(zone: ZoneInfo, start: int, end: int) -> str:
    """
    L{transitionsBetween}'s list as compact JSON (as C{json.dumps} with
    C{separators=(",", ":")} writes it), made from each state's JSON,
    encoded once: a third of the time that encoding the list takes.

    @param zone: the zone.
    @param start: the first instant of the range, in seconds since the epoch.
    @param end: the instant after the range's last.
    @return: the JSON array.
    """
    parts = []
    for instant, before, after in _listed(zone, start, end):
        encoded = []
        for side in (before, after):
            text = _encoded.get(side)
            if text is None:
                text = _encoded[side] = json.dumps(
                    _fields(*side), separators=(",", ":")
                )
            encoded.append(text)
        parts.append(
            f'{{"unixtime":{instant},"utc_datetime":"{_isoUTC(instant)}",'
            f'"before":{encoded[0]},"after":{encoded[1]},'
            # The after side's dst, as _fields says it.
            f'"dst":{"false" if after[1] is None else "true"}}}'
        )
    return "[" + ",".join(parts) + "]"
