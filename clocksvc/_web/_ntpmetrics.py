# -*- test-case-name: tests.test_ntpserver -*-
"""
The SNTP server's counters in C{/metrics}: what became of each datagram, and
how long replies took from their receive timestamp to their transmit one.

The servers count in plain numbers (L{Counters}), which are made into
Prometheus's families only when C{/metrics} is read: a C{prometheus_client}
counter takes a lock for each increment, which would cost a reply a tenth
of its time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import accumulate

from prometheus_client.core import (
    CounterMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString

from .._ntp import DROP_REASONS, LATENCY_BUCKETS, Counters

__all__ = ["NTPCollector"]


class NTPCollector:
    """
    Exposes the SNTP servers' L{Counters} as C{clocksvc_ntp_*}.
    """

    def __init__(self, counters: Counters) -> None:
        """
        @param counters: where the servers count.
        """
        self._counters = counters

    def collect(self) -> Iterator[Metric]:
        """
        @return: the families, as C{prometheus_client}'s own would expose
            them.
        """
        outcomes = self._counters.outcomes
        yield CounterMetricFamily(
            "clocksvc_ntp_requests",
            "SNTP datagrams received, whatever became of them.",
            value=self._counters.requests,
        )
        yield CounterMetricFamily(
            "clocksvc_ntp_replies",
            "SNTP requests answered with the time (mode 4).",
            value=outcomes["reply"],
        )
        yield CounterMetricFamily(
            "clocksvc_ntp_kod",
            "SNTP requests answered with a RATE kiss-o'-death: the first from "
            "an address over its rate limit.",
            value=outcomes["kiss"],
        )
        dropped = CounterMetricFamily(
            "clocksvc_ntp_dropped",
            "SNTP datagrams not answered, by reason: short (under 48 bytes), "
            "malformed, version (not 1 to 4), mode (not a client's), control "
            "(modes 6 and 7), rate (over the rate limit, after its kiss), "
            "unsent (the socket would not take the reply).",
            labels=["reason"],
        )
        for reason in (*DROP_REASONS, "unsent"):
            dropped.add_metric([reason], outcomes[reason])
        yield dropped
        latency = HistogramMetricFamily(
            "clocksvc_ntp_reply_seconds",
            "The time from an SNTP reply's receive timestamp to its transmit "
            "timestamp.",
        )
        counters = self._counters
        cumulative = list(accumulate(counters.latency))
        latency.add_metric(
            [],
            [
                (floatToGoString(bound), float(count))
                for bound, count in zip((*LATENCY_BUCKETS, math.inf), cumulative)
            ],
            counters.latencySum,
        )
        yield latency
