"""
Tests for L{clocksvc._time._posixtz}: TZ strings parsed as RFC 9636 and
POSIX say, and the instants they name checked against two readers of the
same strings: the C library's C{localtime} (through C{time.tzset}), and
C{zoneinfo} for every zone's footer.
"""

from __future__ import annotations

import calendar
import io
import platform
import time
import zoneinfo
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._time._posixtz import (
    DateRule,
    TZString,
    _daysFromCivil,
    parseTZString,
    yearOf,
)
from clocksvc._time._tzdata import tzifBytes
from clocksvc._time._tzif import parseTZif

from ._helpers import useTimezone
from ._zonefiles import makeTZif

_UTC = timezone.utc
_HOUR = 3600


def _utc(*fields: int) -> int:
    return calendar.timegm((*fields, 0, 0, 0, 0)[:6])


def _local(rule: DateRule, year: int) -> datetime:
    """
    @return: C{rule}'s local date and time in C{year}.
    """
    return datetime(1970, 1, 1) + timedelta(seconds=rule.localSeconds(year))


class ParseTZStringTests(SynchronousTestCase):
    """
    L{parseTZString} reads the TZ strings of TZif footers.
    """

    def test_examples(self) -> None:
        """
        Names plain or quoted, offsets west of Greenwich with minutes and
        seconds, the three forms of date, and times of day beyond a day
        either way.
        """
        cases = {
            "UTC0": TZString("UTC", 0),
            "<-00>0": TZString("-00", 0),
            "<+0545>-5:45": TZString("+0545", 20_700),
            "LMT+0:14:44": TZString("LMT", -884),
            "CET-1CEST,M3.5.0,M10.5.0/3": TZString(
                "CET",
                _HOUR,
                "CEST",
                2 * _HOUR,
                DateRule("M", 3, 5, 0, 2 * _HOUR),
                DateRule("M", 10, 5, 0, 3 * _HOUR),
            ),
            "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0": TZString(
                "+1030",
                37_800,
                "+11",
                11 * _HOUR,
                DateRule("M", 10, 1, 0, 2 * _HOUR),
                DateRule("M", 4, 1, 0, 2 * _HOUR),
            ),
            "IST-1GMT0,M10.5.0,M3.5.0/1": TZString(
                "IST",
                _HOUR,
                "GMT",
                0,
                DateRule("M", 10, 5, 0, 2 * _HOUR),
                DateRule("M", 3, 5, 0, _HOUR),
            ),
            "<-02>2<-01>,M3.5.0/-1,M10.5.0/0": TZString(
                "-02",
                -2 * _HOUR,
                "-01",
                -_HOUR,
                DateRule("M", 3, 5, 0, -_HOUR),
                DateRule("M", 10, 5, 0, 0),
            ),
            "EET-2EEST,M3.4.4/50,M10.4.4/50": TZString(
                "EET",
                2 * _HOUR,
                "EEST",
                3 * _HOUR,
                DateRule("M", 3, 4, 4, 50 * _HOUR),
                DateRule("M", 10, 4, 4, 50 * _HOUR),
            ),
            "AAA+3BBB,J60/1:30:15,300/-167": TZString(
                "AAA",
                -3 * _HOUR,
                "BBB",
                -2 * _HOUR,
                DateRule("J", 0, 0, 60, 5415),
                DateRule("n", 0, 0, 300, -167 * _HOUR),
            ),
            "EST5EDT4,0/0,J365/25": TZString(
                "EST",
                -5 * _HOUR,
                "EDT",
                -4 * _HOUR,
                DateRule("n", 0, 0, 0, 0),
                DateRule("J", 0, 0, 365, 25 * _HOUR),
            ),
        }
        for text, expected in cases.items():
            self.assertEqual(parseTZString(text), expected, text)

    def test_invalid(self) -> None:
        """
        A string RFC 9636 does not allow is a C{ValueError}: short or bad
        names, no offset, out-of-range fields, daylight saving time without
        its rules (POSIX leaves those to each system), or trailing text.
        """
        for text in [
            "",
            "UTC",
            "UT0",
            "<UT>0",
            "<U_T>0",
            "UTC25",
            "UTC5:60",
            "UTC5:00:60",
            "UTC+-5",
            "EST5EDT",
            "EST5EDT,M3.2.0",
            "EST5EDT,M0.2.0,M11.1.0",
            "EST5EDT,M13.2.0,M11.1.0",
            "EST5EDT,M3.0.0,M11.1.0",
            "EST5EDT,M3.6.0,M11.1.0",
            "EST5EDT,M3.2.7,M11.1.0",
            "EST5EDT,J0,J100",
            "EST5EDT,J366,J100",
            "EST5EDT,0,366",
            "EST5EDT,M3.2.0/168,M11.1.0",
            "EST5EDT,M3.2.0/-168,M11.1.0",
            "EST5EDT,M3.2.0/2:60,M11.1.0",
            "EST5EDT,M3.2.0,M11.1.0,",
            "EST5EDT,M3.2.0,M11.1.0 ",
            "EST5 ",
            "EST5,M3.2.0,M11.1.0",
        ]:
            with self.assertRaises(ValueError, msg=text):
                parseTZString(text)

    def test_everyFooter(self) -> None:
        """
        Every zone's footer parses, and names the instants at which
        C{zoneinfo}'s offset and abbreviation change, in years after every
        zone's last transition: its standard time a second before daylight
        saving starts, and its daylight saving time from then on.
        """
        for name in zoneinfo.available_timezones():
            footer = parseTZif(tzifBytes(name)).footer
            assert footer is not None
            rule = parseTZString(footer)
            zone = ZoneInfo(name)
            std = (rule.stdOffset, rule.std)
            dst = (rule.dstOffset, rule.dst)
            for instant, on in rule.transitions(2200, 2201) + rule.transitions(
                9000, 9000
            ):
                states = []
                for seconds in (instant - 1, instant):
                    local = datetime.fromtimestamp(seconds, _UTC).astimezone(zone)
                    offset = local.utcoffset()
                    assert offset is not None
                    states.append((offset.total_seconds(), local.tzname()))
                self.assertEqual(states, [std, dst] if on else [dst, std], name)
            if rule.dst is None:
                local = datetime(2200, 7, 1, tzinfo=zone)
                self.assertEqual(local.tzname(), rule.std, name)


