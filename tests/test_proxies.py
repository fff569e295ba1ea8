"""
Tests for clocksvc behind proxies, over real sockets: the client's address
and scheme from a trusted proxy's C{Forwarded} and C{X-Forwarded-For}
(C{--trusted-proxy}), and from the HAProxy PROXY protocol (C{haproxy:}
endpoints), alone and with C{--workers}.
"""

from __future__ import annotations

import json
import os
import re
import socket
import struct
from pathlib import Path
from typing import Any, cast

import treq
from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.endpoints import UNIXServerEndpoint
from twisted.internet.interfaces import IListeningPort, IReactorTime
from twisted.internet.threads import deferToThread
from twisted.logger import ILogObserver, globalLogPublisher
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.http_headers import Headers

from clocksvc._http import ClockSite, Limits, TrustedProxies
from clocksvc._run._endpoints import parseEndpoints
from clocksvc._run._logging import JSONLinesObserver
from clocksvc._run._sockets import InheritedEndpoint, _tcpSockets
from clocksvc._web._site import buildSite, metricsOf

from ._helpers import UNIXEndpoints, eventually, synchronized, urlOf, within
from ._process import PATIENCE, ClocksvcProcess, peopleLines
from ._proxyheaders import GET_NOW, REFUSED, V2_INET, proxyV2Raw
from ._rawhttp import exchange
from ._workers import startKillingWorkers

#: The issue's example: a client's own claim, then what the proxy appended.
CHAIN = "198.51.100.1, 203.0.113.9"


class Served:
    """
    clocksvc in this process on a real socket, and the access events it
    emits, and the lines its log would have beside them.

    @ivar logLines: the lines that the log (L{JSONLinesObserver}) writes,
        other than access lines, as JSON objects.
    """

    def __init__(
        self,
        testCase: TestCase,
        trusted: list[str] | None,
        header: str = "x-forwarded-for",
        limits: Limits | None = None,
    ) -> None:
        self.site: ClockSite = buildSite(
            IReactorTime(reactor),
            limits=limits,
            accessLog=True,
            # A clock the kernel says is synchronized is not logged.
            readClock=synchronized,
            trustedProxies=(
                None if trusted is None else TrustedProxies.parse(trusted, header)
            ),
        )
        self.events: list[dict[str, Any]] = []
        self.logLines: list[dict[str, Any]] = []
        lines = JSONLinesObserver(
            lambda line: self.logLines.append(json.loads(line)), access=False
        )

        def observe(event: dict[str, Any]) -> None:
            if event.get("log_namespace") == "clocksvc.access":
                self.events.append(event)
            lines(event)

        observer = cast(ILogObserver, observe)
        globalLogPublisher.addObserver(observer)
        testCase.addCleanup(globalLogPublisher.removeObserver, observer)
        self.pool = HTTPConnectionPool(reactor, persistent=False)
        testCase.addCleanup(self.pool.closeCachedConnections)

    def tcp(self, testCase: TestCase) -> str:
        """
        Listen on a free port of 127.0.0.1 until the test ends.

        @return: the URL of the root.
        """
        # The same Site annotation gap as in clocksvc._web._site.listen.
        port: IListeningPort = reactor.listenTCP(
            0,
            self.site,  # type: ignore[arg-type]
            interface="127.0.0.1",
        )
        testCase.addCleanup(port.stopListening)
        return urlOf(port)

    async def document(
        self, url: str, client: HTTPClient | None = None, **fields: str
    ) -> dict[str, Any]:
        """
        @return: the JSON document at C{url}, asked for with C{fields}
            (C{x_forwarded_for} for C{X-Forwarded-For}).
        """
        headers = Headers(
            {name.replace("_", "-"): [value] for name, value in fields.items()}
        )
        if client is None:
            response = await treq.get(url, headers=headers, pool=self.pool)
        else:
            response = await client.get(url, headers=headers)
        self.assertOK(response.code)
        answer: dict[str, Any] = json.loads(await response.content())
        return answer

    def assertOK(self, code: int) -> None:
        if code != 200:
            raise AssertionError(f"status {code}")

    def clients(self) -> list[tuple[str, str, str]]:
        """
        @return: each access event's path, client and scheme.
        """
        return [(e["path"], e["client"], e["scheme"]) for e in self.events]


