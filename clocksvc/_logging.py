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
import queue
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import IO, Any

from twisted.logger import ILogObserver, LogLevel, formatEvent
from zope.interface import implementer

__all__ = ["JSONLinesObserver", "ThreadedWriter", "accessLog", "say", "serviceLog"]

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


def _isoTime(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(
        timespec="milliseconds"
    )


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
            if not self._access:
                return
            line: dict[str, Any] = {"time": _isoTime(event["when"])}
            line.update((name, event.get(name)) for name in _ACCESS_FIELDS)
        elif namespace == "clocksvc.service" or level >= LogLevel.warn:
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

    _STOP = None
    #: The most lines held for the writer: at ~250 bytes a line, ~25 MB.
    MAX_QUEUED = 100_000
    #: The most lines written at once.
    MAX_BATCH = 1000

    def __init__(self, file: IO[str], closeFile: bool = False) -> None:
        """
        @param file: where the lines go; flushed after each batch.
        @param closeFile: whether L{close} closes C{file} too.
        """
        self._file = file
        self._closeFile = closeFile
        self._queue: queue.Queue[str | None] = queue.Queue(self.MAX_QUEUED)
        self._dropped = 0
        self._droppedLock = threading.Lock()
        self._thread = threading.Thread(
            target=self._run, name="clocksvc-log-writer", daemon=True
        )
        self._thread.start()

    def write(self, line: str) -> None:
        """
        Queue C{line}; it is written soon, in order, unless the queue is full.
        """
        try:
            self._queue.put_nowait(line)
        except queue.Full:
            with self._droppedLock:
                self._dropped += 1

    def _takeDropped(self) -> int:
        with self._droppedLock:
            dropped, self._dropped = self._dropped, 0
        return dropped

    def _run(self) -> None:
        while True:
            line = self._queue.get()
            batch = []
            while line is not self._STOP:
                batch.append(line)
                # A bounded batch: lines beyond it wait in the bounded queue.
                if self._queue.empty() or len(batch) >= self.MAX_BATCH:
                    break
                line = self._queue.get()
            dropped = self._takeDropped()
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
            if line is self._STOP:
                return

    def close(self, timeout: float = 5.0) -> None:
        """
        Write what is queued, then stop the thread.
        """
        try:
            self._queue.put(self._STOP, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)
        if self._closeFile:
            self._file.close()