class DateRuleTests(SynchronousTestCase):
    """
    L{DateRule.localSeconds} finds the local date and time a rule names.
    """

    def test_examples(self) -> None:
        """
        The last Sunday, a last Thursday that is 29 February, a first
        Saturday; Jn without 29 February and n with it; times of day that
        move to another day.
        """
        cases = [
            (DateRule("M", 3, 5, 0, 7200), 2024, datetime(2024, 3, 31, 2)),
            (DateRule("M", 10, 5, 0, 10_800), 2024, datetime(2024, 10, 27, 3)),
            (DateRule("M", 2, 5, 4, 0), 2024, datetime(2024, 2, 29)),
            (DateRule("M", 2, 5, 4, 0), 2023, datetime(2023, 2, 23)),
            (DateRule("M", 9, 1, 6, 0), 2024, datetime(2024, 9, 7)),
            (DateRule("M", 12, 5, 3, 0), 2025, datetime(2025, 12, 31)),
            (DateRule("M", 3, 2, 0, -_HOUR), 2024, datetime(2024, 3, 9, 23)),
            (DateRule("M", 3, 4, 4, 50 * _HOUR), 2024, datetime(2024, 3, 30, 2)),
            (DateRule("J", 0, 0, 59, 0), 2024, datetime(2024, 2, 28)),
            (DateRule("J", 0, 0, 60, 0), 2024, datetime(2024, 3, 1)),
            (DateRule("J", 0, 0, 60, 0), 2023, datetime(2023, 3, 1)),
            (DateRule("J", 0, 0, 365, 25 * _HOUR), 2024, datetime(2025, 1, 1, 1)),
            (DateRule("n", 0, 0, 0, 0), 2024, datetime(2024, 1, 1)),
            (DateRule("n", 0, 0, 59, 0), 2024, datetime(2024, 2, 29)),
            (DateRule("n", 0, 0, 59, 0), 2023, datetime(2023, 3, 1)),
            (DateRule("n", 0, 0, 365, 0), 2024, datetime(2024, 12, 31)),
            (DateRule("n", 0, 0, 100, 167 * _HOUR), 2020, datetime(2020, 4, 16, 23)),
        ]
        for rule, year, expected in cases:
            self.assertEqual(_local(rule, year), expected, (rule, year))

    @given(
        st.integers(min_value=1, max_value=9998),
        st.integers(min_value=1, max_value=12),
        st.integers(min_value=1, max_value=5),
        st.integers(min_value=0, max_value=6),
    )
    def test_monthWeekDay(self, year: int, month: int, week: int, day: int) -> None:
        """
        C{Mm.w.d} is the C{w}th day C{d} of the month, or its last for
        C{w} = 5, in any year.
        """
        days = calendar.monthrange(year, month)[1]
        # calendar counts Monday as 0; POSIX, Sunday.
        dates = [
            date(year, month, n)
            for n in range(1, days + 1)
            if (date(year, month, n).weekday() + 1) % 7 == day
        ]
        expected = dates[-1] if week == 5 else dates[week - 1]
        found = _local(DateRule("M", month, week, day, 0), year)
        self.assertEqual(found.date(), expected)

    @given(
        st.integers(min_value=1, max_value=9998),
        st.integers(min_value=1, max_value=365),
    )
    def test_julian(self, year: int, day: int) -> None:
        """
        C{Jn} is the date that day C{n} of a common year falls on, in any
        year: never 29 February.
        """
        common = date(2023, 1, 1) + timedelta(days=day - 1)
        found = _local(DateRule("J", 0, 0, day, 0), year)
        self.assertEqual(found.date(), common.replace(year=year))

    @given(st.dates(max_value=date(9998, 12, 31)))
    def test_daysFromCivil(self, day: date) -> None:
        """
        Days are counted from 1970-01-01 as C{date} counts them.
        """
        self.assertEqual(
            _daysFromCivil(day.year, day.month, day.day),
            (day - date(1970, 1, 1)).days,
        )


