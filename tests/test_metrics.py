"""
Tests for L{clocksvc._web._metrics} and L{clocksvc._web._health}: C{/metrics} and
C{/healthz}, and the admin site that can hold them.
"""

from __future__ import annotations

import json
import platform

from twisted.trial.unittest import SynchronousTestCase

import clocksvc
import twisted
from clocksvc import _compiled
from clocksvc._time import leapSecondList, zoneDatabase
from clocksvc._web._metrics import SiteMetrics
from clocksvc._web._routes import metricLabellers, metricLabels
from clocksvc._web._site import buildAdminSite, buildSite

from ._helpers import (
    BILLENNIUM,
    SYNCHRONIZED,
    RawConnection,
    clockAt,
    stubTreq,
    synchronized,
)

URL = "http://clock.example"


class EndpointOfTests(SynchronousTestCase):
    """
    L{SiteMetrics.endpointOf} maps paths to a fixed set of labels, those of
    the route table.
    """

    def test_labels(self) -> None:
        """
        Known endpoints are named; anything else is "other", so clients
        cannot grow the label set.
        """
        for path, label in [
            (b"/", "/"),
            (b"/?iso", "/"),
            (b"/now?tz=UTC", "/now"),
            (b"/api/timezone/Europe/Berlin.txt", "/api/timezone"),
            (b"/api", "/api/timezone"),
            (b"/api/ip", "/api/ip"),
            (b"/api/ip.txt?x", "/api/ip"),
            (b"/api/ip/2001:db8::1.txt", "/api/ip"),
            (b"/api/ipx", "/api/timezone"),
            (b"/api/timezone/Europe/Berlin?at=0", "/api/timezone"),
            (b"/api/convert?from=UTC&to=UTC&time=x", "/api/convert"),
            (b"/api/convert/more", "/api/convert"),
            (b"/api/converter", "/api/timezone"),
            (b"/api/timezone/Europe/Berlin/transitions", "/api/timezone/transitions"),
            (
                b"/api/timezone/America/Argentina/Salta/transitions?from=0",
                "/api/timezone/transitions",
            ),
            (b"/api/timezone/transitions", "/api/timezone"),
            (b"/.well-known/time", "/.well-known/time"),
            (b"/wp-admin/setup.php", "other"),
            (b"/%00", "other"),
        ]:
            self.assertEqual(SiteMetrics(metricLabels()).endpointOf(path), label, path)

    def test_keptLabels(self) -> None:
        """
        One L{SiteMetrics} asked again and again, as a site's is, gives each
        path the same label whether it is asked first or again, with any
        query, and after thousands of other paths, however long: what it
        keeps of them is bounded, not what it answers.
        """
        metrics = SiteMetrics(metricLabels(), metricLabellers())
        cases = [
            (b"/api/timezone/Europe/Berlin", "/api/timezone"),
            (
                b"/api/timezone/Europe/Berlin/transitions?from=0",
                "/api/timezone/transitions",
            ),
            (b"/api/Time/current/zone?timeZone=UTC", "/api/Time/current/zone"),
            (b"/wp-admin/setup.php", "other"),
        ]
        for _ in range(2):
            for target, label in cases:
                self.assertEqual(metrics.endpointOf(target), label, target)
        for n in range(5000):
            self.assertEqual(metrics.endpointOf(b"/nowhere/%d" % n), "other")
        self.assertEqual(metrics.endpointOf(b"/now/" + b"x" * 300), "/now")
        for target, label in cases:
            self.assertEqual(metrics.endpointOf(target), label, target)


def tzdata() -> dict[str, str]:
    """
    @return: the zone database in use, as C{/healthz} says it.
    """
    database = zoneDatabase()
    return {"source": database.source, "version": database.version}


def leapSecondsState(now: float) -> dict[str, object]:
    """
    @return: C{/healthz}'s C{leap_seconds} at C{now}: the installed list's
        source and expiry, and whether it has expired.
    """
    found = leapSecondList()
    assert found is not None
    return {**found.describe(), "expired": found.expired(now)}


