"""
Tests for L{clocksvc._time._tzif}: TZif files read as RFC 9636 describes
them, checked against C{zoneinfo}'s reading of every zone, and the bytes
found where C{zoneinfo} finds them.
"""

from __future__ import annotations

import struct
import zoneinfo
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from twisted.trial.unittest import SynchronousTestCase

from clocksvc._time import _tzdata
from clocksvc._time._timeline import FIRST, LAST
from clocksvc._time._tzif import (
    LocalTimeType,
    TZifError,
    parseTZif,
)

from ._zonefiles import makeTZif

_UTC = timezone.utc


class ParseTZifTests(SynchronousTestCase):
    """
    L{parseTZif} reads a TZif file's transitions, types and footer.
    """

    def test_everyZone(self) -> None:
        """
        Every zone's file reads, with a footer; and at each of its
        transitions, C{zoneinfo}'s offset and abbreviation are those of the
        type the file names.
        """
        names = zoneinfo.available_timezones()
        self.assertGreater(len(names), 500)
        for name in names:
            zone = ZoneInfo(name)
            tzif = parseTZif(_tzdata.tzifBytes(name))
            self.assertGreaterEqual(tzif.version, 2, name)
            self.assertIsNotNone(tzif.footer, name)
            for instant, index in zip(tzif.times, tzif.types):
                if not FIRST <= instant <= LAST:
                    continue
                local = datetime.fromtimestamp(instant, _UTC).astimezone(zone)
                offset = local.utcoffset()
                assert offset is not None
                kind = tzif.localTimeTypes[index]
                self.assertEqual(
                    (offset.total_seconds(), local.tzname()),
                    (kind.offset, kind.abbreviation),
                    (name, instant),
                )

    def test_version2(self) -> None:
        """
        A version 2 file's 64-bit block is read, beyond 32 bits either way,
        and its footer; designations may share their ends.
        """
        data = makeTZif(
            [-(2**40), -5, 2**35],
            [1, 2, 0],
            [(3600, False, "CET"), (-36000, False, "AHST"), (7200, True, "CEST")],
            "CET-1CEST,M3.5.0,M10.5.0/3",
        )
        tzif = parseTZif(data)
        self.assertEqual(tzif.version, 2)
        self.assertEqual(tzif.times, (-(2**40), -5, 2**35))
        self.assertEqual(tzif.types, (1, 2, 0))
        self.assertEqual(
            tzif.localTimeTypes,
            (
                LocalTimeType(3600, False, "CET"),
                LocalTimeType(-36000, False, "AHST"),
                LocalTimeType(7200, True, "CEST"),
            ),
        )
        self.assertEqual(tzif.footer, "CET-1CEST,M3.5.0,M10.5.0/3")
        # A designation may be the end of another, as zic writes them: point
        # the second type at "HST", inside "CET\0AHST\0".
        records = data.index(b"TZif", 4) + 44 + 3 * 8 + 3
        shared = bytearray(data)
        shared[records + 6 + 5] = len("CET\0A")
        self.assertEqual(parseTZif(bytes(shared)).localTimeTypes[1].abbreviation, "HST")

    def test_laterVersions(self) -> None:
        """
        Versions 3 and 4 read as version 2 does, an empty footer too.
        """
        for version in (b"3", b"4"):
            tzif = parseTZif(makeTZif([0], [0], [(0, False, "UTC")], "", version))
            self.assertEqual((tzif.version, tzif.footer), (int(version), ""))

    def test_version1(self) -> None:
        """
        A version 1 file has 32-bit instants and no footer.
        """
        tzif = parseTZif(
            makeTZif(
                [-(2**31), 2**31 - 1],
                [0, 1],
                [(-18000, False, "EST"), (-14400, True, "EDT")],
                None,
            )
        )
        self.assertEqual(tzif.version, 1)
        self.assertEqual(tzif.times, (-(2**31), 2**31 - 1))
        self.assertIsNone(tzif.footer)

    def test_malformed(self) -> None:
        """
        What is not a TZif file, or is one cut short or pointing outside
        itself, is a L{TZifError} saying so.
        """
        good = makeTZif([0, 10], [0, 1], [(0, False, "A"), (60, True, "B")], "A0")
        second = good.index(b"TZif", 4)
        data = second + 44
        types = data + 2 * 8
        records = types + 2
        chars = records + 2 * 6
        cases = [
            (b"", "truncated header"),
            (b"TZjf" + good[4:], "not a TZif file"),
            (good[:4] + b"x" + good[5:], "unknown version"),
            (good[:second] + good[second:].replace(b"2", b"\0", 1), "version 1"),
            (good[:40], "truncated header"),
            (good[: chars + 1], "truncated data block"),
            (good[:types] + b"\x02" + good[types + 1 :], "type index"),
            (
                good[:data] + struct.pack(">q", 10) + good[data + 8 :],
                "do not ascend",
            ),
            (
                good[:records] + struct.pack(">l", -(2**31)) + good[records + 4 :],
                "bad local time type",
            ),
            (good[: records + 4] + b"\x02" + good[records + 5 :], "bad local time"),
            (good[: records + 5] + b"\x09" + good[records + 6 :], "designation"),
            (good[:-1], "bad footer"),
            (good[:-4] + b"xA0\n", "bad footer"),
            (good[: chars + 3] + b"C" + good[chars + 4 :], "designation"),
            (good[:-3] + b"\xff0\n", "not ASCII"),
        ]
        for bad, message in cases:
            with self.assertRaises(TZifError) as caught:
                parseTZif(bad)
            self.assertIn(message, str(caught.exception), bad)

    def test_badCounts(self) -> None:
        """
        A file without types or designations, or whose indicator counts are
        neither none nor one per type, is refused.
        """
        header = b"TZif2" + b"\0" * 15
        for counts in [
            (0, 0, 0, 0, 0, 1),
            (0, 0, 0, 0, 1, 0),
            (0, 0, -1, 0, 1, 1),
        ]:
            with self.assertRaises(TZifError) as caught:
                parseTZif(header + struct.pack(">6l", *counts))
            self.assertEqual(str(caught.exception), "bad counts")
        with self.assertRaises(TZifError) as caught:
            parseTZif(header + struct.pack(">6l", 2, 0, 0, 0, 1, 1))
        self.assertEqual(str(caught.exception), "bad indicator counts")
