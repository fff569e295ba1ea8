"""
Tests for L{clocksvc._run._sharedlog}: the log that the workers of
C{--workers} share, written in whole lines, each write within C{PIPE_BUF}.
"""

from __future__ import annotations

import os
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from clocksvc._run._sharedlog import PIPE_BUF, LineFile, openSharedLog


class LineFileTests(SynchronousTestCase):
    """
    L{LineFile} writes whole lines, at most C{PIPE_BUF} bytes at once.
    """

    def write(self, text: str, most: int | None = None) -> list[bytes]:
        """
        @param most: the most bytes each write takes, as a full pipe might.
        @return: the writes made.
        """
        writes: list[bytes] = []

        def record(fd: int, data: bytes) -> int:
            taken = bytes(data[:most] if most else data)
            writes.append(taken)
            return len(taken)

        self.assertEqual(LineFile(99, record).write(text), len(text))
        return writes

    def test_wholeLines(self) -> None:
        """
        A batch of lines goes in writes of whole lines, each within
        C{PIPE_BUF}, in order.
        """
        text = "".join(f'{{"n":{n},"pad":"{"x" * 90}"}}\n' for n in range(200))
        writes = self.write(text)
        self.assertGreater(len(writes), 1)
        self.assertEqual(b"".join(writes), text.encode())
        for chunk in writes:
            self.assertLessEqual(len(chunk), PIPE_BUF)
            self.assertTrue(chunk.endswith(b"\n"))

    def test_longLine(self) -> None:
        """
        A line longer than C{PIPE_BUF} is written whole, on its own.
        """
        long = "y" * (PIPE_BUF * 2) + "\n"
        self.assertEqual(
            self.write("a\n" + long + "b\n"), [b"a\n", long.encode(), b"b\n"]
        )

    def test_shortWrites(self) -> None:
        """
        What a write leaves is written next.
        """
        self.assertEqual(self.write("abcdef\n", most=3), [b"abc", b"def", b"\n"])

    def test_sharedFile(self) -> None:
        """
        L{openSharedLog} appends to a file, which several writers share.
        """
        path = self.mktemp()
        Path(path).write_text("before\n")
        first, second = openSharedLog(path), openSharedLog(path)
        first.write("one\n")
        second.write("two\n")
        first.write("three\n")
        first.flush()
        first.close()
        second.close()
        self.assertEqual(Path(path).read_text(), "before\none\ntwo\nthree\n")

    def test_sharedStream(self) -> None:
        """
        L{openSharedLog} writes to a stream's descriptor, after what the
        stream holds.
        """
        read, written = os.pipe()
        self.addCleanup(os.close, read)
        with os.fdopen(written, "w") as stream:
            stream.write("people\n")
            log = openSharedLog(stream)
            log.write("machines\n")
            log.close()
        self.assertEqual(os.read(read, 100), b"people\nmachines\n")
