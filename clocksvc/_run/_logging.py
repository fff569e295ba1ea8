# -*- test-case-name: tests.test_logging,tests.test_logwriter -*-
"""
clocksvc's log: one JSON object a line, for the access log and for service
events (listening, stopping, stopped, errors), through C{twisted.logger}.

The access log's lines (L{AccessLog<clocksvc._web.AccessLog>}) go straight
to the writer when the run layer assembles clocksvc, formatted by
L{accessLine<clocksvc._web.accessLine>}; access events from a site built
otherwise are written as the same lines. Lines are written by a thread of
their own: the reactor only hands them over, so a slow disk or a blocked
pipe never holds up a response, and a full disk or a closed pipe never
stops one.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import select
import stat
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from twisted.logger import ILogObserver, LogLevel, formatEvent
from zope.interface import implementer

from .._compiled import CORE, PURE_NOTICE
from .._web import (
    ACCESS_FIELDS,
    ACCESS_NAMESPACE,
    accessLine,
    accessLog,
    isoTime,
)

__all__ = [
    "JSONLinesObserver",
    "ThreadedWriter",
    "accessLog",
    "inFormat",
    "say",
    "serviceLog",
    "textLine",
]

from twisted.logger import Logger

#: Emits the service's events: listening, stopping, stopped.
serviceLog = Logger(namespace="clocksvc.service")


def say(stream: IO[str], line: str) -> None:
    """
    Write one line for people to C{stream}, in a single write: the writer
    thread may write JSON lines to the same stream, and C{print}'s separate
    write of the newline would let one of them land mid-line.

    If nobody reads C{stream} any more (C{python -m clocksvc | head -1}),
    the line is lost, and so is everything written to it from then on.
    """
    try:
        stream.write(line + "\n")
        stream.flush()
    except BrokenPipeError:
        _silence(stream)


def sayCore(stream: IO[str]) -> None:
    """
    Say to C{stream}, once at start-up, after where it serves, that
    clocksvc runs pure Python, if it does (L{CORE}); with the compiled core,
    nothing: C{/healthz} and C{clocksvc_build_info} say which runs either
    way.
    """
    if CORE == "pure":
        say(stream, f"clocksvc: {PURE_NOTICE}")


def _silence(stream: IO[str]) -> None:
    """
    Point C{stream}'s descriptor at C{/dev/null}, as Python's documentation
    of C{SIGPIPE} advises: the line that could not be written stays in the
    stream's buffer, and every later flush (the next line, the interpreter's
    own at exit) would raise again, in the middle of a graceful shutdown.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, stream.fileno())
        finally:
            os.close(devnull)
        stream.flush()
    except (OSError, ValueError):
        # Not a descriptor (a StringIO), or closed: nothing more to do.
        pass


def _printable(value: object) -> str:
    """
    @return: C{value} as text that a terminal shows as it is: what a client
        sent (a path, a C{User-Agent}) may hold control characters, which
        are written as Python writes them in a string, C{\\x1b}.
    """
    text = str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def textLine(line: str) -> str:
    """
    The log's line, JSON, for people (C{--log-format text}).

    @param line: an access line, or a service event's line, as
        L{JSONLinesObserver} writes it.
    @return: the same, as text: an access line as C{TIME CLIENT "METHOD
        PATH" STATUS BYTES DURATIONms SCHEME "USER-AGENT"}, an event as
        C{TIME LEVEL MESSAGE}, its figures after it, and its traceback, if
        any, on the lines after that.
    """
    record = json.loads(line)
    when = record.pop("time", "-")
    if "status" in record and "method" in record:
        return (
            f"{when} {_printable(record.get('client') or '-')} "
            f'"{_printable(record["method"])} {_printable(record.get("path"))}" '
            f"{record['status']} {record.get('bytes')} "
            f"{record.get('duration_ms')}ms {record.get('scheme')} "
            f'"{_printable(record.get("user_agent", ""))}"\n'
        )
    level = record.pop("level", "info")
    record.pop("event", None)
    message = _printable(record.pop("message", ""))
    traceback = record.pop("traceback", None)
    figures = " ".join(f"{k}={_printable(v)}" for k, v in record.items())
    text = f"{when} {level} {message}" + (f" ({figures})" if figures else "")
    return text + "\n" + (traceback or "")


