# -*- test-case-name: tests.test_ntpratelimit -*-
"""
A rate limit for each client address: a token bucket per address, in a
table of bounded size, O(1) for each datagram.

An address may send C{burst} requests at once, then C{rate} a second on
average. The first request over its limit is answered with a C{RATE}
kiss-o'-death, which tells a well-behaved client to slow down; the next
ones are dropped, until the address is within its limit again.

The table keeps the addresses seen last: when it is full, the address
heard from longest ago is forgotten (it comes back with a full bucket). An
attacker who spoofs many addresses can so reset buckets, but gains nothing
from it: a reply is never larger than its request.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["ADMIT", "DROP", "KISS", "RateLimit", "RateLimiter"]

#: Answer the request.
ADMIT = 0
#: Answer with a C{RATE} kiss-o'-death.
KISS = 1
#: Drop it.
DROP = 2


@dataclass(frozen=True)
class RateLimit:
    """
    How fast one address may ask.

    @ivar rate: requests a second, on average, over a long time.
    @ivar burst: requests at once, after a quiet while.
    @ivar addresses: how many addresses the table keeps. At ~250 bytes an
        address (its string, the bucket and the table's entry; measured in
        tests.test_ntpratelimit), 16,384 addresses take about 4 MiB.
    """

    rate: float = 1.0
    burst: float = 16.0
    addresses: int = 16_384

    def __post_init__(self) -> None:
        if not (self.rate > 0 and self.burst >= 1 and self.addresses >= 1):
            raise ValueError("a rate limit needs rate > 0, burst >= 1, addresses >= 1")

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """
        @param text: C{RATE/BURST}, as C{--ntp-rate-limit} takes it: C{1/16}.
        @return: the limit.
        @raise ValueError: if C{text} is not that.
        """
        rate, slash, burst = text.partition("/")
        try:
            if not slash:
                raise ValueError
            return cls(float(rate), float(burst))
        except ValueError:
            raise ValueError(
                f"--ntp-rate-limit needs RATE/BURST, a rate above 0 and a burst "
                f"of at least 1, such as 1/16; not {text!r}"
            ) from None


class RateLimiter:
    """
    The buckets of the addresses heard from last.
    """

    def __init__(self, limit: RateLimit) -> None:
        """
        @param limit: how fast each address may ask.
        """
        self._rate = limit.rate
        self._burst = limit.burst
        self._size = limit.addresses
        # By address: [tokens, when they were counted, whether a kiss was
        # sent since the last request admitted]. In the order of the last
        # request, the oldest first.
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def check(self, address: str, now: float) -> int:
        """
        Count a request from C{address}.

        @param address: the client's address.
        @param now: the time, in seconds, on a clock that is never stepped.
        @return: L{ADMIT}, L{KISS} or L{DROP}.
        """
        buckets = self._buckets
        bucket = buckets.get(address)
        if bucket is None:
            if len(buckets) >= self._size:
                buckets.popitem(last=False)
            buckets[address] = [self._burst - 1.0, now, 0.0]
            return ADMIT
        buckets.move_to_end(address)
        tokens = bucket[0] + (now - bucket[1]) * self._rate
        if tokens > self._burst:
            tokens = self._burst
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            bucket[2] = 0.0
            return ADMIT
        bucket[0] = tokens
        if bucket[2]:
            return DROP
        bucket[2] = 1.0
        return KISS
