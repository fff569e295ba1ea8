"""
clocksvc's SNTP server: the NTP packet (RFC 5905, and its section 14 for
SNTP), a rate limit for each client address, and the Twisted datagram
protocol that answers clients.

It is a layer of its own, beside the HTTP layer: it imports nothing of
clocksvc. What it needs is handed to it by the web layer, which assembles
it with the same clock state as the HTTP answers.
"""

from ._batched import BATCH, BatchedPort, batchedAvailable, listenBatched
from ._packet import (
    DROP_REASONS,
    HEADER_LENGTH,
    KISS_RATE,
    LEAP_DELETE,
    LEAP_INSERT,
    LEAP_NONE,
    LEAP_UNSYNCHRONIZED,
    NTP_EPOCH_OFFSET,
    Header,
    Request,
    fromShort,
    fromTimestamp,
    precisionOf,
    readRequest,
    toShort,
    toTimestamp,
)
from ._ratelimit import RateLimit, RateLimiter
from ._server import (
    LATENCY_BUCKETS,
    LOCAL_REFERENCE_ID,
    OUTCOMES,
    Counters,
    Policy,
    Sample,
    SNTPServer,
)

__all__ = [
    "BATCH",
    "DROP_REASONS",
    "HEADER_LENGTH",
    "KISS_RATE",
    "LATENCY_BUCKETS",
    "LEAP_DELETE",
    "LEAP_INSERT",
    "LEAP_NONE",
    "LEAP_UNSYNCHRONIZED",
    "LOCAL_REFERENCE_ID",
    "NTP_EPOCH_OFFSET",
    "OUTCOMES",
    "BatchedPort",
    "Counters",
    "Header",
    "Policy",
    "RateLimit",
    "RateLimiter",
    "Request",
    "SNTPServer",
    "Sample",
    "batchedAvailable",
    "fromShort",
    "fromTimestamp",
    "listenBatched",
    "precisionOf",
    "readRequest",
    "toShort",
    "toTimestamp",
]
