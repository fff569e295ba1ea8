"""
TZif files made to order, and a way to make C{zoneinfo} load one by name:
for zones with edges that the zone database does not have (yet).
"""

from __future__ import annotations

import os
import struct
import zoneinfo
from collections.abc import Sequence

from twisted.trial.unittest import SynchronousTestCase

#: A local time type: UTC offset east, in seconds; whether it is daylight
#: saving time; abbreviation.
Type = tuple[int, bool, str]


def _block(
    times: Sequence[int],
    types: Sequence[int],
    localTimeTypes: Sequence[Type],
    size: int,
) -> tuple[bytes, tuple[int, ...]]:
    chars = b""
    indices = []
    for _, _, abbreviation in localTimeTypes:
        indices.append(len(chars))
        chars += abbreviation.encode() + b"\0"
    body = b"".join(
        [
            struct.pack(">" + ("q" if size == 8 else "l") * len(times), *times),
            bytes(types),
            *(
                struct.pack(">lBB", offset, dst, index)
                for (offset, dst, _), index in zip(localTimeTypes, indices)
            ),
            chars,
        ]
    )
    counts = (0, 0, 0, len(times), len(localTimeTypes), len(chars))
    return body, counts


def _header(version: bytes, counts: tuple[int, ...]) -> bytes:
    return b"TZif" + version + b"\0" * 15 + struct.pack(">6l", *counts)


def makeTZif(
    times: Sequence[int],
    types: Sequence[int],
    localTimeTypes: Sequence[Type],
    footer: str | None,
    version: bytes = b"2",
) -> bytes:
    """
    @param footer: the TZ string; L{None} for a version 1 file, which has
        none (and holds only what fits in 32 bits).
    @return: a TZif file (RFC 9636) of that data: for version 2 and later,
        a minimal version 1 block, as RFC 9636 allows, then the data.
    """
    if footer is None:
        body, counts = _block(times, types, localTimeTypes, 4)
        return _header(b"\0", counts) + body
    first, firstCounts = _block([], [], [(0, False, "")], 4)
    body, counts = _block(times, types, localTimeTypes, 8)
    return (
        _header(version, firstCounts)
        + first
        + _header(version, counts)
        + body
        + b"\n"
        + footer.encode()
        + b"\n"
    )


def installZone(testCase: SynchronousTestCase, key: str, data: bytes) -> None:
    """
    Make C{zoneinfo.ZoneInfo(key)} (and clocksvc's reading of TZif files)
    find C{data}, first of all directories, until the test ends.
    """
    directory = testCase.mktemp()
    path = os.path.join(directory, *key.split("/"))
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as f:
        f.write(data)
    searched = zoneinfo.TZPATH
    zoneinfo.reset_tzpath(to=[os.path.abspath(directory), *searched])
    zoneinfo.ZoneInfo.clear_cache(only_keys=[key])
    testCase.addCleanup(zoneinfo.ZoneInfo.clear_cache, only_keys=[key])
    testCase.addCleanup(zoneinfo.reset_tzpath, to=searched)