def inFormat(write: Callable[[str], None], format: str) -> Callable[[str], None]:
    """
    @param write: takes each line of the log, JSON.
    @param format: C{json} or C{text} (C{--log-format}).
    @return: what takes each line of the log, JSON, and hands it to
        C{write} in C{format}.
    """
    if format == "json":
        return write

    def writeText(line: str) -> None:
        write(textLine(line))

    return writeText


@implementer(ILogObserver)
class JSONLinesObserver:
    """
    Writes clocksvc's events, and warnings and errors from anywhere, as JSON
    lines; Twisted's own chatter below a warning is left out.
    """

    def __init__(self, write: Callable[[str], None], access: bool = True) -> None:
        """
        @param write: takes each line, newline included.
        @param access: whether access-log events are written.
        """
        self._write = write
        self._access = access

    def __call__(self, event: dict[str, Any]) -> None:
        namespace = event.get("log_namespace", "")
        level = event.get("log_level", LogLevel.info)
        if namespace == ACCESS_NAMESPACE:
            if self._access:
                self._write(
                    accessLine(
                        event["when"], *(event.get(name) for name in ACCESS_FIELDS)
                    )
                )
            return
        line: dict[str, Any]
        if namespace == "clocksvc.service" or level >= LogLevel.warn:
            line = {
                "time": isoTime(event.get("log_time", 0)),
                "level": level.name,
                "event": event.get("event", "log"),
                "message": formatEvent(event),
            }
            # Figures a service event carries beside its message, such as a
            # clock step's size.
            line.update(event.get("details", {}))
            failure = event.get("log_failure")
            if failure is not None:
                line["traceback"] = failure.getTraceback()
        else:
            return
        self._write(json.dumps(line, separators=(",", ":")) + "\n")


#: The most bytes one write(2) to a pipe writes atomically: 4096 on Linux,
#: and never less than 512 (POSIX).
_PIPE_BUF: int = getattr(select, "PIPE_BUF", 512)
#: The most bytes of whole lines written to a file with one write(2).
_FILE_CHUNK = 64 * 1024