class TrustedProxyTests(TestCase):
    """
    With C{--trusted-proxy}, a trusted proxy's fields name the client in
    the time document, in event streams and in the access log, on every
    path; from anyone else, or without the option, they change nothing.
    """

    #: Served by the quick path, and by the resource tree.
    PATHS = ("now", "now.json", "now?tz=UTC", "api/timezone/Etc/UTC")

    async def test_xForwardedFor(self) -> None:
        """
        The issue's example: C{X-Forwarded-For: 198.51.100.1, 203.0.113.9}
        from a trusted 127.0.0.1 is client 203.0.113.9 everywhere.
        """
        served = Served(self, ["127.0.0.1"])
        url = served.tcp(self)
        for path in self.PATHS:
            document = await served.document(url + path, x_forwarded_for=CHAIN)
            self.assertEqual(document["client_ip"], "203.0.113.9", path)
        self.assertEqual(
            served.clients(),
            [("/" + path, "203.0.113.9", "http") for path in self.PATHS],
        )

    async def test_forwarded(self) -> None:
        """
        Behind proxies that write C{Forwarded} (C{--forwarded-header
        forwarded}), C{Forwarded: for="[2001:db8::1]:4711";proto=https} is
        client 2001:db8::1, over HTTPS, in the document and the log.
        """
        served = Served(self, ["127.0.0.1"], "forwarded")
        url = served.tcp(self)
        for path in self.PATHS:
            document = await served.document(
                url + path, forwarded='for="[2001:db8::1]:4711";proto=https'
            )
            self.assertEqual(document["client_ip"], "2001:db8::1", path)
        self.assertEqual(
            served.clients(),
            [("/" + path, "2001:db8::1", "https") for path in self.PATHS],
        )

    async def test_untrusted(self) -> None:
        """
        From a peer that is not a trusted proxy, and without the option,
        the fields change nothing.
        """
        for trusted in [["10.0.0.1", "unix"], None]:
            served = Served(self, trusted)
            url = served.tcp(self)
            for path in self.PATHS:
                document = await served.document(
                    url + path,
                    x_forwarded_for=CHAIN,
                    forwarded="for=203.0.113.9;proto=https",
                    x_forwarded_proto="https",
                )
                self.assertEqual(document["client_ip"], "127.0.0.1", path)
            self.assertEqual(
                {(client, scheme) for _, client, scheme in served.clients()},
                {("127.0.0.1", "http")},
            )

    async def test_notTheOtherField(self) -> None:
        """
        Issue 22: behind proxies that write X-Forwarded-For (the default), a
        client's own C{Forwarded: for=6.6.6.6;proto=https}, which such a
        proxy passes through, names nobody, in the document and the log.
        """
        served = Served(self, ["127.0.0.1"])
        url = served.tcp(self)
        for path in self.PATHS:
            document = await served.document(
                url + path,
                forwarded="for=6.6.6.6;proto=https",
                x_forwarded_for="6.6.6.6, 203.0.113.9",
                x_forwarded_proto="http",
            )
            self.assertEqual(document["client_ip"], "203.0.113.9", path)
        self.assertEqual(
            served.clients(),
            [("/" + path, "203.0.113.9", "http") for path in self.PATHS],
        )

    async def test_live(self) -> None:
        """
        The scheme a trusted proxy says the client used is the one the
        C{/live} page reports, and the access log; from anyone else, it is
        the connection's.
        """
        for trusted, scheme in [(["127.0.0.1"], "https"), (["10.0.0.1"], "http")]:
            served = Served(self, trusted)
            url = served.tcp(self)
            response = await treq.get(
                url + "live",
                headers=Headers(
                    {"X-Forwarded-Proto": ["https"], "Host": ["time.example"]}
                ),
                pool=served.pool,
            )
            page = (await response.content()).decode()
            self.assertIn(f"<code>curl {scheme}://time.example/now</code>", page)
            self.assertEqual(served.clients(), [("/live", "127.0.0.1", scheme)])

    async def test_malformed(self) -> None:
        """
        Fields a trusted proxy sent that cannot be read leave the proxy's
        address, answer 200, and are counted in /metrics.
        """
        served = Served(self, ["127.0.0.1"])
        url = served.tcp(self)
        for path in self.PATHS:
            document = await served.document(
                url + path, x_forwarded_for="203.0.113.9, not-an-address"
            )
            self.assertEqual(document["client_ip"], "127.0.0.1", path)
        response = await treq.get(url + "metrics", pool=served.pool)
        metrics = (await response.content()).decode()
        self.assertIn(f"clocksvc_forwarded_invalid_total {len(self.PATHS)}.0", metrics)

    async def test_stream(self) -> None:
        """
        A stream's events carry the client that the trusted proxy names.
        """
        served = Served(self, ["127.0.0.1"])
        url = served.tcp(self)
        received = b""

        class Enough(Exception):
            """
            A tick is in: treq closes the connection on a collector's error.
            """

        def collect(data: bytes) -> None:
            nonlocal received
            received += data
            if b"event: tick" in received and received.endswith(b"\n\n"):
                raise Enough()

        response = await treq.get(
            url + "stream",
            headers=Headers({"X-Forwarded-For": [CHAIN]}),
            pool=served.pool,
            unbuffered=True,
        )
        with self.assertRaises(Enough):
            await treq.collect(response, collect)
        tick = received.split(b"event: tick\ndata: ", 1)[1].split(b"\n", 1)[0]
        self.assertEqual(json.loads(tick)["client_ip"], "203.0.113.9")

    async def test_unixSocket(self) -> None:
        """
        Over a UNIX socket, with C{unix} trusted, the fields are read;
        without it, the client has no address.
        """
        for trusted, expected in [(["unix"], "203.0.113.9"), (["127.0.0.1"], "")]:
            served = Served(self, trusted)
            path = self.mktemp()
            port = await UNIXServerEndpoint(reactor, path).listen(served.site)
            self.addCleanup(port.stopListening)
            agent = Agent.usingEndpointFactory(
                reactor, UNIXEndpoints(path), pool=served.pool
            )
            for target in self.PATHS:
                document = await served.document(
                    "http://localhost/" + target,
                    HTTPClient(agent),
                    x_forwarded_for=CHAIN,
                )
                self.assertEqual(document["client_ip"], expected, target)
            self.assertEqual({client for _, client, _ in served.clients()}, {expected})


