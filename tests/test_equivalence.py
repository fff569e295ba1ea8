"""
The fast path and the general one give the same answers, by construction
(both call the resource's own C{answer}), checked by generation: requests
made from the route table's paths (timeapi.io's in any letter case), with
generated queries (C{tz}, C{t1}, C{at}, the transitions' and conversions'
names, time.akamai.com's, timeapi.io's and C{/api/coordinates}' zones,
coordinates and addresses, and garbage), bodies (JSON-RPC's, timeapi.io's
conversions, and not JSON), C{Accept} values, zones (links, other letter
cases, unknown ones), client addresses and trusted proxies' fields, sent to
two servers in memory, one with its quick answers and one without, with an
IP geolocation database or without, in every state of the server's clock
(synchronized or not, each maximum error, a step of the wall clock
pending), whose reader is injected. Each pair must send the same bytes,
leave the same timers, count the same in C{/metrics} and log the same
events.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, cast
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import disable_created_metrics, enable_created_metrics
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.interfaces import IAddress
from twisted.internet.task import Clock
from twisted.logger import ILogObserver, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._clock import ClockState
from clocksvc._http import (
    FORWARDED,
    X_FORWARDED_FOR,
    QuickHead,
    QuickResponse,
    TrustedProxies,
)
from clocksvc._web._coordinates import defaultFinder
from clocksvc._web._geoip import GeoIP
from clocksvc._web._routes import ROUTES, openAPIPaths
from clocksvc._web._site import buildSite, metricsOf

from ._geoip import writeDatabase
from ._helpers import BILLENNIUM, SYNCHRONIZED, UNSYNCHRONIZED, RawConnection

#: The clock states a server's answers are compared in: synchronized or not
#: or unknown, with each kind of maximum error.
CLOCK_STATES = [
    SYNCHRONIZED,
    UNSYNCHRONIZED,
    ClockState(None, None, None, "unknown", "unknown"),
    ClockState(True, 0.0, 0.0, "insert", "pps"),
    ClockState(True, 999_999_999_999.999, 1.0, "in-progress", "ntp"),
    ClockState(False, 0.0005, None, "delete", "none"),
]

#: Zone names: canonical, in other letter cases, links, three segments,
#: shapes that are no name, names of nothing.
ZONES = [
    "Europe/Berlin",
    "europe/berlin",
    "EUROPE/BERLIN",
    "UTC",
    "utc",
    "Asia/Harbin",
    "US/Pacific",
    "America/Argentina/Buenos_Aires",
    "Etc/GMT-14",
    "Etc/GMT+5",
    "Nowhere/Atlantis",
    "Europe",
    "../etc",
    "",
    "Europe/Berlin/transitions",
]

#: Instants as clients write them, and not.
INSTANTS = [
    "0",
    "1711846800",
    "1711846800.5",
    "2024-03-31T01:30:00Z",
    "2024-03-31T03:30:00+02:00",
    "2024-02-30T00:00:00Z",
    "99999999999999",
    "yesterday",
    "",
]
#: Client send times, and not.
T1S = ["1700000000000", "0", "1000000000000.5", "253402300800000", "1e12", "-1", ""]
#: Local date-times, and not.
LOCAL_TIMES = ["2024-03-31T02:30:00", "2024-10-27T02:30:00", "2024-01-01T12:00:00"]
#: Accept fields, as clients send them, and not.
ACCEPTS = [
    None,
    b"",
    b"*/*",
    b"application/json",
    b"text/plain",
    b"text/html",
    b"text/plain;q=0.5, application/json",
    b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    b"image/png",
    b"text/*;q=0, application/json;q=0.001",
    b"garbage;;q=x",
]
#: Clients: as the connection has them (None: 127.0.0.1).
CLIENTS: list[IAddress | None] = [
    None,
    IPv4Address("TCP", "81.2.69.142", 4711),
    IPv4Address("TCP", "10.1.2.3", 4711),
    IPv6Address("TCP", "::ffff:175.16.199.1", 4711),
    IPv6Address("TCP", "2001:4860::1", 4711),
    UNIXAddress(None),
]
#: What a proxy may write of its client: in X-Forwarded-For or Forwarded.
FORWARDED_FIELDS = [
    b"X-Forwarded-For: 81.2.69.142",
    b"X-Forwarded-For: 10.0.0.1, [2001:4860::8]:4711",
    b"X-Forwarded-For: bogus",
    b'Forwarded: for="[2001:4860::8]:4711";proto=https',
    b"Forwarded: for=175.16.199.1",
    b"X-Forwarded-Proto: https",
]
TIMESYNC = b'{"jsonrpc":"2.0","id":1,"method":"timesync"}'
#: Conversions, as timeapi.io's clients POST them: one, one in a gap (422),
#: its fields in other letter cases, a zone unknown, a malformed time, a
#: field missing.
CONVERSIONS = [
    b'{"fromTimeZone":"Europe/Berlin","dateTime":"2024-03-31 12:00:00",'
    b'"toTimeZone":"Asia/Tokyo","dstAmbiguity":""}',
    b'{"fromTimeZone":"Europe/Berlin","dateTime":"2024-03-31 02:30:00",'
    b'"toTimeZone":"UTC"}',
    b'{"FROMTIMEZONE":"utc","datetime":"2024-10-27T02:30:00.5",'
    b'"totimezone":"europe/berlin","dstAmbiguity":"later"}',
    b'{"fromTimeZone":"Nowhere/Atlantis","dateTime":"2024-01-01 12:00:00",'
    b'"toTimeZone":"UTC"}',
    b'{"fromTimeZone":"UTC","dateTime":"yesterday","toTimeZone":"UTC"}',
    b'{"fromTimeZone":"UTC","toTimeZone":"UTC"}',
]
#: The queries of timeapi.io's endpoints and of /api/coordinates, by path,
#: which answer 200 (but for the address's, 501 without a database).
ASKED = {
    "/api/Time/current/zone": "?timeZone=Europe/Berlin",
    "/api/Time/current/coordinate": "?latitude=52.52&longitude=13.405",
    "/api/Time/current/ip": "?ipAddress=81.2.69.142",
    "/api/TimeZone/zone": "?timeZone=america/sao_paulo",
    "/api/TimeZone/coordinate": "?latitude=-33.9&longitude=18.4",
    "/api/TimeZone/ip": "?ipAddress=2001:4860::1",
    "/api/coordinates": "?lat=52.52&lon=13.405",
}
#: The parameters of the paths that take their own, by path.
PARAMETERS = {
    path: tuple(item.partition("=")[0] for item in query[1:].split("&"))
    for path, query in ASKED.items()
}
#: timeapi.io's conversion, which takes a body.
CONVERTS = ["/api/Conversion/ConvertTimeZone"]
#: Bodies of POSTs: JSON-RPC's, conversions, and not JSON.
BODIES = [TIMESYNC, *CONVERSIONS, b"", b"{not json}", b"[]"]
#: Coordinates, and not.
COORDINATES = ["52.52", "13.405", "-33.9", "0", "90", "-180", "181", "1e1", "x", ""]
#: Addresses, located and not, and not addresses.
ADDRESSES = ["81.2.69.142", "2001:4860::1", "175.16.199.1", "10.0.0.1", "bogus", ""]
#: A sample of /metrics: its name, its labels, its value.
Sample = tuple[str, list[tuple[str, str]], float]
#: How many runs of requests the property tries: enough for CI in seconds;
#: C{EQUIVALENCE_EXAMPLES=5000} for a longer hunt.
EXAMPLES = int(os.environ.get("EQUIVALENCE_EXAMPLES", "150"))


def templates() -> list[str]:
    """
    @return: every path of the route table, as /openapi.json lists them.
    """
    return openAPIPaths()


@st.composite
def paths(draw: st.DrawFn, template: str) -> str:
    """
    @param template: a path of the route table.
    @return: it, its parameters filled with zones' segments and addresses,
        maybe with something after it.
    """
    path = template
    zone = [*draw(st.sampled_from(ZONES)).split("/"), "Salta", "x"]
    for index, name in enumerate(["{area}", "{location}", "{region}"]):
        path = path.replace(name, zone[index] or "x")
    path = path.replace(
        "{address}",
        draw(st.sampled_from(["81.2.69.142", "2001:4860::1", "bogus", "10.0.0.1"])),
    )
    if path.startswith("/api/"):
        # Below /api, in any letter case, as timeapi.io's paths match.
        cases: list[Callable[[str], str]] = [str, str, str.lower, str.upper]
        case = draw(st.sampled_from([*cases, str.swapcase]))
        path = "/api/" + case(path[len("/api/") :])
    suffix = draw(st.sampled_from(["", "", "", "/", "/x", ".txt", "//", "%2F"]))
    if draw(st.booleans()):
        # Escaped, as some clients write a path: Twisted unescapes each
        # segment.
        path = quote(path, safe="/")
    return path + suffix


@st.composite
def queries(draw: st.DrawFn, template: str) -> str:
    """
    @param template: the path of the route table it is sent to.
    @return: a query of the names the resources read (often those of
        C{template}'s own parameters), and others, with valid values and
        not, maybe escaped, repeated or bare; or none.
    """
    values = {
        "tz": st.sampled_from(ZONES),
        "t1": st.sampled_from(T1S),
        "at": st.sampled_from(INSTANTS),
        "from": st.sampled_from(INSTANTS + ZONES),
        "to": st.sampled_from(INSTANTS + ZONES),
        "time": st.sampled_from(LOCAL_TIMES + INSTANTS),
        "disambiguate": st.sampled_from(["earlier", "later", "reject", "x"]),
        "iso": st.sampled_from(["", "1"]),
        "ms": st.sampled_from(["", "1"]),
        "timeZone": st.sampled_from(ZONES),
        "latitude": st.sampled_from(COORDINATES),
        "longitude": st.sampled_from(COORDINATES),
        "lat": st.sampled_from(COORDINATES),
        "lon": st.sampled_from(COORDINATES),
        "ipAddress": st.sampled_from(ADDRESSES),
        "x": st.text(alphabet="ab%+;=&", max_size=4),
    }
    parts = []
    names = draw(st.lists(st.sampled_from(sorted(values)), max_size=4))
    if template in PARAMETERS:
        own = draw(st.sampled_from(["asked", "drawn", "none"]))
        if own == "asked":
            # Those that answer 200, first.
            parts.append(ASKED[template][1:])
        elif own == "drawn":
            names = [*PARAMETERS[template], *names]
    for name in names:
        value = draw(values[name])
        if name in ("iso", "ms") and not value:
            parts.append(name)
        elif draw(st.integers(0, 5)) == 0:
            parts.append(f"{name}={quote(value, safe='')}")
        else:
            parts.append(f"{name}={value}")
    separator = draw(st.sampled_from(["&", "&", "&", ";"]))
    query = separator.join(parts)
    return "?" + query if query or draw(st.booleans()) else ""


@dataclass(frozen=True)
class Request:
    """
    A request to send to both servers.
    """

    method: bytes
    target: bytes
    accept: bytes | None
    forwarded: tuple[bytes, ...]
    body: bytes | None
    last: bool

    def bytes(self) -> bytes:
        """
        @return: the request, whole.
        """
        lines = [self.method + b" " + self.target + b" HTTP/1.1", b"Host: a"]
        if self.accept is not None:
            lines.append(b"Accept: " + self.accept)
        lines.extend(self.forwarded)
        if self.body is not None:
            lines.append(b"Content-Length: %d" % len(self.body))
        if self.last:
            lines.append(b"Connection: close")
        return b"\r\n".join(lines) + b"\r\n\r\n" + (self.body or b"")


@st.composite
def requests(draw: st.DrawFn, among: list[str] | None = None) -> Request:
    """
    @param among: the paths to choose from; by default, every path of the
        route table.
    @return: a request to one of them: to timeapi.io's conversion, most
        often a C{POST} of a conversion.
    """
    template = draw(st.sampled_from(templates() if among is None else among))
    target = draw(paths(template)) + draw(queries(template))
    methods = [b"GET", b"GET", b"HEAD", b"POST"]
    bodies = BODIES
    if "conversion" in target.lower():
        methods, bodies = [b"POST", b"POST", b"POST", b"GET"], CONVERSIONS + BODIES
    method = draw(st.sampled_from(methods))
    body = draw(st.sampled_from(bodies)) if method == b"POST" else None
    return Request(
        method,
        target.encode(),
        draw(st.sampled_from(ACCEPTS)),
        tuple(draw(st.lists(st.sampled_from(FORWARDED_FIELDS), max_size=2))),
        body,
        draw(st.integers(0, 9)) == 0,
    )


@dataclass(frozen=True)
class Setting:
    """
    A server's setting: its clock's state and instant, a step of its wall
    clock, the proxies it trusts, and whether it has an IP geolocation
    database.
    """

    state: ClockState
    instant: float
    step: float
    zone: str
    trusted: TrustedProxies | None
    located: bool = True


settingsOf = st.builds(
    Setting,
    st.sampled_from(CLOCK_STATES),
    st.sampled_from(
        [
            BILLENNIUM + 0.25,
            BILLENNIUM + 0.999999,
            # A second before Berlin's clocks went forward in 2024.
            1_711_846_799.5,
        ]
    ),
    # A step of the wall clock, which the next reading of the clock's state
    # finds (and logs): none, ahead, back.
    st.sampled_from([0.0, 0.0, 30.5, -3600.0]),
    st.sampled_from(["UTC", "Europe/Berlin", "america/sao_paulo"]),
    st.sampled_from(
        [
            None,
            TrustedProxies.parse(["127.0.0.1", "unix"]),
            TrustedProxies.parse(["127.0.0.1"], FORWARDED),
            TrustedProxies.parse(["0.0.0.0/0", "::/0"], X_FORWARDED_FOR),
        ]
    ),
    st.booleans(),
)


class Server:
    """
    A site in memory, with or without its quick answers, on a wall clock
    and a clock for its timers, with the clock's state injected; and what
    its quick answers answered.
    """

    def __init__(self, fast: bool, setting: Setting, geoip: GeoIP | None) -> None:
        self.wallClock = Clock()
        self.wallClock.advance(setting.instant)
        self.timers = Clock()
        self.timers.advance(1000)
        self.site = buildSite(
            self.wallClock,
            setting.zone,
            accessLog=True,
            timers=self.timers,
            readClock=lambda: setting.state,
            trustedProxies=setting.trusted,
            geoip=geoip if setting.located else None,
        )
        # Stepped after the site began watching it: the first reading of
        # the clock's state finds the step.
        self.wallClock.advance(setting.step)
        self.quick: list[QuickHead] = []
        answer = self.site.quickAnswer
        assert answer is not None
        if fast:

            def recording(head: QuickHead, peer: IAddress) -> QuickResponse | None:
                response = answer(head, peer)
                if response is not None:
                    self.quick.append(head)
                return response

            self.site.quickAnswer = recording
        else:
            self.site.quickAnswer = None

    def exchange(
        self, requests: list[bytes], client: IAddress | None
    ) -> tuple[bytes, list[float], list[Sample]]:
        """
        Send C{requests} on one connection from C{client}, one at a time,
        a little time apart.

        @return: every byte sent back, the times of the timers left, and
            the request metrics.
        """
        connection = RawConnection(self.site, client)
        for request in requests:
            connection.send(request)
            self.wallClock.advance(0.125)
            self.timers.advance(0.125)
        return (
            masked(connection.received()),
            sorted(call.getTime() for call in self.timers.getDelayedCalls()),
            self.counts(),
        )

    def counts(self) -> list[Sample]:
        """
        @return: every sample of the requests' metrics: counts by endpoint
            and status, durations, refusals, forwarding fields that did not
            parse.
        """
        metrics = metricsOf(self.site)
        assert metrics is not None
        return [
            (sample.name, sorted(sample.labels.items()), sample.value)
            for family in metrics.registry.collect()
            if family.name
            in (
                "clocksvc_requests",
                "clocksvc_request_duration_seconds",
                "clocksvc_refused_requests",
                "clocksvc_forwarded_invalid",
            )
            for sample in family.samples
            # When the metric was made: the real time, not the site's.
            if not sample.name.endswith("_created")
        ]


#: What /metrics says of the process itself (its memory, its CPU time),
#: which changes between the two servers' answers; and so the length of
#: /metrics' answer.
_PROCESS_SAMPLE = re.compile(rb"(?m)^(process_[a-z_]+(?:\{[^}]*\})?) [^\r\n]+$")
_METRICS_LENGTH = re.compile(
    rb"(Vary: Accept\r\nCache-Control: no-store\r\nContent-Length: )[0-9]+"
)


def masked(data: bytes) -> bytes:
    """
    @return: C{data}, a server's answers, but for what /metrics says of the
        process and the length of /metrics' body.
    """
    return _METRICS_LENGTH.sub(rb"\1*", _PROCESS_SAMPLE.sub(rb"\1 *", data))


#: The keys of an event that say when it was emitted in real time, and by
#: whom; and those the legacy log system adds to every event it sees.
_NOT_COMPARED = frozenset(
    {
        "log_logger",
        "log_source",
        "log_time",
        "log_legacy",
        "log_trace",
        "time",
        "message",
        "system",
        "format",
        "isError",
    }
)


@cache
def database() -> GeoIP:
    """
    @return: the tests' IP geolocation database, written once.
    """
    directory = tempfile.mkdtemp()
    return GeoIP(writeDatabase(os.path.join(directory, "geoip.mmdb")))


@contextmanager
def logged() -> Iterator[list[dict[str, Any]]]:
    """
    @return: the events of clocksvc's own logs, as they are emitted.
    """
    events: list[dict[str, Any]] = []

    def observe(event: dict[str, Any]) -> None:
        if str(event.get("log_namespace", "")).startswith("clocksvc."):
            kept = {
                key: value for key, value in event.items() if key not in _NOT_COMPARED
            }
            if str(kept.get("path", "")).startswith("/metrics"):
                # Its length, as masked().
                kept["bytes"] = "*"
            events.append(kept)

    observer = cast(ILogObserver, observe)
    globalLogPublisher.addObserver(observer)
    try:
        yield events
    finally:
        globalLogPublisher.removeObserver(observer)


class EquivalenceTests(SynchronousTestCase):
    """
    The same bytes, timers, metrics and log events from the fast path and
    the general one.
    """

    def setUp(self) -> None:
        self.geoip = database()
        # The zone boundaries, loaded (and logged) once by the process, not
        # by whichever of the two servers looks up coordinates first.
        defaultFinder.release()
        # /metrics says when each counter was made, in real time, which two
        # servers made one after the other do not share.
        disable_created_metrics()
        self.addCleanup(enable_created_metrics)

    def assertSame(
        self, setting: Setting, requests: list[bytes], client: IAddress | None
    ) -> Server:
        """
        Send C{requests} to a server with its quick answers and one without,
        set alike, and check that everything each did is the same.

        @return: the server with its quick answers.
        """
        fast = Server(True, setting, self.geoip)
        general = Server(False, setting, self.geoip)
        with logged() as fastEvents:
            fastSent = fast.exchange(requests, client)
        with logged() as generalEvents:
            generalSent = general.exchange(requests, client)
        self.assertEqual(fastSent, generalSent)
        self.assertEqual(fastEvents, generalEvents)
        return fast

    def test_everyRoute(self) -> None:
        """
        Every path of the route table, each method, in every clock state,
        with an IP geolocation database and without: the same answers; and
        the quick path answers all of them but those only the request can
        answer (the live page, the stream itself, the metrics). timeapi.io's
        paths, in their letter case and in lower case, with the query (or
        the body) they take and without.
        """
        requests = []
        for template in templates():
            path = (
                template.replace("{area}", "Europe")
                .replace("{location}", "Berlin")
                .replace("{region}", "x")
                .replace("{address}", "81.2.69.142")
            )
            targets = [path]
            if path.startswith(("/api/Time", "/api/Conversion")):
                targets.append(path.lower())
            targets += [target + ASKED[path] for target in targets if path in ASKED]
            for target in targets:
                for method in [b"GET", b"HEAD", b"POST"]:
                    body = None
                    if method == b"POST":
                        converts = path.startswith("/api/Conversion")
                        body = CONVERSIONS[0] if converts else TIMESYNC
                    requests.append(
                        Request(method, target.encode(), None, (), body, False).bytes()
                    )
        general = {
            b"GET /live HTTP/1.1",
            b"HEAD /live HTTP/1.1",
            b"GET /stream HTTP/1.1",
            b"HEAD /stream HTTP/1.1",
            b"GET /metrics HTTP/1.1",
            b"HEAD /metrics HTTP/1.1",
        }
        # Each clock state with the database, and one without (what it
        # changes is the address endpoints' answers, not the clock's).
        located = [(state, True) for state in CLOCK_STATES] + [(SYNCHRONIZED, False)]
        for state, database in located:
            setting = Setting(state, BILLENNIUM + 0.25, 0.0, "UTC", None, database)
            for request in requests:
                fast = self.assertSame(setting, [request], None)
                line = request.partition(b"\r\n")[0]
                self.assertEqual(len(fast.quick), line not in general, line)
        self.assertEqual(
            {route.segment.split(b"/")[0] for route in ROUTES},
            {
                template.encode().split(b"/")[1].partition(b"{")[0]
                for template in templates()
            },
        )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        settingsOf,
        st.lists(requests(), min_size=1, max_size=3),
        st.sampled_from(CLIENTS),
    )
    def test_generated(
        self, setting: Setting, requests: list[Request], client: IAddress | None
    ) -> None:
        """
        Any requests of the route table's paths, queries, C{Accept} fields
        and proxies' fields, from any client, to servers in any clock
        state: the same bytes, timers, metrics and events from both.
        """
        self.assertSame(setting, [request.bytes() for request in requests], client)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        settingsOf,
        st.lists(requests(list(PARAMETERS) + CONVERTS), min_size=1, max_size=3),
        st.sampled_from(CLIENTS),
    )
    def test_timeAPI(
        self, setting: Setting, requests: list[Request], client: IAddress | None
    ) -> None:
        """
        As L{test_generated}, for the paths that take parameters of their
        own (timeapi.io's, C{/api/coordinates}) and timeapi.io's
        conversion alone, which a draw among every path rarely gives the
        parameters (or the body) that they answer 200 to.
        """
        self.assertSame(setting, [request.bytes() for request in requests], client)

    def test_conversionsAgain(self) -> None:
        """
        Each conversion, its 422 and its errors, sent twice on one
        connection (the second time, where the answer depends on the body
        alone, the one kept for it), in every state of the server's clock:
        the same bytes and events from either path.
        """
        requests = [
            Request(
                b"POST", b"/api/Conversion/ConvertTimeZone", None, (), body, False
            ).bytes()
            for body in [*CONVERSIONS, b"{not json}", b"[]"]
            for _ in range(2)
        ]
        for state in CLOCK_STATES:
            setting = Setting(state, BILLENNIUM + 0.25, 0.0, "UTC", None)
            fast = self.assertSame(setting, requests, None)
            self.assertEqual(len(fast.quick), len(requests))
