# -*- test-case-name: tests.test_roughtime_server -*-
"""
A token bucket per client address, in a table of bounded size: requests
beyond an address's rate are not answered. The table forgets the address
heard from least recently when it is full, so that its memory is bounded
whatever addresses arrive (spoofed ones included): an address flooding from
many forgotten ones is then not limited, but each request still costs a
bounded share of a batch, and no reply is larger than its request.
"""

from __future__ import annotations

from collections import OrderedDict

from twisted.internet.interfaces import IReactorTime

__all__ = ["RateLimit"]


class RateLimit:
    """
    Requests allowed by address: C{burst} at once, then C{rate} a second.
    """

    def __init__(
        self,
        timers: IReactorTime,
        rate: float = 5.0,
        burst: float = 20.0,
        addresses: int = 16384,
    ) -> None:
        """
        @param timers: the (monotonic) clock that refills the buckets.
        @param rate: requests a second an address may keep sending.
        @param burst: requests an address may send at once.
        @param addresses: how many addresses the table holds.
        """
        self._timers = timers
        self._rate = rate
        self._burst = burst
        self._addresses = addresses
        # address -> (tokens, when they were counted)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, address: str) -> bool:
        """
        @return: whether a request from C{address} may be answered now; if
            so, it is counted.
        """
        now = self._timers.seconds()
        tokens, then = self._buckets.pop(address, (self._burst, now))
        tokens = min(self._burst, tokens + (now - then) * self._rate)
        allowed = tokens >= 1
        self._buckets[address] = (tokens - 1 if allowed else tokens, now)
        if len(self._buckets) > self._addresses:
            self._buckets.popitem(last=False)
        return allowed

    def __len__(self) -> int:
        return len(self._buckets)
