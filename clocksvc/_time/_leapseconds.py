# -*- test-case-name: tests.test_leapseconds -*-
"""
The leap-second list: which leap seconds there have been, which one is
scheduled, TAI - UTC at an instant, and until when the list is known to be
right.

It is read from the tz database's C{leapseconds} file, as the C{tzdata}
package ships it (C{tzdata/zoneinfo/leapseconds}) and as systems install it
beside their zone files (C{/usr/share/zoneinfo/leapseconds}): whichever
expires later, since a list is updated only to push its expiry on (or to
add a leap second); the system's if they expire together. The file's lines
(C{zic(8)}'s format)::

    Leap    2016    Dec     31      23:59:60        +       S
    #expires 1814140800 (2027-06-28 00:00:00 UTC)

A leap second is added (C{+}) as 23:59:60 or removed (C{-}) as 23:59:59 of
the last day of a month, and TAI - UTC, 10 s when UTC took its present
form in 1972, grows (or shrinks) by one second at the next midnight.
"""

from __future__ import annotations

import calendar
import importlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from ._tzdata import _CONFIGURED, _packageDatabase, _systemVersion

__all__ = [
    "LeapSecond",
    "LeapSecondList",
    "findLeapSecondLists",
    "leapSecondList",
    "parseLeapSeconds",
]

#: TAI - UTC from 1972-01-01, before the first leap second.
_INITIAL_TAI_MINUS_UTC = 10

_MONTHS = {name: number for number, name in enumerate(calendar.month_abbr) if name}
# Leap YEAR MONTH DAY HH:MM:SS CORR R/S
_LEAP = re.compile(
    r"Leap\s+(\d{4})\s+([A-Z][a-z]{2})\s+(\d{1,2})\s+(23:59:(?:59|60))\s+([+-])\s+[RS]\s*"
)
# #expires POSIX-TIME (...), the line tz 2020a added.
_EXPIRES = re.compile(r"#expires\s+(\d+)\b.*")
# [#]Expires YEAR MONTH DAY HH:MM:SS, the older zic line.
_EXPIRES_DATE = re.compile(
    r"#?Expires\s+(\d{4})\s+([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s*"
)
_UPDATED = re.compile(r"#updated\s+(\d+)\b.*")


@dataclass(frozen=True)
class LeapSecond:
    """
    One leap second.

    @ivar year: the year of the day it ends.
    @ivar month: the month of that day, 1 to 12.
    @ivar day: that day, the month's last.
    @ivar correction: C{+1} for a second added (23:59:60), C{-1} for one
        removed (23:59:59).
    @ivar taiMinusUTC: TAI - UTC from the midnight after it, in seconds.
    """

    year: int
    month: int
    day: int
    correction: int
    taiMinusUTC: int

    @property
    def after(self) -> int:
        """
        @return: the midnight after it, in POSIX seconds: the first instant
            of the new TAI - UTC.
        """
        return calendar.timegm((self.year, self.month, self.day, 0, 0, 0)) + 86400

    def asJSON(self) -> dict[str, object]:
        """
        @return: it as C{/api/leap-seconds} lists it.
        """
        second = "60" if self.correction > 0 else "59"
        return {
            "date": f"{self.year:04d}-{self.month:02d}-{self.day:02d}",
            "utc": f"{self.year:04d}-{self.month:02d}-{self.day:02d}T23:59:{second}Z",
            "correction": self.correction,
            "tai_minus_utc": self.taiMinusUTC,
            "unixtime": self.after,
        }


@dataclass(frozen=True)
class LeapSecondList:
    """
    A leap-second list, and where it came from.

    @ivar leapSeconds: the leap seconds, in order.
    @ivar expires: when the list stops being known to be right (the next
        leap second would be announced before), in POSIX seconds; L{None}
        if the file does not say.
    @ivar updated: when its data last changed, in POSIX seconds, if it says.
    @ivar source: C{"package"} (the C{tzdata} package) or C{"system"}.
    @ivar version: the tz release it came with, as C{"2026f"}, or
        C{"unknown"}.
    """

    leapSeconds: tuple[LeapSecond, ...]
    expires: int | None
    updated: int | None = None
    source: str = "unknown"
    version: str = "unknown"

    def taiMinusUTC(self, now: float) -> int:
        """
        @param now: an instant, in POSIX seconds.
        @return: TAI - UTC then, in seconds (10 before the first leap
            second).
        """
        offset = _INITIAL_TAI_MINUS_UTC
        for leap in self.leapSeconds:
            if leap.after > now:
                break
            offset = leap.taiMinusUTC
        return offset

    def pending(self, now: float) -> int:
        """
        Say whether a leap second ends the month of C{now}, as NTP's leap
        indicator warns of it through the month before.

        @param now: an instant, in POSIX seconds.
        @return: C{+1} if a second is added at the end of this UTC month,
            C{-1} if one is removed, C{0} if neither.
        """
        moment = datetime.fromtimestamp(now, timezone.utc)
        for leap in self.leapSeconds:
            if leap.after > now:
                if (leap.year, leap.month) == (moment.year, moment.month):
                    return leap.correction
                return 0
        return 0

    def expired(self, now: float) -> bool:
        """
        @return: whether the list has expired at C{now}; not if it does not
            say when it expires.
        """
        return self.expires is not None and now >= self.expires

    def describe(self) -> dict[str, object]:
        """
        @return: where it comes from and when it expires, as C{/healthz}
            and C{/api/leap-seconds} say it.
        """
        return {
            "source": self.source,
            "version": self.version,
            "expires": None if self.expires is None else _isoDate(self.expires),
            "updated": None if self.updated is None else _isoDate(self.updated),
        }

    def asJSON(self, now: float) -> dict[str, object]:
        """
        @param now: the instant to answer for.
        @return: C{/api/leap-seconds}'s JSON: the list, TAI - UTC now, the
            leap second scheduled (if one is), the expiry, and the source.
        """
        scheduled = next((leap for leap in self.leapSeconds if leap.after > now), None)
        return {
            "tai_minus_utc": self.taiMinusUTC(now),
            "scheduled": None if scheduled is None else scheduled.asJSON(),
            "expired": self.expired(now),
            **self.describe(),
            "leap_seconds": [leap.asJSON() for leap in self.leapSeconds],
        }

    def asText(self, now: float) -> str:
        """
        @param now: the instant to answer for.
        @return: the same as L{asJSON}, as lines of text.
        """
        described = self.describe()
        lines = [
            f"tai_minus_utc: {self.taiMinusUTC(now)}",
            f"expires: {described['expires'] or 'unknown'}",
            f"expired: {'yes' if self.expired(now) else 'no'}",
            f"source: {self.source} {self.version}",
        ]
        lines += [
            f"leap_second: {leap.asJSON()['utc']} {leap.correction:+d} "
            f"tai_minus_utc={leap.taiMinusUTC}"
            for leap in self.leapSeconds
        ]
        return "\n".join(lines) + "\n"


