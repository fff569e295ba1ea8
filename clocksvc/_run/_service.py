# -*- test-case-name: tests.test_cli,tests.test_tap,tests.test_shutdown -*-
"""
clocksvc as one Twisted service, assembled in one place from the options,
for C{python -m clocksvc} (L{clocksvc._run._cli}) and C{twist clocksvc}
(L{clocksvc._run._tap}) alike: the site, and the admin site if
C{--admin-listen} asks for one; a listener on each endpoint; the access
log's writer; and, when it stops, the drain. It also makes C{zoneinfo} read
the zone database C{--tzdata} chose, before any zone is made, and says at
start-up which database, which zone, and whether C{/api/ip} is on.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TextIO

from twisted.application import service
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.interfaces import (
    IListeningPort,
    IReactorTime,
    IStreamServerEndpoint,
)
from twisted.logger import Logger
from twisted.python.failure import Failure

from .._clock import ClockState, WallClock, readKernelClock
from .._compiled import CORE
from .._http import ClockSite
from .._time import ZoneDatabase, serverZoneName, useZoneDatabase, zoneDatabases
from .._web import (
    GeoIP,
    RoughtimeService,
    buildAdminSite,
    buildSite,
    clockStateOf,
    listenNTP,
)
from ._endpoints import Problem, describeListenError
from ._logging import ThreadedWriter, say, sayCore, serviceLog
from ._ntpoptions import describeNTPAddress
from ._options import Options
from ._roughtime import RoughtimeListeners, radiusOf
from ._shutdown import GracefulShutdown

__all__ = ["ClockService", "Listening", "WriterService"]

_log = Logger()

#: What L{ClockService.listen} gives for each endpoint: its description,
#: its port, and whether it is an admin one.
Listening = tuple[str, IListeningPort, bool]


class WriterService(service.Service):
    """
    Closes the log's writer, after its last line, when the service stops.
    """

    def __init__(self, writer: ThreadedWriter) -> None:
        self._writer = writer

    def stopService(self) -> None:
        super().stopService()
        self._writer.close()


class ClockService(service.MultiService):
    """
    clocksvc, serving on its endpoints until it stops, then draining.

    @ivar site: the site.
    @ivar adminSite: the site of C{/healthz} and C{/metrics}, if they have
        one of their own.
    @ivar shutdown: the drain, once listening.
    """

    def __init__(
        self,
        reactor: Any,
        options: Options,
        endpoints: Sequence[tuple[str, IStreamServerEndpoint]],
        adminEndpoints: Sequence[tuple[str, IStreamServerEndpoint]] = (),
        stdout: TextIO | None = None,
        readClock: Callable[[], ClockState] = readKernelClock,
        accessLines: Callable[[str], None] | None = None,
        stderr: TextIO | None = None,
        exit: Callable[[int], object] = os._exit,
    ) -> None:
        """
        @param reactor: the reactor to listen with and run timers on; the
            time of day is the system's clock.
        @param options: the parsed options.
        @param endpoints: the public endpoints, with their descriptions.
        @param adminEndpoints: the C{--admin-listen} ones; a worker other than
            the first has none, though the options name some.
        @param stdout: where to say what is happening, if anywhere; the
            service log hears it too.
        @param readClock: reads the state of the server's clock.
        @param accessLines: where the access log's lines go, if it is on: the
            log's writer; if L{None}, its events go through
            C{twisted.logger}, to whatever observes them.
        @param stderr: where to say that an endpoint cannot be listened on,
            when L{startService} listens; C{sys.stderr} if L{None}.
        @param exit: ends the process after the reactor's shutdown, when an
            endpoint fails to listen only once the reactor runs.
        """
        super().__init__()
        self._reactor = reactor
        self._endpoints = list(endpoints)
        self._adminEndpoints = list(adminEndpoints)
        self._timeout: float = options["shutdown-timeout"]
        self._stdout = stdout
        self._stderr = sys.stderr if stderr is None else stderr
        self._exit = exit
        self._listening = False
        # By --admin-listen, not adminEndpoints: /healthz and /metrics are
        # off the public site in every worker.
        # The reactor schedules (on the monotonic clock, when an entry point
        # has made it: useMonotonicTime); the time of day is the system's.
        timers = IReactorTime(reactor)
        # Process-wide, and before the site makes its first zone.
        useZoneDatabase(options["tzdata"])
        zone, origin = serverZoneName(options["timezone"])
        self._starting = partial(
            _sayStarting, zone, origin, options["tzdata"], options["geoip-db"]
        )
        wallClock = WallClock(timers)
        #: The Roughtime server's listeners, with --roughtime-listen.
        self.roughtime: RoughtimeListeners | None = None
        if options["roughtime-listen"]:
            self.roughtime = RoughtimeListeners(
                reactor,
                options["roughtime-key"],
                wallClock,
                # The site's clock state, read when a batch is signed.
                radiusOf(
                    lambda: clockStateOf(self.site),
                    options.get("roughtime-require-synchronized", False),
                ),
                options["roughtime-listen"],
                options.get("roughtime-tcp", False),
            )
        accessLog = options["access-log"] != "off" and (
            True if accessLines is None else accessLines
        )
        self._ntp = partial(
            listenNTP,
            reactor=reactor,
            stratum=options["ntp-stratum"],
            localStratum=options["ntp-local-stratum"],
            rateLimit=options["ntp-rate-limit"],
            accessLog=accessLog,
        )
        self._ntpAddresses = list(options["ntp-listen"])
        self.site: ClockSite = buildSite(
            wallClock,
            zone,
            options.limits(),
            accessLog=accessLog,
            adminResources=not options["admin-listen"],
            trustedProxies=options.trustedProxies(),
            timers=timers,
            readClock=readClock,
            readiness=options.readiness(),
            geoip=options["geoip-db"],
            roughtime=None
            if self.roughtime is None
            else RoughtimeService(self.roughtime.responder, self.roughtime.published),
        )
        self.adminSite = buildAdminSite(self.site) if self._adminEndpoints else None
        self.shutdown: GracefulShutdown | None = None
        self.stopped: Deferred[int] = Deferred()

    async def listen(
        self, listening: Callable[[str, IListeningPort, bool], None] | None = None
    ) -> list[Listening]:
        """
        Listen on every endpoint, in order.

        @param listening: told of each endpoint, once every one listens: its
            description, its port, and whether it is an admin one.
        @return: each endpoint's description and port, and whether it is an
            admin one.
        @raise Problem: if an endpoint cannot be listened on; those already
            listening are stopped first.
        """
        targets = [(d, e, self.site, False) for d, e in self._endpoints]
        if self.adminSite is not None:
            targets += [(d, e, self.adminSite, True) for d, e in self._adminEndpoints]
        started: list[Listening] = []
        # Where it serves is said once it serves everywhere: a start that
        # fails says only why, in one line.
        announcements: list[Callable[[], None]] = []
        for description, endpoint, site, admin in targets:
            try:
                port = await endpoint.listen(site)
            except Exception as e:
                await _stopListening(started)
                raise Problem(
                    f"cannot listen on {description}: {describeListenError(e)}"
                ) from e
            started.append((description, port, admin))
            if listening is not None:
                announcements.append(partial(listening, description, port, admin))
        if self.roughtime is not None:
            try:
                self.roughtime.listen(
                    lambda where: announcements.append(
                        partial(self._sayRoughtime, where)
                    )
                )
            except Problem:
                await _stopListening(started)
                raise
        # SNTP after HTTP, whose first endpoint's line comes first; each
        # stops listening as the drain begins, as the public ones do.
        for host, number in self._ntpAddresses:
            description = "ntp:" + describeNTPAddress((host, number))
            try:
                port = self._ntp(number, host, site=self.site)
            except Exception as e:
                await _stopListening(started)
                raise Problem(
                    f"cannot listen on {description}: {describeListenError(e)}"
                ) from e
            started.append((description, port, False))
            if listening is not None:
                announcements.append(partial(listening, description, port, False))
        for announce in announcements:
            announce()
        if self._stdout is not None:
            sayCore(self._stdout)
        # The admin listeners stay open through the drain, so that probes see
        # /healthz say "draining" rather than find nothing there.
        self.shutdown = GracefulShutdown(
            self._reactor,
            self.site,
            [port for _, port, admin in started if not admin],
            self._timeout,
            self._stdout,
            adminPorts=[port for _, port, admin in started if admin],
        )
        self.shutdown.finished.chainDeferred(self.stopped)
        # Serving: the log says at once if the clock is not synchronized.
        clockStateOf(self.site)
        # After the lines saying where it serves, which come first.
        self._starting()
        return started

    def privilegedStartService(self) -> None:
        """
        Under C{twistd}: listen before it gives up root, as Twisted's own
        endpoint services do.
        """
        super().privilegedStartService()
        self._listenOnce()

    def _sayRoughtime(self, where: str) -> None:
        if self._stdout is not None:
            say(self._stdout, f"clocksvc: {where}")
        serviceLog.info("{where}", event="listening", where=where)

    def startService(self) -> None:
        """
        Start, and listen unless L{listen} already has, as under C{python -m
        clocksvc}; under C{twist}, listen now.
        """
        super().startService()
        self._listenOnce()

    def _listenOnce(self) -> None:
        """
        Listen, unless that has begun already. An endpoint that cannot be
        listened on is one line on standard error and exit status 2, as under
        C{python -m clocksvc}: as C{SystemExit} when it fails at once (as
        TCP, TLS and UNIX endpoints do, before C{twist} runs the reactor),
        and otherwise by stopping the reactor and exiting after its shutdown.
        """
        if self._listening or self.shutdown is not None:
            return
        self._listening = True
        failed: list[Failure] = []
        listening = Deferred.fromCoroutine(self.listen())
        listening.addErrback(failed.append)
        if failed:
            raise SystemExit(self._cannotServe(failed[0]))

        def later(_: object) -> None:
            if failed:
                status = self._cannotServe(failed[0])
                self._reactor.addSystemEventTrigger(
                    "after", "shutdown", self._exit, status
                )
                self._reactor.stop()

        listening.addCallback(later)

    def _cannotServe(self, failure: Failure) -> int:
        """
        Say why clocksvc cannot serve.

        @return: the exit status: 2 for an endpoint it cannot listen on.
        """
        if failure.check(Problem):
            say(self._stderr, f"clocksvc: {failure.value}")
            return 2
        _log.failure("clocksvc cannot serve", failure)
        return 1

    def stopService(self) -> Deferred[None]:
        """
        Drain, then stop the rest (the log's writer last); the Roughtime
        server, which has nothing to drain, stops first.
        """
        if self.roughtime is not None:
            self.roughtime.stop()
        draining: Deferred[None] = (
            Deferred.fromCoroutine(_noDrain())
            if self.shutdown is None
            else self.shutdown.drainNow()
        )
        draining.addCallback(
            lambda _: maybeDeferred(service.MultiService.stopService, self)
        )
        return draining.addCallback(lambda _: None)

    def requested(self) -> None:
        """
        A signal asked to stop: the first one stops gracefully, a second one
        forces it (L{GracefulShutdown.requested}).
        """
        if self.shutdown is not None:
            self.shutdown.requested()

    def force(self) -> None:
        """
        Drop every connection now.
        """
        if self.shutdown is not None:
            self.shutdown.force()


def _sayStarting(
    zone: str, origin: str, database: ZoneDatabase, geoip: GeoIP | None
) -> None:
    """
    Say in the service log what the server answers with: its zone and why
    (L{serverZoneName}), whether its compiled core runs, the zone database
    and the others found, and whether C{/api/ip} is on.
    """
    zoneDetails = {"zone": zone, "origin": origin}
    if origin == "fallback":
        serviceLog.warn(
            "time zone {zone}: the local zone has no name clocksvc knows "
            "(TZ or /etc/localtime); give one with --timezone",
            event="timezone",
            zone=zone,
            details=zoneDetails,
        )
    else:
        serviceLog.info(
            "time zone {zone} ({why})",
            event="timezone",
            zone=zone,
            why="--timezone" if origin == "given" else "the local zone",
            details=zoneDetails,
        )
    serviceLog.info(
        "{core} core",
        event="core",
        core="compiled" if CORE == "compiled" else "pure Python",
        details={"core": CORE},
    )
    others = [found for found in zoneDatabases() if found != database]
    serviceLog.info(
        "zone database: {chosen}{others}",
        event="tzdata",
        chosen=database.describe(),
        others="".join(f"; also found {other.describe()}" for other in others),
        details={"source": database.source, "version": database.version},
    )
    if geoip is None:
        serviceLog.info(
            "/api/ip is off (501): no --geoip-db",
            event="geoip",
            details={"geoip_db": None},
        )
    else:
        serviceLog.info(
            "/api/ip: zones from {path}",
            event="geoip",
            path=geoip.path,
            details={"geoip_db": geoip.path},
        )


async def _noDrain() -> None:
    # Nothing ever listened: nothing to drain.
    return None


async def _stopListening(started: list[Listening]) -> None:
    """
    Stop the listeners of a start that failed part way.
    """
    for _, port, _ in started:
        await maybeDeferred(port.stopListening)
