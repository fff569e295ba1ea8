"""
Tests for L{clocksvc._time._transitions}: a zone's transitions in a range,
checked against C{zoneinfo} a second either side of each, and against the
answers clocksvc gave when it probed C{zoneinfo} for them.
"""

from __future__ import annotations

import io
import json
import os
import platform
import zoneinfo
from bisect import bisect_right
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._time._document import formatOffset
from clocksvc._time._periods import ALWAYS_SEARCHED, searchedSpan
from clocksvc._time._timeline import FIRST, LAST, ZONES_KEPT, _timeline
from clocksvc._time._transitions import (
    LONGEST_RANGE,
    Transition,
    _isoUTC,
    transitionsBetween,
    transitionsJSON,
)
from clocksvc._time._tzdata import tzifBytes
from clocksvc._time._tzif import parseTZif

from ._probedtransitions import probedTransitionsBetween, transitionsIn
from ._zonefiles import installZone, makeTZif
from ._zones import ZONES

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

    def test_emptyRange(self) -> None:
        """
        A range that ends where it starts, or before, has no transitions.
        """
        zone = ZoneInfo("Europe/Berlin")
        spring = _utc(2024, 3, 31, 1)
        self.assertEqual(transitionsBetween(zone, spring, spring), [])
        self.assertEqual(transitionsBetween(zone, spring + 1, spring), [])

    def test_zoneFromFile(self) -> None:
        """
        A zone made from a file object has no name to find its file by: a
        C{ValueError}.
        """
        data = tzifBytes("Europe/Berlin")
        zone = ZoneInfo.from_file(io.BytesIO(data))
        with self.assertRaises(ValueError):
            transitionsBetween(zone, _utc(2024, 1, 1), _utc(2025, 1, 1))

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


def _oracleAgrees(
    testCase: SynchronousTestCase, zone: ZoneInfo, start: int, end: int
) -> list[Transition]:
    """
    Assert that L{transitionsBetween} answers as clocksvc did when it probed
    C{zoneinfo} for them (L{probedTransitionsBetween}), but for the one
    transition probing missed: at the range's first instant, where that is
    a UTC new year (L{ProbedTests.test_newYear}). So the oracle is asked
    from a second earlier, and what it finds then is left out.

    @return: the transitions.
    """
    found = transitionsBetween(zone, start, end)
    probed = probedTransitionsBetween(zone, start - 1, end)
    testCase.assertEqual(found, [t for t in probed if t["unixtime"] != start - 1])
    return found


