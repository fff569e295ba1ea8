# -*- test-case-name: tests.test_metrics -*-
"""
C{/metrics}: Prometheus metrics of one site, with C{prometheus_client}.

Each site has a registry of its own, rather than the process-wide default,
so that two servers in one application (or in one test run) count apart.
"""

from __future__ import annotations

import math
import platform
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import accumulate

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    ProcessCollector,
)
from prometheus_client.core import (
    CounterMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.utils import floatToGoString
from twisted.web.iweb import IRequest
from zope.interface import implementer

import twisted

from .. import _compiled, _version
from .._clock import ClockHealth, ClockState, StepWatch
from .._http import PROXY_REFUSALS, Finished, IReporter
from .._ntp import Counters
from .._time import zoneDatabase
from ._ntpmetrics import NTPCollector
from ._openapi import Fragment, operation
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

    def __init__(
        self,
        endpoints: Mapping[bytes, str],
        labellers: Mapping[bytes, Sequence[Callable[[bytes], str | None]]]
        | None = None,
    ) -> None:
        """
        @param endpoints: the label of each endpoint, by the first segment of
            its path, or by deeper paths: a route's own (C{b"api/ip"}) or a
            pattern of them (as L{Route.deeper<clocksvc._web._routes.Route>}
            has them), either of which wins over the first segment; every
            other path counts as C{other}, so that no client can make the
            label set grow.
        @param labellers: rules that give the label of a path (without its
            first slash), by the first segment of the paths they name
            (L{Route.labelOf<clocksvc._web._routes.Route>}), which win over
            the rest.
        """
        self._endpoints = dict(endpoints)
        self._labellers = dict(labellers or {})
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
        # Each path's label, as endpointOf found it: a client sends the
        # same few paths again and again, and the rules cost a micro-
        # second or two a request (timeapi.io's, then the deeper patterns).
        self._labelOfPath: dict[bytes, str] = {}
        self.registry = CollectorRegistry()
        self._requests = _Requests()
        self.registry.register(self._requests)
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
        self.proxyRefusals = Counter(
            "clocksvc_proxy_refused",
            "Connections to a haproxy: endpoint closed unanswered, by why their "
            "PROXY header was refused (signature, malformed, address, port, "
            "too_long, timeout).",
            ["reason"],
            registry=self.registry,
        )
        for reason in PROXY_REFUSALS:
            # At 0 from the start, so that a rate has a value before the first.
            self.proxyRefusals.labels(reason)
        #: What the site's SNTP servers count (--ntp-listen).
        self.ntp = Counters()
        self.registry.register(NTPCollector(self.ntp))
        # The standard process_* series (CPU, memory, open files, start
        # time), as every Prometheus client exports them; where /proc is
        # missing, the collector exports nothing.
        ProcessCollector(registry=self.registry)
        Gauge(
            "clocksvc_build_info",
            "What is running: clocksvc's version, whether its compiled core "
            "runs (compiled, or pure), and the Python and Twisted under it.",
            ["version", "core", "python", "implementation", "twisted"],
            registry=self.registry,
        ).labels(
            _version.__version__,
            _compiled.CORE,
            platform.python_version(),
            platform.python_implementation(),
            twisted.__version__,
        ).set(1)
        database = zoneDatabase()
        Gauge(
            "clocksvc_tzdata_info",
            "The zone database answers come from: the system's or the tzdata "
            "package's (--tzdata), with its tz release.",
            ["source", "version"],
            registry=self.registry,
        ).labels(database.source, database.version).set(1)

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
        path = target.split(b"?", 1)[0]
        label = self._labelOfPath.get(path)
        if label is None:
            label = self._labelOf(path.lstrip(b"/"))
            if len(path) <= _KEPT_PATH_BYTES:
                kept = self._labelOfPath
                if len(kept) >= _KEPT_PATHS:
                    # Emptied when full, as the quick path's ways are, so
                    # that clients sending ever new paths cost no more.
                    kept.clear()
                kept[path] = label
        return label

    def _labelOf(self, path: bytes) -> str:
        """
        @param path: a request's path, without its first slash and query.
        @return: its label, by the routes' rules.
        """
        first = path.split(b"/", 1)[0]
        for labelOf in self._labellers.get(first, ()):
            found = labelOf(path)
            if found is not None:
                return found
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

    def proxyRefused(self, reason: str) -> None:
        """
        Count a connection whose PROXY header was refused.

        @param reason: why, one of L{PROXY_REFUSALS<clocksvc._http.PROXY_REFUSALS>}.
        """
        self.proxyRefusals.labels(reason).inc()

    def requestDone(self, target: bytes, status: int, seconds: float) -> None:
        """
        Count a finished request.

        @param target: its request target.
        @param status: the status code it was answered with.
        @param seconds: how long it took.
        """
        self._requests.count(self.endpointOf(target), status, seconds)


#: How many paths' labels L{SiteMetrics.endpointOf} keeps, and the longest
#: path it keeps one for.
_KEPT_PATHS = 1024
_KEPT_PATH_BYTES = 256


class _Requests:
    """
    The requests answered, by endpoint and status, and their latency by
    endpoint: counted in plain numbers, as each request is answered, and
    made into Prometheus's counter and histogram only when C{/metrics} is
    read.

    A C{prometheus_client} counter and histogram take a lock for each of
    their four increments, to be safe across threads: 2 us a request,
    where a quick answer takes 15. Every request is counted in the
    reactor's thread, and C{/metrics} is read there too.
    """

    def __init__(self) -> None:
        # By endpoint and status, the count; by endpoint, the count in each
        # bucket (not cumulative; the last for +Inf) and the sum.
        self._counts: dict[tuple[str, int], int] = {}
        self._latency: dict[str, tuple[list[int], list[float]]] = {}

    def count(self, endpoint: str, status: int, seconds: float) -> None:
        """
        Count a request to C{endpoint}, answered with C{status} after
        C{seconds}.
        """
        key = (endpoint, status)
        self._counts[key] = self._counts.get(key, 0) + 1
        latency = self._latency.get(endpoint)
        if latency is None:
            latency = self._latency[endpoint] = ([0] * (len(_BUCKETS) + 1), [0.0])
        # A bucket holds the durations up to its bound, the bound included.
        latency[0][bisect_left(_BUCKETS, seconds)] += 1
        latency[1][0] += seconds

    def collect(self) -> Iterator[Metric]:
        """
        @return: the counter C{clocksvc_requests} and the histogram
            C{clocksvc_request_duration_seconds}, as C{prometheus_client}'s
            own would expose them.
        """
        requests = CounterMetricFamily(
            "clocksvc_requests",
            "Requests answered, by endpoint and status code.",
            labels=["endpoint", "status"],
        )
        for (endpoint, status), count in self._counts.items():
            requests.add_metric([endpoint, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "clocksvc_request_duration_seconds",
            "Time from a request's arrival to the end of its answer.",
            labels=["endpoint"],
        )
        for endpoint, (buckets, total) in self._latency.items():
            cumulative = list(accumulate(buckets))
            latency.add_metric(
                [endpoint],
                [
                    (floatToGoString(bound), float(count))
                    for bound, count in zip((*_BUCKETS, math.inf), cumulative)
                ],
                total[0],
            )
        yield latency


def _seconds(milliseconds: float | None) -> float | None:
    return None if milliseconds is None else milliseconds / 1000


class MetricsPage(MethodResource):
    """
    C{/metrics}: in the Prometheus text format, or in OpenMetrics for a
    scraper that asks for it in C{Accept}, as C{prometheus_client}'s own
    exporters choose.
    """

    isLeaf = True
    # The operator's: no page of another origin has business with it.
    crossOrigin = False

    def __init__(self, metrics: SiteMetrics) -> None:
        super().__init__()
        self._metrics = metrics

    def render_GET(self, request: IRequest) -> bytes:
        """
        The metrics as they are when the request is taken up, with what the
        HTTP layer counted of it then (a trusted proxy's fields that do not
        parse): so on the general path alone, which counts them before it
        renders, where the quick path counts them once it has answered. A
        scraper asks once in a while, and the answer takes milliseconds.
        """
        accept = request.getHeader(b"accept") or b""
        encoder, contentType = choose_encoder(accept.decode("latin-1"))
        request.setHeader(b"content-type", contentType.encode())
        request.setHeader(b"vary", b"Accept")
        request.setHeader(b"cache-control", b"no-store")
        return bytes(encoder(self._metrics.registry))


def metricsFragment() -> Fragment:
    """
    @return: the description of C{/metrics} (L{MetricsPage}).
    """
    return Fragment(
        {
            "/metrics": operation(
                "Prometheus metrics (moved to the admin listener by --admin-listen)",
                {
                    "200": {
                        "description": "The Prometheus text format, or "
                        "OpenMetrics to a scraper that asks for it in Accept",
                        "content": {
                            "text/plain": {"schema": {"type": "string"}},
                            "application/openmetrics-text": {
                                "schema": {"type": "string"}
                            },
                        },
                    }
                },
            )
        }
    )
