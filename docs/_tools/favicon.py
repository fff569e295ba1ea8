"""
Draw clocksvc's favicon, a clock face at ten past ten, and write it as an ICO
file holding a 16 and a 32 pixel PNG: the file that C{/favicon.ico} serves
(C{clocksvc/_web/_static/favicon.ico}).

Standard library only (zlib and struct), and deterministic: the same script
writes the same bytes. C{python docs/_tools/favicon.py OUTPUT}.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib

#: The face, and the ring and hands: a slate that reads on light and dark
#: browser tabs alike.
FACE = (255, 255, 255)
INK = (30, 41, 59)
#: Samples per pixel along each axis, for smooth edges.
SAMPLES = 4


def _segmentDistance(
    x: float, y: float, ax: float, ay: float, bx: float, by: float
) -> float:
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(x - ax - t * dx, y - ay - t * dy)


def _colour(x: float, y: float) -> tuple[int, int, int, int]:
    """
    @param x: across, from 0 to 1.
    @param y: down, from 0 to 1.
    @return: the drawing's colour at that point, transparent outside it.
    """
    radius = math.hypot(x - 0.5, y - 0.5)
    if radius > 0.48:
        return (0, 0, 0, 0)
    if radius > 0.40:
        return (*INK, 255)
    # Ten past ten: the hour hand a third of the way from 10 to 11, the
    # minute hand on 2.
    for angle, length, width in [(-55.0, 0.22, 0.05), (60.0, 0.32, 0.04)]:
        end = math.radians(angle)
        tipX, tipY = 0.5 + length * math.sin(end), 0.5 - length * math.cos(end)
        if _segmentDistance(x, y, 0.5, 0.5, tipX, tipY) < width:
            return (*INK, 255)
    return (*FACE, 255)


def pixels(size: int) -> list[bytes]:
    """
    @return: the picture's rows at C{size} pixels square, as RGBA.
    """
    rows = []
    for row in range(size):
        line = bytearray()
        for column in range(size):
            total = [0, 0, 0, 0]
            for i in range(SAMPLES):
                for j in range(SAMPLES):
                    sample = _colour(
                        (column + (j + 0.5) / SAMPLES) / size,
                        (row + (i + 0.5) / SAMPLES) / size,
                    )
                    # Premultiplied, so transparent samples add no colour.
                    for k in range(3):
                        total[k] += sample[k] * sample[3]
                    total[3] += sample[3]
            alpha = total[3]
            colour = [round(total[k] / alpha) if alpha else 0 for k in range(3)]
            line += bytes([*colour, round(alpha / SAMPLES**2)])
        rows.append(bytes(line))
    return rows


def png(size: int) -> bytes:
    """
    @return: the picture as a PNG of C{size} pixels square.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data))
        )

    # 8 bits a channel, RGBA (colour type 6); each row after filter type 0.
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    raw = b"".join(b"\0" + row for row in pixels(size))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def ico(sizes: tuple[int, ...] = (16, 32)) -> bytes:
    """
    @return: an ICO file with a PNG of each of C{sizes}, which every browser
        since Internet Explorer 11 reads.
    """
    images = [png(size) for size in sizes]
    offset = 6 + 16 * len(images)
    directory = b""
    for size, image in zip(sizes, images):
        # Width and height (0 would mean 256), no palette, 1 plane, 32 bits.
        directory += struct.pack(
            "<BBBBHHII", size, size, 0, 0, 1, 32, len(image), offset
        )
        offset += len(image)
    return struct.pack("<HHH", 0, 1, len(images)) + directory + b"".join(images)


if __name__ == "__main__":
    with open(sys.argv[1], "wb") as output:
        output.write(ico())