class EveryZoneTests(SynchronousTestCase):
    """
    Every zone's transitions from 1900 to 2100, checked against C{zoneinfo}.
    """

    def test_zoneinfo(self) -> None:
        """
        At each transition, C{zoneinfo}'s offset or daylight saving changes:
        the state before it is C{zoneinfo}'s a second before, the state
        after it is C{zoneinfo}'s at it and a second after; its daylight
        saving is C{zoneinfo}'s where positive, and off where negative. And
        at the first instant of every quarter, C{zoneinfo}'s offset is the one
        after the latest transition before it.
        """
        if platform.python_implementation() == "PyPy":
            raise self.skipTest(
                "PyPy 3.9's zoneinfo gives the new offset at a transition and "
                "the old one a second after it (Africa/Maputo, 1908), where "
                "CPython's zoneinfo, which this test runs against, does not"
            )
        start, end = _utc(1900, 1, 1), _utc(2100, 1, 1)
        quarters = [
            _utc(year, month, 1)
            for year in range(1900, 2100)
            for month in (1, 4, 7, 10)
        ]
        for name in sorted(zoneinfo.available_timezones()):
            zone = ZoneInfo(name)
            transitions = transitionsBetween(zone, start, end)
            for transition in transitions:
                instant = transition["unixtime"]
                assert isinstance(instant, int)
                before, at, after = (
                    _at(seconds, zone)
                    for seconds in (instant - 1, instant, instant + 1)
                )
                self.assertNotEqual(
                    (before.utcoffset(), before.dst()), (at.utcoffset(), at.dst())
                )
                self.assertEqual(
                    (at.utcoffset(), at.dst(), at.tzname()),
                    (after.utcoffset(), after.dst(), after.tzname()),
                )
                for key, local in (("before", before), ("after", at)):
                    state = _side(transition, key)
                    offset, saving = local.utcoffset(), local.dst()
                    assert offset is not None and saving is not None
                    self.assertEqual(
                        (state["utc_offset"], state["abbreviation"]),
                        (formatOffset(offset), local.tzname()),
                        (name, instant, key),
                    )
                    amount = int(saving.total_seconds())
                    if amount > 0:
                        self.assertEqual(
                            (state["dst"], state["dst_offset"]), (True, amount)
                        )
                    elif amount < 0:
                        self.assertEqual(
                            (state["dst"], state["dst_offset"]), (False, 0)
                        )
                    self.assertEqual(
                        state["raw_offset"],
                        offset.total_seconds() - float(str(state["dst_offset"])),
                    )
            instants = [int(str(t["unixtime"])) for t in transitions]
            for quarter in quarters:
                latest = bisect_right(instants, quarter)
                expected = _at(instants[latest - 1] if latest else start, zone)
                self.assertEqual(
                    _at(quarter, zone).utcoffset(),
                    expected.utcoffset(),
                    (name, quarter),
                )


#: Zones whose daylight saving tzdata writes as negative (Dublin, Windhoek,
#: Casablanca, Prague in 1946-47), whose history is the densest (Hebron),
#: whose TZif file ends early (the slim tzdata package's), or whose footer
#: has times of day beyond 24 hours or before 0 (Gaza, Nuuk, Jerusalem).
_HARD_ZONES = [
    "Europe/Dublin",
    "Africa/Windhoek",
    "Africa/Casablanca",
    "Europe/Prague",
    "Asia/Hebron",
    "Asia/Gaza",
    "America/Nuuk",
    "Asia/Jerusalem",
]

#: Set to run the oracle over every zone and a few centuries: a few
#: minutes of probing.
_EVERY_ZONE = bool(os.environ.get("CLOCKSVC_EVERY_ZONE"))

#: The earliest and latest instants the API takes: 1000-01-01 and the end
#: of 9998.
_EARLIEST, _LATEST = -30_610_224_000, 253_370_764_800


