# -*- test-case-name: tests.test_sync -*-
"""
Clock synchronisation for programs that speak other protocols: the npm
C{timesync} library's JSON-RPC call, and the time-over-HTTPS header.
"""

from __future__ import annotations

import json
import math

from twisted.internet.interfaces import IReactorTime
from twisted.web import http
from twisted.web.iweb import IRequest

from ._api import TimeResource
from ._clockhealth import UNKNOWN, ClockHealth, ClockState
from ._resource import JSON_TYPE, MethodResource, jsonError, noContent, setFields

__all__ = [
    "MAX_TIMESYNC_BODY",
    "WELL_KNOWN_FIELDS",
    "Timesync",
    "WellKnownTime",
    "httpsTime",
    "timesyncAnswer",
    "timesyncCall",
]

#: The largest timesync request body read: a real one is under 100 bytes.
MAX_TIMESYNC_BODY = 64 * 1024


def _refuseConstant(name: str) -> float:
    """
    Refuse C{Infinity}, C{-Infinity} and C{NaN}, which are not JSON.
    """
    raise ValueError(f"{name} is not JSON")


def _finiteFloat(text: str) -> float:
    """
    @return: the number C{text}, if it is finite as a float.
    @raise ValueError: if it overflows, as C{1e999} does.
    """
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text[:20]} is out of range")
    return number


#: How calls are read and answers written: made once, as json.loads and
#: json.dumps would make them for each call, given these options.
_DECODER = json.JSONDecoder(parse_constant=_refuseConstant, parse_float=_finiteFloat)
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def timesyncCall(body: bytes) -> dict[str, object] | None:
    """
    @return: the JSON-RPC call in C{body}, if it is a timesync call:
        C{{"jsonrpc":"2.0","id":ID,"method":"timesync"}}; else L{None}.
    """
    try:
        # JSON has no Infinity or NaN (RFC 8259 section 6), though
        # Python's reader takes them, and 1e999 overflows to infinity:
        # an id that cannot be echoed as JSON is refused.
        # As json.loads reads bytes, with a reader made once rather than
        # for every call.
        call = _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    except (ValueError, RecursionError):
        return None
    if (
        not isinstance(call, dict)
        or call.get("jsonrpc") != "2.0"
        or call.get("method") != "timesync"
    ):
        return None
    return call


def timesyncAnswer(
    call: dict[str, object], state: ClockState, clock: IReactorTime
) -> bytes:
    """
    @param call: a timesync call (L{timesyncCall}).
    @param state: the server clock's state.
    @param clock: read for the answer's time, last of all.
    @return: the answer to C{call}, as JSON.
    """
    answer = {
        "jsonrpc": "2.0",
        # The npm server answers null where the request has no id.
        "id": call.get("id"),
        # The server clock's own bound, beside the time, which clients
        # that know of it add to their uncertainty (and others ignore).
        "clock_synchronized": state.synchronized,
        "clock_max_error_ms": state.maxErrorMs,
        # Read last, just before the answer goes out.
        "result": round(clock.seconds() * 1000),
    }
    return _ENCODER.encode(answer).encode()


class Timesync(TimeResource):
    """
    C{POST /timesync}: answers C{{"jsonrpc":"2.0","id":ID,"method":"timesync"}}
    with C{{"jsonrpc":"2.0","id":ID,"result":MS}}, the server's time in
    milliseconds, as the server of the npm package C{timesync} does; so a page
    using its client syncs with C{timesync.create({server: "/timesync"})}.

    Browsers send that POST cross-origin only after a CORS preflight, which
    C{OPTIONS} answers, as it does for every endpoint
    (L{answerOptions<clocksvc._web._resource.answerOptions>}).
    """

    allowedMethods = (b"POST",)

    def __init__(
        self, clock: IReactorTime, *, health: ClockHealth | None = None
    ) -> None:
        super().__init__("json", health=health)
        self._clock = clock

    def render_POST(self, request: IRequest) -> bytes:
        body = request.content.read(MAX_TIMESYNC_BODY + 1) if request.content else b""
        if len(body) > MAX_TIMESYNC_BODY:
            return jsonError(
                request, http.REQUEST_ENTITY_TOO_LARGE, "request body too large"
            )
        call = timesyncCall(body)
        if call is None:
            return jsonError(
                request,
                http.BAD_REQUEST,
                'expected {"jsonrpc": "2.0", "id": ..., "method": "timesync"}',
            )
        request.setHeader(b"content-type", JSON_TYPE)
        return timesyncAnswer(call, self.clockState(), self._clock)


#: The fields of C{/.well-known/time}'s answer before C{Clock-Status}.
WELL_KNOWN_FIELDS = (
    (b"Cache-Control", b"no-store"),
    (b"Access-Control-Allow-Origin", b"*"),
    (b"Access-Control-Expose-Headers", b"x-httpstime, date, clock-status"),
)


def httpsTime(seconds: float) -> bytes:
    """
    @return: C{X-HTTPSTIME}'s value: seconds since the epoch, to the
        microsecond.
    """
    return b"%.6f" % (seconds,)


class WellKnownTime(MethodResource):
    """
    C{/.well-known/time}: C{204 No Content} with the time in an
    C{X-HTTPSTIME} header, in seconds since the epoch with a fraction, beside
    the one-second C{Date} header; for tools that set a clock over HTTPS.
    """

    isLeaf = True

    def __init__(
        self, clock: IReactorTime, *, health: ClockHealth | None = None
    ) -> None:
        super().__init__()
        self._clock = clock
        self._health = health

    def render_GET(self, request: IRequest) -> int:
        setFields(request, WELL_KNOWN_FIELDS)
        request.setHeader(
            b"clock-status",
            (
                UNKNOWN if self._health is None else self._health.state()
            ).structuredField(),
        )
        now = self._clock.seconds()
        request.setHeader(b"x-httpstime", httpsTime(now))
        # Twisted dates responses by the system clock; this one is dated by
        # the same clock as X-HTTPSTIME, so the two always agree.
        request.setHeader(b"date", http.datetimeToString(now))
        return noContent(request)
