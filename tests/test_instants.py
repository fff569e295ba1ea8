"""
Tests for L{clocksvc._time._instants}: instants and local date-times as
clients write them, checked against C{datetime}'s own parsing.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._time._instants import (
    INSTANT,
    LOCAL_TIME,
    localTime,
    parseInstant,
)

_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)

#: Local date-times in the bounds, to the microsecond.
localTimes = st.datetimes(
    min_value=datetime(1000, 1, 1), max_value=datetime(9998, 12, 31, 23, 59, 59)
)
#: Offsets that RFC 3339 can write: whole minutes, less than a day.
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


def _seconds(moment: datetime) -> Fraction:
    return Fraction((moment - _EPOCH) // timedelta(microseconds=1), 1_000_000)


class ParseInstantTests(SynchronousTestCase):
    """
    L{parseInstant} reads RFC 3339 and Unix seconds, in the years 1000 to
    9998 as written, and nothing else.
    """

    @given(localTimes, offsets)
    def test_rfc3339(self, local: datetime, offset: timezone) -> None:
        """
        Every RFC 3339 time in the bounds is the instant C{datetime} reads.
        """
        moment = local.replace(tzinfo=offset)
        text = moment.isoformat()
        self.assertEqual(parseInstant(text), _seconds(moment))
        self.assertTrue(re.fullmatch(INSTANT, text))

    @given(localTimes)
    def test_utcZ(self, local: datetime) -> None:
        """
        C{Z} (or C{z}, and C{t} for C{T}) is UTC.
        """
        text = local.isoformat()
        expected = _seconds(local.replace(tzinfo=_UTC))
        self.assertEqual(parseInstant(text + "Z"), expected)
        self.assertEqual(parseInstant(text.replace("T", "t") + "z"), expected)

    @given(st.integers(min_value=-30610224000 * 10**6, max_value=253370764799 * 10**6))
    def test_unixSeconds(self, micros: int) -> None:
        """
        Unix seconds, with up to six decimals, are that instant exactly.
        """
        whole, fraction = divmod(micros, 10**6)
        if whole < 0 and fraction:
            text = f"-{-whole - 1}.{10**6 - fraction:06d}"
        else:
            text = f"{whole}.{fraction:06d}"
        self.assertEqual(parseInstant(text), Fraction(micros, 10**6))

    def test_nanoseconds(self) -> None:
        """
        Fractions beyond the microsecond are rounded to it.
        """
        self.assertEqual(
            parseInstant("2024-01-01T00:00:00.1234565Z"),
            Fraction(1704067200123457, 10**6),
        )
        self.assertEqual(
            parseInstant("2024-01-01T00:00:00.123456499Z"),
            Fraction(1704067200123456, 10**6),
        )

    def test_bounds(self) -> None:
        """
        The years 1000 to 9998 as written: Unix seconds from -30610224000
        (1000-01-01T00:00:00Z) to 253370764799 and its fraction.
        """
        self.assertEqual(parseInstant("-30610224000"), -30610224000)
        self.assertEqual(
            parseInstant("1000-01-01T00:00:00Z"),
            _seconds(datetime(1000, 1, 1, tzinfo=_UTC)),
        )
        self.assertEqual(
            parseInstant("253370764799.999999"), Fraction(253370764799999999, 10**6)
        )
        for outside in [
            "-30610224001",
            "-30610224000.5",
            "253370764800",
            "0999-12-31T23:59:59Z",
            "9999-01-01T00:00:00Z",
            "99999999999999999999",
        ]:
            self.assertIsNone(parseInstant(outside), outside)

    def test_malformed(self) -> None:
        """
        Dates that do not exist, leap seconds, missing offsets and anything
        else are not instants.
        """
        for text in [
            "",
            "now",
            "2023-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-06-30T23:59:60Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01 00:00:00Z",
            "2024-01-01T00:00:00+24:00",
            "2024-01-01T00:00:00+0100",
            "2024-01-01",
            "1.5e9",
            "+1700000000",
            "1700000000.",
            "1700000000.1234567",
            "0x10",
            # Digits that float() would read, but no client means.
            "\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660",
            "1700000000\n",
        ]:
            self.assertIsNone(parseInstant(text), text)

    def test_leapDays(self) -> None:
        """
        29 February is a date in the leap years of the Gregorian calendar,
        and only then: the pattern agrees with C{calendar} on every year.
        """
        import calendar

        for year in range(1000, 9999):
            text = f"{year}-02-29T00:00:00Z"
            self.assertEqual(
                parseInstant(text) is not None, calendar.isleap(year), text
            )


class LocalTimeTests(SynchronousTestCase):
    """
    L{localTime} reads a date-time without offset.
    """

    @given(localTimes)
    def test_roundTrip(self, local: datetime) -> None:
        """
        Every local date-time in the bounds is read as it was written.
        """
        text = local.isoformat(timespec="microseconds")
        self.assertEqual(localTime(text), local)
        self.assertTrue(re.fullmatch(LOCAL_TIME, text))

    def test_refused(self) -> None:
        """
        An offset, a date that does not exist, or anything out of bounds is
        not a local time.
        """
        for text in [
            "2024-03-31T02:30:00Z",
            "2024-03-31T02:30:00+01:00",
            "2023-02-29T12:00:00",
            "0999-12-31T23:59:59",
            "9999-01-01T00:00:00",
            "2024-03-31",
            "2024-03-31T02:30",
        ]:
            self.assertIsNone(localTime(text), text)

    def test_rounding(self) -> None:
        """
        A fraction past the microsecond rounds, carrying into the next second.
        """
        self.assertEqual(localTime("2024-12-31T23:59:59.9999995"), datetime(2025, 1, 1))
