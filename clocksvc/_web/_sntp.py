# -*- test-case-name: tests.test_ntpserver,tests.test_ntpclients -*-
"""
SNTP beside HTTP: the SNTP servers of a site, fed by the site's one
L{ClockHealth}, so that C{Clock-Status}, C{/stream}, C{/healthz} and every
SNTP reply say the same of the clock at the same instant.

L{NTPStatus} turns the clock's state, the leap-second list and the
operator's policy (C{--ntp-stratum}, C{--ntp-local-stratum}) into the
header of the replies (L{Policy.header<clocksvc._ntp.Policy.header>}
decides), at most once a second; the servers ask it for each request.
L{NTPAccessLog} writes the sampled lines of the access log.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IListeningPort, IReactorTime
from twisted.logger import Logger

from .._clock import ClockHealth
from .._ntp import (
    LEAP_DELETE,
    LEAP_INSERT,
    LEAP_NONE,
    LEAP_UNSYNCHRONIZED,
    Header,
    Policy,
    Sample,
    SNTPServer,
)
from .._time import LeapSecondList
from ._access import isoTime

__all__ = [
    "NTP_SAMPLE_SECONDS",
    "NTP_STATE_SCHEMA",
    "NTPAccessLog",
    "NTPStatus",
    "ntpLog",
]

#: The seconds between two sampled lines of an SNTP server in the access
#: log: a line stands for every datagram since the last one (its
#: C{sampled} count), so that a busy server writes one line in ten
#: seconds, not one a packet.
NTP_SAMPLE_SECONDS = 10.0

# The kernel's pending leap second, as a correction.
_KERNEL_LEAP = {"insert": 1, "delete": -1}

#: The events of the sampled lines, where the access log is events.
ntpLog = Logger(namespace="clocksvc.ntp")


#: C{/healthz}'s and C{/readyz}'s C{ntp}, in OpenAPI.
NTP_STATE_SCHEMA: dict[str, object] = {
    "description": "The SNTP servers (--ntp-listen): where they listen, "
    "whether they serve the time or say the clock is unsynchronized (leap "
    "indicator 3, stratum 0), with their stratum and leap indicator; absent "
    "without --ntp-listen",
    "type": "object",
    "additionalProperties": False,
    "required": ["listening", "serving", "stratum", "leap_indicator"],
    "properties": {
        "listening": {
            "type": "array",
            "items": {"type": "string", "example": "127.0.0.1:123"},
        },
        "serving": {"type": "boolean"},
        "stratum": {"type": "integer", "minimum": 0, "maximum": 15},
        "leap_indicator": {"enum": [0, 1, 2, 3]},
    },
}


class NTPStatus:
    """
    What the SNTP servers of one site say of the clock: the header of their
    replies, made from the site's clock state and leap-second list under
    one policy; and their listeners, for C{/healthz}.
    """

    #: How long one header serves, in seconds, while the clock's state is
    #: the same: the leap indicator can change at a month's start.
    INTERVAL = 1.0

    def __init__(
        self,
        wallClock: IReactorTime,
        timers: IReactorTime,
        health: ClockHealth,
        leapSeconds: LeapSecondList | None,
    ) -> None:
        """
        @param wallClock: the wall clock.
        @param timers: the monotonic clock, which times a header's age.
        @param health: the site's clock state.
        @param leapSeconds: the leap-second list, if there is one.
        """
        self._wallClock = wallClock
        self._timers = timers
        self._health = health
        self._leapSeconds = leapSeconds
        #: The policy, once a server is configured; L{None} before.
        self.policy: Policy | None = None
        self._servers: list[tuple[SNTPServer, IListeningPort]] = []
        self._made: tuple[object, float, Header] | None = None

    def configure(self, policy: Policy) -> None:
        """
        Serve with C{policy}: one for every server of the site.

        @raise ValueError: if the site's servers have another already.
        """
        if self.policy is not None and self.policy != policy:
            raise ValueError("the site's SNTP servers have another policy already")
        self.policy = policy

    def header(self) -> Header:
        """
        @return: the header of a reply now, made again when the clock's
            state changes, and at least once a second.
        """
        state = self._health.state()
        now = self._timers.seconds()
        made = self._made
        if made is not None and made[0] is state and 0 <= now - made[1] < self.INTERVAL:
            return made[2]
        policy = Policy() if self.policy is None else self.policy
        header = policy.header(
            state.synchronized,
            None if state.maxErrorMs is None else state.maxErrorMs / 1000,
            self._health.synchronizedAt,
            self._leap(state.leap),
        )
        self._made = (state, now, header)
        return header

    def _leap(self, kernel: str) -> int:
        """
        @param kernel: the leap second the kernel has pending (a time daemon
            tells it on the day).
        @return: the leap indicator: from the leap-second list through the
            month before a leap second; else from the kernel.
        """
        pending = (
            0
            if self._leapSeconds is None
            else self._leapSeconds.pending(self._wallClock.seconds())
        )
        if pending == 0:
            pending = _KERNEL_LEAP.get(kernel, 0)
        if pending > 0:
            return LEAP_INSERT
        return LEAP_DELETE if pending < 0 else LEAP_NONE

    def add(self, server: SNTPServer, port: IListeningPort) -> None:
        """
        Count C{server}, listening on C{port}, among the site's.
        """
        self._servers.append((server, port))

    def asJSON(self) -> dict[str, object] | None:
        """
        @return: C{/healthz}'s C{ntp} object: where the servers listen, and
            whether they serve the time (leap indicator other than 3) or say
            the clock is unsynchronized, with their stratum and leap
            indicator; L{None} for a site without SNTP.
        """
        if self.policy is None:
            return None
        header = self.header()
        return {
            "listening": [
                _describe(port) for server, port in self._servers if server.listening
            ],
            "serving": header.leap != LEAP_UNSYNCHRONIZED,
            "stratum": header.stratum,
            "leap_indicator": header.leap,
        }


def _describe(port: IListeningPort) -> str:
    address = port.getHost()
    if isinstance(address, IPv6Address):
        return f"[{address.host}]:{address.port}"
    if isinstance(address, IPv4Address):
        return f"{address.host}:{address.port}"
    return str(address)  # pragma: no cover (UDP is IPv4 or IPv6)


class NTPAccessLog:
    """
    Writes an SNTP server's sampled datagrams to the access log: one JSON
    line each, as C{{"time":...,"client":...,"protocol":"ntp","version":4,
    "outcome":"reply","stratum":2,"leap":0,"sampled":1234}}, where
    C{sampled} is how many datagrams the line stands for; or, without a
    writer, as events of the C{clocksvc.ntp} namespace.
    """

    def __init__(self, write: Callable[[str], None] | None = None) -> None:
        """
        @param write: takes each line, newline included: the access log's
            writer; if L{None}, each sample is an event instead.
        """
        self._write = write

    def __call__(self, sample: Sample) -> None:
        fields: dict[str, Any] = {
            "client": sample.client,
            "protocol": "ntp",
            "version": sample.version,
            "outcome": sample.outcome,
            "stratum": sample.stratum,
            "leap": sample.leap,
            "sampled": sample.count,
        }
        if self._write is None:
            ntpLog.info(
                "NTP {outcome} to {client} ({sampled} datagrams)",
                when=sample.when,
                **fields,
            )
            return
        line = {"time": isoTime(sample.when), **fields}
        self._write(json.dumps(line, separators=(",", ":")) + "\n")