def proxyV1(family: str, source: str, destination: str) -> bytes:
    """
    @return: a PROXY protocol version 1 preface.
    """
    return f"PROXY {family} {source} {destination} 56324 8880\r\n".encode()


def proxyV2(source: str, destination: str) -> bytes:
    """
    @return: a PROXY protocol version 2 preface of a TCP connection.
    """
    family = socket.AF_INET6 if ":" in source else socket.AF_INET
    addresses = (
        socket.inet_pton(family, source)
        + socket.inet_pton(family, destination)
        + struct.pack("!HH", 56324, 8880)
    )
    kind = 0x21 if family == socket.AF_INET6 else 0x11
    return (
        b"\r\n\r\n\x00\r\nQUIT\n"
        + bytes([0x21, kind])
        + struct.pack("!H", len(addresses))
        + addresses
    )


#: Why a PROXY header is refused, as C{/metrics} labels it.
PROXY_REFUSALS = ("signature", "malformed", "address", "port", "too_long", "timeout")


class ProxyProtocolTests(TestCase):
    """
    C{--listen haproxy:tcp:...}: clocksvc's PROXY protocol reader gives the
    client's address, which clocksvc reports as it reports any; a header
    that breaks the specification closes the connection unanswered, with
    one line in the log and a count in C{/metrics}.
    """

    async def listen(self, limits: Limits | None = None) -> None:
        """
        Serve on C{haproxy:tcp:0:interface=127.0.0.1}, as the command line
        makes it, until the test ends.
        """
        self.served = Served(self, None, limits=limits)
        [(_, endpoint)] = parseEndpoints(reactor, ["haproxy:tcp:0:interface=127.0.0.1"])
        port = await endpoint.listen(self.served.site)
        self.addCleanup(port.stopListening)
        host = port.getHost()
        assert isinstance(host, IPv4Address)
        self.address = (host.host, host.port)

    async def clientOf(self, preface: bytes | list[bytes]) -> str:
        """
        @return: the C{client_ip} of C{/now}, asked after C{preface} (or
            its pieces, sent apart).
        """
        chunks = [preface] if isinstance(preface, bytes) else preface
        result = await deferToThread(
            exchange, self.address, [*chunks[:-1], chunks[-1] + GET_NOW], expect=1
        )
        self.assertEqual(result.statuses, [200], result.raw)
        answer: str = json.loads(result.responses[0].body)["client_ip"]
        return answer

    async def assertRefused(self, preface: bytes, reason: str) -> None:
        """
        A connection that sends C{preface} (and a request) is closed
        unanswered, with one line at info in the log that gives C{reason},
        and no traceback.
        """
        self.served.logLines.clear()
        result = await deferToThread(
            exchange, self.address, preface + GET_NOW, quiet=10.0, timeout=10.0
        )
        self.assertEqual((result.raw, result.closed), (b"", True), preface)
        self.assertEqual(
            [
                (line["level"], line["event"], line.get("reason"), "traceback" in line)
                for line in self.served.logLines
            ],
            [("info", "proxy_refused", reason, False)],
            preface,
        )
        self.assertIn(
            "refused a connection from 127.0.0.1: ", self.served.logLines[0]["message"]
        )

    def refusals(self) -> dict[str, float]:
        """
        @return: C{clocksvc_proxy_refused_total} by reason.
        """
        metrics = metricsOf(self.served.site)
        assert metrics is not None
        counted = {}
        for family in metrics.registry.collect():
            for sample in family.samples:
                if sample.name == "clocksvc_proxy_refused_total":
                    counted[sample.labels["reason"]] = sample.value
        return counted

    async def test_v1(self) -> None:
        """
        Version 1, over IPv4 and IPv6, names the client in the document and
        the log.
        """
        await self.listen()
        self.assertEqual(
            await self.clientOf(proxyV1("TCP4", "203.0.113.7", "192.0.2.1")),
            "203.0.113.7",
        )
        self.assertEqual(
            await self.clientOf(proxyV1("TCP6", "2001:db8::7", "2001:db8::1")),
            "2001:db8::7",
        )
        self.assertEqual(
            [client for _, client, _ in self.served.clients()],
            ["203.0.113.7", "2001:db8::7"],
        )

    async def test_v2(self) -> None:
        """
        Version 2, over IPv4 and IPv6, too; with TLVs after the addresses,
        which are skipped.
        """
        await self.listen()
        self.assertEqual(
            await self.clientOf(proxyV2("203.0.113.8", "192.0.2.1")), "203.0.113.8"
        )
        self.assertEqual(
            await self.clientOf(proxyV2("2001:db8::8", "2001:db8::1")), "2001:db8::8"
        )
        # PP2_TYPE_AUTHORITY and PP2_TYPE_NOOP.
        tlvs = b"\x02\x00\x0cexample.test" + b"\x04\x00\x03\x00\x00\x00"
        self.assertEqual(
            await self.clientOf(proxyV2Raw(0x21, 0x11, V2_INET + tlvs)), "6.6.6.6"
        )
        self.assertEqual(
            [client for _, client, _ in self.served.clients()],
            ["203.0.113.8", "2001:db8::8", "6.6.6.6"],
        )

    async def test_ownAddress(self) -> None:
        """
        Issue 22, item 6: C{PROXY UNKNOWN} (with or without what may follow
        it) is served with the connection's own address, as the
        specification says; so are version 2's C{LOCAL} (a proxy's health
        check) and families clocksvc does not serve (UDP), which it may.
        """
        await self.listen()
        for preface in [
            b"PROXY UNKNOWN\r\n",
            b"PROXY UNKNOWN 6.6.6.6 127.0.0.1 56324 80\r\n",
            proxyV2Raw(0x20, 0x00, b""),
            proxyV2Raw(0x20, 0x11, V2_INET),
            proxyV2Raw(0x21, 0x12, V2_INET),
            proxyV2Raw(0x21, 0x00, b""),
        ]:
            self.assertEqual(await self.clientOf(preface), "127.0.0.1", preface)
        self.assertEqual(self.served.logLines, [])

    async def test_inPieces(self) -> None:
        """
        A header that comes in pieces, the first shorter than the
        signature, is read whole.
        """
        await self.listen()
        v1 = proxyV1("TCP4", "203.0.113.9", "192.0.2.1")
        v2 = proxyV2("203.0.113.10", "192.0.2.1")
        self.assertEqual(await self.clientOf([v1[:3], v1[3:]]), "203.0.113.9")
        self.assertEqual(
            await self.clientOf([v2[:3], v2[3:20], v2[20:]]), "203.0.113.10"
        )

    async def test_refused(self) -> None:
        """
        Issue 22, items 5 and 6: each header that breaks the specification
        closes its connection unanswered, with one line at info in the log
        (never a traceback) and a count by reason in C{/metrics}; nothing
        is served on it, and the next connection is.
        """
        await self.listen()
        self.assertEqual(self.refusals(), dict.fromkeys(PROXY_REFUSALS, 0.0))
        expected = dict.fromkeys(PROXY_REFUSALS, 0.0)
        for preface, reason in REFUSED:
            await self.assertRefused(preface, reason)
            expected[reason] += 1
            self.assertEqual(self.refusals(), expected, preface)
        self.assertEqual(self.served.events, [])
        # /metrics says so, over the same port, after a valid header.
        result = await deferToThread(
            exchange,
            self.address,
            proxyV1("TCP4", "203.0.113.7", "192.0.2.1")
            + b"GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n",
            expect=1,
        )
        metrics = result.responses[0].body.decode()
        for reason, count in expected.items():
            self.assertIn(
                f'clocksvc_proxy_refused_total{{reason="{reason}"}} {count}\n', metrics
            )

    async def test_inherited(self) -> None:
        """
        A worker's inherited socket of a C{haproxy:} endpoint reads the
        PROXY header, and refuses as a single clocksvc does, counting in
        the site's metrics.
        """
        self.served = Served(self, None)
        _, [held] = _tcpSockets("127.0.0.1", 0, 50, 1)
        self.addCleanup(held.close)
        endpoint = InheritedEndpoint(
            reactor, os.dup(held.fileno()), "haproxy:tcp:0:interface=127.0.0.1"
        )
        port = await endpoint.listen(self.served.site)
        self.addCleanup(port.stopListening)
        self.address = held.getsockname()
        self.assertEqual(
            await self.clientOf(proxyV1("TCP4", "203.0.113.7", "192.0.2.1")),
            "203.0.113.7",
        )
        await self.assertRefused(b"PROXY TCP4 6.6.6.6 127.0.0.1 abc 80\r\n", "port")
        self.assertEqual(self.refusals()["port"], 1.0)

    async def test_deadline(self) -> None:
        """
        A connection that sends no header, or half of one, is closed
        unanswered once the header timeout is up, with one line in the log
        and a count, rather than answered 408.
        """
        await self.listen(Limits(headerTimeout=1.0))
        for preface in [b"", b"PROXY TCP4 6.6", proxyV2("6.6.6.6", "192.0.2.1")[:20]]:
            self.served.logLines.clear()
            result = await deferToThread(
                exchange, self.address, preface, quiet=10.0, timeout=10.0
            )
            self.assertEqual((result.raw, result.closed), (b"", True), preface)
            self.assertEqual(
                [(line["event"], line.get("reason")) for line in self.served.logLines],
                [("proxy_refused", "timeout")],
            )
        self.assertEqual(self.refusals()["timeout"], 3.0)
        metrics = metricsOf(self.served.site)
        assert metrics is not None
        self.assertIsNone(
            metrics.registry.get_sample_value(
                "clocksvc_refused_requests_total", {"status": "408"}
            )
        )


