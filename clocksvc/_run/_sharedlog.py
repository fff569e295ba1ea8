# -*- test-case-name: tests.test_sharedlog,tests.test_workers -*-
"""
The log that a supervisor and its workers write to at once, so that no
process's line lands inside another's.
"""

from __future__ import annotations

import os
import select
from collections.abc import Callable
from typing import IO, TextIO, cast

__all__ = ["PIPE_BUF", "LineFile", "openSharedLog"]

#: The most bytes one write(2) to a pipe writes atomically: 4096 on Linux,
#: and never less than 512 (POSIX).
PIPE_BUF: int = getattr(select, "PIPE_BUF", 512)


class LineFile:
    """
    A log file that the supervisor and every worker write to at once: the
    same standard output, or the same file.

    One write(2) of at most C{PIPE_BUF} bytes to a pipe is atomic, and so is
    one to a file opened with C{O_APPEND}; a longer one to a pipe is not: once
    the pipe is full, the kernel lets other processes' writes in midway. The
    log's writer thread writes lines in batches of up to 1000, so this writes
    whole lines, as many as fit in C{PIPE_BUF} bytes, with one write(2) each.
    Only a line longer than that (a request with a huge C{User-Agent}) can be
    cut into, and only on a pipe whose reader has fallen behind.
    """

    def __init__(self, fd: int, write: Callable[[int, bytes], int] = os.write) -> None:
        """
        @param fd: the descriptor to write to; L{close} closes it.
        @param write: writes to a descriptor, as C{os.write}.
        """
        self._fd = fd
        self._write = write

    def write(self, text: str) -> int:
        """
        Write C{text}, which ends with a newline.

        @return: the number of characters written: all of them.
        """
        data = text.encode("utf-8")
        start = 0
        while start < len(data):
            end = start + PIPE_BUF
            if end < len(data):
                lastNewline = data.rfind(b"\n", start, end)
                if lastNewline >= 0:
                    end = lastNewline + 1
                else:
                    # A line longer than PIPE_BUF: whole, in as few writes as
                    # the kernel takes.
                    end = data.find(b"\n", end) + 1 or len(data)
            self._writeAll(data[start:end])
            start = end
        return len(text)

    def _writeAll(self, chunk: bytes) -> None:
        while chunk:
            chunk = chunk[self._write(self._fd, chunk) :]

    def fileno(self) -> int:
        """
        @return: the descriptor, which the log's writer then writes to
            itself, in whole lines of at most C{PIPE_BUF} bytes, and can
            finish a line a failed write left half done.
        """
        return self._fd

    def flush(self) -> None:
        """
        Nothing is buffered: each L{write} is written before it returns.
        """

    def close(self) -> None:
        """
        Close the descriptor.
        """
        os.close(self._fd)


def openSharedLog(destination: TextIO | str) -> IO[str]:
    """
    Open the log for a supervisor or a worker, which share it.

    @param destination: the standard stream, or the path of the file, that
        C{--access-log} chose.
    @return: a L{LineFile} on it, for L{clocksvc._logging.ThreadedWriter}.
    """
    if isinstance(destination, str):
        # As open(path, "a") does, and with O_APPEND each write lands whole
        # at the end of the file, whoever else writes to it.
        fd = os.open(destination, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    else:
        destination.flush()
        fd = os.dup(destination.fileno())
    # ThreadedWriter calls only write, flush and close, which LineFile has;
    # it is not an IO[str] in full.
    return cast(IO[str], LineFile(fd))
