# -*- test-case-name: tests.test_tzif -*-
"""
A zone's own transition data, as its TZif file records it (RFC 9636): the
instants at which its local time type changes, each type's UTC offset,
daylight-saving flag and abbreviation, and the footer's TZ string, which
rules every instant after the last transition.

C{zoneinfo} reads the same files but offers none of this, only the offset
at an instant; so clocksvc reads them itself, from where C{zoneinfo} finds
them (L{tzifBytes<clocksvc._time._tzdata.tzifBytes>}).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["LocalTimeType", "TZif", "TZifError", "parseTZif"]


class TZifError(ValueError):
    """
    The bytes are not a TZif file that RFC 9636 allows.
    """


@dataclass(frozen=True)
class LocalTimeType:
    """
    One of a zone's local time types (RFC 9636's C{ttinfo}).

    @ivar offset: its UTC offset, in seconds east of Greenwich.
    @ivar isDST: whether the file calls it daylight saving time.
    @ivar abbreviation: its designation, such as C{"CEST"} or C{"+0530"}.
    """

    offset: int
    isDST: bool
    abbreviation: str


@dataclass(frozen=True)
class TZif:
    """
    The data of a TZif file, from its version 2+ (64-bit) block where it
    has one.

    @ivar version: 1, 2, 3 or 4.
    @ivar times: the transitions' instants, in seconds since the epoch,
        ascending.
    @ivar types: for each transition, the index in C{localTimeTypes} of the
        type from it on.
    @ivar localTimeTypes: the types.
    @ivar footer: the TZ string for instants after the last transition: an
        empty string where the file gives none; L{None} in a version 1 file,
        which has no footer.
    """

    version: int
    times: tuple[int, ...]
    types: tuple[int, ...]
    localTimeTypes: tuple[LocalTimeType, ...]
    footer: str | None


# RFC 9636 section 3.1: "TZif", a version byte, 15 unused bytes, then six
# four-byte counts.
_HEADER = struct.Struct(">4sc15x6l")


def _header(data: bytes, at: int) -> tuple[int, tuple[int, ...]]:
    """
    @return: the version and the six counts (isutcnt, isstdcnt, leapcnt,
        timecnt, typecnt, charcnt) of the header at C{at}.
    """
    if len(data) < at + _HEADER.size:
        raise TZifError("truncated header")
    magic, versionByte, *counts = _HEADER.unpack_from(data, at)
    if magic != b"TZif":
        raise TZifError("not a TZif file")
    if versionByte == b"\0":
        version = 1
    elif b"2" <= versionByte <= b"9":
        version = int(versionByte)
    else:
        raise TZifError(f"unknown version {versionByte!r}")
    isutcnt, isstdcnt, _, _, typecnt, charcnt = counts
    if min(counts) < 0 or typecnt == 0 or charcnt == 0:
        raise TZifError("bad counts")
    if isutcnt not in (0, typecnt) or isstdcnt not in (0, typecnt):
        raise TZifError("bad indicator counts")
    return version, tuple(counts)


def _blockSize(counts: tuple[int, ...], timeSize: int) -> int:
    isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt = counts
    return (
        timecnt * (timeSize + 1)
        + typecnt * 6
        + charcnt
        + leapcnt * (timeSize + 4)
        + isstdcnt
        + isutcnt
    )


def _abbreviation(chars: bytes, index: int) -> str:
    end = chars.find(b"\0", index)
    if index >= len(chars) or end < 0:
        raise TZifError("designation index out of range")
    return chars[index:end].decode("ascii", "replace")


def parseTZif(data: bytes) -> TZif:
    """
    Read a TZif file: its version 2+ data block (64-bit instants) and
    footer where it has them, else its version 1 block.

    @raise TZifError: if C{data} is not a TZif file, or is truncated, or
        its indices point outside it, or its instants do not ascend.
    """
    version, counts = _header(data, 0)
    timeSize, at = 4, _HEADER.size
    if version >= 2:
        # Skip the version 1 block, to the second header and its block.
        at += _blockSize(counts, 4)
        version, counts = _header(data, at)
        if version < 2:
            raise TZifError("second header of version 1")
        timeSize, at = 8, at + _HEADER.size
    isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt = counts
    if len(data) < at + _blockSize(counts, timeSize):
        raise TZifError("truncated data block")
    timeFormat = ">" + ("q" if timeSize == 8 else "l") * timecnt
    times = struct.unpack_from(timeFormat, data, at)
    at += timecnt * timeSize
    types = tuple(data[at : at + timecnt])
    at += timecnt
    records = [struct.unpack_from(">lBB", data, at + 6 * i) for i in range(typecnt)]
    at += typecnt * 6
    chars = data[at : at + charcnt]
    at += charcnt + leapcnt * (timeSize + 4) + isstdcnt + isutcnt
    if any(later <= earlier for earlier, later in zip(times, times[1:])):
        raise TZifError("transition times do not ascend")
    if any(index >= typecnt for index in types):
        raise TZifError("local time type index out of range")
    localTimeTypes = []
    for offset, isDST, index in records:
        # RFC 9636 section 3.2: -2**31 is not a valid offset, and isdst is
        # 0 or 1.
        if offset == -(2**31) or isDST > 1:
            raise TZifError("bad local time type")
        localTimeTypes.append(
            LocalTimeType(offset, bool(isDST), _abbreviation(chars, index))
        )
    footer = None
    if version >= 2:
        footer = _footer(data, at)
    return TZif(version, times, types, tuple(localTimeTypes), footer)


def _footer(data: bytes, at: int) -> str:
    """
    @return: the TZ string of the footer at C{at}: a newline, the string,
        a newline.
    """
    end = data.find(b"\n", at + 1)
    if data[at : at + 1] != b"\n" or end < 0:
        raise TZifError("bad footer")
    try:
        return data[at + 1 : end].decode("ascii")
    except UnicodeDecodeError:
        raise TZifError("footer is not ASCII") from None
