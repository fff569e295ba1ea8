# -*- test-case-name: tests.test_metrics -*-
"""
C{/metrics}: Prometheus metrics of one site, with C{prometheus_client}.

Each site has a registry of its own, rather than the process-wide default,
so that two servers in one application (or in one test run) count apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from twisted.web.iweb import IRequest
from zope.interface import implementer

from .._http import Finished, IReporter
from .._time import tzdataVersion
from ._clockhealth import ClockHealth, ClockState, StepWatch
from ._resource import MethodResource

__all__ = ["MetricsPage", "SiteMetrics"]

# Time answers take well under a millisecond; the buckets resolve that, and
# still show a reactor that is falling behind.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5)


@implementer(IReporter)
class SiteMetrics:
    """
    The metrics of one site: requests by endpoint and status, their latency,
    refused requests, open connections, stream clients, and the zone data.

    @ivar registry: the registry that C{/metrics} exposes.
    """

    wantsDetails = False

    def __init__(self, endpoints: Mapping[bytes, str]) -> None:
        """
        @param endpoints: the label of each endpoint, by the first segment of
            its path, or by a pattern of deeper paths (as
            L{Route.deeper<clocksvc._web._routes.Route>} has them); every
            other path counts as C{other}, so that no client can make the
            label set grow.
        """
        self._endpoints = dict(endpoints)
        # The labels of deeper paths (keys with a slash), by first segment:
        # a path matches if it starts with head and ends with tail; or, for
        # a key without a star (tail None), if it is head or below it.
        self._deeper: dict[bytes, list[tuple[bytes, bytes | None, str]]] = {}
        for key, label in endpoints.items():
            if b"/" in key:
                head, star, tail = key.partition(b"*")
                first = key.split(b"/", 1)[0]
                entry = (head, tail if star else None, label)
                self._deeper.setdefault(first, []).append(entry)
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "clocksvc_requests",
            "Requests answered, by endpoint and status code.",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "clocksvc_request_duration_seconds",
            "Time from a request's arrival to the end of its answer.",
            ["endpoint"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.refused = Counter(
            "clocksvc_refused_requests",
            "Requests refused before they reached an endpoint, by status code "
            "(400, 408, 413, 414, 431, 501, 503).",
            ["status"],
            registry=self.registry,
        )
        self.connections = Gauge(
            "clocksvc_open_connections",
            "Connections open now.",
            registry=self.registry,
        )
        self.streamClients = Gauge(
            "clocksvc_stream_clients",
            "Clients of /stream now.",
            registry=self.registry,
        )
        self.forwardedInvalid = Counter(
            "clocksvc_forwarded_invalid",
            "Requests from a trusted proxy whose Forwarded, X-Forwarded-For or "
            "X-Forwarded-Proto could not be read; the proxy's own address was "
            "used.",
            registry=self.registry,
        )
        self._children: dict[tuple[str, int], tuple[Counter, Histogram]] = {}
        source, version = tzdataVersion()
        Gauge(
            "clocksvc_tzdata_info",
            "The zone database in use: the system's or the tzdata package's.",
            ["source", "version"],
            registry=self.registry,
        ).labels(source, version).set(1)

    def reportClock(self, health: ClockHealth, watch: StepWatch) -> None:
        """
        Report the server clock's state and steps, as C{clocksvc_clock_*}.

        @param health: the clock's state, read as C{/metrics} is.
        @param watch: tells of each step of the wall clock.
        """

        def reading(
            value: Callable[[ClockState], float | bool | None],
        ) -> Callable[[], float]:
            def read() -> float:
                got = value(health.state())
                # Unknown is NaN: Prometheus's way to say "no value".
                return math.nan if got is None else float(got)

            return read

        Gauge(
            "clocksvc_clock_synchronized",
            "1 if the kernel says a time source keeps the server's clock "
            "synchronized, 0 if not; NaN where it cannot tell.",
            registry=self.registry,
        ).set_function(reading(lambda state: state.synchronized))
        Gauge(
            "clocksvc_clock_max_error_seconds",
            "The kernel's bound on the server clock's error.",
            registry=self.registry,
        ).set_function(reading(lambda state: _seconds(state.maxErrorMs)))
        Gauge(
            "clocksvc_clock_estimated_error_seconds",
            "The kernel's estimate of the server clock's error.",
            registry=self.registry,
        ).set_function(reading(lambda state: _seconds(state.estErrorMs)))
        steps = Counter(
            "clocksvc_clock_steps",
            "Steps of the wall clock (by more than 0.25 s) that were found.",
            registry=self.registry,
        )
        watch.listen(lambda step: steps.inc())

    def endpointOf(self, target: bytes) -> str:
        """
        @param target: a request's target.
        @return: the endpoint it belongs to, for a metric's label.
        """
        path = target.split(b"?", 1)[0].lstrip(b"/")
        first = path.split(b"/", 1)[0]
        for head, tail, label in self._deeper.get(first, ()):
            if tail is None:
                if path == head or path.startswith(head + b"/"):
                    return label
            elif (
                path.startswith(head)
                and path.endswith(tail)
                and len(path) >= len(head) + len(tail)
            ):
                return label
        return self._endpoints.get(first, "other")

    def requestFinished(self, finished: Finished) -> None:
        self.requestDone(finished.target, finished.status, finished.seconds)

    def requestRefused(self, status: int) -> None:
        self.refused.labels(str(status)).inc()

    def requestDone(self, target: bytes, status: int, seconds: float) -> None:
        """
        Count a finished request.

        @param target: its request target.
        @param status: the status code it was answered with.
        @param seconds: how long it took.
        """
        key = (self.endpointOf(target), status)
        children = self._children.get(key)
        if children is None:
            # labels() hashes and validates its arguments on every call; the
            # set of endpoints and codes is small and fixed, so look each
            # pair up once.
            endpoint = key[0]
            children = self._children[key] = (
                self.requests.labels(endpoint, str(status)),
                self.latency.labels(endpoint),
            )
        children[0].inc()
        children[1].observe(seconds)


def _seconds(milliseconds: float | None) -> float | None:
    return None if milliseconds is None else milliseconds / 1000


class MetricsPage(MethodResource):
    """
    C{/metrics}, in the Prometheus text format.
    """

    isLeaf = True

    def __init__(self, metrics: SiteMetrics) -> None:
        super().__init__()
        self._metrics = metrics

    def render_GET(self, request: IRequest) -> bytes:
        request.setHeader(b"content-type", CONTENT_TYPE_LATEST.encode())
        request.setHeader(b"cache-control", b"no-store")
        return generate_latest(self._metrics.registry)
