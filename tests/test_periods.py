"""
Tests for L{clocksvc._time._periods}: the search for the transitions that
bound the period of a zone's offset around an instant.

Expected values are literals, each with the rule that makes it right; they
were cross-checked by hand against C{zoneinfo}.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._time._periods import periodAround, stateAt, transitionsIn

from ._zones import LAST_INSTANT, ZONE_NAMES


class PeriodTests(SynchronousTestCase):
    """
    L{periodAround}, L{transitionsIn} and L{stateAt} find when a zone's
    offset changes.
    """

    def test_berlinSummer(self) -> None:
        """
        In July 2024, Berlin's period is its summer time.
        """
        # 2024-07-15T12:00:00Z; CEST ran from 01:00 UTC on the last Sunday of
        # March to 01:00 UTC on the last Sunday of October.
        self.assertEqual(
            periodAround(ZoneInfo("Europe/Berlin"), 1_721_044_800),
            (1_711_846_800, 1_729_990_800),
        )

    def test_periodIncludesItsStart(self) -> None:
        """
        A period begins at its first second and ends before the next
        period's first.
        """
        berlin = ZoneInfo("Europe/Berlin")
        self.assertEqual(
            (periodAround(berlin, 1_711_846_800), periodAround(berlin, 1_729_990_799)),
            ((1_711_846_800, 1_729_990_800), (1_711_846_800, 1_729_990_800)),
        )

    def test_utc(self) -> None:
        """
        UTC never changes, so neither end of its period is found.
        """
        self.assertEqual(periodAround(ZoneInfo("UTC"), 1_721_044_800), (None, None))

    def test_transitionAtYearBoundary(self) -> None:
        """
        A transition at the first second of a UTC year is found once, in the
        year before, and bounds the periods on both sides of it.
        """
        lisbon = ZoneInfo("Europe/Lisbon")
        # Portugal left Lisbon Mean Time (-00:36:45) for GMT at
        # 1912-01-01T00:00:00Z ("1912 Jan 1 0:00u" in tzdata), and changed
        # nothing else in 1911 or 1912.
        newYear = -1_830_384_000
        self.assertEqual(
            (transitionsIn(lisbon, 1911), transitionsIn(lisbon, 1912)),
            ((newYear,), ()),
        )
        self.assertEqual(periodAround(lisbon, newYear - 1)[1], newYear)
        self.assertEqual(periodAround(lisbon, newYear)[0], newYear)

    def test_transitionsSorted(self) -> None:
        """
        A year's transitions come in time order.
        """
        self.assertEqual(
            transitionsIn(ZoneInfo("Europe/Berlin"), 2024),
            (1_711_846_800, 1_729_990_800),
        )
        # Morocco falls back to +00 for Ramadan: in 2024, at 03:00 local time
        # on March 10 until 02:00 local time on April 14.
        self.assertEqual(
            transitionsIn(ZoneInfo("Africa/Casablanca"), 2024),
            (1_710_036_000, 1_713_060_000),
        )

    @given(
        name=st.sampled_from(ZONE_NAMES),
        year=st.integers(min_value=1900, max_value=2100),
    )
    def test_transitionsAreChanges(self, name: str, year: int) -> None:
        """
        Every transition found is in the year (or at the first second of the
        next), later than the one before, and a change of state.
        """
        zone = ZoneInfo(name)
        found = transitionsIn(zone, year)
        start = int(datetime(year, 1, 1, tzinfo=timezone.utc).timestamp())
        end = int(datetime(year + 1, 1, 1, tzinfo=timezone.utc).timestamp())
        self.assertEqual(list(found), sorted(set(found)))
        for instant in found:
            self.assertTrue(start < instant <= end, instant)
            self.assertNotEqual(stateAt(zone, instant - 1), stateAt(zone, instant))

    def test_stateAt(self) -> None:
        """
        The state is the UTC offset and the daylight-saving amount.
        """
        berlin = ZoneInfo("Europe/Berlin")
        self.assertEqual(
            (stateAt(berlin, 1_711_846_799), stateAt(berlin, 1_711_846_800)),
            (
                (timedelta(hours=1), timedelta(0)),
                (timedelta(hours=2), timedelta(hours=1)),
            ),
        )

    def test_endOfCalendar(self) -> None:
        """
        The search for a period's end may reach the last year datetime can
        hold, and finds transitions there.
        """
        # 9998-12-31T23:59:59Z in New York is in standard time, which began
        # on the first Sunday of November (9998-11-01) at 02:00 EDT, and ends
        # on the second Sunday of March (9999-03-14) at 02:00 EST.
        self.assertEqual(
            periodAround(ZoneInfo("America/New_York"), LAST_INSTANT),
            (253_365_516_000, 253_377_010_800),
        )
        self.assertEqual(transitionsIn(ZoneInfo("UTC"), 9999), ())
