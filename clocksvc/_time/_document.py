# -*- test-case-name: tests.test_document -*-
"""
The time document: the current time in one zone, with worldtimeapi.org's
field names and meanings, so that clients written for it work unchanged.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from zoneinfo import ZoneInfo

from ._periods import Period, periodAround, stateAt

__all__ = [
    "FIELDS",
    "TimeDocument",
    "daylightSavingAt",
    "documentJSON",
    "documentJSONAt",
    "documentText",
    "documentTextAt",
    "formatOffset",
    "reportedSaving",
    "timeDocument",
]

#: A time document: field names to JSON values, in worldtimeapi's order.
TimeDocument = dict[str, object]

#: The document's fields, in worldtimeapi's (alphabetical) order.
FIELDS = (
    "abbreviation",
    "client_ip",
    "datetime",
    "day_of_week",
    "day_of_year",
    "dst",
    "dst_from",
    "dst_offset",
    "dst_until",
    "raw_offset",
    "timezone",
    "unixtime",
    "unixtime_ms",
    "utc_datetime",
    "utc_offset",
    "week_number",
)

_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_ZERO = timedelta(0)


def _seconds(delta: timedelta | None) -> int:
    return 0 if delta is None else int(delta.total_seconds())


def formatOffset(delta: timedelta) -> str:
    """
    @return: C{delta} as C{±HH:MM}, with C{:SS} added only for the odd local
        mean times that need seconds.
    """
    sign = "-" if delta < _ZERO else "+"
    total = abs(int(delta.total_seconds()))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return text + f":{seconds:02d}" if seconds else text


def _isoUTC(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, _UTC).isoformat()


def reportedSaving(
    saving: timedelta, before: timedelta | None, after: timedelta | None
) -> timedelta | None:
    """
    Decide whether daylight saving is on, and for how much.

    tzdata's main format describes Irish and Moroccan time with I{negative}
    daylight saving: Irish summer time is the standard, and winter is a
    saving of minus an hour. Clients expect the other view (tzdata's
    "rearguard" format, and what the law calls summer time): so a negative
    saving is reported as standard time, and the period next to one is
    reported as daylight saving of the opposite amount.

    @param saving: C{zoneinfo}'s daylight-saving amount in a period.
    @param before: its amount in the period before, or L{None} where that
        period's start is not known (see L{periodAround}); it only matters
        where C{saving} is zero.
    @param after: its amount in the period after, or L{None} likewise.
    @return: the daylight-saving amount to report, or L{None} when daylight
        saving is off.
    """
    if saving > _ZERO:
        return saving
    if saving < _ZERO or before is None or after is None:
        return None
    # Only a period between two negative savings is summer time: one that
    # merely follows or precedes one is a change of standard time, as when
    # Namibia kept +02 all year from 2017, or Ireland from 1968 to 1971.
    if before < _ZERO and after < _ZERO:
        return -after
    return None


def _savingAt(
    zone: ZoneInfo, seconds: int, dst: timedelta
) -> tuple[timedelta | None, Period | None]:
    """
    Decide whether daylight saving is on at an instant, and for how much.

    @param seconds: the instant, in whole seconds since the epoch.
    @param dst: C{zoneinfo}'s daylight-saving amount there.
    @return: the amount to report (L{None} when off), as L{reportedSaving}
        decides; and the period around the instant (L{periodAround}) where
        that needed it, else L{None}: it needs the periods either side only
        where C{dst} is zero.
    """
    if dst != _ZERO:
        return reportedSaving(dst, None, None), None
    began, ends = period = periodAround(zone, seconds)
    before = after = None
    if began is not None and ends is not None:
        before = stateAt(zone, began - 1)[1] or _ZERO
        after = stateAt(zone, ends)[1] or _ZERO
    return reportedSaving(dst, before, after), period


def daylightSavingAt(zone: ZoneInfo, seconds: int) -> bool:
    """
    @param seconds: an instant, in whole seconds since the epoch.
    @return: whether daylight saving is on in C{zone} then: the time
        document's C{dst}, decided by the same rule (L{reportedSaving}),
        without looking for when its period began and ends where the rule
        does not need them (as when C{zoneinfo}'s amount is positive).
    """
    local = datetime.fromtimestamp(seconds, _UTC).astimezone(zone)
    return _savingAt(zone, seconds, local.dst() or _ZERO)[0] is not None


def timeDocument(
    seconds: float | Fraction, zone: ZoneInfo, clientIP: str
) -> TimeDocument:
    """
    Describe an instant in a zone.

    @param seconds: the instant, in seconds since the epoch (a L{Fraction}
        where a float would lose microseconds, as centuries away); it is
        rounded to the microsecond first, so that every field agrees on it.
    @param zone: the zone; its C{key} is the C{timezone} field.
    @param clientIP: the C{client_ip} field.
    @return: the document.
    """
    # Rounded, as datetime.fromtimestamp does: a float such as
    # 1098554253.192844 is a hair below its decimal value.
    micros = round(seconds * 1_000_000)
    whole = micros // 1_000_000
    utc = _EPOCH + timedelta(microseconds=micros)
    local = utc.astimezone(zone)
    offset = local.utcoffset() or _ZERO
    saving, searched = _savingAt(zone, whole, local.dst() or _ZERO)
    dstAmount = _ZERO if saving is None else saving
    began = ends = None
    if saving is not None:
        began, ends = periodAround(zone, whole) if searched is None else searched
    return {
        "abbreviation": local.tzname(),
        "client_ip": clientIP,
        "datetime": local.isoformat(timespec="microseconds"),
        # ISO weekdays run Monday = 1 to Sunday = 7; worldtimeapi's run
        # Sunday = 0 to Saturday = 6.
        "day_of_week": local.isoweekday() % 7,
        "day_of_year": local.timetuple().tm_yday,
        "dst": saving is not None,
        "dst_from": None if began is None else _isoUTC(began),
        "dst_offset": _seconds(dstAmount),
        "dst_until": None if ends is None else _isoUTC(ends),
        "raw_offset": _seconds(offset - dstAmount),
        "timezone": zone.key,
        "unixtime": whole,
        "unixtime_ms": micros // 1000,
        "utc_datetime": utc.isoformat(timespec="microseconds"),
        "utc_offset": formatOffset(offset),
        "week_number": local.isocalendar()[1],
    }


def documentJSON(document: TimeDocument) -> bytes:
    """
    @return: the document as compact JSON, as worldtimeapi sends it.
    """
    return json.dumps(document, separators=(",", ":")).encode()


# Of FIELDS, those between the ones that change within a second (client_ip,
# datetime; unixtime_ms, utc_datetime), and those after them.
_MIDDLE_FIELDS = FIELDS[3:12]
_LAST_FIELDS = FIELDS[14:]
#: A second's document in pieces: before client_ip; the local and UTC date
#: and time to the second; the local offset; the fields in between; and
#: after.
_Pieces = tuple[str, str, str, str, str, str]
#: The pieces, by zone, second, and whether they are text or JSON.
_pieces: dict[tuple[ZoneInfo, int, bool], _Pieces] = {}
#: How many seconds' pieces are kept; a few zones' worth of seconds.
_PIECES_KEPT = 512
#: The pieces asked for last, with their zone, second and form: set before
#: the function that declares it global, as PyPy requires.
_lastPieces: tuple[ZoneInfo | None, int, bool, _Pieces] = (
    None,
    0,
    False,
    ("", "", "", "", "", ""),
)


def _textValue(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _secondPieces(zone: ZoneInfo, whole: int, text: bool) -> _Pieces:
    document = timeDocument(whole, zone, "")
    local = str(document["datetime"])
    utc = str(document["utc_datetime"])
    # The pieces in the form documentText or documentJSON gives the fields.
    if text:

        def fields(names: tuple[str, ...]) -> str:
            return "".join(f"{name}: {_textValue(document[name])}\n" for name in names)

        head = f"abbreviation: {_textValue(document['abbreviation'])}\nclient_ip: "
        last = fields(_LAST_FIELDS)
    else:

        def fields(names: tuple[str, ...]) -> str:
            return ",".join(f'"{name}":{json.dumps(document[name])}' for name in names)

        head = (
            '{"abbreviation":' + json.dumps(document["abbreviation"]) + ',"client_ip":'
        )
        last = fields(_LAST_FIELDS) + "}"
    # isoformat's date and time are 19 characters (the year has 4 digits),
    # then ".000000", then the offset.
    return (head, local[:19], local[26:], utc[:19], fields(_MIDDLE_FIELDS), last)


def _piecesAt(seconds: float, zone: ZoneInfo, text: bool) -> tuple[int, str, _Pieces]:
    """
    @return: C{seconds} rounded to the microsecond, as L{timeDocument}
        rounds it, its microsecond in six digits, and the pieces of its
        second's document.
    """
    global _lastPieces
    micros = round(seconds * 1_000_000)
    whole, fraction = divmod(micros, 1_000_000)
    lastZone, lastWhole, lastText, pieces = _lastPieces
    if zone is lastZone and whole == lastWhole and text is lastText:
        # The pieces asked for last, as most requests in a second ask.
        return micros, str(fraction).zfill(6), pieces
    key = (zone, whole, text)
    found = _pieces.get(key)
    if found is None:
        if len(_pieces) >= _PIECES_KEPT:
            _pieces.clear()
        found = _pieces[key] = _secondPieces(zone, whole, text)
    _lastPieces = (zone, whole, text, found)
    # zfill, not f"{fraction:06d}": an f-string with a format spec is built
    # field by field through str.format once compiled by mypyc, and so
    # documentJSONAt took half again as long compiled as pure.
    return micros, str(fraction).zfill(6), found


#: Client addresses as JSON strings, by address: a server's clients come
#: back, and json.dumps is most of the cost of a document's JSON.
_quoted: dict[str, str] = {}
#: How many it keeps: a client cannot grow it past this.
_QUOTED_KEPT = 4096


def _jsonString(text: str) -> str:
    """
    @return: C{json.dumps(text)}, kept for the addresses asked about most.
    """
    quoted = _quoted.get(text)
    if quoted is None:
        quoted = json.dumps(text)
        if len(_quoted) >= _QUOTED_KEPT:
            _quoted.clear()
        _quoted[text] = quoted
    return quoted


def documentJSONAt(seconds: float, zone: ZoneInfo, clientIP: str) -> bytes:
    """
    C{documentJSON(timeDocument(seconds, zone, clientIP))}, made from the
    pieces that stay the same all second long: every request asks for the
    current second's, and only the microsecond and the address differ.

    @return: the document as compact JSON.
    """
    micros, fraction, pieces = _piecesAt(seconds, zone, False)
    head, local, offset, utc, middle, last = pieces
    return (
        f'{head}{_jsonString(clientIP)},"datetime":"{local}.{fraction}{offset}",'
        f'{middle},"unixtime_ms":{micros // 1000},'
        f'"utc_datetime":"{utc}.{fraction}+00:00",{last}'
    ).encode()


def documentTextAt(seconds: float, zone: ZoneInfo, clientIP: str) -> bytes:
    """
    C{documentText(timeDocument(seconds, zone, clientIP))}, made from the
    second's pieces as L{documentJSONAt} makes the JSON.

    @return: the document in worldtimeapi's text form.
    """
    micros, fraction, pieces = _piecesAt(seconds, zone, True)
    head, local, offset, utc, middle, last = pieces
    return (
        f"{head}{clientIP}\ndatetime: {local}.{fraction}{offset}\n"
        f"{middle}unixtime_ms: {micros // 1000}\n"
        f"utc_datetime: {utc}.{fraction}+00:00\n{last}"
    ).encode()


def documentText(document: TimeDocument) -> bytes:
    """
    @return: the document in worldtimeapi's text form: one C{key: value}
        line per field, with C{true}/C{false} for booleans and nothing after
        the colon for null.
    """
    return "".join(
        f"{key}: {_textValue(value)}\n" for key, value in document.items()
    ).encode()