class ThreadedWriter:
    """
    Writes lines to a file from a thread of its own.

    The lines the writer holds (waiting, or in the batch it is writing) are
    bounded, at L{MAX_QUEUED} lines and L{MAX_QUEUED_BYTES} bytes: if the
    file stops taking lines (a pipe nobody reads, a disk that stalls), lines
    are dropped and counted rather than kept in memory without end, and a
    line saying how many were lost is written once the file takes lines
    again.

    A file that fails (a full disk, an I/O error) does not stop the writer:
    it says so once on standard error, drops and counts the lines it cannot
    write, tries again after a pause that grows to a second, and once a
    write goes through, says how many lines were lost, in the log and on
    standard error. A pipe whose reader has gone (C{EPIPE}) never takes a
    line again: the writer says so once and stops, and later lines are
    ignored at no cost.

    A file with a descriptor (an C{open()}ed file, C{sys.stdout}) is written
    with C{os.write}, bypassing the file object's buffers, so that the
    writer knows how much of a batch a failed write left written: a line
    the file took only part of is finished, first thing, once the file takes
    lines again, and no line is ever glued to half of another. On a pipe,
    each write(2) holds whole lines and at most C{PIPE_BUF} bytes, so that
    other processes writing to the same pipe cannot cut into them. Any other
    file object (no descriptor) is written with its C{write} and C{flush};
    after one of those fails, the next write begins with a newline, as the
    file may have taken part of a line.
    """

    #: The most lines the writer holds. Access lines are ~250 bytes, so
    #: usually this is reached before L{MAX_QUEUED_BYTES}.
    MAX_QUEUED = 50_000
    #: The most bytes (characters: the log's lines are ASCII) of lines the
    #: writer holds, which long lines reach before L{MAX_QUEUED}. With
    #: Python's ~60 bytes of overhead a line, the writer's lines take at most
    #: ~19 MiB of memory.
    MAX_QUEUED_BYTES = 16 * 1024 * 1024
    #: How long the thread lets lines gather before it writes them.
    GATHER_SECONDS = 0.01
    #: The longest pause before trying a failing file again; the first is
    #: L{GATHER_SECONDS}, each next one twice the last.
    MAX_RETRY_SECONDS = 1.0

    def __init__(
        self,
        file: IO[str],
        closeFile: bool = False,
        stderr: IO[str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        reopen: Callable[[], IO[str]] | None = None,
    ) -> None:
        """
        @param file: where the lines go; flushed now, and after each batch
            if it has no descriptor.
        @param closeFile: whether L{close} closes C{file} too, and
            L{reopen} the file it replaces.
        @param stderr: where the writer says that C{file} fails, and that it
            works again: one line each time; C{sys.stderr} if L{None}.
        @param sleep: how the thread waits for a batch to gather.
        @param reopen: opens the file anew, for L{reopen}: the log's path
            again, after logrotate has renamed it; L{None} for a file that
            is not reopened (a standard stream).
        """
        self._closeFile = closeFile
        self._stderr = sys.stderr if stderr is None else stderr
        self._sleep = sleep
        # What the file object holds goes first: from here on, the writer's
        # lines go past its buffers. If that fails, the first batch will.
        with contextlib.suppress(OSError, ValueError):
            file.flush()
        self._file = file
        self._encoding = "utf-8"
        self._fd: int | None = None
        self._chunk = _FILE_CHUNK
        self._adopt(file)
        self._reopen = reopen
        # Lines are handed over in batches: a queue.Queue would take a lock
        # and wake the thread for every line, which at tens of thousands of
        # requests a second costs the reactor more than the line itself.
        # The thread is woken when a line arrives to an empty batch, and
        # takes the whole batch at once.
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._heldLines = 0
        self._heldChars = 0
        self._wake = threading.Event()
        # Set by reopen, under the lock; taken up by the thread.
        self._reopenAsked = False
        # Set by close: ends a pause before a retry early.
        self._closing = threading.Event()
        # Lines lost and not yet said so in the log; and all lines lost.
        self._unreported = 0
        self._dropped = 0
        self._stopping = False
        # Set once the file's reader has gone for good; read without the
        # lock, so that a write is then only this test.
        self._gone = False
        # The thread's own: the rest of a line the file took part of; what
        # the file fails with, while it fails; whether the file may hold
        # part of a line (without a descriptor, after a failure); the pause
        # before the next try; what has been said once on stderr.
        self._tail = b""
        self._failing: str | None = None
        self._maybeMidLine = False
        self._retrySeconds = 0.0
        self._said: set[str] = set()
        self._thread = threading.Thread(
            target=self._run, name="clocksvc-log-writer", daemon=True
        )
        self._thread.start()

    def _adopt(self, file: IO[str]) -> None:
        """
        Write to C{file} from now on: through its descriptor if it has one,
        in chunks for a regular file or a pipe.
        """
        self._file = file
        self._encoding = getattr(file, "encoding", None) or "utf-8"
        self._chunk = _FILE_CHUNK
        try:
            self._fd = file.fileno()
            if not stat.S_ISREG(os.fstat(self._fd).st_mode):
                self._chunk = _PIPE_BUF
        except (AttributeError, OSError, ValueError):
            # No descriptor (a StringIO, a LineFile): the file object's own
            # write and flush, then.
            self._fd = None

    def reopen(self) -> None:
        """
        Open the file anew, as SIGHUP asks after logrotate has renamed it:
        lines queued until the thread takes this up go to the old file,
        whole, and every later one to the new file. Safe from the reactor's
        thread; the thread itself swaps the files, between two batches, so
        that no write is ever cut across them.
        """
        if self._reopen is None:
            return
        with self._lock:
            self._reopenAsked = True
        self._wake.set()

    def write(self, line: str) -> None:
        """
        Queue C{line}; it is written soon, in order, unless the writer holds
        as much as it may, or the file's reader has gone.
        """
        if self._gone:
            return
        size = len(line)
        with self._lock:
            if (
                self._heldLines >= self.MAX_QUEUED
                or self._heldChars + size > self.MAX_QUEUED_BYTES
                or self._stopping
            ):
                self._unreported += 1
                self._dropped += 1
                return
            self._pending.append(line)
            self._heldLines += 1
            self._heldChars += size
            first = len(self._pending) == 1
        if first:
            self._wake.set()

    @property
    def queued(self) -> int:
        """
        The number of lines waiting for the writer.
        """
        with self._lock:
            return len(self._pending)

    @property
    def heldBytes(self) -> int:
        """
        The bytes (characters) of the lines the writer holds: waiting, or in
        the batch it is writing.
        """
        with self._lock:
            return self._heldChars

    @property
    def dropped(self) -> int:
        """
        The number of lines dropped so far, the writer holding as much as it
        may or the file failing; once the file's reader has gone, lines are
        no longer counted.
        """
        with self._lock:
            return self._dropped

    def _run(self) -> None:
        while True:
            try:
                if self._writeNext():
                    return
            except Exception as e:
                # Whatever it was, the log must go on: say it once, and give
                # it a moment rather than spin on it; unless this was the
                # last batch.
                self._unexpected(e)
                if self._stopping:
                    return
                self._closing.wait(self.MAX_RETRY_SECONDS)

    def _writeNext(self) -> bool:
        """
        Wait for lines, and write them.

        @return: whether the thread is done.
        """
        self._wake.wait()
        if not self._stopping:
            # Let a batch gather: the thread is then woken (which costs the
            # reactor a lock and a notify) at most this often.
            try:
                self._sleep(self.GATHER_SECONDS)
            except Exception as e:
                # Whatever the clock did, the lines still go out, without
                # the wait.
                self._unexpected(e)
        with self._lock:
            self._wake.clear()
            batch, self._pending = self._pending, []
            unreported, self._unreported = self._unreported, 0
            stopping = self._stopping
            reopen, self._reopenAsked = self._reopenAsked, False
        text = "".join(batch)
        try:
            if self._fd is None:
                if text or unreported:
                    self._writeText(text, unreported)
            elif text or unreported or self._tail:
                self._writeBytes(self._fd, text, unreported)
        except BaseException:
            self._lost(text.count("\n"), unreported)
            raise
        finally:
            with self._lock:
                self._heldLines -= len(batch)
                self._heldChars -= len(text)
        if reopen and not self._gone:
            self._reopenFile()
        if self._gone or stopping:
            return True
        if self._failing is not None:
            # Lines gather in the queue meanwhile, up to its bounds.
            self._closing.wait(self._retrySeconds)
        return False

    def _reopenFile(self) -> None:
        """
        In the thread, between batches: write to a newly opened file from
        now on, and close the old one if it is the writer's to close.
        """
        if self._reopen is None:  # pragma: no cover (reopen asks only then)
            return
        try:
            new = self._reopen()
        except Exception as e:
            self._say(f"access log: cannot reopen: {e}; writing on to the old file")
            return
        old = self._file
        if self._tail:
            # The old file failed within a line: its rest would start the
            # new file with half a line. It is lost, and said so.
            self._tail = b""
            self._lost(1, 0)
        self._maybeMidLine = False
        self._adopt(new)
        if self._closeFile:
            try:
                old.close()
            except (OSError, ValueError) as e:
                self._say(f"access log: cannot close: {e}")

    def _notice(self, unreported: int) -> str:
        """
        @return: the line that says C{unreported} lines were lost, if any.
        """
        if not unreported:
            return ""
        notice = {"level": "warn", "event": "log_dropped", "lines": unreported}
        return json.dumps(notice) + "\n"

    def _writeBytes(self, fd: int, text: str, unreported: int) -> None:
        """
        Write the rest of a line the file took part of, then C{text}, then
        the notice of C{unreported} lines lost, to C{fd}.
        """
        tail = self._tail
        data = tail + text.encode(self._encoding, "backslashreplace")
        noticeAt = len(data)
        data += self._notice(unreported).encode("ascii")
        view = memoryview(data)
        done = 0
        try:
            while done < len(data):
                done += os.write(fd, view[done : self._chunkEnd(data, done)])
        except OSError as e:
            if e.errno == errno.EPIPE:
                self._readerGone(e)
                return
            # Where the file can take up again: the end of the line it took
            # part of, whose rest is written first next time.
            atLineStart = data[done - 1] == ord("\n") if done else not tail
            resume = done if atLineStart else (data.find(b"\n", done) + 1 or len(data))
            self._tail = data[done:resume]
            lost = data.count(b"\n", resume, noticeAt)
            # If the notice is lost too, its count is carried to the next.
            carried = unreported if resume <= noticeAt else 0
            self._failed(e, lost, carried)
            return
        self._tail = b""
        self._worked(unreported)

    def _chunkEnd(self, data: bytes, start: int) -> int:
        """
        @return: where the write(2) that begins at C{start} ends: after the
            last whole line that fits in a chunk, or after the line if even
            that one does not.
        """
        end = start + self._chunk
        if end >= len(data):
            return len(data)
        lastNewline = data.rfind(b"\n", start, end)
        if lastNewline >= 0:
            return lastNewline + 1
        return data.find(b"\n", end) + 1 or len(data)

    def _writeText(self, text: str, unreported: int) -> None:
        """
        Write C{text}, then the notice of C{unreported} lines lost, with the
        file object's own C{write} and C{flush}.
        """
        start = "\n" if self._maybeMidLine else ""
        try:
            self._file.write(start + text + self._notice(unreported))
            self._file.flush()
        except Exception as e:
            # This file object is not one the writer knows: anything it
            # raises is a failure to write.
            if isinstance(e, BrokenPipeError):
                self._readerGone(e)
                return
            self._maybeMidLine = True
            self._failed(e, text.count("\n"), unreported)
            return
        self._maybeMidLine = False
        self._worked(unreported)

    def _lost(self, lines: int, carried: int) -> None:
        """
        Count C{lines} as lost, to be said so in the log, with C{carried}
        lines lost before whose notice was lost too.
        """
        with self._lock:
            self._unreported += lines + carried
            self._dropped += lines

    def _failed(self, error: Exception, lost: int, carried: int) -> None:
        """
        A write failed with C{error}, losing C{lost} lines, and the notice of
        C{carried} lines lost before if that is not 0.
        """
        self._lost(lost, carried)
        if self._failing is None:
            self._failing = str(error)
            self._say(
                f"access log failing: {error}; dropping lines until it works again"
            )
        self._retrySeconds = min(
            max(self._retrySeconds * 2, self.GATHER_SECONDS), self.MAX_RETRY_SECONDS
        )

    def _worked(self, reported: int) -> None:
        """
        A write went through, saying C{reported} lines were lost.
        """
        self._retrySeconds = 0.0
        if self._failing is not None:
            self._failing = None
            self._say(
                f"access log working again; {reported} "
                f"line{'' if reported == 1 else 's'} lost"
            )

    def _readerGone(self, error: OSError) -> None:
        """
        The file is a pipe whose reader has gone: no line will ever get
        through again.
        """
        with self._lock:
            self._gone = True
            self._heldLines -= len(self._pending)
            self._heldChars -= sum(map(len, self._pending))
            self._pending = []
        self._tail = b""
        self._say(f"access log closed by its reader ({error}); writing no more lines")

    def _say(self, message: str) -> None:
        """
        Say C{message} on standard error, if it can be said at all.
        """
        # If standard error fails too (it may be the log), nowhere is left.
        with contextlib.suppress(Exception):
            say(self._stderr, f"clocksvc: {message}")

    def _unexpected(self, error: Exception) -> None:
        """
        Say that the thread met C{error}, unless it met one of its kind
        before: it may meet it again for every batch.
        """
        kind = type(error).__name__
        if kind not in self._said:
            self._said.add(kind)
            self._say(f"access log writer: {kind}: {error}; going on")

    def close(self, timeout: float = 5.0) -> None:
        """
        Write what is queued, then stop the thread.
        """
        with self._lock:
            self._stopping = True
        self._closing.set()
        self._wake.set()
        self._thread.join(timeout)
        if self._closeFile and not self._thread.is_alive():
            try:
                self._file.close()
            except (OSError, ValueError) as e:
                self._say(f"access log: cannot close: {e}")
