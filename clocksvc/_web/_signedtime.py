# -*- test-case-name: tests.test_roughtime_web -*-
"""
The web side of the Roughtime server (L{clocksvc._roughtime}): its server
list at C{/roughtime.json}, its delegation in C{/healthz}, and its counts
in C{/metrics}.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, cast

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from twisted.web.http import NOT_IMPLEMENTED
from twisted.web.iweb import IRequest

from .._roughtime import SERVER_LIST_TYPE, serverList
from ._answer import Answer, Ask
from ._openapi import Fragment
from ._resource import JSON_FIELDS, MethodResource, jsonBody

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from .._roughtime import Responder, RoughtimeStats

__all__ = [
    "RoughtimeService",
    "ServerList",
    "delegationJSON",
    "reportRoughtime",
    "roughtimeOpenAPI",
]

#: The error of C{/roughtime.json} on a server without
#: C{--roughtime-listen}, with 501, as C{/api/ip} answers without its
#: database: this server is not set up to answer it.
NO_ROUGHTIME = "Roughtime is off: no --roughtime-listen"

# A host as Host carries it: a name or IPv4 address, or an IPv6 one in
# brackets; with the port after it, which the Roughtime port replaces.
_HOST = re.compile(rb"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d+)?")


@dataclass(frozen=True)
class RoughtimeService:
    """
    The Roughtime server, as the web layer shows it.

    @ivar responder: its batches, key and delegation.
    @ivar published: each port it listens on, as (protocol, C{host:port}
        or L{None} for every interface, port); filled as they listen.
    """

    responder: Responder
    published: Sequence[tuple[str, str | None, int]]


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def delegationJSON(service: RoughtimeService) -> dict[str, object]:
    """
    @return: C{/healthz}'s C{roughtime} object: the public key, and the
        online key's window (MINT, MAXT) in seconds and in ISO 8601.
    """
    current = service.responder.delegation()
    return {
        "public_key": base64.b64encode(service.responder.publicKey).decode("ascii"),
        "mint": current.minTime,
        "maxt": current.maxTime,
        "mint_iso": _iso(current.minTime),
        "maxt_iso": _iso(current.maxTime),
    }


class ServerList(MethodResource):
    """
    C{/roughtime.json}: this server in RFC 10049's server list format
    (section 7.3). An address that listens on every interface is published
    with the host the client asked for this page by.
    """

    isLeaf = True

    def __init__(
        self, service: RoughtimeService | None, name: str = "clocksvc"
    ) -> None:
        """
        @param service: the Roughtime server; L{None} answers 501.
        @param name: the server's name in the list.
        """
        super().__init__()
        self._service = service
        self._name = name

    def answerAllowed(self, ask: Ask) -> Answer | None:
        if self._service is None:
            return Answer(
                NOT_IMPLEMENTED, JSON_FIELDS, jsonBody({"error": NO_ROUGHTIME})
            )
        # The addresses follow Host, which an Ask does not carry: the
        # general path renders the list.
        return None

    def render_GET(self, request: IRequest) -> bytes:
        # Only with a service (answerAllowed answers without one).
        service = cast("RoughtimeService", self._service)
        host = _requestHost(request)
        addresses = [
            (protocol, address or f"{host}:{port}")
            for protocol, address, port in service.published
        ]
        body = serverList(self._name, service.responder.publicKey, addresses)
        request.setHeader(b"content-type", SERVER_LIST_TYPE.encode("ascii"))
        # The addresses follow Host when the server listens everywhere.
        request.setHeader(b"vary", b"Host")
        return json.dumps(body, separators=(",", ":")).encode()


def _requestHost(request: IRequest) -> str:
    """
    @return: the host C{request} was sent to, from its C{Host} if that is a
        plain host, or else the address it arrived on.
    """
    header = request.getHeader(b"host")
    raw = header if isinstance(header, bytes) else (header or "").encode()
    match = _HOST.fullmatch(raw)
    if match is not None:
        return match[1].decode("ascii")
    local = request.getHost()
    host = str(getattr(local, "host", "localhost"))
    return f"[{host}]" if ":" in host else host


def reportRoughtime(registry: CollectorRegistry, stats: RoughtimeStats) -> None:
    """
    Export the Roughtime server's counts in C{registry}, as
    C{clocksvc_roughtime_*}, read as C{/metrics} is.
    """
    registry.register(_RoughtimeCollector(stats))


class _RoughtimeCollector:
    """
    The Roughtime counts, made into Prometheus's metrics when they are read.
    """

    def __init__(self, stats: RoughtimeStats) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        stats = self._stats
        requests = CounterMetricFamily(
            "clocksvc_roughtime_requests",
            "Roughtime requests received, by transport.",
            labels=["transport"],
        )
        for transport, count in stats.requests.items():
            requests.add_metric([transport], count)
        yield requests
        yield CounterMetricFamily(
            "clocksvc_roughtime_replies",
            "Signed Roughtime replies sent.",
            value=stats.replies,
        )
        dropped = CounterMetricFamily(
            "clocksvc_roughtime_dropped",
            "Roughtime requests not answered, by reason (short, oversized, "
            "malformed, version, nonce, type, srv, rate, unsynchronized, "
            "too_large).",
            labels=["reason"],
        )
        for reason, count in stats.dropped.items():
            dropped.add_metric([reason], count)
        yield dropped
        batches = HistogramMetricFamily(
            "clocksvc_roughtime_batch_size",
            "Requests in each signed Roughtime batch.",
        )
        cumulative = 0
        buckets = []
        for bound, count in stats.batches.items():
            cumulative += count
            buckets.append((str(float(bound)), float(cumulative)))
        buckets.append(("+Inf", float(cumulative)))
        batches.add_metric([], buckets, float(stats.batchRequests))
        yield batches
        yield CounterMetricFamily(
            "clocksvc_roughtime_delegations",
            "Online keys delegated by the long-term key.",
            value=stats.delegations,
        )


def roughtimeOpenAPI() -> tuple[dict[str, Any], dict[str, Any]]:
    """
    @return: C{/roughtime.json}'s path item in C{/openapi.json}, and the
        schemas it and C{/healthz}'s C{roughtime} object use.
    """
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    summary = (
        "This server's Roughtime server (RFC 10049), in the RFC's server "
        "list format, for clients to learn its key and addresses"
    )
    get = {
        "summary": summary,
        "responses": {
            "200": {
                "description": "A server list of this one server",
                "content": {
                    SERVER_LIST_TYPE: {
                        "schema": {"$ref": "#/components/schemas/RoughtimeServerList"}
                    }
                },
            },
            "501": {
                "description": "The server serves no Roughtime (no --roughtime-listen)",
                "content": error,
            },
        },
    }
    head = dict(get, summary=summary + " (headers only)")
    address = {
        "type": "object",
        "additionalProperties": False,
        "required": ["protocol", "address"],
        "properties": {
            "protocol": {"enum": ["udp", "tcp"]},
            "address": {"type": "string", "example": "time.example.com:2002"},
        },
    }
    server = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "version", "publicKeyType", "publicKey", "addresses"],
        "properties": {
            "name": {"type": "string"},
            "version": {"type": "integer", "const": 1},
            "publicKeyType": {"const": "ed25519"},
            "publicKey": {"type": "string", "contentEncoding": "base64"},
            "addresses": {"type": "array", "items": address},
        },
    }
    schemas = {
        "RoughtimeServerList": {
            "type": "object",
            "additionalProperties": False,
            "required": ["servers"],
            "properties": {"servers": {"type": "array", "items": server}},
        },
        "RoughtimeDelegation": {
            "type": "object",
            "description": "The Roughtime server's long-term public key, and "
            "the window (MINT to MAXT) its online key may sign, in seconds "
            "since the epoch and in ISO 8601",
            "additionalProperties": False,
            "required": ["public_key", "mint", "maxt", "mint_iso", "maxt_iso"],
            "properties": {
                "public_key": {"type": "string", "contentEncoding": "base64"},
                "mint": {"type": "integer", "minimum": 0},
                "maxt": {"type": "integer", "minimum": 0},
                "mint_iso": {"type": "string", "format": "date-time"},
                "maxt_iso": {"type": "string", "format": "date-time"},
            },
        },
    }
    return {"get": get, "head": head}, schemas


def roughtimeFragment() -> Fragment:
    """
    @return: the description of C{/roughtime.json} (L{ServerList}), with the
        schemas it and C{/healthz}'s C{roughtime} object use.
    """
    path, schemas = roughtimeOpenAPI()
    return Fragment({"/roughtime.json": path}, schemas)
