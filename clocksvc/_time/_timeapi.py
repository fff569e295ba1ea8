# -*- test-case-name: tests.test_timeapi -*-
"""
The time in timeapi.io's shapes: its C{CurrentTime} document, its
C{TimeZoneData} (a zone's offsets and daylight-saving interval) and the
result of its conversion, with the field names and formats its clients
parse, so that code written for timeapi.io works against clocksvc with
nothing changed but the host.

The shapes are those of timeapi.io's published Swagger document ("Time
API", version 0.97.2), and its formats those its live answers showed
(C{docs/howto/migrate.md} gives the sources and their dates): C{dateTime}
is local, without an offset, with the fraction of the second written as
.NET writes it (up to seven digits, trailing zeros left out, and none for
a whole second); C{date} is C{MM/dd/yyyy}; C{time} is C{HH:mm}.

Every value is the time document's (L{timeDocument}): the local time, and
whether daylight saving is in effect (its C{dst}, with tzdata's negative
savings read as the law reads them, L{daylightSavingAt}), are decided
there, once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from ._document import daylightSavingAt, timeDocument
from ._periods import periodAround

__all__ = [
    "DAY_NAMES",
    "conversionResult",
    "currentTime",
    "currentTimeJSONAt",
    "netDateTime",
    "timeZoneData",
    "timeZoneDataJSONAt",
]

#: .NET's C{DayOfWeek} names, by ISO weekday less one (Monday first).
DAY_NAMES = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)

_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
#: .NET's ticks (100 ns) in a second; and nanoseconds in one.
_TICKS = 10_000_000
_NANOS = 1_000_000_000
_DAY = 86_400


def _fraction(microsecond: int) -> str:
    """
    @return: a fraction of a second as .NET's JSON writer gives a
        C{DateTime}'s: the digits with the trailing zeros left out, and
        nothing at all for a whole second.
    """
    if not microsecond:
        return ""
    return "." + f"{microsecond:06d}".rstrip("0")


def netDateTime(local: datetime) -> str:
    """
    @param local: a date and time, whose zone (if any) is left out.
    @return: it as timeapi.io writes a C{DateTime}: C{2021-03-14T17:45:00},
        or C{2021-03-14T17:45:00.25}.
    """
    # Not strftime, whose %Y has no leading zeros before the year 1000 on
    # glibc: .NET writes four digits.
    return (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d}T"
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}"
        + _fraction(local.microsecond)
    )


def _local(micros: int, zone: ZoneInfo) -> datetime:
    return (_EPOCH + timedelta(microseconds=micros)).astimezone(zone)


def _dateFields(local: datetime) -> dict[str, object]:
    """
    @return: the fields that C{CurrentTime} and C{ConversionResult} share,
        from C{year} to C{time}.
    """
    return {
        "year": local.year,
        "month": local.month,
        "day": local.day,
        "hour": local.hour,
        "minute": local.minute,
        "seconds": local.second,
        "milliSeconds": local.microsecond // 1000,
        "dateTime": netDateTime(local),
        "date": f"{local.month:02d}/{local.day:02d}/{local.year:04d}",
        "time": f"{local.hour:02d}:{local.minute:02d}",
    }


def _micros(seconds: float) -> int:
    # Rounded to the microsecond as timeDocument rounds it, so that the two
    # agree on the instant.
    return round(seconds * 1_000_000)


def currentTime(seconds: float, zone: ZoneInfo) -> dict[str, object]:
    """
    @param seconds: an instant, in seconds since the epoch.
    @param zone: the zone.
    @return: timeapi.io's C{CurrentTime} document for that instant there.
    """
    micros = _micros(seconds)
    local = _local(micros, zone)
    return {
        **_dateFields(local),
        "timeZone": zone.key,
        "dayOfWeek": DAY_NAMES[local.weekday()],
        "dstActive": daylightSavingAt(zone, micros // 1_000_000),
    }


def conversionResult(micros: int, zone: ZoneInfo) -> dict[str, object]:
    """
    @param micros: an instant, in microseconds since the epoch.
    @param zone: the zone converted to.
    @return: timeapi.io's C{ConversionResult}: C{CurrentTime} without
        C{dayOfWeek}, as its Swagger document has it.
    """
    local = _local(micros, zone)
    dst = daylightSavingAt(zone, micros // 1_000_000)
    return {**_dateFields(local), "timeZone": zone.key, "dstActive": dst}


#: The pieces of a second's documents, by the document's kind, the zone and
#: the second: the bytes of its JSON around the parts that change within the
#: second.
_pieces: dict[tuple[str, ZoneInfo, int], tuple[bytes, ...]] = {}
#: How many seconds' pieces are kept: a few zones' worth of seconds.
_PIECES_KEPT = 512


def _keptPieces(
    kind: str,
    zone: ZoneInfo,
    whole: int,
    make: Callable[[ZoneInfo, int], tuple[bytes, ...]],
) -> tuple[bytes, ...]:
    """
    @return: the pieces of a second's document of C{kind}, made by C{make}
        the first time they are asked for.
    """
    key = (kind, zone, whole)
    pieces = _pieces.get(key)
    if pieces is None:
        if len(_pieces) >= _PIECES_KEPT:
            _pieces.clear()
        pieces = _pieces[key] = make(zone, whole)
    return pieces


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _currentPieces(zone: ZoneInfo, whole: int) -> tuple[bytes, ...]:
    """
    @return: a second's C{CurrentTime} in pieces: up to C{milliSeconds}'s
        value, from there up to the fraction of C{dateTime}, and after it.
    """
    document = _compact(currentTime(whole, zone))
    # The document of a whole second: milliSeconds is 0, and dateTime has
    # no fraction, so each is found once, at its known place.
    head, _, rest = document.partition('"milliSeconds":0')
    dateTime, _, tail = rest.partition('","date":')
    return (
        (head + '"milliSeconds":').encode(),
        dateTime.encode(),
        ('","date":' + tail).encode(),
    )


def currentTimeJSONAt(seconds: float, zone: ZoneInfo) -> bytes:
    """
    C{currentTime(seconds, zone)} as compact JSON, made from the pieces that
    stay the same all second long, as the time document's are
    (L{documentJSONAt<clocksvc._time._document.documentJSONAt>}): only the
    milliseconds and the fraction of C{dateTime} change within a second.

    @return: the document.
    """
    micros = _micros(seconds)
    whole, fraction = divmod(micros, 1_000_000)
    head, dateTime, tail = _keptPieces("current", zone, whole, _currentPieces)
    return b"%s%d%s%s%s" % (
        head,
        fraction // 1000,
        dateTime,
        _fraction(fraction).encode(),
        tail,
    )


def _dataPieces(zone: ZoneInfo, whole: int) -> tuple[bytes, ...]:
    """
    @return: a second's C{TimeZoneData} in pieces: up to the fraction of
        C{currentLocalTime}, and after it.
    """
    document = _compact(timeZoneData(whole, zone))
    head, _, tail = document.partition('","currentUtcOffset":')
    return head.encode(), ('","currentUtcOffset":' + tail).encode()


def timeZoneDataJSONAt(seconds: float, zone: ZoneInfo) -> bytes:
    """
    C{timeZoneData(seconds, zone)} as compact JSON, made from the pieces
    that stay the same all second long (as L{currentTimeJSONAt}): only the
    fraction of C{currentLocalTime} changes within a second.

    @return: the document.
    """
    micros = _micros(seconds)
    whole, fraction = divmod(micros, 1_000_000)
    head, tail = _keptPieces("data", zone, whole, _dataPieces)
    return head + _fraction(fraction).encode() + tail


def _offset(seconds: int) -> dict[str, int]:
    """
    @return: timeapi.io's C{Offset} (NodaTime's): an offset from UTC in
        seconds, and the same in milliseconds, ticks and nanoseconds.
    """
    return {
        "seconds": seconds,
        "milliseconds": seconds * 1000,
        "ticks": seconds * _TICKS,
        "nanoseconds": seconds * _NANOS,
    }


def _number(value: float) -> int | float:
    """
    @return: C{value} as .NET's JSON writer gives a C{double}: without a
        fraction when it is whole.
    """
    return int(value) if value == int(value) else value


def _duration(seconds: int) -> dict[str, int | float]:
    """
    @return: timeapi.io's C{Duration} (NodaTime's) of a whole number of
        seconds, 0 or more: its parts (whole days, then the time of day),
        and its length in each unit.
    """
    days, ofDay = divmod(seconds, _DAY)
    hours, rest = divmod(ofDay, 3600)
    minutes, secondsOfMinute = divmod(rest, 60)
    return {
        "days": days,
        "nanosecondOfDay": ofDay * _NANOS,
        "hours": hours,
        "minutes": minutes,
        "seconds": secondsOfMinute,
        "milliseconds": 0,
        "subsecondTicks": 0,
        "subsecondNanoseconds": 0,
        "bclCompatibleTicks": seconds * _TICKS,
        "totalDays": _number(seconds / _DAY),
        "totalHours": _number(seconds / 3600),
        "totalMinutes": _number(seconds / 60),
        "totalSeconds": seconds,
        "totalMilliseconds": seconds * 1000,
        "totalTicks": seconds * _TICKS,
        "totalNanoseconds": seconds * _NANOS,
    }


def _utcText(seconds: int | None) -> str | None:
    """
    @return: an instant as timeapi.io writes a UTC one, with a C{Z}.
    """
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, _UTC).isoformat()[:19] + "Z"


def _isoSeconds(text: object) -> int | None:
    """
    @return: the instant of one of the time document's C{dst_from} or
        C{dst_until}, in seconds since the epoch; L{None} for null.
    """
    if not isinstance(text, str):
        return None
    return int(datetime.fromisoformat(text).timestamp())


def _int(value: object) -> int:
    """
    @return: one of the time document's integer fields, typed as one.
    """
    if not isinstance(value, int):
        raise TypeError(f"not an integer: {value!r}")
    return value


def _dstInterval(document: dict[str, object]) -> dict[str, object]:
    """
    @param document: a time document in daylight saving time.
    @return: timeapi.io's C{DstInterval} of the period it is in.
    """
    start = _isoSeconds(document["dst_from"])
    end = _isoSeconds(document["dst_until"])
    offset = _int(document["raw_offset"]) + _int(document["dst_offset"])
    return {
        "dstName": document["abbreviation"],
        "dstOffsetToUtc": _offset(offset),
        "dstOffsetToStandardTime": _offset(_int(document["dst_offset"])),
        "dstStart": _utcText(start),
        "dstEnd": _utcText(end),
        "dstDuration": (
            None if start is None or end is None else _duration(end - start)
        ),
    }


def _nearestSaving(zone: ZoneInfo, whole: int) -> dict[str, object] | None:
    """
    @return: the time document of the daylight-saving period nearest an
        instant in standard time: the period after the one it is in, if
        that is one (the coming summer), else the one before (the last
        summer of a zone that stopped); L{None} if neither is.
    """
    began, ends = periodAround(zone, whole)
    for instant in (ends, None if began is None else began - 1):
        if instant is not None:
            document = timeDocument(instant, zone, "")
            if document["dst"]:
                return document
    return None


def timeZoneData(seconds: float, zone: ZoneInfo) -> dict[str, object]:
    """
    @param seconds: an instant, in seconds since the epoch.
    @param zone: the zone.
    @return: timeapi.io's C{TimeZoneData} for the zone at that instant: its
        local time, its offset now and its standard one, whether it keeps
        daylight saving and is in it now, and the daylight-saving interval:
        the one it is in, else the nearest (L{_nearestSaving}), else null.
    """
    micros = _micros(seconds)
    whole = micros // 1_000_000
    document = timeDocument(whole, zone, "")
    raw = _int(document["raw_offset"])
    dstOffset = _int(document["dst_offset"])
    saving = document if document["dst"] else _nearestSaving(zone, whole)
    return {
        "timeZone": zone.key,
        "currentLocalTime": netDateTime(_local(micros, zone)),
        "currentUtcOffset": _offset(raw + dstOffset),
        "standardUtcOffset": _offset(raw),
        "hasDayLightSaving": saving is not None,
        "isDayLightSavingActive": document["dst"],
        "dstInterval": None if saving is None else _dstInterval(saving),
    }