def _isoDate(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parseLeapSeconds(
    text: str, source: str = "unknown", version: str = "unknown"
) -> LeapSecondList:
    """
    Read a C{leapseconds} file.

    @param text: the file's text.
    @param source: where it came from: C{"package"} or C{"system"}.
    @param version: the tz release it came with.
    @return: the list.
    @raise ValueError: if a C{Leap} line cannot be read, or the leap
        seconds are not in order: a broken file is not half used.
    """
    leaps: list[LeapSecond] = []
    expires: int | None = None
    expiresDate: int | None = None
    updated: int | None = None
    offset = _INITIAL_TAI_MINUS_UTC
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("Leap"):
            found = _LEAP.fullmatch(stripped)
            if found is None or found.group(2) not in _MONTHS:
                raise ValueError(f"line {number}: not a leap second: {stripped!r}")
            year, month, day = int(found[1]), _MONTHS[found[2]], int(found[3])
            correction = 1 if found[5] == "+" else -1
            if found[4] != ("23:59:60" if correction > 0 else "23:59:59"):
                raise ValueError(f"line {number}: a leap second at {found[4]}")
            if day != calendar.monthrange(year, month)[1]:
                raise ValueError(f"line {number}: not the last day of a month")
            offset += correction
            leap = LeapSecond(year, month, day, correction, offset)
            if leaps and leap.after <= leaps[-1].after:
                raise ValueError(f"line {number}: leap seconds out of order")
            leaps.append(leap)
        elif (found := _EXPIRES.fullmatch(stripped)) is not None:
            expires = int(found[1])
        elif (found := _UPDATED.fullmatch(stripped)) is not None:
            updated = int(found[1])
        elif (found := _EXPIRES_DATE.fullmatch(stripped)) is not None and (
            found[2] in _MONTHS
        ):
            year, month, day = int(found[1]), _MONTHS[found[2]], int(found[3])
            hour, minute, second = (int(found[n]) for n in (4, 5, 6))
            expiresDate = calendar.timegm((year, month, day, hour, minute, second))
    return LeapSecondList(
        tuple(leaps),
        expires if expires is not None else expiresDate,
        updated,
        source,
        version,
    )


def findLeapSecondLists(tzpath: Sequence[str] | None = None) -> list[LeapSecondList]:
    """
    @param tzpath: the system's zone directories; by default those
        C{zoneinfo} was configured with.
    @return: every leap-second list that reads: the system's first (the
        first of C{tzpath} with one), then the C{tzdata} package's.
    """
    found: list[LeapSecondList] = []
    for directory in map(Path, _CONFIGURED if tzpath is None else tzpath):
        try:
            text = (directory / "leapseconds").read_text(encoding="utf-8")
            found.append(parseLeapSeconds(text, "system", _systemVersion(directory)))
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        break
    package = _packageDatabase()
    if package is not None:
        try:
            importlib.import_module("tzdata.zoneinfo")
            text = (
                resources.files("tzdata.zoneinfo")
                .joinpath("leapseconds")
                .read_text(encoding="utf-8")
            )
            found.append(parseLeapSeconds(text, "package", package.version))
        except (ImportError, OSError, UnicodeDecodeError, ValueError):
            pass
    return found


def leapSecondList(tzpath: Sequence[str] | None = None) -> LeapSecondList | None:
    """
    @param tzpath: as L{findLeapSecondLists}'s.
    @return: the list that expires last (the system's of two that expire
        together; one that does not say when loses); L{None} if there is
        none.
    """
    lists = findLeapSecondLists(tzpath)
    if not lists:
        return None
    # max() keeps the first of equals: the system's, listed first.
    return max(lists, key=lambda found: -1 if found.expires is None else found.expires)