class ProbedTests(SynchronousTestCase):
    """
    L{transitionsBetween} reads transitions from the zone's TZif file, and
    answers exactly as clocksvc did when it probed C{zoneinfo} a day at a
    time (L{probedTransitionsBetween}, the old code, kept as an oracle):
    the same instants, and the same states either side, daylight saving
    decided from the same neighbouring periods, found as far away.
    """

    def test_hardZones(self) -> None:
        """
        Zones with the hardest edges, from 1900 to 2100 in decades.
        """
        for name in _HARD_ZONES + ZONES:
            zone = ZoneInfo(name)
            for year in range(1900, 2100, 10):
                _oracleAgrees(self, zone, _utc(year, 1, 1), _utc(year + 10, 1, 1))

    def test_footerTakesOver(self) -> None:
        """
        Every zone, across 2037, when the footer's rules take over from the
        explicit transitions of most system (fat) TZif files.
        """
        for name in zoneinfo.available_timezones():
            _oracleAgrees(self, ZoneInfo(name), _utc(2036, 6, 1), _utc(2040, 1, 1))

    def test_apiEdges(self) -> None:
        """
        Ranges that start at the earliest instant the API takes, or end at
        its latest, where the document looks for periods' ends in the year
        9999.
        """
        for name in _HARD_ZONES + ZONES + ["Australia/Sydney", "America/Santiago"]:
            zone = ZoneInfo(name)
            _oracleAgrees(self, zone, _EARLIEST, _EARLIEST + 3 * 31_557_600)
            _oracleAgrees(self, zone, _LATEST - 3 * 31_557_600, _LATEST)

    def test_everyZone(self) -> None:
        """
        Every zone, from 1900 to 2100 in 25 years, from 1600 to 1700 and
        from 2037 to 2040: with C{CLOCKSVC_EVERY_ZONE} set, as it takes
        minutes.
        """
        if not _EVERY_ZONE:
            raise self.skipTest("set CLOCKSVC_EVERY_ZONE=1 to run (minutes)")
        ranges = [(year, year + 25) for year in range(1900, 2100, 25)]
        ranges += [(1600, 1700), (2037, 2040)]
        for name in sorted(zoneinfo.available_timezones()):
            zone = ZoneInfo(name)
            for first, last in ranges:
                _oracleAgrees(self, zone, _utc(first, 1, 1), _utc(last, 1, 1))
            # The oracle keeps each zone's years; a zone at a time.
            transitionsIn.cache_clear()

    @settings(max_examples=200)
    @given(
        st.sampled_from(sorted(zoneinfo.available_timezones())),
        st.integers(min_value=_EARLIEST, max_value=_LATEST - 1),
        st.integers(min_value=1, max_value=5 * 31_557_600),
    )
    def test_anyZoneAnyRange(self, name: str, start: int, length: int) -> None:
        """
        Any zone, any range of up to five years that the API takes.
        """
        _oracleAgrees(self, ZoneInfo(name), start, min(start + length, _LATEST))

    def test_newYear(self) -> None:
        """
        A range that starts at a UTC new year holds a transition at that
        instant (as any range holds its first instant): Madrid changed from
        its local mean time at 1901-01-01T00:00:00Z. Probing missed it, as
        it looked for a year's transitions after its first second.
        """
        zone = ZoneInfo("Europe/Madrid")
        found = transitionsBetween(zone, _utc(1901, 1, 1), _utc(1902, 1, 1))
        self.assertEqual(
            [t["utc_datetime"] for t in found], ["1901-01-01T00:00:00+00:00"]
        )
        [change] = found
        self.assertEqual(
            (_side(change, "before")["abbreviation"], _side(change, "after")),
            (
                "LMT",
                {
                    "utc_offset": "+00:00",
                    "abbreviation": "WET",
                    "dst": False,
                    "dst_offset": 0,
                    "raw_offset": 0,
                },
            ),
        )
        self.assertEqual(
            probedTransitionsBetween(zone, _utc(1901, 1, 1), _utc(1902, 1, 1)), []
        )
        # From a second earlier, probing found it.
        self.assertEqual(
            probedTransitionsBetween(zone, _utc(1901, 1, 1) - 1, _utc(1902, 1, 1)),
            found,
        )

    def test_abbreviationOnly(self) -> None:
        """
        A change of abbreviation alone is no transition, but the state
        before the next one has the new abbreviation: New York's war time
        became peace time on 14 August 1945, an hour behind UTC all along.
        """
        found = _oracleAgrees(
            self, ZoneInfo("America/New_York"), _utc(1945, 1, 1), _utc(1946, 1, 1)
        )
        self.assertEqual(
            [(t["utc_datetime"], _side(t, "before")["abbreviation"]) for t in found],
            [("1945-09-30T06:00:00+00:00", "EPT")],
        )