class ProcessTests(TestCase):
    """
    C{python -m clocksvc} as a real process: C{--trusted-proxy} on the
    command line, and the PROXY protocol with C{--workers}.
    """

    timeout = 4 * PATIENCE

    def start(self, *args: str) -> ClocksvcProcess:
        """
        Start clocksvc, killed at cleanup with any workers, if the test has
        not ended it.
        """
        return startKillingWorkers(self, *args)

    async def test_accessLog(self) -> None:
        """
        C{--trusted-proxy 127.0.0.1}: the document and the access log file
        name the client that X-Forwarded-For does.
        """
        log = Path(self.mktemp())
        process = self.start(
            "--listen",
            "tcp:0:interface=127.0.0.1",
            "--trusted-proxy",
            "10.0.0.0/8,127.0.0.1",
            "--access-log",
            str(log),
        )
        line = (await process.firstLine).decode()
        found = re.fullmatch(r"clocksvc: serving (http://127\.0\.0\.1:\d+/)", line)
        self.assertIsNotNone(found, (line, process.stderr))
        assert found is not None
        pool = HTTPConnectionPool(reactor, persistent=False)
        response = await treq.get(
            found.group(1) + "now",
            headers=Headers({"X-Forwarded-For": [CHAIN]}),
            pool=pool,
        )
        document = json.loads(await response.content())
        self.assertEqual(document["client_ip"], "203.0.113.9")
        process.signal("TERM")
        self.assertEqual(await within(process.exited, PATIENCE, "exit"), 0)
        access = [
            json.loads(line)
            for line in log.read_text().splitlines()
            if '"path"' in line
        ]
        self.assertEqual(
            [(a["path"], a["client"], a["scheme"]) for a in access],
            [("/now", "203.0.113.9", "http")],
        )

    async def test_badTrustedProxy(self) -> None:
        """
        A value that is no address, network or C{unix} is one line on
        standard error and exit status 2.
        """
        process = self.start("--trusted-proxy", "127.0.0.1,proxy.example")
        self.assertEqual(await within(process.exited, PATIENCE, "exit"), 2)
        self.assertEqual(
            process.stderr,
            b"clocksvc: --trusted-proxy needs an IP address, a network such as "
            b"10.0.0.0/8, or unix, not 'proxy.example' (see --help)\n",
        )
        self.assertEqual(process.stdout, b"")

    async def test_badForwardedHeader(self) -> None:
        """
        A C{--forwarded-header} that names neither field is one line on
        standard error and exit status 2.
        """
        process = self.start("--forwarded-header", "x-real-ip")
        self.assertEqual(await within(process.exited, PATIENCE, "exit"), 2)
        self.assertEqual(
            process.stderr,
            b"clocksvc: --forwarded-header needs one of x-forwarded-for, "
            b"forwarded, not 'x-real-ip' (see --help)\n",
        )

    async def test_haproxyTwice(self) -> None:
        """
        C{haproxy:} twice is one line on standard error and exit status 2.
        """
        process = self.start("--listen", "haproxy:haproxy:tcp:0")
        self.assertEqual(await within(process.exited, PATIENCE, "exit"), 2)
        self.assertEqual(
            process.stderr,
            b"clocksvc: invalid endpoint 'haproxy:haproxy:tcp:0': haproxy: twice\n",
        )

    async def test_workersProxyProtocol(self) -> None:
        """
        With C{--workers}, every worker reads the PROXY protocol on the
        sockets it inherits, as a single clocksvc does.
        """
        log = Path(self.mktemp())
        process = self.start(
            "--workers",
            "2",
            "--listen",
            "haproxy:tcp:0:interface=127.0.0.1",
            "--access-log",
            str(log),
        )
        await eventually(
            lambda: b" workers, pids " in process.stderr or process.exited.called,
            PATIENCE,
            "the workers' line",
        )
        lines = peopleLines(process.stderr)
        found = re.fullmatch(r"clocksvc: serving http://127\.0\.0\.1:(\d+)/", lines[0])
        self.assertIsNotNone(found, process.stderr)
        assert found is not None
        address = ("127.0.0.1", int(found.group(1)))
        # Connections are spread over the workers: enough of them reach both.
        for index in range(8):
            source = f"203.0.113.{index + 1}"
            preface = (
                proxyV1("TCP4", source, "192.0.2.1")
                if index % 2
                else proxyV2(source, "192.0.2.1")
            )
            result = await deferToThread(exchange, address, preface + GET_NOW, expect=1)
            self.assertEqual(result.statuses, [200], result.raw)
            self.assertEqual(json.loads(result.responses[0].body)["client_ip"], source)
        # Issue 22's headers, refused by whichever worker takes them: one
        # line each in the log, and no traceback.
        refused = REFUSED[:4]
        for preface, _ in refused:
            result = await deferToThread(
                exchange, address, preface + GET_NOW, quiet=10.0, timeout=10.0
            )
            self.assertEqual((result.raw, result.closed), (b"", True), preface)
        process.signal("TERM")
        self.assertEqual(await within(process.exited, PATIENCE, "exit"), 0)
        logged = [json.loads(line) for line in log.read_text().splitlines()]
        self.assertEqual(
            sorted(
                (line["level"], line.get("reason"))
                for line in logged
                if line.get("event") == "proxy_refused"
            ),
            sorted(("info", reason) for _, reason in refused),
        )
        self.assertEqual([line for line in logged if "traceback" in line], [])
        # Nothing was served on the refused connections. (Each worker writes
        # its own lines: in order within a worker, not across them.)
        self.assertEqual(
            sorted(line["client"] for line in logged if "client" in line),
            sorted(f"203.0.113.{index + 1}" for index in range(8)),
        )
