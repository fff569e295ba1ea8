"""
clocksvc's HTTP layer: the HTTP/1.1 server that Twisted Web's resources are
served through, within L{Limits}.

It knows HTTP, and nothing of the time service above it: what it needs from
above (quick answers for plain requests, reporters for each request) is
handed to L{ClockSite} when the site is built. It imports only Twisted and
the standard library.
"""

from ._channel import ClockChannel, QuickResponse
from ._forwarded import (
    FORWARDED,
    X_FORWARDED_FOR,
    Forwarding,
    HiddenAddress,
    Resolution,
    TrustedProxies,
)
from ._grammar import (
    QUICK_BODY_SIZE,
    SERVER_HEADER,
    QuickHead,
    frameChunk,
    httpDate,
    isToken,
    parseQuickHead,
    rawResponse,
    responseHead,
)
from ._limits import Limits, defaultMaxConnections
from ._proxyprotocol import REASONS as PROXY_REFUSALS
from ._proxyprotocol import (
    ProxyProtocolEndpoint,
    listeningFactory,
    proxyProtocolFactory,
)
from ._request import ClockRequest, IEventChannel
from ._site import ClockSite, Finished, IReporter, QuickAnswer

__all__ = [
    "FORWARDED",
    "PROXY_REFUSALS",
    "QUICK_BODY_SIZE",
    "SERVER_HEADER",
    "X_FORWARDED_FOR",
    "ClockChannel",
    "ClockRequest",
    "ClockSite",
    "Finished",
    "Forwarding",
    "HiddenAddress",
    "IEventChannel",
    "IReporter",
    "Limits",
    "ProxyProtocolEndpoint",
    "QuickAnswer",
    "QuickHead",
    "QuickResponse",
    "Resolution",
    "TrustedProxies",
    "defaultMaxConnections",
    "frameChunk",
    "httpDate",
    "isToken",
    "listeningFactory",
    "parseQuickHead",
    "proxyProtocolFactory",
    "rawResponse",
    "responseHead",
]
