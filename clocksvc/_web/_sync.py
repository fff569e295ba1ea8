# -*- test-case-name: tests.test_sync -*-
"""
Clock synchronisation for programs that speak other protocols: the npm
C{timesync} library's JSON-RPC call, and the time-over-HTTPS header.
"""

from __future__ import annotations

import json
import math

from twisted.internet.interfaces import IReactorTime
from twisted.web.http import BAD_REQUEST, NO_CONTENT, REQUEST_ENTITY_TOO_LARGE

from .._clock import UNKNOWN, ClockHealth, ClockState
from ._answer import Answer, Ask, Fields, makeAnswer
from ._api import JSON_FORM, TimeResource
from ._openapi import CLOCK_STATUS, Fragment, error, jsonContent, operation, ref
from ._resource import JSON_FIELDS, MethodResource

__all__ = [
    "MAX_TIMESYNC_BODY",
    "WELL_KNOWN_FIELDS",
    "Timesync",
    "WellKnownTime",
    "httpsTime",
    "timesyncAnswer",
    "timesyncCall",
]

_UNKNOWN_STATUS = UNKNOWN.structuredField()

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
    call: dict[str, object], state: ClockState, wallClock: IReactorTime
) -> bytes:
    """
    @param call: a timesync call (L{timesyncCall}).
    @param state: the server clock's state.
    @param wallClock: read for the answer's time, last of all.
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
        "result": round(wallClock.seconds() * 1000),
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
        self, wallClock: IReactorTime, *, health: ClockHealth | None = None
    ) -> None:
        super().__init__("json", health=health)
        self._wallClock = wallClock

    def answerAllowed(self, ask: Ask) -> Answer:
        if len(ask.body) > MAX_TIMESYNC_BODY:
            return self.error(
                JSON_FORM, REQUEST_ENTITY_TOO_LARGE, "request body too large"
            )
        call = timesyncCall(ask.body)
        if call is None:
            return self.error(
                JSON_FORM,
                BAD_REQUEST,
                'expected {"jsonrpc": "2.0", "id": ..., "method": "timesync"}',
            )
        # Dated as the request is, before the answer's time is read, last.
        now = self._wallClock.seconds()
        fields = self.timeFields(JSON_FIELDS)
        body = timesyncAnswer(call, self.clockState(), self._wallClock)
        return makeAnswer(Answer, (200, fields, body, (), now, None))


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
        self, wallClock: IReactorTime, *, health: ClockHealth | None = None
    ) -> None:
        super().__init__()
        self._wallClock = wallClock
        self._health = health
        self._status = b""
        self._fields: Fields = ()

    def answerAllowed(self, ask: Ask) -> Answer:
        status = _UNKNOWN_STATUS if self._health is None else self._health.field()
        if status is not self._status:
            self._status = status
            self._fields = (*WELL_KNOWN_FIELDS, (b"Clock-Status", status))
        now = self._wallClock.seconds()
        # Dated by the same clock as X-HTTPSTIME, so that the two always
        # agree; and no body: 204.
        more = ((b"X-Httpstime", httpsTime(now)),)
        return makeAnswer(Answer, (NO_CONTENT, self._fields, b"", more, now, None))


# The description of these resources' paths (/openapi.json).


def timesyncFragment() -> Fragment:
    """
    @return: the description of C{/timesync} (L{Timesync}).
    """
    return Fragment(
        {
            "/timesync": {
                "post": {
                    "summary": "The npm timesync library's call: the server's "
                    "time in milliseconds",
                    "requestBody": {
                        "required": True,
                        "content": jsonContent(ref("TimesyncCall")),
                    },
                    "responses": {
                        "200": {
                            "description": "The server's time",
                            "content": jsonContent(ref("TimesyncAnswer")),
                        },
                        "400": error("Not a timesync call"),
                        "413": error("A body over 64 KiB"),
                    },
                },
            },
        },
        {
            "TimesyncCall": {
                "type": "object",
                "required": ["jsonrpc", "method"],
                "properties": {
                    "jsonrpc": {"const": "2.0"},
                    "id": {},
                    "method": {"const": "timesync"},
                    "params": {},
                },
            },
            "TimesyncAnswer": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "jsonrpc",
                    "id",
                    "result",
                    "clock_synchronized",
                    "clock_max_error_ms",
                ],
                "properties": {
                    "jsonrpc": {"const": "2.0"},
                    "id": {},
                    "result": {"type": "integer", "minimum": 0},
                    "clock_synchronized": {"type": ["boolean", "null"]},
                    "clock_max_error_ms": {"type": ["number", "null"], "minimum": 0},
                },
            },
        },
    )


def wellKnownFragment() -> Fragment:
    """
    @return: the description of C{/.well-known/time} (L{WellKnownTime}).
    """
    return Fragment(
        {
            "/.well-known/time": operation(
                "The time in the X-HTTPSTIME header",
                {
                    "204": {
                        "description": "No body",
                        "headers": {
                            "Clock-Status": CLOCK_STATUS,
                            "X-HTTPSTIME": {
                                "description": "Seconds since the epoch, with "
                                "microseconds",
                                "schema": {"type": "string"},
                            },
                        },
                    }
                },
            )
        }
    )
