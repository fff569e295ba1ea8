# -*- test-case-name: tests.test_ntpserver,tests.test_ntpclients -*-
"""
L{listenNTP}: clocksvc's SNTP server on a UDP port of the caller's reactor,
sharing a site's clock state, leap seconds and metrics, as L{listen
<clocksvc._web.listen>} serves HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import cast

from twisted.internet.interfaces import IListeningPort, IReactorTime, IReactorUDP

from .._clock import WallClock, defaultReactor
from .._http import ClockSite
from .._ntp import Policy, RateLimit, SNTPServer, listenBatched, precisionOf
from ._renamed import clockRenamed, wallClockOf
from ._site import buildSite, metricsOf, partsOf
from ._sntp import NTP_SAMPLE_SECONDS, NTPAccessLog, NTPStatus

__all__ = ["listenNTP", "ntpStatusOf"]

# The most of a datagram read: a request is 48 bytes, and a longer one
# (extension fields, a MAC) is answered from its first 48 all the same, so
# a larger one is read cut to this, which costs each read less to allocate
# than Twisted's default of 8 KiB.
_MAX_DATAGRAM = 1024


def ntpStatusOf(site: ClockSite) -> NTPStatus:
    """
    @param site: a site that L{buildSite<clocksvc._web.buildSite>} built.
    @return: its SNTP status.
    @raise ValueError: if L{buildSite<clocksvc._web.buildSite>} did not
        build it.
    """
    ntp = partsOf(site).ntp
    if ntp is None:  # pragma: no cover (buildSite always makes one)
        raise ValueError("the site has no SNTP status")
    return ntp


@clockRenamed
def listenNTP(
    port: int = 123,
    interface: str = "",
    *,
    reactor: IReactorUDP | None = None,
    wallClock: IReactorTime | None = None,
    site: ClockSite | None = None,
    stratum: int = 2,
    localStratum: int | None = None,
    rateLimit: RateLimit | None = None,
    accessLog: bool | Callable[[str], None] = False,
    sampleSeconds: float = NTP_SAMPLE_SECONDS,
    clock: IReactorTime | None = None,
) -> IListeningPort:
    """
    Serve SNTP on a UDP port, as L{listen<clocksvc.listen>} serves HTTP:
    return the port; the caller owns the reactor.

    @param port: the UDP port: 123 is NTP's, which needs
        C{CAP_NET_BIND_SERVICE}; C{0} lets the system pick one.
    @param interface: the address to listen on; C{""} means all IPv4
        interfaces, C{"::"} all IPv6 (and, where the system allows, IPv4)
        ones.
    @param reactor: the reactor to listen with; by default the global one.
    @param wallClock: the wall clock that dates replies; by default the
        system's, or C{site}'s.
    @param site: a clocksvc site (L{listen<clocksvc.listen>}'s port's
        C{factory}, or L{buildSite<clocksvc._web.buildSite>}'s) whose clock
        state, leap seconds, metrics and timers the server shares; by
        default a site of its own, which listens nowhere.
    @param stratum: the stratum while the clock is synchronized.
    @param localStratum: serve with this stratum while the clock is not
        synchronized; by default say unsynchronized then.
    @param rateLimit: how fast one address may ask.
    @param accessLog: whether to log a sampled datagram every
        C{sampleSeconds}: C{True} as an event, or a callable to write each
        line to.
    @param sampleSeconds: the seconds between two sampled lines.
    @param clock: deprecated since clocksvc 0.2.0: C{wallClock}.
    @return: the listening port.
    @raise ValueError: if a stratum is not from 1 to 15, or C{site}'s
        servers serve with another policy.
    @raise twisted.internet.error.CannotListenError: if the port cannot be
        bound: in use, or 123 without the capability.
    """
    # The global reactor provides IReactorUDP, as every reactor does.
    udp = cast(IReactorUDP, defaultReactor()) if reactor is None else reactor
    wallClock = wallClockOf(wallClock, clock)
    if site is None:
        timers = IReactorTime(udp)
        site = buildSite(
            WallClock(timers) if wallClock is None else wallClock,
            timers=timers,
            adminResources=True,
        )
    parts = partsOf(site)
    ntp = ntpStatusOf(site)
    if wallClock is None:
        wallClock = parts.wallClock
    policy = Policy(
        stratum,
        localStratum,
        precisionOf(time.get_clock_info("time").resolution, wallClock.seconds()),
    )
    ntp.configure(policy)
    metrics = metricsOf(site)
    server = SNTPServer(
        ntp.header,
        wallClock,
        parts.timers,
        rateLimit,
        None if metrics is None else metrics.ntp,
        NTPAccessLog(None if accessLog is True else accessLog) if accessLog else None,
        sampleSeconds,
    )
    listening = listenBatched(udp, port, server, interface, _MAX_DATAGRAM)
    ntp.add(server, listening)
    return listening