class HealthTests(SynchronousTestCase):
    """
    C{/healthz} says whether the server takes requests.
    """

    def test_serving(self) -> None:
        """
        While serving: 200 C{{"status": "ok"}} with the clock's state, and
        whether the compiled core runs, uncached.
        """
        site = buildSite(clockAt(BILLENNIUM), readClock=synchronized)
        response = self.successResultOf(stubTreq(site.resource).get(URL + "/healthz"))
        self.assertEqual(response.code, 200)
        self.assertEqual(
            json.loads(self.successResultOf(response.content())),
            {
                "status": "ok",
                "clock": SYNCHRONIZED.asJSON(),
                "tzdata": tzdata(),
                "core": _compiled.CORE,
                "leap_seconds": leapSecondsState(BILLENNIUM),
            },
        )
        self.assertEqual(
            response.headers.getRawHeaders(b"cache-control"), [b"no-store"]
        )

    def test_draining(self) -> None:
        """
        Once a drain begins: 503 C{{"status": "draining"}}, so that load
        balancers send traffic elsewhere.
        """
        site = buildSite(clockAt(BILLENNIUM), readClock=synchronized)
        site.drain()
        response = self.successResultOf(stubTreq(site.resource).get(URL + "/healthz"))
        self.assertEqual(response.code, 503)
        self.assertEqual(
            json.loads(self.successResultOf(response.content())),
            {
                "status": "draining",
                "clock": SYNCHRONIZED.asJSON(),
                "tzdata": tzdata(),
                "core": _compiled.CORE,
                "leap_seconds": leapSecondsState(BILLENNIUM),
            },
        )


