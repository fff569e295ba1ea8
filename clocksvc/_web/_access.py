# -*- test-case-name: tests.test_logging,tests.test_fastpath -*-
"""
The access log: one line for each request answered, written straight to
the log's writer (L{AccessLog} given a C{write}), or else emitted as an event
through C{twisted.logger}, for whatever observes them (the run layer writes
those as the same JSON lines, with L{accessLine}).

Written straight, a line costs the reactor a third of what the event does:
C{twisted.logger} builds a dict of some fifteen keys, looks up the log
level's constants and calls each observer, for every request.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from twisted.logger import Logger
from zope.interface import implementer

from .._http import Finished, IReporter
from ._api import addressIP

__all__ = [
    "ACCESS_FIELDS",
    "ACCESS_NAMESPACE",
    "MAX_FIELD_CHARS",
    "AccessLog",
    "accessLine",
    "accessLog",
    "isoTime",
]

#: The namespace of the access log's events.
ACCESS_NAMESPACE = "clocksvc.access"

#: Emits one event per answered request, for an access log without C{write}.
accessLog = Logger(namespace=ACCESS_NAMESPACE)

#: The fields of an access event, after C{when}, in the order of its line.
ACCESS_FIELDS = (
    "client",
    "method",
    "path",
    "status",
    "bytes",
    "duration_ms",
    "user_agent",
    "scheme",
)


#: The second last formatted, its text, and the millisecond last formatted
#: in it, with its whole text.
_lastSecond: tuple[int, str, int, str] = (
    0,
    "1970-01-01T00:00:00",
    0,
    "1970-01-01T00:00:00.000+00:00",
)


def isoTime(seconds: float) -> str:
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
    # formatted once a second, and the whole text once a millisecond, which
    # at thousands of requests a second several lines share.
    milliseconds = microseconds // 1000
    second, text, lastMilliseconds, lastText = _lastSecond
    if second != whole:
        stamp = datetime.fromtimestamp(whole, timezone.utc)
        text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    elif milliseconds == lastMilliseconds:
        return lastText
    lastText = f"{text}.{milliseconds:03d}+00:00"
    _lastSecond = (int(whole), text, milliseconds, lastText)
    return lastText


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
    '"duration_ms":%r,"user_agent":%s,"scheme":%s}\n'
)
_quoted = json.encoder.encode_basestring_ascii


def accessLine(
    when: float,
    client: object,
    method: object,
    path: object,
    status: object,
    length: object,
    duration: object,
    agent: object,
    scheme: object,
) -> str:
    """
    @param when: when the request was answered, in seconds since the epoch.
    @return: the JSON line for an access event with these fields (named as
        the line names them: C{client}, C{method}, C{path}, C{status},
        C{bytes}, C{duration_ms}, C{user_agent}, C{scheme}). A method, path
        or user agent longer than L{MAX_FIELD_CHARS} is cut to that, and the
        line then ends with a C{"truncated"} object giving each cut field's
        full length in characters, as C{"truncated":{"path":16384}}; a line
        without it is whole.
    """
    if (
        type(client) is str
        and type(method) is str
        and type(path) is str
        and type(status) is int
        and type(length) is int
        and type(duration) is float
        and type(agent) is str
        and type(scheme) is str
        and math.isfinite(duration)
        and len(method) <= MAX_FIELD_CHARS
        and len(path) <= MAX_FIELD_CHARS
        and len(agent) <= MAX_FIELD_CHARS
    ):
        return _ACCESS_LINE % (
            isoTime(when),
            _quoted(client),
            _quoted(method),
            _quoted(path),
            status,
            length,
            duration,
            _quoted(agent),
            _quoted(scheme),
        )
    fields = (client, method, path, status, length, duration, agent, scheme)
    line: dict[str, Any] = {"time": isoTime(when)}
    line.update(zip(ACCESS_FIELDS, fields))
    truncated = {}
    for name in _CAPPED_FIELDS:
        value = line[name]
        if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
            line[name] = value[:MAX_FIELD_CHARS]
            truncated[name] = len(value)
    if truncated:
        line["truncated"] = truncated
    return json.dumps(line, separators=(",", ":")) + "\n"


#: An access line from its pieces: the time, the quoted client, the request's
#: own (L{AccessLog._request}), the length, the duration and the client's
#: own (L{AccessLog._agent}); the very line L{accessLine} makes.
_LINE_OF_PIECES = '{"time":"%s","client":%s,%s%d,"duration_ms":%r,%s'


@implementer(IReporter)
class AccessLog:
    """
    Logs each request a site answers. A site without one formats nothing.
    """

    wantsDetails = True

    #: How many requests' and clients' pieces of line are kept: a client
    #: cannot grow them past this.
    _KEPT = 1024

    def __init__(self, write: Callable[[str], None] | None = None) -> None:
        """
        @param write: takes each access line, newline included; if L{None},
            each request is an event of L{accessLog} instead.
        """
        self._write = write
        # The pieces of line that a request's method, target and status
        # make, and those that its user agent and scheme make: the same for
        # most requests, and kept rather than decoded and quoted each time.
        self._requests: dict[tuple[bytes, bytes, int], str] = {}
        self._agents: dict[tuple[bytes | None, bool | None], str] = {}

    def requestFinished(self, finished: Finished) -> None:
        client = addressIP(finished.client)
        duration = round(finished.seconds * 1000, 3)
        write = self._write
        if write is not None:
            request = self._request(finished.method, finished.target, finished.status)
            agent = self._agent(finished.userAgent, finished.secure)
            if request is not None and agent is not None:
                write(
                    _LINE_OF_PIECES
                    % (
                        isoTime(finished.when),
                        _quoted(client),
                        request,
                        finished.bodyLength,
                        duration,
                        agent,
                    )
                )
                return
        method = finished.method.decode("latin-1")
        path = finished.target.decode("latin-1")
        userAgent = (finished.userAgent or b"").decode("latin-1")
        scheme = "https" if finished.secure else "http"
        if write is not None:
            # A field too long to keep: cut, and said so.
            write(
                accessLine(
                    finished.when,
                    client,
                    method,
                    path,
                    finished.status,
                    finished.bodyLength,
                    duration,
                    userAgent,
                    scheme,
                )
            )
            return
        accessLog.info(
            "{method} {path} {status}",
            when=finished.when,
            client=client,
            method=method,
            path=path,
            status=finished.status,
            bytes=finished.bodyLength,
            duration_ms=duration,
            user_agent=userAgent,
            scheme=scheme,
        )

    def _request(self, method: bytes, target: bytes, status: int) -> str | None:
        """
        @return: the line's C{"method":...,"path":...,"status":...,"bytes":}
            for a request; L{None} if the method or target is too long to
            write whole.
        """
        key = (method, target, status)
        piece = self._requests.get(key)
        if piece is None:
            if len(method) > MAX_FIELD_CHARS or len(target) > MAX_FIELD_CHARS:
                return None
            if len(self._requests) >= self._KEPT:
                self._requests.clear()
            quotedMethod = _quoted(method.decode("latin-1"))
            path = _quoted(target.decode("latin-1"))
            piece = f'"method":{quotedMethod},"path":{path},"status":{status},"bytes":'
            self._requests[key] = piece
        return piece

    def _agent(self, userAgent: bytes | None, secure: bool | None) -> str | None:
        """
        @return: the line's C{"user_agent":...,"scheme":...}, and its end;
            L{None} if the user agent is too long to write whole.
        """
        key = (userAgent, secure)
        piece = self._agents.get(key)
        if piece is None:
            agent = b"" if userAgent is None else userAgent
            if len(agent) > MAX_FIELD_CHARS:
                return None
            if len(self._agents) >= self._KEPT:
                self._agents.clear()
            quoted = _quoted(agent.decode("latin-1"))
            scheme = '"https"' if secure else '"http"'
            piece = self._agents[key] = f'"user_agent":{quoted},"scheme":{scheme}}}\n'
        return piece

    def requestRefused(self, status: int) -> None:
        # Refusals are counted in /metrics; they have no request to log.
        pass
