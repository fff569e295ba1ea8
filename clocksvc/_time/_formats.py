# -*- test-case-name: tests.test_formats,tests.test_page,tests.test_api -*-
"""
The time in the other shapes clocksvc answers in: the lesson's page, and
time.akamai.com's answers; and what a zone's name may look like.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Set as AbstractSet
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

__all__ = [
    "ZONE_NAME",
    "ZONE_SEGMENT",
    "akamaiTime",
    "clockPageBody",
    "ctimeIn",
    "isZoneName",
]

# What an IANA zone name can look like: letters, digits and "_+-" in up to
# three "/"-separated parts. Anything else is malformed rather than unknown.
# /openapi.json states the same patterns.
ZONE_SEGMENT = r"[A-Za-z0-9_+\-]{1,40}"
ZONE_NAME = f"{ZONE_SEGMENT}(/{ZONE_SEGMENT}){{0,2}}"
_ZONE_NAME = re.compile(ZONE_NAME)


def isZoneName(name: str) -> bool:
    """
    @return: whether C{name} is shaped like a zone name (L{ZONE_NAME}),
        whether or not a zone has it.
    """
    return _ZONE_NAME.fullmatch(name) is not None


# time.ctime's names, which do not change with the locale as strftime's do.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip


def ctimeIn(seconds: float, zone: ZoneInfo) -> str:
    """
    C{time.ctime}, in a zone of one's choice rather than the process's.

    @param seconds: seconds since the epoch; the fraction is dropped, as
        C{ctime} drops it.
    @param zone: the zone to show the time in.
    @return: the local time there as C{ctime} writes it,
        C{Sun Sep  9 10:46:40 2001}: the day of the month padded with a
        space.
    """
    t = datetime.fromtimestamp(math.floor(seconds), zone)
    # zfill and rjust, not format specs: mypyc builds an f-string that has
    # one field by field through str.format, which took half again as long
    # compiled as pure; this is faster either way.
    return (
        f"{_DAYS[t.weekday()]} {_MONTHS[t.month - 1]} {str(t.day).rjust(2)} "
        f"{str(t.hour).zfill(2)}:{str(t.minute).zfill(2)}:{str(t.second).zfill(2)} "
        f"{t.year}"
    )


def clockPageBody(seconds: float, zone: ZoneInfo | None = None) -> bytes:
    """
    The lesson's page for one instant.

    @param seconds: seconds since the epoch.
    @param zone: the zone to show it in; L{None} for the process's local
        zone, with C{time.ctime} itself, as the lesson does.
    @return: C{<html><body>}, C{time.ctime()} of that instant (in C{zone}),
        C{</body></html>}.
    """
    text = time.ctime(seconds) if zone is None else ctimeIn(seconds, zone)
    return b"<html><body>" + text.encode() + b"</body></html>"


#: The second that L{akamaiTime} last wrote in ISO 8601, and its text: set
#: before the function that declares it global, as PyPy requires.
_lastStamp: tuple[int, str] = (0, "1970-01-01T00:00:00")


def akamaiTime(seconds: float, names: AbstractSet[bytes]) -> bytes:
    """
    Answer as time.akamai.com does to C{?ms}, C{?iso} and C{?iso&ms}.

    @param seconds: the instant.
    @param names: the query's names, C{b"iso"} or C{b"ms"} among them.
    @return: epoch seconds with milliseconds, C{1000000000.123}; ISO 8601 in
        UTC, C{2001-09-09T01:46:40Z}; or that with milliseconds,
        C{2001-09-09T01:46:40.123Z}.
    """
    global _lastStamp
    whole, fraction = divmod(math.floor(seconds * 1000), 1000)
    if b"iso" not in names:
        return f"{whole}.{fraction:03d}".encode()
    # A DASH player polls this: the second's text is made once a second.
    second, stamp = _lastStamp
    if second != whole:
        stamp = datetime.fromtimestamp(whole, timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S"
        )
        _lastStamp = (whole, stamp)
    return (stamp + (f".{fraction:03d}Z" if b"ms" in names else "Z")).encode()
