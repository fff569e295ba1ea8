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
from twisted.web import http
from twisted.web.iweb import IRequest

from .._compiled import CORE
from .._time import LeapSecondList, zoneDatabase
from ._clockhealth import ClockHealth, ClockState
from ._resource import MethodResource, sendJSON
from ._signedtime import RoughtimeService, delegationJSON
from ._sntp import NTPStatus

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
        clock: IReactorTime | None = None,
    ) -> None:
        """
        @param draining: says whether the server is shutting down.
        @param health: the server clock's state; without it, C{/healthz}
            has no C{clock}.
        @param roughtime: the Roughtime server, if there is one.
        @param ntp: the site's SNTP servers: C{ntp}, if given.
        @param leapSeconds: the leap-second list: C{leap_seconds}, with
            whether it has expired by C{clock}, if both are given.
        @param clock: the wall clock.
        """
        super().__init__()
        self._draining = draining
        self._health = health
        self._roughtime = roughtime
        self._ntp = ntp
        self._leapSeconds = leapSeconds
        self._clock = clock

    def render_GET(self, request: IRequest) -> bytes:
        request.setHeader(b"cache-control", b"no-store")
        answer: dict[str, object] = {}
        code = http.OK
        if self._draining():
            answer["status"] = "draining"
            code = http.SERVICE_UNAVAILABLE
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
        if self._leapSeconds is not None and self._clock is not None:
            answer["leap_seconds"] = {
                **self._leapSeconds.describe(),
                "expired": self._leapSeconds.expired(self._clock.seconds()),
            }
        return sendJSON(request, answer, code)


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

    def render_GET(self, request: IRequest) -> bytes:
        request.setHeader(b"cache-control", b"no-store")
        state = self._health.state()
        answer: dict[str, object] = {"status": "ready"}
        code = http.OK
        problem = self._readiness.problem(state)
        if self._draining():
            answer["status"] = "draining"
            code = http.SERVICE_UNAVAILABLE
        elif problem is not None:
            answer = {"status": "not ready", "reason": problem}
            code = http.SERVICE_UNAVAILABLE
        answer["clock"] = state.asJSON()
        ntp = None if self._ntp is None else self._ntp.asJSON()
        if ntp is not None:
            answer["ntp"] = ntp
        return sendJSON(request, answer, code)
