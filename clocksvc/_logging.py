# -*- test-case-name: tests.test_logging -*-
"""
clocksvc's log: one JSON object a line, for the access log and for service
events (listening, stopping, stopped, errors), through C{twisted.logger}.

Access-log events are emitted only when the access log is on, so that with it
off nothing is formatted. Lines are written by a thread of their own: the
reactor only puts them on a queue, so a slow disk or a blocked pipe never
holds up a response.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import IO, Any

from twisted.logger import ILogObserver, LogLevel, formatEvent
from zope.interface import implementer

__all__ = [
    "MAX_FIELD_CHARS",
    "JSONLinesObserver",
    "ThreadedWriter",
    "accessLog",
    "say",
    "serviceLog",
]

from twisted.logger import Logger

#: Emits one event per answered request (see L{JSONLinesObserver}).
accessLog = Logger(namespace="clocksvc.access")
#: Emits the service's events: listening, stopping, stopped.
serviceLog = Logger(namespace="clocksvc.service")

_ACCESS_FIELDS = (
    "client",
    "method",
    "path",
    "status",
    "bytes",
    "duration_ms",
    "user_agent",
)


def say(stream: IO[str], line: str) -> None:
    """
    Write one line for people to C{stream}, in a single write: the writer
    thread may write JSON lines to the same stream, and C{print}'s separate
    write of the newline would let one of them land mid-line.
    """
    stream.write(line + "\n")
    stream.flush()


_lastSecond: tuple[int, str] = (0, "1970-01-01T00:00:00")


def _isoTime(seconds: float) -> str:
    """
    @return: C{seconds} since the epoch in ISO 8601, UTC, to the millisecond,
        as C{datetime.fromtimestamp(seconds, timezone.utc).isoformat(
        timespec="milliseconds")} gives it.
    """
    global _lastSecond
    # As datetime does: round to the microsecond, then truncate.
    fraction, whole = math.modf(seconds)
    microseconds = round(fraction * 1e6)
    if microseconds >= 1_000_000:
        whole, microseconds = whole + 1, microseconds - 1_000_000
    elif microseconds < 0:
        whole, microseconds = whole - 1, microseconds + 1_000_000
    # Every access line asks for one: the date and time of the second is
    # formatted once a second, the milliseconds each time.
    if _lastSecond[0] != whole:
        stamp = datetime.fromtimestamp(whole, timezone.utc)
        _lastSecond = (int(whole), stamp.strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{_lastSecond[1]}.{microseconds // 1000:03d}+00:00"


#: The most characters of the request's method, path and C{User-Agent} that
#: an access line carries. A request line of 8 KiB and 16 KiB of headers
#: (clocksvc's limits), decoded as Latin-1 and escaped for JSON at
#: up to six bytes a character, would make a line of ~150 KiB; cut to this,
#: a line is at most ~19 KiB. Real paths of clocksvc's API are tens of
#: characters and real user agents a few hundred, so nothing useful is lost;
#: longer ones are probes, and their first KiB says what they were.
MAX_FIELD_CHARS = 1024
# The fields that come from the request as the client wrote it: the client's
# address and the numbers are short by nature.
_CAPPED_FIELDS = ("method", "path", "user_agent")

# The access line, in json.dumps's compact form, for events whose fields
# have the usual types and lengths; any other event goes through json.dumps
# itself.
_ACCESS_LINE = (
    '{"time":"%s","client":%s,"method":%s,"path":%s,"status":%d,"bytes":%d,'
    '"duration_ms":%r,"user_agent":%s}\n'
)
_quoted = json.encoder.encode_basestring_ascii


def _accessLine(event: dict[str, Any]) -> str:
    """
    @return: the JSON line for an access event. A method, path or user agent
        longer than L{MAX_FIELD_CHARS} is cut to that, and the line then ends
        with a C{"truncated"} object giving each cut field's full length in
        characters, as C{"truncated":{"path":16384}}; a line without it is
        whole.
    """
    fields = [event.get(name) for name in _ACCESS_FIELDS]
    client, method, path, status, length, duration, agent = fields
    if (
        type(client) is str
        and type(method) is str
        and type(path) is str
        and type(status) is int
        and type(length) is int
        and type(duration) is float
        and type(agent) is str
        and math.isfinite(duration)
        and len(method) <= MAX_FIELD_CHARS
        and len(path) <= MAX_FIELD_CHARS
        and len(agent) <= MAX_FIELD_CHARS
    ):
        return _ACCESS_LINE % (
            _isoTime(event["when"]),
            _quoted(client),
            _quoted(method),
            _quoted(path),
            status,
            length,
            duration,
            _quoted(agent),
        )
    line: dict[str, Any] = {"time": _isoTime(event["when"])}
    line.update(zip(_ACCESS_FIELDS, fields))
    truncated = {}
    for name in _CAPPED_FIELDS:
        value = line[name]
        if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
            line[name] = value[:MAX_FIELD_CHARS]
            truncated[name] = len(value)
    if truncated:
        line["truncated"] = truncated
    return json.dumps(line, separators=(",", ":")) + "\n"


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
        if namespace == "clocksvc.access":
            if self._access:
                self._write(_accessLine(event))
            return
        line: dict[str, Any]
        if namespace == "clocksvc.service" or level >= LogLevel.warn:
            line = {
                "time": _isoTime(event.get("log_time", 0)),
                "level": level.name,
                "event": event.get("event", "log"),
                "message": formatEvent(event),
            }
            failure = event.get("log_failure")
            if failure is not None:
                line["traceback"] = failure.getTraceback()
        else:
            return
        self._write(json.dumps(line, separators=(",", ":")) + "\n")


class ThreadedWriter:
    """
    Writes lines to a file from a thread of its own.

    The queue between the reactor and the thread is bounded: if the file
    stops taking lines (a pipe nobody reads, a full disk), lines are dropped
    and counted rather than kept in memory without end, and a line saying
    how many were lost is written once the file takes lines again.
    """

    #: The most lines held for the writer, besides the batch it is writing,
    #: which is never more: at ~250 bytes a line, ~25 MB in all.
    MAX_QUEUED = 50_000
    #: How long the thread lets lines gather before it writes them.
    GATHER_SECONDS = 0.01

    def __init__(self, file: IO[str], closeFile: bool = False) -> None:
        """
        @param file: where the lines go; flushed after each batch.
        @param closeFile: whether L{close} closes C{file} too.
        """
        self._file = file
        self._closeFile = closeFile
        # Lines are handed over in batches: a queue.Queue would take a lock
        # and wake the thread for every line, which at tens of thousands of
        # requests a second costs the reactor more than the line itself.
        # The thread is woken when a line arrives to an empty batch, and
        # takes the whole batch at once.
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._wake = threading.Event()
        self._dropped = 0
        self._stopping = False
        self._thread = threading.Thread(
            target=self._run, name="clocksvc-log-writer", daemon=True
        )
        self._thread.start()

    def write(self, line: str) -> None:
        """
        Queue C{line}; it is written soon, in order, unless the queue is full.
        """
        with self._lock:
            if len(self._pending) >= self.MAX_QUEUED or self._stopping:
                self._dropped += 1
                return
            self._pending.append(line)
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

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if not self._stopping:
                # Let a batch gather: the thread is then woken (which costs
                # the reactor a lock and a notify) at most this often.
                time.sleep(self.GATHER_SECONDS)
            with self._lock:
                self._wake.clear()
                batch, self._pending = self._pending, []
                dropped, self._dropped = self._dropped, 0
                stopping = self._stopping
            if dropped:
                batch.append(
                    json.dumps(
                        {"level": "warn", "event": "log_dropped", "lines": dropped}
                    )
                    + "\n"
                )
            if batch:
                self._file.write("".join(batch))
                self._file.flush()
            if stopping:
                return

    def close(self, timeout: float = 5.0) -> None:
        """
        Write what is queued, then stop the thread.
        """
        with self._lock:
            self._stopping = True
        self._wake.set()
        self._thread.join(timeout)
        if self._closeFile and not self._thread.is_alive():
            self._file.close()
