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

__all__ = ["JSONLinesObserver", "ThreadedWriter", "accessLog", "serviceLog"]

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
    """

    _STOP = None

    def __init__(self, file: IO[str], closeFile: bool = False) -> None:
        """
        @param file: where the lines go; flushed after each batch.
        @param closeFile: whether L{close} closes C{file} too.
        """
        self._file = file
        self._closeFile = closeFile
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._run, name="clocksvc-log-writer", daemon=True
        )
        self._thread.start()

    def write(self, line: str) -> None:
        """
        Queue C{line}; it is written soon, in order.
        """
        self._queue.put(line)

    def _run(self) -> None:
        while True:
            line = self._queue.get()
            batch = []
            while line is not self._STOP:
                batch.append(line)
                if self._queue.empty():
                    break
                line = self._queue.get()
            if batch:
                self._file.write("".join(batch))
                self._file.flush()
            if line is self._STOP:
                return

    def close(self, timeout: float = 5.0) -> None:
        """
        Write what is queued, then stop the thread.
        """
        self._queue.put(self._STOP)
        self._thread.join(timeout)
        if self._closeFile:
            self._file.close()