class MadeZoneTests(SynchronousTestCase):
    """
    L{transitionsBetween} answers as the oracle does for zones made to
    order, with edges no zone has yet.
    """

    def zone(self, key: str, data: bytes) -> ZoneInfo:
        installZone(self, key, data)
        return ZoneInfo(key)

    def test_searchedSpan(self) -> None:
        """
        A period without saving between two of negative saving is summer
        time, as the time document reports it, only where the document
        finds both its ends: its beginning after the start of the UTC year
        four years back, its end before the end of the fifth year on. So a
        period of five years and a month is summer time seen from its start
        but not from its end; one of eight and a half is not, from either.
        """
        summer, winter = (3600, False, "IST"), (0, True, "GMT")
        instants = [
            _utc(2000, 11, 1),
            _utc(2001, 4, 1),
            _utc(2001, 11, 1),
            _utc(2002, 4, 1),
            _utc(2010, 11, 1),
            _utc(2011, 11, 30),
            _utc(2016, 12, 31),
            _utc(2017, 4, 1),
        ]
        zone = self.zone(
            "Test/Negative",
            makeTZif(instants, [1, 0] * 4, [summer, winter], "IST-1"),
        )
        found = _oracleAgrees(self, zone, _utc(2000, 1, 1), _utc(2020, 1, 1))
        self.assertEqual(
            [
                (str(t["utc_datetime"])[:10], _side(t, "before")["dst"], t["dst"])
                for t in found
            ],
            [
                ("2000-11-01", False, False),
                ("2001-04-01", False, True),
                ("2001-11-01", True, False),
                ("2002-04-01", False, False),
                ("2010-11-01", False, False),
                ("2011-11-30", False, True),
                ("2016-12-31", False, False),
                # Then IST for ever: no negative saving follows.
                ("2017-04-01", False, False),
            ],
        )

    def test_footerDisagrees(self) -> None:
        """
        Where the footer's time differs from the last transition's type,
        zoneinfo changes to it a second after that transition.
        """
        zone = self.zone(
            "Test/Footer",
            makeTZif(
                [_utc(2030, 1, 1)],
                [1],
                [(0, False, "AAA"), (3600, False, "BBB")],
                "CCC-2DDD,M3.5.0,M10.5.0/3",
            ),
        )
        found = _oracleAgrees(self, zone, _utc(2029, 1, 1), _utc(2031, 1, 1))
        self.assertEqual(
            [(t["unixtime"], _side(t, "after")["abbreviation"]) for t in found][:2],
            [(_utc(2030, 1, 1), "BBB"), (_utc(2030, 1, 1) + 1, "CCC")],
        )

    def test_footerOnly(self) -> None:
        """
        A zone with no transitions follows its footer for ever, even one
        whose times of day are days away.
        """
        zone = self.zone(
            "Test/Rules",
            makeTZif(
                [], [], [(-18000, False, "EST")], "EST5EDT,M3.2.0/-30,M11.1.0/100"
            ),
        )
        found = _oracleAgrees(self, zone, _utc(2023, 6, 1), _utc(2026, 1, 1))
        self.assertEqual(len(found), 5)
        _oracleAgrees(self, zone, _utc(7000, 1, 1), _utc(7003, 1, 1))

    def test_version1(self) -> None:
        """
        A version 1 file has no footer: its last transition's type holds
        for ever.
        """
        zone = self.zone(
            "Test/Old",
            makeTZif(
                [_utc(1990, 3, 25, 1), _utc(1990, 9, 30, 1)],
                [1, 0],
                [(3600, False, "CET"), (7200, True, "CEST")],
                None,
            ),
        )
        found = _oracleAgrees(self, zone, _utc(1989, 1, 1), _utc(1995, 1, 1))
        self.assertEqual(len(found), 2)

    def test_beforeTime(self) -> None:
        """
        Transitions before the years C{datetime} holds (zic once wrote one
        at -2**59) set the state the first instant has.
        """
        zone = self.zone(
            "Test/BigBang",
            makeTZif(
                [-(2**59), _utc(1970, 1, 1)],
                [1, 2],
                [(0, False, "LMT"), (1800, False, "AAA"), (3600, False, "BBB")],
                "BBB-1",
            ),
        )
        self.assertEqual(
            _oracleAgrees(self, zone, _EARLIEST, _EARLIEST + 31_557_600), []
        )
        [change] = _oracleAgrees(self, zone, _utc(1969, 1, 1), _utc(1971, 1, 1))
        self.assertEqual(_side(change, "before")["abbreviation"], "AAA")