class YearOfTests(SynchronousTestCase):
    """
    L{yearOf} is an instant's UTC year.
    """

    @given(st.integers(min_value=-62_135_596_800, max_value=253_402_300_799))
    def test_datetime(self, seconds: int) -> None:
        """
        Within C{datetime}'s years, its year.
        """
        self.assertEqual(
            yearOf(seconds), datetime.fromtimestamp(seconds, _UTC).year, seconds
        )

    def test_beyond(self) -> None:
        """
        Before the year 1 and after 9999 too, where C{datetime} stops.
        """
        self.assertEqual(yearOf(-62_135_596_800), 1)
        self.assertEqual(yearOf(-62_135_596_801), 0)
        self.assertEqual(yearOf(-62_167_219_200), 0)
        self.assertEqual(yearOf(-62_167_219_201), -1)
        self.assertEqual(yearOf(253_402_300_800), 10_000)


class TransitionsTests(SynchronousTestCase):
    """
    L{TZString.transitions} lists the instants a TZ string names, and
    L{TZString.isDSTAt} says which time is in effect.
    """

    def test_northern(self) -> None:
        """
        Central European daylight saving starts at 01:00 UTC on the last
        Sunday of March (02:00 standard time) and ends at 01:00 UTC on the
        last Sunday of October (03:00 daylight saving time).
        """
        rule = parseTZString("CET-1CEST,M3.5.0,M10.5.0/3")
        self.assertEqual(
            rule.transitions(2024, 2024),
            [(_utc(2024, 3, 31, 1), True), (_utc(2024, 10, 27, 1), False)],
        )
        self.assertFalse(rule.isDSTAt(_utc(2024, 3, 31, 1) - 1))
        self.assertTrue(rule.isDSTAt(_utc(2024, 3, 31, 1)))
        self.assertTrue(rule.isDSTAt(_utc(2024, 10, 27, 1) - 1))
        self.assertFalse(rule.isDSTAt(_utc(2024, 10, 27, 1)))

    def test_southern(self) -> None:
        """
        South of the equator daylight saving spans the new year: it ends in
        April and starts in October.
        """
        rule = parseTZString("AEST-10AEDT,M10.1.0,M4.1.0/3")
        self.assertEqual(
            rule.transitions(2024, 2024),
            [(_utc(2024, 4, 6, 16), False), (_utc(2024, 10, 5, 16), True)],
        )
        self.assertTrue(rule.isDSTAt(_utc(2024, 1, 1)))
        self.assertFalse(rule.isDSTAt(_utc(2024, 7, 1)))

    def test_negativeSaving(self) -> None:
        """
        tzdata writes Irish time as a standard summer time (IST) with a
        negative saving in winter (GMT): its daylight saving starts in
        October.
        """
        rule = parseTZString("IST-1GMT0,M10.5.0,M3.5.0/1")
        self.assertEqual(
            rule.transitions(2024, 2024),
            [(_utc(2024, 3, 31, 1), False), (_utc(2024, 10, 27, 1), True)],
        )
        self.assertTrue(rule.isDSTAt(_utc(2024, 1, 1)))
        self.assertFalse(rule.isDSTAt(_utc(2024, 7, 1)))

    def test_noDaylightSaving(self) -> None:
        """
        A string without daylight saving names no instants.
        """
        rule = parseTZString("<+0530>-5:30")
        self.assertEqual(rule.transitions(1, 9999), [])
        self.assertFalse(rule.isDSTAt(_utc(2024, 1, 1)))

    def test_allYear(self) -> None:
        """
        Daylight saving that starts on 1 January at 0:00 and ends on 31
        December at 24:00 plus the saving is on all year (RFC 9636 section
        3.3.1): each year's end coincides with the next year's start.
        """
        rule = parseTZString("EST5EDT,0/0,J365/25")
        found = rule.transitions(2023, 2025)
        self.assertEqual(
            found,
            [
                (_utc(2023, 1, 1, 5), True),
                (_utc(2024, 1, 1, 5), False),
                (_utc(2024, 1, 1, 5), True),
                (_utc(2025, 1, 1, 5), False),
                (_utc(2025, 1, 1, 5), True),
                (_utc(2026, 1, 1, 5), False),
            ],
        )
        for seconds in range(_utc(2024, 1, 1), _utc(2024, 1, 2), 600):
            self.assertTrue(rule.isDSTAt(seconds), seconds)

    def test_neverOn(self) -> None:
        """
        Daylight saving that ends as it starts is never on.
        """
        rule = parseTZString("AAA0BBB-1,M3.5.0/2,M3.5.0/3")
        self.assertEqual(
            rule.transitions(2024, 2024),
            [(_utc(2024, 3, 31, 2), True), (_utc(2024, 3, 31, 2), False)],
        )
        self.assertFalse(rule.isDSTAt(_utc(2024, 3, 31, 2)))


