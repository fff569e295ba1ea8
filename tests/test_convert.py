"""
Tests for L{clocksvc._time._convert}: what a local date-time names in a
zone, checked against C{zoneinfo} read directly.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._time._convert import localInstants

from ._zones import ZONES

_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _instant(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _readings(zone: ZoneInfo, local: datetime) -> set[int]:
    """
    The instants, within a day either way, whose local time in C{zone} is
    C{local}, found by trying every offset tzdata has used near it: an
    independent answer to what the date-time names.
    """
    found = set()
    for hours in range(-30, 31):
        near = local.replace(tzinfo=_UTC) + timedelta(hours=hours)
        offset = near.astimezone(zone).utcoffset()
        assert offset is not None
        candidate = local.replace(tzinfo=_UTC) - offset
        if candidate.astimezone(zone).replace(tzinfo=None) == local:
            found.add(_micros(candidate))
    return found


class LocalInstantsTests(SynchronousTestCase):
    """
    L{localInstants} finds the one instant of a date-time, none in a gap, or
    two in an overlap.
    """

    def assertFinds(self, name: str, local: datetime, kind: str) -> None:
        zone = ZoneInfo(name)
        found = localInstants(zone, local)
        self.assertEqual(found.kind, kind, (name, local))
        readings = _readings(zone, local)
        if kind == "gap":
            self.assertEqual(readings, set())
            # Both are near the date-time and on either side of the jump.
            for micros in (found.earlier, found.later):
                self.assertNotEqual(
                    _instant(micros).astimezone(zone).replace(tzinfo=None), local
                )
            self.assertLess(found.earlier, found.later)
        else:
            self.assertEqual(readings, {found.earlier, found.later})

    def test_berlin(self) -> None:
        """
        Berlin skips 02:00 to 03:00 on the last Sunday of March and repeats
        02:00 to 03:00 on the last Sunday of October.
        """
        self.assertFinds("Europe/Berlin", datetime(2024, 3, 31, 2, 30), "gap")
        self.assertFinds("Europe/Berlin", datetime(2024, 3, 31, 1, 59, 59), "unique")
        self.assertFinds("Europe/Berlin", datetime(2024, 3, 31, 3), "unique")
        self.assertFinds("Europe/Berlin", datetime(2024, 10, 27, 2, 30), "overlap")
        self.assertFinds("Europe/Berlin", datetime(2024, 10, 27, 3), "unique")
        found = localInstants(ZoneInfo("Europe/Berlin"), datetime(2024, 3, 31, 2, 30))
        # Read at +02:00, then at +01:00.
        self.assertEqual(
            _instant(found.earlier), datetime(2024, 3, 31, 0, 30, tzinfo=_UTC)
        )
        self.assertEqual(
            _instant(found.later), datetime(2024, 3, 31, 1, 30, tzinfo=_UTC)
        )

    def test_saoPaulo(self) -> None:
        """
        São Paulo's last summer time began at midnight (so 00:xx did not
        exist on 2018-11-04) and ended at midnight (23:xx twice on
        2019-02-16).
        """
        self.assertFinds("America/Sao_Paulo", datetime(2018, 11, 4, 0, 30), "gap")
        self.assertFinds("America/Sao_Paulo", datetime(2019, 2, 16, 23, 30), "overlap")

    def test_lordHowe(self) -> None:
        """
        Lord Howe Island's summer time is half an hour: a 30-minute gap and
        overlap.
        """
        self.assertFinds("Australia/Lord_Howe", datetime(2024, 10, 6, 2, 15), "gap")
        self.assertFinds("Australia/Lord_Howe", datetime(2024, 10, 6, 2, 30), "unique")
        self.assertFinds("Australia/Lord_Howe", datetime(2024, 4, 7, 1, 45), "overlap")

    def test_dublin(self) -> None:
        """
        Dublin's gap and overlap are where everyone expects them, whatever
        tzdata's negative saving says about which side is standard time.
        """
        self.assertFinds("Europe/Dublin", datetime(2024, 3, 31, 1, 30), "gap")
        self.assertFinds("Europe/Dublin", datetime(2024, 10, 27, 1, 30), "overlap")

    def test_apia(self) -> None:
        """
        Samoa skipped 30 December 2011 whole: every time of that day is in
        a gap of a day.
        """
        for hour in (0, 12, 23):
            self.assertFinds("Pacific/Apia", datetime(2011, 12, 30, hour), "gap")
        found = localInstants(ZoneInfo("Pacific/Apia"), datetime(2011, 12, 30, 12))
        self.assertEqual(found.later - found.earlier, 86_400 * 10**6)
        self.assertFinds("Pacific/Apia", datetime(2011, 12, 29, 23, 59), "unique")
        self.assertFinds("Pacific/Apia", datetime(2011, 12, 31), "unique")

    @given(
        st.sampled_from(ZONES),
        st.sampled_from(ZONES),
        st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
    )
    def test_roundTrip(self, source: str, target: str, local: datetime) -> None:
        """
        A date-time that is not in a gap, converted to another zone and back,
        is itself; and its instants are those C{zoneinfo} reads it as.
        """
        fromZone, toZone = ZoneInfo(source), ZoneInfo(target)
        found = localInstants(fromZone, local)
        if found.kind == "gap":
            self.assertEqual(_readings(fromZone, local), set())
            return
        self.assertEqual(_readings(fromZone, local), {found.earlier, found.later})
        for micros in (found.earlier, found.later):
            there = _instant(micros).astimezone(toZone).replace(tzinfo=None)
            back = localInstants(toZone, there)
            self.assertIn(micros, (back.earlier, back.later))
            self.assertEqual(
                _instant(micros).astimezone(fromZone).replace(tzinfo=None), local
            )
