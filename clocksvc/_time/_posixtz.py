# -*- test-case-name: tests.test_posixtz -*-
"""
TZ strings, the rules a TZif file's footer gives for every instant after its
last transition (RFC 9636 section 3.3, after POSIX's C{TZ}): a standard
time, and maybe a daylight saving time with the dates and times each year at
which it starts and ends, such as C{CET-1CEST,M3.5.0,M10.5.0/3}.

The standard library reads them inside C{zoneinfo} but offers no way to list
the instants they name; this module parses them and lists those instants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = ["DateRule", "TZString", "parseTZString", "yearOf"]

_DAY = 86_400
#: The Gregorian calendar repeats every 400 years, weekdays and all: 146,097
#: days, 20,871 weeks.
_CYCLE_YEARS = 400
_CYCLE = 146_097 * _DAY

# RFC 9636 section 3.3 and POSIX: a designation is three or more letters,
# or three or more letters, digits, "+" and "-" between "<" and ">"; an
# offset is [+-]hh[:mm[:ss]], hours from 0 to 24, positive west of
# Greenwich; a date is Jn (1 to 365, never counting 29 February), n (0 to
# 365, counting it) or Mm.w.d (day d, 0 = Sunday, of week w of month m,
# 5 = the last); a time of day is an offset's form with hours from -167 to
# 167 (RFC 9636's extension of POSIX's 0 to 24).
_NAME = r"[A-Za-z]{3,}|<[A-Za-z0-9+-]{3,}>"
_CLOCK = r"[+-]?\d{1,3}(?::\d{2}(?::\d{2})?)?"
_DATE = r"J\d{1,3}|\d{1,3}|M\d{1,2}\.\d\.\d"
_TZ_STRING = re.compile(
    rf"(?P<std>{_NAME})(?P<stdOffset>{_CLOCK})"
    rf"(?:(?P<dst>{_NAME})(?P<dstOffset>{_CLOCK})?"
    rf",(?P<start>{_DATE})(?:/(?P<startTime>{_CLOCK}))?"
    rf",(?P<end>{_DATE})(?:/(?P<endTime>{_CLOCK}))?)?",
    re.ASCII,
)


def _seconds(text: str, hours: int) -> int:
    """
    @param text: C{[+-]hh[:mm[:ss]]}, as L{_CLOCK} has matched it.
    @param hours: the most hours allowed.
    @return: the signed number of seconds it says.
    """
    h, m, s = [*text.lstrip("+-").split(":"), "0", "0"][:3]
    if int(h) > hours or int(m) > 59 or int(s) > 59:
        raise ValueError(f"{text!r} is out of range")
    total = int(h) * 3600 + int(m) * 60 + int(s)
    return -total if text.startswith("-") else total


def _daysFromCivil(year: int, month: int, day: int) -> int:
    """
    @return: the days since 1970-01-01 of a proleptic Gregorian date (after
        Howard Hinnant's C{days_from_civil}, which holds for any year).
    """
    year -= month <= 2
    era = year // 400
    yearOfEra = year - era * 400
    dayOfYear = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    dayOfEra = yearOfEra * 365 + yearOfEra // 4 - yearOfEra // 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468


def yearOf(seconds: int) -> int:
    """
    @return: the UTC calendar year of an instant in seconds since the epoch,
        for any instant (C{datetime} stops at the years 1 and 9999).
    """
    days = seconds // _DAY + 719_468
    era = days // 146_097
    dayOfEra = days - era * 146_097
    yearOfEra = (
        dayOfEra - dayOfEra // 1460 + dayOfEra // 36_524 - dayOfEra // 146_096
    ) // 365
    dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra // 4 - yearOfEra // 100)
    # The era's years start on 1 March: January and February belong to the
    # next calendar year.
    return yearOfEra + era * 400 + (dayOfYear >= 306)


def _isLeap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


@dataclass(frozen=True)
class DateRule:
    """
    When, in local time, daylight saving starts or ends each year.

    @ivar kind: C{"M"} (C{Mm.w.d}), C{"J"} (C{Jn}) or C{"n"} (C{n}).
    @ivar month: C{Mm.w.d}'s month, 1 to 12; else 0.
    @ivar week: C{Mm.w.d}'s week, 1 to 5 (5 is the last); else 0.
    @ivar day: C{Mm.w.d}'s weekday, 0 (Sunday) to 6; C{Jn}'s day, 1 to 365;
        C{n}'s day, 0 to 365.
    @ivar time: the local time of day, in seconds after midnight: from -167
        to 167 hours, so that the transition may fall on another day.
    """

    kind: str
    month: int
    week: int
    day: int
    time: int

    def localSeconds(self, year: int) -> int:
        """
        @return: the rule's instant in C{year}, in local seconds since the
            epoch (the local time's reading as if it were UTC).
        """
        if self.kind == "M":
            first = _daysFromCivil(year, self.month, 1)
            nextMonth = (
                _daysFromCivil(year + 1, 1, 1)
                if self.month == 12
                else _daysFromCivil(year, self.month + 1, 1)
            )
            # 1970-01-01 was a Thursday, weekday 4 counting Sunday as 0.
            date = first + (self.day - (first + 4)) % 7 + 7 * (self.week - 1)
            if date >= nextMonth:
                date -= 7
        elif self.kind == "J":
            # Jn never counts 29 February: J60 is always 1 March.
            leap = self.day >= 60 and _isLeap(year)
            date = _daysFromCivil(year, 1, 1) + self.day - 1 + leap
        else:
            date = _daysFromCivil(year, 1, 1) + self.day
        return date * _DAY + self.time


@dataclass(frozen=True)
class TZString:
    """
    A parsed TZ string.

    @ivar std: the standard time's designation, without C{<>}.
    @ivar stdOffset: its UTC offset in seconds, east of Greenwich (the
        string's sign is the other way round).
    @ivar dst: the daylight saving time's designation, or L{None} where
        there is none (and then C{start} and C{end} are L{None} too).
    @ivar dstOffset: its UTC offset, east; by default an hour east of
        standard time.
    @ivar start: when daylight saving starts, in standard time.
    @ivar end: when it ends, in daylight saving time.
    """

    std: str
    stdOffset: int
    dst: str | None = None
    dstOffset: int = 0
    start: DateRule | None = None
    end: DateRule | None = None
    #: Each year's instants (when daylight saving starts, when it ends),
    #: less the start of its 400-year cycle, by its place in the cycle: 400
    #: at most, since the calendar repeats.
    _cycle: dict[int, tuple[int, int]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def _instants(self, start: DateRule, end: DateRule, year: int) -> tuple[int, int]:
        """
        @return: when daylight saving starts and ends in C{year}, in UTC
            seconds since the epoch.
        """
        cycles, place = divmod(year, _CYCLE_YEARS)
        known = self._cycle.get(place)
        if known is None:
            known = self._cycle[place] = (
                start.localSeconds(place) - self.stdOffset,
                end.localSeconds(place) - self.dstOffset,
            )
        return known[0] + cycles * _CYCLE, known[1] + cycles * _CYCLE

    def transitions(self, firstYear: int, lastYear: int) -> list[tuple[int, bool]]:
        """
        @return: the rules' instants in those years (UTC seconds since the
            epoch), each with whether daylight saving is on from it, in the
            order they take effect; empty where there is no daylight saving.
        """
        start, end = self.start, self.end
        if start is None or end is None:
            return []
        found = []
        for year in range(firstYear, lastYear + 1):
            starts, ends = self._instants(start, end, year)
            # Where two instants coincide, the later year's wins, and in one
            # year the end: so daylight saving that starts on 1 January at
            # 0:00 and ends on 31 December at 24:00 plus the saving is on all
            # year (RFC 9636 section 3.3.1), and one that ends as it starts
            # is never on.
            found.append((starts, year, 0))
            found.append((ends, year, 1))
        found.sort()
        return [(instant, kind == 0) for instant, year, kind in found]

    def isDSTAt(self, seconds: int) -> bool:
        """
        @return: whether daylight saving is on at C{seconds}.
        """
        year = yearOf(seconds)
        # A year's rules fall within about eight days of it (a time of day
        # reaches 167 hours either way): the last one at or before an
        # instant is among those of the years around it.
        dst = False
        for instant, on in self.transitions(year - 2, year + 1):
            if instant > seconds:
                break
            dst = on
        return dst


def _dateRule(date: str, time: str | None) -> DateRule:
    seconds = 7200 if time is None else _seconds(time, 167)
    if date.startswith("M"):
        month, week, day = map(int, date[1:].split("."))
        if not (1 <= month <= 12 and 1 <= week <= 5 and day <= 6):
            raise ValueError(f"{date!r} is out of range")
        return DateRule("M", month, week, day, seconds)
    if date.startswith("J"):
        day = int(date[1:])
        if not 1 <= day <= 365:
            raise ValueError(f"{date!r} is out of range")
        return DateRule("J", 0, 0, day, seconds)
    day = int(date)
    if day > 365:
        raise ValueError(f"{date!r} is out of range")
    return DateRule("n", 0, 0, day, seconds)


# Zones that share a footer share its parse, and the years worked out from it.
@lru_cache(maxsize=256)
def parseTZString(text: str) -> TZString:
    """
    Parse a TZ string as RFC 9636 allows one in a TZif footer.

    A daylight saving time must come with its rules (POSIX leaves the
    default to each system; a TZif footer always gives them).

    @raise ValueError: if C{text} is not such a string.
    """
    match = _TZ_STRING.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a TZ string")
    std, dst = match["std"].strip("<>"), match["dst"]
    stdOffset = -_seconds(match["stdOffset"], 24)
    if dst is None:
        return TZString(std, stdOffset)
    dstOffset = stdOffset + 3600
    if match["dstOffset"] is not None:
        dstOffset = -_seconds(match["dstOffset"], 24)
    return TZString(
        std,
        stdOffset,
        dst.strip("<>"),
        dstOffset,
        _dateRule(match["start"], match["startTime"]),
        _dateRule(match["end"], match["endTime"]),
    )
