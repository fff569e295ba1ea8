# -*- test-case-name: tests.test_instants -*-
"""
Instants and local date-times as clients write them: an RFC 3339 time with
an offset or C{Z}, Unix seconds, or a local date-time without an offset.

Each form's rule is a regular expression that decides it whole, dates and
bounds included (no 30 February, no year past the bounds), so that
C{/openapi.json} can state the very rule the server applies, and a fuzzer's
"valid" values are all accepted and its "invalid" ones all refused.

The bounds are the years 1000 to 9998 as written: far enough inside
C{datetime}'s years 1 to 9999 that no zone's local time, and no search for
the daylight-saving period around an instant, leaves them.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from fractions import Fraction

__all__ = [
    "INSTANT",
    "LOCAL_TIME",
    "UNIX_SECONDS",
    "localTime",
    "notAbove",
    "parseInstant",
]


def notAbove(bound: int) -> str:
    """
    @param bound: a number, 0 or more.
    @return: a regular expression for the runs of decimal digits, leading
        zeros and all, that are no longer than C{bound} and whose value is at
        most C{bound}.
    """
    digits = str(bound)
    # Shorter than the bound: any. As long: the bound's digits up to some
    # place, a smaller digit there and any digits after it; or the bound.
    branches = [f"[0-9]{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for place, digit in enumerate(digits):
        if digit != "0":
            after = len(digits) - place - 1
            branches.append(f"{digits[:place]}[0-{int(digit) - 1}][0-9]{{{after}}}")
    branches.append(digits)
    return "|".join(branches)


_UTC = timezone.utc
#: The first instant that Unix seconds may name, 1000-01-01T00:00:00Z, and
#: the last whole second, 9998-12-31T23:59:59Z.
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_FIRST = int((datetime(1000, 1, 1, tzinfo=_UTC) - _EPOCH).total_seconds())
_LAST = int((datetime(9998, 12, 31, 23, 59, 59, tzinfo=_UTC) - _EPOCH).total_seconds())

#: Unix seconds, fractions to the microsecond allowed, from -30610224000
#: (1000-01-01T00:00:00Z) to 253402214399 (9998-12-31T23:59:59Z).
UNIX_SECONDS = (
    rf"(?:-(?:(?:{notAbove(-_FIRST - 1)})(?:\.[0-9]{{1,6}})?|{-_FIRST}(?:\.0{{1,6}})?)"
    rf"|(?:{notAbove(_LAST)})(?:\.[0-9]{{1,6}})?)"
)

# A year 1000 to 9998, and one of the leap years among them (divisible by 4
# but not 100, or by 400).
_YEAR = r"(?:[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
_LEAP_YEAR = (
    r"(?:[1-9][0-9](?:0[48]|[2468][048]|[13579][26])"
    r"|(?:[2468][048]|[13579][26])00)"
)
# Every day of every month but 29 February, then that in leap years.
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    r"|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_DATE = rf"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
# No leap second: Python's datetime has none, and Unix time counts none.
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?"
_OFFSET = r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"

#: A local date-time without an offset, C{2024-03-31T02:30:00}, to the
#: nanosecond at most (rounded to the microsecond).
LOCAL_TIME = rf"{_DATE}[Tt]{_TIME}"
#: An RFC 3339 date-time with its offset or C{Z}, to the nanosecond at most.
RFC3339 = rf"{LOCAL_TIME}{_OFFSET}"
#: An instant: RFC 3339, or Unix seconds.
INSTANT = rf"(?:{RFC3339}|{UNIX_SECONDS})"

_LOCAL_TIME = re.compile(LOCAL_TIME)
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))?"
)
_INSTANT = re.compile(INSTANT)


def _fields(match: re.Match[str]) -> tuple[datetime, timedelta | None]:
    """
    @param match: a local date-time or an RFC 3339 one, as L{_RFC3339}
        matched it.
    @return: its date and time, to the microsecond (rounded), without a zone;
        and its offset, or L{None} if it has none.
    """
    year, month, day, hour, minute, second = map(int, match.groups()[:6])
    fraction, sign, offsetHours, offsetMinutes = match.groups()[6:]
    # To the microsecond, rounded half up on the seventh digit.
    digits = (fraction or "").ljust(7, "0")
    micros = int(digits[:6]) + (digits[6] >= "5")
    local = datetime(year, month, day, hour, minute, second) + timedelta(
        microseconds=micros
    )
    if sign is None:
        offset = timedelta(0) if match.group(0)[-1] in "Zz" else None
    else:
        offset = timedelta(hours=int(offsetHours), minutes=int(offsetMinutes))
        if sign == "-":
            offset = -offset
    return local, offset


def parseInstant(text: str) -> Fraction | None:
    """
    @param text: an instant as L{INSTANT} takes it.
    @return: the instant in seconds since the epoch, exactly (a float would
        lose microseconds centuries away), or L{None} if C{text} is not one.
    """
    if not _INSTANT.fullmatch(text):
        return None
    match = _RFC3339.fullmatch(text)
    if match is None:
        # Unix seconds, whose digits Fraction reads exactly.
        return Fraction(text)
    local, offset = _fields(match)
    delta = local.replace(tzinfo=_UTC) - (offset or timedelta(0)) - _EPOCH
    return Fraction(delta // timedelta(microseconds=1), 1_000_000)


def localTime(text: str) -> datetime | None:
    """
    @param text: a local date-time as L{LOCAL_TIME} takes it.
    @return: it as a naive C{datetime}, or L{None} if C{text} is not one.
    """
    match = _LOCAL_TIME.fullmatch(text) and _RFC3339.fullmatch(text)
    if not match:
        return None
    return _fields(match)[0]
