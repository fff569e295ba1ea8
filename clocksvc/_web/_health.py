# -*- test-case-name: tests.test_metrics,tests.test_clockhealth -*-
"""
C{/healthz} and C{/readyz}, for load balancers and orchestrators.

C{/healthz} (liveness) says whether this server takes requests: 200 while
serving, 503 once a graceful shutdown has begun, so that traffic moves
elsewhere before the server stops; how good its clock is; and which zone
database it answers from.

C{/readyz} (readiness) says whether it should be sent traffic: not while it
drains, and, if the operator asks (L{Readiness}), not while its clock is
unsynchronized or its error is above a bound. Serving never stops because of
the clock: readiness says it, and the operator decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from twisted.internet.interfaces import IReactorTime
from twisted.web.http import OK, SERVICE_UNAVAILABLE

from .._clock import ClockHealth, ClockState
from .._compiled import CORE
from .._time import LeapSecondList, zoneDatabase
from ._answer import Answer, Ask
from ._leap import LEAP_LIST_SCHEMA
from ._openapi import Fragment, jsonContent, operation, ref
from ._resource import JSON_FIELDS, MethodResource, jsonBody
from ._signedtime import RoughtimeService, delegationJSON
from ._sntp import NTP_STATE_SCHEMA, NTPStatus

#: The fields of both answers: they say how things are now.
_FIELDS = ((b"Cache-Control", b"no-store"), *JSON_FIELDS)

__all__ = ["Health", "Readiness", "Ready"]


class Health(MethodResource):
    """
    C{/healthz}: C{{"status": "ok", "clock": {...}, "tzdata": {...}}}, or
    C{"draining"} with 503; the C{clock} object is L{ClockState.asJSON},
    C{tzdata} is the zone database in use, as C{{"source": "package",
    "version": "2026f"}} (L{zoneDatabase}); C{core}, C{"compiled"} or
    C{"pure"}, whether the compiled core runs (L{clocksvc._compiled}); with
    a Roughtime server,
    C{roughtime}, its delegation (L{delegationJSON}); C{ntp} the SNTP servers'
    state (L{NTPStatus.asJSON}), absent without C{--ntp-listen};
    C{leap_seconds} the leap-second list's source and expiry, and whether it
    has expired.
    """

    isLeaf = True
    # The operator's: no page of another origin has business with it.
    crossOrigin = False

    def __init__(
        self,
        draining: Callable[[], bool],
        health: ClockHealth | None = None,
        roughtime: RoughtimeService | None = None,
        ntp: NTPStatus | None = None,
        leapSeconds: LeapSecondList | None = None,
        wallClock: IReactorTime | None = None,
    ) -> None:
        """
        @param draining: says whether the server is shutting down.
        @param health: the server clock's state; without it, C{/healthz}
            has no C{clock}.
        @param roughtime: the Roughtime server, if there is one.
        @param ntp: the site's SNTP servers: C{ntp}, if given.
        @param leapSeconds: the leap-second list: C{leap_seconds}, with
            whether it has expired by C{wallClock}, if both are given.
        @param wallClock: the wall clock.
        """
        super().__init__()
        self._draining = draining
        self._health = health
        self._roughtime = roughtime
        self._ntp = ntp
        self._leapSeconds = leapSeconds
        self._wallClock = wallClock

    def answerAllowed(self, ask: Ask) -> Answer:
        answer: dict[str, object] = {}
        code = OK
        if self._draining():
            answer["status"] = "draining"
            code = SERVICE_UNAVAILABLE
        else:
            answer["status"] = "ok"
        if self._health is not None:
            answer["clock"] = self._health.state().asJSON()
        database = zoneDatabase()
        answer["tzdata"] = {"source": database.source, "version": database.version}
        answer["core"] = CORE
        if self._roughtime is not None:
            answer["roughtime"] = delegationJSON(self._roughtime)
        ntp = None if self._ntp is None else self._ntp.asJSON()
        if ntp is not None:
            answer["ntp"] = ntp
        if self._leapSeconds is not None and self._wallClock is not None:
            answer["leap_seconds"] = {
                **self._leapSeconds.describe(),
                "expired": self._leapSeconds.expired(self._wallClock.seconds()),
            }
        return Answer(code, _FIELDS, jsonBody(answer))


@dataclass(frozen=True)
class Readiness:
    """
    What C{/readyz} asks of the server's clock.

    @ivar requireSynchronized: whether an unsynchronized clock (or one whose
        state cannot be read) makes the server not ready.
    @ivar maxErrorMs: with C{requireSynchronized}, the largest maximum error,
        in milliseconds, of a ready server's clock; L{None} for any.
    """

    requireSynchronized: bool = False
    maxErrorMs: float | None = None

    def problem(self, state: ClockState) -> str | None:
        """
        @return: why a clock in C{state} makes the server not ready, or
            L{None} if it does not.
        """
        if not self.requireSynchronized:
            return None
        if not state.synchronized:
            return "clock not synchronized"
        if self.maxErrorMs is not None and (
            state.maxErrorMs is None or state.maxErrorMs > self.maxErrorMs
        ):
            return f"clock error above {self.maxErrorMs:g} ms"
        return None


class Ready(MethodResource):
    """
    C{/readyz}: C{{"status": "ready"}}; or 503 with C{{"status": "draining"}}
    or C{{"status": "not ready", "reason": ...}}. Both carry C{clock}, as
    C{/healthz} does.
    """

    isLeaf = True
    # The operator's: no page of another origin has business with it.
    crossOrigin = False

    def __init__(
        self,
        draining: Callable[[], bool],
        health: ClockHealth,
        readiness: Readiness,
        ntp: NTPStatus | None = None,
    ) -> None:
        """
        @param draining: says whether the server is shutting down.
        @param health: the server clock's state.
        @param readiness: what is asked of it.
        @param ntp: the site's SNTP servers: C{ntp}, if given.
        """
        super().__init__()
        self._draining = draining
        self._health = health
        self._readiness = readiness
        self._ntp = ntp

    def answerAllowed(self, ask: Ask) -> Answer:
        state = self._health.state()
        answer: dict[str, object] = {"status": "ready"}
        code = OK
        problem = self._readiness.problem(state)
        if self._draining():
            answer["status"] = "draining"
            code = SERVICE_UNAVAILABLE
        elif problem is not None:
            answer = {"status": "not ready", "reason": problem}
            code = SERVICE_UNAVAILABLE
        answer["clock"] = state.asJSON()
        ntp = None if self._ntp is None else self._ntp.asJSON()
        if ntp is not None:
            answer["ntp"] = ntp
        return Answer(code, _FIELDS, jsonBody(answer))


# The description of these resources' paths (/openapi.json).

#: The server clock's state, in both answers.
_CLOCK_STATE = {
    "type": "object",
    "description": "The server clock's state, as the kernel tells it "
    "(ntp_adjtime on Linux; elsewhere unknown)",
    "additionalProperties": False,
    "required": ["synchronized", "max_error_ms", "est_error_ms", "leap", "source"],
    "properties": {
        "synchronized": {"type": ["boolean", "null"]},
        "max_error_ms": {"type": ["number", "null"], "minimum": 0},
        "est_error_ms": {"type": ["number", "null"], "minimum": 0},
        "leap": {"enum": ["none", "insert", "delete", "in-progress", "unknown"]},
        "source": {"enum": ["ntp", "pps", "none", "unknown"]},
    },
}


def healthFragment() -> Fragment:
    """
    @return: the description of C{/healthz} (L{Health}).
    """
    return Fragment(
        {
            "/healthz": operation(
                "Whether this server takes requests, and how good its clock "
                "is: for load balancers and orchestrators (moved to the admin "
                "listener by --admin-listen)",
                {
                    "200": {
                        "description": "Serving",
                        "content": jsonContent(ref("Health")),
                    },
                    "503": {
                        "description": "Shutting down: send traffic elsewhere",
                        "content": jsonContent(ref("Health")),
                    },
                },
            )
        },
        {
            "Health": {
                "type": "object",
                "additionalProperties": False,
                "required": ["status", "clock", "tzdata", "core"],
                "properties": {
                    "status": {"enum": ["ok", "draining"]},
                    "core": {
                        "description": "Whether the compiled core runs, or "
                        "pure Python (PyPy, a build without a C compiler, or "
                        "CLOCKSVC_NO_EXTENSIONS=1)",
                        "enum": ["compiled", "pure"],
                    },
                    "clock": ref("ClockState"),
                    "ntp": ref("NTPState"),
                    "leap_seconds": LEAP_LIST_SCHEMA,
                    "roughtime": ref("RoughtimeDelegation"),
                    "tzdata": {
                        "description": "The zone database answers come "
                        "from (--tzdata): the system's zone files or the "
                        "tzdata package, and its tz release",
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["source", "version"],
                        "properties": {
                            "source": {"enum": ["system", "package"]},
                            "version": {
                                "type": "string",
                                "pattern": "^([0-9]{4}[a-z]+|unknown)$",
                                "example": "2026f",
                            },
                        },
                    },
                },
            },
            "ClockState": _CLOCK_STATE,
            "NTPState": NTP_STATE_SCHEMA,
        },
    )


def readyFragment() -> Fragment:
    """
    @return: the description of C{/readyz} (L{Ready}).
    """
    return Fragment(
        {
            "/readyz": operation(
                "Whether to send this server traffic: not while it drains, "
                "nor, with --require-synchronized-clock, while its clock is "
                "unsynchronized or its error above --max-clock-error (moved "
                "to the admin listener by --admin-listen)",
                {
                    "200": {
                        "description": "Ready",
                        "content": jsonContent(ref("Ready")),
                    },
                    "503": {
                        "description": "Draining, or the clock is not good "
                        "enough: send traffic elsewhere",
                        "content": jsonContent(ref("Ready")),
                    },
                },
            )
        },
        {
            "Ready": {
                "type": "object",
                "additionalProperties": False,
                "required": ["status", "clock"],
                "properties": {
                    "status": {"enum": ["ready", "draining", "not ready"]},
                    "reason": {"type": "string"},
                    "clock": ref("ClockState"),
                    "ntp": ref("NTPState"),
                },
            },
            "ClockState": _CLOCK_STATE,
            "NTPState": NTP_STATE_SCHEMA,
        },
    )