class MetricsTests(SynchronousTestCase):
    """
    C{/metrics} counts requests, refusals, connections and stream clients.
    """

    def setUp(self) -> None:
        self.clock = clockAt(BILLENNIUM)
        self.site = buildSite(self.clock)

    def metrics(self) -> dict[str, float]:
        """
        @return: each sample of C{/metrics}, by its name and labels.
        """
        response = self.successResultOf(
            stubTreq(self.site.resource).get(URL + "/metrics")
        )
        self.assertEqual(
            response.headers.getRawHeaders(b"content-type"),
            # What prometheus_client's own exporters answer a scraper that
            # does not ask for more.
            [b"text/plain; version=0.0.4; charset=utf-8"],
        )
        text = self.successResultOf(response.content()).decode()
        samples = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                samples[name] = float(value)
        return samples

    def test_requests(self) -> None:
        """
        Requests are counted by endpoint and status, with their latency.
        """
        connection = RawConnection(self.site)
        connection.send(b"GET /now HTTP/1.1\r\nHost: x\r\n\r\n")
        connection.send(b"GET /now?tz=Nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
        connection.send(b"GET /no/such/thing HTTP/1.1\r\nHost: x\r\n\r\n")
        samples = self.metrics()
        self.assertEqual(
            samples['clocksvc_requests_total{endpoint="/now",status="200"}'], 1
        )
        self.assertEqual(
            samples['clocksvc_requests_total{endpoint="/now",status="404"}'], 1
        )
        self.assertEqual(
            samples['clocksvc_requests_total{endpoint="other",status="404"}'], 1
        )
        self.assertEqual(
            samples['clocksvc_request_duration_seconds_count{endpoint="/now"}'], 2
        )
        self.assertEqual(
            samples[
                'clocksvc_request_duration_seconds_bucket{endpoint="/now",le="0.0005"}'
            ],
            2,
        )

    def test_gauges(self) -> None:
        """
        Open connections and stream clients are read when scraped.
        """
        streaming = RawConnection(self.site)
        streaming.send(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        RawConnection(self.site)
        samples = self.metrics()
        self.assertEqual(samples["clocksvc_open_connections"], 2)
        self.assertEqual(samples["clocksvc_stream_clients"], 1)
        streaming.disconnect()
        samples = self.metrics()
        self.assertEqual(samples["clocksvc_open_connections"], 1)
        self.assertEqual(samples["clocksvc_stream_clients"], 0)

    def test_refused(self) -> None:
        """
        Requests refused on the connection are counted by status.
        """
        RawConnection(self.site).send(b"\x16\x03\x01\x02\x00\r\n\r\n")
        RawConnection(self.site).send(b"GET /" + b"a" * 9000)
        samples = self.metrics()
        self.assertEqual(samples['clocksvc_refused_requests_total{status="400"}'], 1)
        self.assertEqual(samples['clocksvc_refused_requests_total{status="414"}'], 1)

    def test_tzdata(self) -> None:
        """
        The zone database in use is named, with its version, as
        C{/healthz} names it.
        """
        database = zoneDatabase()
        source, version = database.source, database.version
        self.assertIn(source, {"system", "package"})
        self.assertRegex(version, r"^(\d{4}[a-z]+|unknown)$")
        samples = self.metrics()
        self.assertEqual(
            samples[f'clocksvc_tzdata_info{{source="{source}",version="{version}"}}'], 1
        )

    def test_process(self) -> None:
        """
        The standard process collector's series are there: CPU, memory,
        open files and start time, read from this process.
        """
        samples = self.metrics()
        for name in (
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_open_fds",
            "process_max_fds",
            "process_start_time_seconds",
        ):
            self.assertIn(name, samples)
        self.assertGreater(samples["process_resident_memory_bytes"], 1e6)
        self.assertGreater(samples["process_open_fds"], 0)

    def test_buildInfo(self) -> None:
        """
        C{clocksvc_build_info} names clocksvc's version, whether its
        compiled core runs, and the Python and Twisted it runs on.
        """
        samples = self.metrics()
        labels = (
            f'core="{_compiled.CORE}",'
            f'implementation="{platform.python_implementation()}",'
            f'python="{platform.python_version()}",'
            f'twisted="{twisted.__version__}",'
            f'version="{clocksvc.__version__}"'
        )
        self.assertEqual(samples[f"clocksvc_build_info{{{labels}}}"], 1)

    def test_openMetrics(self) -> None:
        """
        A scraper that asks for OpenMetrics gets it, ended by C{# EOF};
        one that does not gets the Prometheus text format; both are told
        that the answer varies with C{Accept}.
        """
        response = self.successResultOf(
            stubTreq(self.site.resource).get(
                URL + "/metrics",
                headers={
                    "Accept": "application/openmetrics-text; version=1.0.0,"
                    "text/plain;version=0.0.4;q=0.5"
                },
            )
        )
        self.assertEqual(
            response.headers.getRawHeaders(b"content-type"),
            [
                b"application/openmetrics-text; version=1.0.0; charset=utf-8; "
                b"escaping=underscores"
            ],
        )
        self.assertEqual(response.headers.getRawHeaders(b"vary"), [b"Accept"])
        text = self.successResultOf(response.content()).decode()
        self.assertTrue(text.endswith("# EOF\n"), text[-40:])
        self.assertIn("# TYPE clocksvc_requests counter\n", text)
        plain = self.successResultOf(stubTreq(self.site.resource).get(URL + "/metrics"))
        self.assertEqual(plain.headers.getRawHeaders(b"vary"), [b"Accept"])
        self.assertNotIn(b"# EOF", self.successResultOf(plain.content()))


class AdminSiteTests(SynchronousTestCase):
    """
    L{buildAdminSite} moves C{/healthz} and C{/metrics} off the public site.
    """

    def test_moved(self) -> None:
        """
        The admin site serves them, about the public site; the public one no
        longer does, and the admin site serves nothing else.
        """
        site = buildSite(clockAt(BILLENNIUM), adminResources=False)
        admin = buildAdminSite(site)
        public, private = stubTreq(site.resource), stubTreq(admin.resource)
        for path in ["/healthz", "/metrics"]:
            response = self.successResultOf(public.get(URL + path))
            self.assertEqual(response.code, 404, path)
            response = self.successResultOf(private.get(URL + path))
            self.assertEqual(response.code, 200, path)
        response = self.successResultOf(private.get(URL + "/now"))
        self.assertEqual(response.code, 404)
        site.drain()
        response = self.successResultOf(private.get(URL + "/healthz"))
        self.assertEqual(response.code, 503)
