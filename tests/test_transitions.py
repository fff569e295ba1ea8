"""
Tests for L{clocksvc._time._transitions}: a zone's transitions in a range,
checked against C{zoneinfo} a second either side of each.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._time._document import formatOffset
from clocksvc._time._transitions import LONGEST_RANGE, Transition, transitionsBetween

from .test_convert import ZONES

_UTC = timezone.utc


def _at(seconds: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(seconds, _UTC).astimezone(zone)


def _utc(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(datetime(year, month, day, hour, tzinfo=_UTC).timestamp())


def _side(transition: Transition, key: str) -> dict[str, object]:
    """
    @return: the transition's C{before} or C{after} state.
    """
    state = transition[key]
    assert isinstance(state, dict)
    return state


class TransitionsBetweenTests(SynchronousTestCase):
    """
    L{transitionsBetween} lists the instants at which a zone's offset or
    daylight saving changes, with the state on either side.
    """

    def assertMatchesZoneinfo(self, name: str, start: int, end: int) -> list[int]:
        """
        Assert that each transition's C{before} and C{after} offsets and
        abbreviations are C{zoneinfo}'s a second before it and at it, and
        that between two transitions nothing changes at the hour marks.

        @return: the transitions' instants.
        """
        zone = ZoneInfo(name)
        transitions = transitionsBetween(zone, start, end)
        instants = []
        for transition in transitions:
            instant = transition["unixtime"]
            assert isinstance(instant, int)
            instants.append(instant)
            self.assertTrue(start <= instant < end)
            self.assertEqual(
                transition["utc_datetime"],
                datetime.fromtimestamp(instant, _UTC).isoformat(),
            )
            for key, seconds in (("before", instant - 1), ("after", instant)):
                local = _at(seconds, zone)
                state = transition[key]
                assert isinstance(state, dict)
                offset = local.utcoffset()
                assert offset is not None
                self.assertEqual(state["utc_offset"], formatOffset(offset), name)
                self.assertEqual(state["abbreviation"], local.tzname(), name)
            after = transition["after"]
            assert isinstance(after, dict)
            self.assertEqual(transition["dst"], after["dst"])
        # Nothing is missed: at each hour between the range's ends, the
        # offset is the one after the latest transition before it.
        edges = [start, *instants, end]
        for low, high in zip(edges, edges[1:]):
            expected = _at(low, zone).utcoffset()
            for probe in range(low, high, 3600):
                self.assertEqual(_at(probe, zone).utcoffset(), expected, (name, probe))
        self.assertEqual(instants, sorted(set(instants)))
        return instants

    def test_berlin(self) -> None:
        """
        Berlin changes at 01:00 UTC on the last Sundays of March and October.
        """
        instants = self.assertMatchesZoneinfo(
            "Europe/Berlin", _utc(2024, 1, 1), _utc(2025, 1, 1)
        )
        self.assertEqual(instants, [_utc(2024, 3, 31, 1), _utc(2024, 10, 27, 1)])
        [spring, autumn] = transitionsBetween(
            ZoneInfo("Europe/Berlin"), _utc(2024, 1, 1), _utc(2025, 1, 1)
        )
        self.assertEqual(
            spring["before"],
            {
                "utc_offset": "+01:00",
                "abbreviation": "CET",
                "dst": False,
                "dst_offset": 0,
                "raw_offset": 3600,
            },
        )
        self.assertEqual(spring["after"], autumn["before"])
        self.assertEqual((spring["dst"], autumn["dst"]), (True, False))

    def test_saoPaulo(self) -> None:
        """
        Brazil's last summer time ended in February 2019; none since.
        """
        instants = self.assertMatchesZoneinfo(
            "America/Sao_Paulo", _utc(2018, 1, 1), _utc(2024, 1, 1)
        )
        self.assertEqual(
            instants,
            [_utc(2018, 2, 18, 2), _utc(2018, 11, 4, 3), _utc(2019, 2, 17, 2)],
        )

    def test_lordHowe(self) -> None:
        """
        Lord Howe Island's saving is 30 minutes.
        """
        transitions = transitionsBetween(
            ZoneInfo("Australia/Lord_Howe"), _utc(2024, 1, 1), _utc(2025, 1, 1)
        )
        self.assertMatchesZoneinfo(
            "Australia/Lord_Howe", _utc(2024, 1, 1), _utc(2025, 1, 1)
        )
        self.assertEqual(
            [
                (_side(t, "before")["utc_offset"], _side(t, "after")["utc_offset"])
                for t in transitions
            ],
            [("+11:00", "+10:30"), ("+10:30", "+11:00")],
        )
        self.assertEqual(_side(transitions[1], "after")["dst_offset"], 1800)

    def test_dublin(self) -> None:
        """
        Irish summer time is daylight saving after its spring transition,
        as clients expect, though tzdata calls winter the negative saving.
        """
        transitions = transitionsBetween(
            ZoneInfo("Europe/Dublin"), _utc(2024, 1, 1), _utc(2025, 1, 1)
        )
        self.assertMatchesZoneinfo("Europe/Dublin", _utc(2024, 1, 1), _utc(2025, 1, 1))
        self.assertEqual([t["dst"] for t in transitions], [True, False])
        self.assertEqual(
            [_side(t, "after")["abbreviation"] for t in transitions],
            ["IST", "GMT"],
        )

    def test_apia(self) -> None:
        """
        Samoa crossed the date line at the end of 2011-12-29, local time:
        from -10:00 (its summer time) to +14:00.
        """
        instants = self.assertMatchesZoneinfo(
            "Pacific/Apia", _utc(2011, 12, 1), _utc(2012, 1, 1)
        )
        self.assertEqual(instants, [_utc(2011, 12, 30, 10)])
        [jump] = transitionsBetween(
            ZoneInfo("Pacific/Apia"), _utc(2011, 12, 1), _utc(2012, 1, 1)
        )
        self.assertEqual(_side(jump, "before")["utc_offset"], "-10:00")
        self.assertEqual(_side(jump, "after")["utc_offset"], "+14:00")

    def test_rangeEnds(self) -> None:
        """
        The range holds its first instant and not its end.
        """
        zone = ZoneInfo("Europe/Berlin")
        spring = _utc(2024, 3, 31, 1)
        self.assertEqual(len(transitionsBetween(zone, spring, spring + 1)), 1)
        self.assertEqual(transitionsBetween(zone, spring - 100, spring), [])

    def test_longestRange(self) -> None:
        """
        The longest range is a hundred years of 365.25 days, and a century
        of Berlin's fits in a few hundred transitions.
        """
        self.assertEqual(LONGEST_RANGE, 3_155_760_000)
        start = _utc(1950, 1, 1)
        instants = self.assertMatchesZoneinfo(
            "Europe/Berlin", start, start + LONGEST_RANGE
        )
        self.assertLess(len(instants), 300)

    @settings(max_examples=30, deadline=None)
    @given(st.sampled_from(ZONES), st.integers(min_value=1900, max_value=2100))
    def test_matchesZoneinfo(self, name: str, year: int) -> None:
        """
        In any year, each transition's offsets are zoneinfo's a second
        either side, and none is missed.
        """
        self.assertMatchesZoneinfo(name, _utc(year, 1, 1), _utc(year + 1, 1, 1))
