"""
Tests for L{clocksvc._ntp._ratelimit}: a token bucket for each client
address, in a table of bounded size.
"""

from __future__ import annotations

import platform

from twisted.trial.unittest import SynchronousTestCase

from clocksvc._ntp import RateLimit, RateLimiter
from clocksvc._ntp._ratelimit import ADMIT, DROP, KISS


class RateLimitTests(SynchronousTestCase):
    """
    L{RateLimit} is checked, and parsed as C{--ntp-rate-limit} writes it.
    """

    def test_parse(self) -> None:
        """
        C{RATE/BURST}.
        """
        self.assertEqual(RateLimit.parse("2/8"), RateLimit(2.0, 8.0))
        self.assertEqual(RateLimit.parse("0.5/1"), RateLimit(0.5, 1.0))

    def test_invalid(self) -> None:
        """
        Anything else is a ValueError naming the option.
        """
        for text in ("", "1", "0/8", "1/0.5", "a/b", "-1/8", "1/8/2"):
            with self.assertRaises(ValueError) as raised:
                RateLimit.parse(text)
            self.assertIn("--ntp-rate-limit", str(raised.exception))


class RateLimiterTests(SynchronousTestCase):
    """
    L{RateLimiter} lets an address ask C{burst} times at once, then C{rate}
    times a second; the first request over it is kissed, the next dropped.
    """

    def test_burstThenKissThenDrop(self) -> None:
        """
        Three at once of a burst of 3 are admitted; the fourth is kissed and
        the fifth and sixth dropped.
        """
        limiter = RateLimiter(RateLimit(1.0, 3.0))
        verdicts = [limiter.check("192.0.2.1", 0.0) for _ in range(6)]
        self.assertEqual(verdicts, [ADMIT, ADMIT, ADMIT, KISS, DROP, DROP])

    def test_refill(self) -> None:
        """
        At 2 a second, half a second earns one request; once one is
        admitted, the next time over the limit is kissed again.
        """
        limiter = RateLimiter(RateLimit(2.0, 1.0))
        self.assertEqual(limiter.check("a", 0.0), ADMIT)
        self.assertEqual(limiter.check("a", 0.1), KISS)
        self.assertEqual(limiter.check("a", 0.2), DROP)
        self.assertEqual(limiter.check("a", 0.5), ADMIT)
        self.assertEqual(limiter.check("a", 0.5), KISS)

    def test_burstCap(self) -> None:
        """
        A long silence earns no more than a burst.
        """
        limiter = RateLimiter(RateLimit(1.0, 2.0))
        limiter.check("a", 0.0)
        verdicts = [limiter.check("a", 1000.0) for _ in range(3)]
        self.assertEqual(verdicts, [ADMIT, ADMIT, KISS])

    def test_addressesApart(self) -> None:
        """
        One address over its limit leaves another's alone.
        """
        limiter = RateLimiter(RateLimit(1.0, 1.0))
        self.assertEqual(limiter.check("a", 0.0), ADMIT)
        self.assertEqual(limiter.check("a", 0.0), KISS)
        self.assertEqual(limiter.check("b", 0.0), ADMIT)

    def test_bounded(self) -> None:
        """
        The table keeps at most C{addresses}; the one heard from longest ago
        is forgotten first, and comes back with a full bucket.
        """
        limiter = RateLimiter(RateLimit(1.0, 1.0, addresses=2))
        limiter.check("a", 0.0)
        limiter.check("b", 0.0)
        # a is heard from again: b is now the oldest.
        self.assertEqual(limiter.check("a", 0.0), KISS)
        limiter.check("c", 0.0)
        self.assertEqual(len(limiter), 2)
        self.assertEqual(limiter.check("b", 0.0), ADMIT)
        self.assertEqual(limiter.check("a", 0.0), ADMIT)

    def test_memory(self) -> None:
        """
        A full table of the default 16,384 addresses (IPv6, the longest)
        takes under 5 MiB: the figure L{RateLimit} documents (~4 MiB).
        """
        if platform.python_implementation() == "PyPy":
            raise self.skipTest("PyPy has no tracemalloc to measure memory with")
        import tracemalloc

        limit = RateLimit()
        addresses = [f"2001:db8::{n:x}:{n:x}" for n in range(limit.addresses)]
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            limiter = RateLimiter(limit)
            for address in addresses:
                limiter.check(address, 0.0)
            used = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        self.assertEqual(len(limiter), limit.addresses)
        # The strings themselves are made before the count: what the table
        # costs is its entries, buckets and order; count the strings in too.
        used += sum(len(address) + 49 for address in addresses)
        self.assertLess(used, 5 * 1024 * 1024)