# Rules that keep their instants inside their years, so that the C library
# and zoneinfo, which differ from RFC 9636 and from each other where a
# year's rules spill into another, read them as it does.
_OFFSETS = st.integers(min_value=-12 * 4, max_value=14 * 4).map(lambda q: q * 900)
_SAVINGS = st.sampled_from([-_HOUR, 1800, _HOUR, 2 * _HOUR])
_TIMES = st.integers(min_value=-167 * 60, max_value=167 * 60).map(lambda m: m * 60)


def _clock(seconds: int) -> str:
    sign = "-" if seconds < 0 else ""
    minutes, rest = divmod(abs(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours}:{minutes:02d}:{rest:02d}"


def _monthRule(months: tuple[int, int]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda month, week, day, time: f"M{month}.{week}.{day}/{_clock(time)}",
        st.integers(*months),
        st.integers(1, 5),
        st.integers(0, 6),
        _TIMES,
    )


def _dayRule(days: tuple[int, int]) -> st.SearchStrategy[str]:
    short = st.integers(min_value=-48 * 60, max_value=48 * 60).map(lambda m: m * 60)
    return st.one_of(
        st.builds(lambda d, t: f"J{d}/{_clock(t)}", st.integers(*days), short),
        st.builds(lambda d, t: f"{d}/{_clock(t)}", st.integers(*days), short),
    )


@st.composite
def _strings(draw: st.DrawFn, forms: str) -> str:
    """
    A TZ string with daylight saving, its rules of C{forms} ("M", or "Jn"),
    one in the first half of the year and one in the second.
    """
    std, saving = draw(_OFFSETS), draw(_SAVINGS)
    early, late = (
        (_monthRule((2, 5)), _monthRule((8, 11)))
        if forms == "M"
        else (_dayRule((32, 150)), _dayRule((215, 333)))
    )
    start, end = draw(early), draw(late)
    if draw(st.booleans()):
        start, end = end, start
    return f"<AAA>{_clock(-std)}<BBB>{_clock(-(std + saving))},{start},{end}"


class ReadersTests(SynchronousTestCase):
    """
    The instants a TZ string names are those at which other readers of it
    change time: the C library and C{zoneinfo}.
    """

    def setUp(self) -> None:
        if not hasattr(time, "tzset"):
            raise self.skipTest("no time.tzset on this platform")

    def assertLibraryAgrees(self, text: str, years: range) -> None:
        """
        Assert that the C library, told C{TZ=text}, changes its offset and
        name at each of the string's instants and not between them.
        """
        rule = parseTZString(text)
        useTimezone(self, text)

        def state(seconds: int) -> tuple[int, str]:
            local = time.localtime(seconds)
            return (local.tm_gmtoff, local.tm_zone)

        std, dst = (rule.stdOffset, rule.std), (rule.dstOffset, rule.dst)
        for instant, on in rule.transitions(years.start, years.stop - 1):
            self.assertEqual(
                [state(instant - 1), state(instant)],
                [std, dst] if on else [dst, std],
                (text, instant),
            )
            self.assertEqual(rule.isDSTAt(instant), on)
            self.assertEqual(rule.isDSTAt(instant - 1), not on)

    @settings(max_examples=100)
    @given(_strings("M"), st.integers(min_value=1971, max_value=2400))
    def test_monthRules(self, text: str, year: int) -> None:
        """
        C{Mm.w.d} rules, at any time of day RFC 9636 allows, agree with the
        C library and with C{zoneinfo}.
        """
        self.assertLibraryAgrees(text, range(year, year + 1))
        if platform.python_implementation() == "PyPy":
            # PyPy 3.9's zoneinfo, in Python, misreads a rule's time of day
            # below 0 (M8.1.0/-0:01:00 is a day late there); the C library
            # agrees with the rule, above, and CPython's zoneinfo here.
            return
        rule = parseTZString(text)
        zone = ZoneInfo.from_file(
            io.BytesIO(makeTZif([], [], [(rule.stdOffset, False, "AAA")], text))
        )
        for instant, on in rule.transitions(year, year):
            for seconds, dst in ((instant - 1, not on), (instant, on)):
                local = datetime.fromtimestamp(seconds, _UTC).astimezone(zone)
                offset = local.utcoffset()
                assert offset is not None
                expected = rule.dstOffset if dst else rule.stdOffset
                self.assertEqual(offset.total_seconds(), expected, (text, seconds))

    @settings(max_examples=100)
    @given(_strings("Jn"), st.integers(min_value=1971, max_value=2400))
    def test_dayRules(self, text: str, year: int) -> None:
        """
        C{Jn} and C{n} rules agree with the C library, in leap years and
        others. (Not with C{zoneinfo}, which reads C{n} a day early, and
        C{J59} as 29 February in leap years.)
        """
        self.assertLibraryAgrees(text, range(year, year + 1))

    def test_leapDays(self) -> None:
        """
        In leap years, C{J59} is 28 February, C{J60} 1 March, and C{59} 29
        February, as the C library reads them.
        """
        for text in ("AAA5BBB,J59/0,J300", "AAA5BBB,J60/0,J300", "AAA5BBB,59/0,J300"):
            self.assertLibraryAgrees(text, range(2024, 2025))
        self.assertEqual(
            parseTZString("AAA5BBB,59/0,J300").transitions(2024, 2024)[0],
            (_utc(2024, 2, 29, 5), True),
        )


class CycleTests(SynchronousTestCase):
    """
    A TZ string works out each place in the 400-year cycle of the calendar
    once, and shifts it to every year in that place.
    """

    @given(
        st.one_of(_strings("M"), _strings("Jn")),
        st.integers(min_value=-10_000, max_value=20_000),
    )
    def test_anyYear(self, text: str, year: int) -> None:
        """
        Any year's instants are its rules' own, worked out for that year.
        """
        rule = parseTZString(text)
        assert rule.start is not None and rule.end is not None
        starts = rule.start.localSeconds(year) - rule.stdOffset
        ends = rule.end.localSeconds(year) - rule.dstOffset
        expected = sorted([(starts, 0), (ends, 1)])
        self.assertEqual(
            rule.transitions(year, year), [(t, kind == 0) for t, kind in expected]
        )
        # And once worked out, the same again.
        self.assertEqual(
            rule.transitions(year, year), [(t, kind == 0) for t, kind in expected]
        )