class CostTests(SynchronousTestCase):
    """
    A zone's TZif file is read once; after that a range costs the same
    whatever its years, and asks C{zoneinfo} nothing.
    """

    def test_lookups(self) -> None:
        """
        A century of transitions asks C{zoneinfo} for the zone's state once
        for each local time type its file lists (nine for Berlin), and
        once more, on the first request; on the next ones, for any century,
        nothing. (Probing asked it at least once a day of each year.)
        """
        asked = []

        class Counting(ZoneInfo):
            def utcoffset(self, dt: datetime | None) -> timedelta | None:
                asked.append(dt)
                return super().utcoffset(dt)

        zone = Counting("Europe/Berlin")
        listed = len(parseTZif(tzifBytes("Europe/Berlin")).localTimeTypes)
        century = transitionsBetween(zone, _utc(1950, 1, 1), _utc(2050, 1, 1))
        self.assertGreater(len(century), 100)
        self.assertLessEqual(len(asked), listed + 1)
        del asked[:]
        for year in (1000, 2000, 5000, 9898):
            transitionsBetween(zone, _utc(year, 1, 1), _utc(year + 100, 1, 1))
        self.assertEqual(asked, [])

    def test_bounded(self) -> None:
        """
        The zones' timelines are kept, each once: as many as the database
        has zones, at most.
        """
        self.assertGreaterEqual(ZONES_KEPT, len(zoneinfo.available_timezones()))
        self.assertEqual(_timeline.cache_info().maxsize, ZONES_KEPT)


class PiecesTests(SynchronousTestCase):
    """
    The shortcuts L{transitionsBetween} takes give what the long way gives.
    """

    @given(st.integers(min_value=FIRST, max_value=LAST))
    def test_isoUTC(self, seconds: int) -> None:
        """
        An instant's ISO form is C{datetime}'s.
        """
        self.assertEqual(
            _isoUTC(seconds), datetime.fromtimestamp(seconds, _UTC).isoformat()
        )

    def test_jsonEveryZone(self) -> None:
        """
        L{transitionsJSON} is C{json.dumps} of L{transitionsBetween}'s list,
        compact, byte for byte: for every zone from 1900 to 2100.
        """
        for name in sorted(zoneinfo.available_timezones()):
            zone = ZoneInfo(name)
            for year in (1900, 2000):
                start, end = _utc(year, 1, 1), _utc(year + 100, 1, 1)
                self.assertEqual(
                    transitionsJSON(zone, start, end),
                    json.dumps(
                        transitionsBetween(zone, start, end), separators=(",", ":")
                    ),
                    name,
                )

    @given(
        st.sampled_from(sorted(zoneinfo.available_timezones())),
        st.integers(min_value=_EARLIEST, max_value=_LATEST - 1),
        st.integers(min_value=0, max_value=LONGEST_RANGE),
    )
    def test_json(self, name: str, start: int, length: int) -> None:
        """
        And for any zone and range the API takes, empty ones too.
        """
        zone = ZoneInfo(name)
        end = min(start + length, _LATEST)
        self.assertEqual(
            transitionsJSON(zone, start, end),
            json.dumps(transitionsBetween(zone, start, end), separators=(",", ":")),
        )

    @given(st.integers(min_value=FIRST, max_value=LAST))
    def test_alwaysSearched(self, seconds: int) -> None:
        """
        The span the time document searches around an instant holds every
        instant less than L{ALWAYS_SEARCHED} before it, and that far after
        it, as far as it looks.
        """
        earliest, latest = searchedSpan(seconds)
        self.assertLessEqual(earliest, max(seconds - ALWAYS_SEARCHED, FIRST))
        self.assertGreaterEqual(latest, min(seconds + ALWAYS_SEARCHED, LAST))
