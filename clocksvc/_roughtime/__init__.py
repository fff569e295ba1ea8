# -*- test-case-name: tests.test_roughtime_wire,tests.test_roughtime_server -*-
"""
Roughtime (RFC 10049): signed time over UDP and TCP, beside the HTTP API.

This package is at the HTTP layer's floor: it imports nothing of clocksvc.
What it needs (the wall clock, the timers, the radius the clock's health
gives) is handed to it. Its signatures need C{cryptography}, imported only
when a key is made or used (L{cryptographyMissing}).
"""

from ._discovery import SERVER_LIST_TYPE, serverList
from ._radius import UNSYNCHRONIZED_RADIUS, radiusFor
from ._ratelimit import RateLimit
from ._server import (
    DROP_REASONS,
    Responder,
    RoughtimeStats,
    RoughtimeStreamFactory,
    RoughtimeUDP,
)
from ._signing import Delegation, cryptographyMissing, generateKey, publicKeyOf
from ._wire import DRAFT_VERSION, MIN_UDP_REQUEST, RFC_VERSION, SUPPORTED_VERSIONS

__all__ = [
    "DRAFT_VERSION",
    "DROP_REASONS",
    "MIN_UDP_REQUEST",
    "RFC_VERSION",
    "SERVER_LIST_TYPE",
    "SUPPORTED_VERSIONS",
    "UNSYNCHRONIZED_RADIUS",
    "Delegation",
    "RateLimit",
    "Responder",
    "RoughtimeStats",
    "RoughtimeStreamFactory",
    "RoughtimeUDP",
    "cryptographyMissing",
    "generateKey",
    "publicKeyOf",
    "radiusFor",
    "serverList",
]
