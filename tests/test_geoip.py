"""
Tests for L{clocksvc._web._geoip}: C{/api/ip}, the time document for the
zone of the client's IP address or of an address in the path, from a small
MaxMind DB file the tests write (L{tests._geoip}); and C{--geoip-db}.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any, cast

import treq
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IListeningPort, IReactorTime
from twisted.logger import ILogObserver, formatEvent, globalLogPublisher
from twisted.test.proto_helpers import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.client import Agent, HTTPConnectionPool, readBody
from twisted.web.http_headers import Headers

from clocksvc._http import ClockSite, TrustedProxies
from clocksvc._run import _tap
from clocksvc._run._cli import run
from clocksvc._time import (
    defaultCatalogue,
    documentJSON,
    documentText,
    timeDocument,
)
from clocksvc._web import _geoip
from clocksvc._web._geoip import GeoIP, GeoIPError, parseAddress
from clocksvc._web._site import buildSite, metricsOf

from ._geoip import NETWORKS, writeDatabase
from ._helpers import (
    BILLENNIUM,
    SAID_CORE,
    capturedEvents,
    clockAt,
    eventually,
    keepZoneDatabase,
    siteOf,
    stubTreq,
    urlOf,
)
from ._openapi import validateResponse
from ._process import PATIENCE, spawnClocksvc

JSON = "application/json; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


def zoneNamed(name: str) -> Any:
    """
    @return: the zone C{/api/timezone/NAME} answers for.
    """
    zone = defaultCatalogue.zone(name)
    assert zone is not None
    return zone


def database(testCase: SynchronousTestCase, **kwargs: Any) -> str:
    """
    @return: the path of a new test database (L{NETWORKS}), removed after
        the test.
    """
    return writeDatabase(testCase.mktemp(), **kwargs)


def logged(testCase: SynchronousTestCase) -> list[dict[str, Any]]:
    """
    @return: a list that every event logged until the test ends is added to.
    """
    events: list[dict[str, Any]] = []
    observer = cast(ILogObserver, events.append)
    globalLogPublisher.addObserver(observer)
    testCase.addCleanup(globalLogPublisher.removeObserver, observer)
    return events


class ParseAddressTests(SynchronousTestCase):
    """
    L{parseAddress} writes an address as L{clientIP} would, and refuses
    anything that is not one.
    """

    def test_canonical(self) -> None:
        """
        IPv4 as it is; IPv6 in RFC 5952's text; IPv4-mapped IPv6 unmapped.
        """
        for given, expected in [
            ("81.2.69.142", "81.2.69.142"),
            ("2001:4860:0:0:0:0:0:8888", "2001:4860::8888"),
            ("2001:4860::ABCD", "2001:4860::abcd"),
            ("::ffff:81.2.69.142", "81.2.69.142"),
            ("::1", "::1"),
        ]:
            self.assertEqual(parseAddress(given), expected, given)

    def test_notAnAddress(self) -> None:
        """
        Names, partial, padded or out-of-range addresses, and CIDRs are not
        addresses.
        """
        for text in [
            "",
            "localhost",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "01.2.3.4",
            " 1.2.3.4",
            "1.2.3.0/24",
            "2001:4860::1::2",
            "12345::",
        ]:
            self.assertRaises(ValueError, parseAddress, text)

    def test_kept(self) -> None:
        """
        Each text's address is kept, and the next call with the same text
        answers it: the same string object, the C{ipaddress} parse skipped.
        A text that is no address is not kept.
        """
        self.patch(_geoip, "_addresses", {})
        first = parseAddress("2001:4860:0:0:0:0:0:8888")
        self.assertIs(parseAddress("2001:4860:0:0:0:0:0:8888"), first)
        self.assertRaises(ValueError, parseAddress, "localhost")
        self.assertEqual(_geoip._addresses, {"2001:4860:0:0:0:0:0:8888": first})

    def test_bounded(self) -> None:
        """
        It keeps at most C{_ADDRESSES_KEPT} texts, emptied by the next, and
        none longer than C{_LONGEST_ADDRESS}: a client cannot grow it past
        that, and a long text is parsed each time (as an IPv6 address with a
        long zone index can be).
        """
        self.patch(_geoip, "_addresses", {})
        self.patch(_geoip, "_ADDRESSES_KEPT", 2)
        for text in ["1.1.1.1", "1.1.1.2", "1.1.1.3"]:
            parseAddress(text)
        self.assertEqual(_geoip._addresses, {"1.1.1.3": "1.1.1.3"})
        scoped = "fe80::1%" + "x" * _geoip._LONGEST_ADDRESS
        self.assertEqual(parseAddress(scoped), scoped)
        self.assertNotIn(scoped, _geoip._addresses)


class GeoIPTests(SynchronousTestCase):
    """
    L{GeoIP} gives the zone of a public address from the database, as the
    zone catalogue names it.
    """

    def test_zones(self) -> None:
        """
        IPv4 and IPv6 addresses in the database have its zones; a link's
        name is looked up as C{/api/timezone} looks it up.
        """
        geoip = GeoIP(database(self))
        for address, name in [
            ("81.2.69.142", "Europe/London"),
            ("81.2.69.1", "Europe/London"),
            ("175.16.199.7", "Asia/Harbin"),
            ("2001:4860::8888", "America/Sao_Paulo"),
            ("2a02:810f:ffff::1", "Pacific/Apia"),
        ]:
            self.assertEqual(geoip.zoneOf(address), zoneNamed(name), address)

    def test_unknown(self) -> None:
        """
        Addresses not in the database, without a zone or with a name that is
        no zone, that are not public, or that are not addresses at all (a
        UNIX socket's client has the empty one) have none.
        """
        geoip = GeoIP(database(self))
        for address in [
            "8.8.8.8",
            "2606:4700::1111",
            "89.160.20.128",
            "1.1.1.1",
            "10.1.2.3",
            "127.0.0.1",
            "::1",
            "fe80::1",
            "192.168.1.1",
            "",
            "bogus",
        ]:
            self.assertIsNone(geoip.zoneOf(address), address)

    def test_ipv4Database(self) -> None:
        """
        A database of IPv4 addresses only knows no IPv6 address.
        """
        geoip = GeoIP(database(self, ipVersion=4))
        self.assertEqual(geoip.zoneOf("81.2.69.142"), zoneNamed("Europe/London"))
        self.assertIsNone(geoip.zoneOf("2001:4860::8888"))

    def test_keptBounded(self) -> None:
        """
        The zones found are kept, for no more addresses than its bound.
        """
        geoip = GeoIP(database(self))
        london = geoip.zoneOf("81.2.69.142")
        kept = geoip._zones
        self.assertEqual(kept, {"81.2.69.142": london})
        for n in range(GeoIP._KEPT + 10):
            geoip.zoneOf(f"81.2.{n // 256}.{n % 256}")
            self.assertLessEqual(len(kept), GeoIP._KEPT)
        self.assertGreater(len(kept), 0)

    def test_openErrors(self) -> None:
        """
        A file that is missing, a directory, or not a MaxMind DB file is a
        L{GeoIPError} with one line that says which and why.
        """
        missing = self.mktemp()
        directory = self.mktemp()
        os.mkdir(directory)
        empty = Path(self.mktemp())
        empty.write_bytes(b"")
        garbage = Path(self.mktemp())
        garbage.write_bytes(os.urandom(4096))
        for path, reason in [
            (missing, f"cannot read {missing!r}: No such file or directory"),
            (directory, f"{directory!r} is not a MaxMind DB file"),
            (str(empty), f"{str(empty)!r} is not a MaxMind DB file"),
            (str(garbage), f"{str(garbage)!r} is not a MaxMind DB file"),
        ]:
            error = self.assertRaises(GeoIPError, GeoIP, path)
            self.assertTrue(str(error).startswith(reason), (str(error), reason))
            self.assertNotIn("\n", str(error))

    def test_damaged(self) -> None:
        """
        A database damaged under it (rewritten in place, not renamed over)
        knows no address, and says so in the log, rather than failing the
        request.
        """
        events = logged(self)
        path = database(self)
        geoip = GeoIP(path)
        # The search tree, which comes first, overwritten; the same size, so
        # that the mapped file is not cut short.
        with open(path, "r+b") as damaged:
            damaged.write(b"\xff" * (os.path.getsize(path) // 2))
        self.assertIsNone(geoip.zoneOf("81.2.69.142"))
        [failed] = [e for e in events if e.get("event") == "geoip_lookup_failed"]
        self.assertEqual(failed["log_level"].name, "error")
        self.assertEqual(failed["address"], "81.2.69.142")

    def test_reload(self) -> None:
        """
        L{GeoIP.reload} reads the file again, as renamed over by an update,
        and forgets the zones it kept; if the file cannot be read then, it
        keeps the database it had, and logs why.
        """
        events = logged(self)
        path = database(self)
        geoip = GeoIP(path)
        self.assertEqual(geoip.zoneOf("81.2.69.142"), zoneNamed("Europe/London"))
        moved = {**NETWORKS, "81.2.69.0/24": {"location": {"time_zone": "Asia/Tokyo"}}}
        writeDatabase(path, moved)
        geoip.reload()
        self.assertEqual(geoip.zoneOf("81.2.69.142"), zoneNamed("Asia/Tokyo"))
        self.assertEqual(events[-1]["event"], "geoip_reloaded")
        # Replaced as an update would be, by a rename: the file in use is
        # mapped, and is never to be rewritten in place.
        Path(path + ".new").write_bytes(b"not a database")
        os.replace(path + ".new", path)
        geoip.reload()
        self.assertEqual(geoip.zoneOf("81.2.69.142"), zoneNamed("Asia/Tokyo"))
        self.assertEqual(geoip.zoneOf("2001:4860::1"), zoneNamed("America/Sao_Paulo"))
        [failed] = [e for e in events if e.get("event") == "geoip_reload_failed"]
        self.assertEqual(failed["log_level"].name, "error")
        self.assertIn(" is not a MaxMind DB file", failed["problem"])


class IPZoneTests(TestCase):
    """
    C{/api/ip} and C{/api/ip/ADDRESS} over real sockets, on a fixed clock,
    with the test database: each document is the zone's, at that instant,
    naming the address as the client.
    """

    def setUp(self) -> None:
        self.clock = clockAt(BILLENNIUM + 0.25)
        self.pool = HTTPConnectionPool(reactor, persistent=False)
        self.addCleanup(self.pool.closeCachedConnections)

    def serve(
        self,
        geoip: GeoIP | None,
        trusted: list[str] | None = None,
        interface: str = "127.0.0.1",
    ) -> tuple[str, ClockSite]:
        """
        Serve on a free port of C{interface} until the test ends.

        @return: the URL of the root, and the site.
        """
        site = buildSite(
            self.clock,
            timers=IReactorTime(reactor),
            trustedProxies=None if trusted is None else TrustedProxies.parse(trusted),
            geoip=geoip,
        )
        # The same Site annotation gap as in clocksvc._web._site.listen.
        port: IListeningPort = reactor.listenTCP(
            0,
            site,  # type: ignore[arg-type]
            interface=interface,
        )
        self.addCleanup(port.stopListening)
        return urlOf(port), site

    async def get(
        self, url: str, method: str = "GET", **fields: str
    ) -> tuple[int, str, bytes]:
        """
        @return: the status, content type and body of the answer to
            C{method} on C{url}, with C{fields} (C{x_forwarded_for} for
            C{X-Forwarded-For}), checked against C{/openapi.json}.
        """
        headers = Headers(
            {name.replace("_", "-"): [value] for name, value in fields.items()}
        )
        # Twisted's Agent, not treq: hyperlink cannot send to [::1].
        agent = Agent(reactor, pool=self.pool)
        response = await agent.request(method.encode(), url.encode(), headers)
        body = await readBody(response)
        [contentType] = response.headers.getRawHeaders("content-type")
        path = "/" + url.split("/", 3)[3].partition("?")[0]
        validateResponse(method, path, response.code, contentType, body)
        return response.code, contentType, body

    def expected(self, zone: str, address: str, text: bool = False) -> bytes:
        """
        @return: the body of the document for C{zone} at the clock's
            instant, naming C{address}, computed apart from the site.
        """
        document = timeDocument(self.clock.seconds(), zoneNamed(zone), address)
        if text:
            return documentText(document)
        return documentJSON(document)

    async def test_addresses(self) -> None:
        """
        C{/api/ip/ADDRESS}, in JSON and in text, for IPv4 and IPv6
        addresses, is the document of the address's zone naming it (as
        L{parseAddress} writes it) as the client; a link's zone answers as
        at C{/api/timezone}.
        """
        url, _ = self.serve(GeoIP(database(self)))
        for path, zone, address in [
            ("81.2.69.142", "Europe/London", "81.2.69.142"),
            ("::ffff:81.2.69.142", "Europe/London", "81.2.69.142"),
            ("2001:4860:0:0::8888", "America/Sao_Paulo", "2001:4860::8888"),
            ("2a02:8100::1", "Pacific/Apia", "2a02:8100::1"),
        ]:
            self.assertEqual(
                await self.get(url + "api/ip/" + path),
                (200, JSON, self.expected(zone, address)),
                path,
            )
            self.assertEqual(
                await self.get(url + "api/ip/" + path + ".txt"),
                (200, TEXT, self.expected(zone, address, text=True)),
                path,
            )
        code, _, body = await self.get(url + "api/ip/175.16.199.1")
        _, _, harbin = await self.get(url + "api/timezone/Asia/Harbin")
        self.assertEqual(code, 200)
        self.assertEqual(
            json.loads(body), {**json.loads(harbin), "client_ip": "175.16.199.1"}
        )

    async def test_at(self) -> None:
        """
        C{?at=} gives an address's document for that instant, as it does a
        zone's; a malformed one is 400 naming it, whatever the address.
        """
        url, _ = self.serve(GeoIP(database(self)))
        _, _, expected = await self.get(
            url + "api/timezone/America/Sao_Paulo?at=2024-03-31T01:30:00Z"
        )
        code, _, body = await self.get(
            url + "api/ip/2001:4860::8888?at=2024-03-31T01:30:00Z"
        )
        self.assertEqual(code, 200)
        self.assertEqual(
            json.loads(body), {**json.loads(expected), "client_ip": "2001:4860::8888"}
        )
        self.assertEqual(json.loads(body)["unixtime"], 1711848600)
        for path in ["api/ip/81.2.69.142?at=yesterday", "api/ip?at=yesterday"]:
            code, _, body = await self.get(url + path)
            self.assertEqual((code, json.loads(body)["parameter"]), (400, "at"), path)

    async def test_unknownLocation(self) -> None:
        """
        An address without a zone, or that is not public, is 404 C{unknown
        location}, as worldtimeapi.org answers, in the path's form.
        """
        url, _ = self.serve(GeoIP(database(self)))
        for address in ["8.8.8.8", "89.160.20.1", "1.1.1.1", "10.0.0.1", "::1"]:
            self.assertEqual(
                await self.get(url + "api/ip/" + address),
                (404, JSON, b'{"error":"unknown location"}'),
                address,
            )
            self.assertEqual(
                await self.get(url + "api/ip/" + address + ".txt"),
                (404, TEXT, b"error: unknown location\n"),
                address,
            )
        # The test's client is 127.0.0.1.
        for path in ["api/ip", "api/ip?x=1"]:
            self.assertEqual(
                await self.get(url + path),
                (404, JSON, b'{"error":"unknown location"}'),
            )
        self.assertEqual(
            await self.get(url + "api/ip.txt"),
            (404, TEXT, b"error: unknown location\n"),
        )

    async def test_withoutDatabase(self) -> None:
        """
        A server without a database says so, with 501 for every request to
        C{/api/ip}, in the path's form, whatever the address or the path
        below: not 404, which would say the address has no location. Each
        is counted in C{/metrics}.
        """
        url, site = self.serve(None, ["127.0.0.1"])
        paths = ["api/ip/81.2.69.142", "api/ip", "api/ip/bogus", "api/ip?at=x"]
        for path in paths:
            self.assertEqual(
                await self.get(url + path, x_forwarded_for="81.2.69.142"),
                (501, JSON, b'{"error":"no GeoIP database configured"}'),
                path,
            )
        for path in ["api/ip.txt", "api/ip/81.2.69.142.txt"]:
            self.assertEqual(
                await self.get(url + path, x_forwarded_for="81.2.69.142"),
                (501, TEXT, b"error: no GeoIP database configured\n"),
                path,
            )
        self.assertEqual(await self.get(url + "api/ip", "HEAD"), (501, JSON, b""))
        metrics = metricsOf(site)
        assert metrics is not None
        self.assertEqual(
            metrics.registry.get_sample_value(
                "clocksvc_requests_total", {"endpoint": "/api/ip", "status": "501"}
            ),
            len(paths) + 3,
        )

    async def test_notAnAddress(self) -> None:
        """
        A segment that is not an IP address is 400, in the path's form;
        paths below an address, or below C{/api/ip.txt}, are 404.
        """
        url, site = self.serve(GeoIP(database(self)))
        for segment in ["nowhere", "1.2.3", "81.2.69.142%2F24", "%FF", "1.2.3.txt"]:
            code, contentType, body = await self.get(url + "api/ip/" + segment)
            text = segment.endswith(".txt")
            self.assertEqual(
                (code, contentType, body),
                (
                    400,
                    TEXT if text else JSON,
                    b"error: invalid IP address\n"
                    if text
                    else b'{"error":"invalid IP address"}',
                ),
                segment,
            )
        # Paths that /openapi.json has no template for.
        for path, code, contentType, body in [
            ("api/ip/", 400, JSON, b'{"error":"invalid IP address"}'),
            ("api/ip/.txt", 400, TEXT, b"error: invalid IP address\n"),
            ("api/ip/81.2.69.142/x", 404, JSON, b'{"error":"not found"}'),
            ("api/ip.txt/81.2.69.142", 404, TEXT, b"error: not found\n"),
        ]:
            response = await treq.get(url + path, pool=self.pool)
            self.assertEqual(
                (
                    response.code,
                    response.headers.getRawHeaders("content-type"),
                    await response.content(),
                ),
                (code, [contentType], body),
                path,
            )
        metrics = metricsOf(site)
        assert metrics is not None
        self.assertEqual(
            metrics.registry.get_sample_value(
                "clocksvc_requests_total", {"endpoint": "/api/ip", "status": "400"}
            ),
            7,
        )

    async def test_trustedProxy(self) -> None:
        """
        Behind a trusted proxy, C{/api/ip} is for the client its fields name,
        IPv4 or IPv6, on the quick path (a plain GET or HEAD) and off it (a
        query); from a peer that is not trusted, they are not believed.
        """
        url, site = self.serve(GeoIP(database(self)), ["127.0.0.1"])
        for path in ["api/ip", "api/ip?x"]:
            self.assertEqual(
                await self.get(url + path, x_forwarded_for="10.0.0.1, 81.2.69.142"),
                (200, JSON, self.expected("Europe/London", "81.2.69.142")),
                path,
            )
            self.assertEqual(
                await self.get(url + path, x_forwarded_for="[2001:4860::8]:4711"),
                (200, JSON, self.expected("America/Sao_Paulo", "2001:4860::8")),
                path,
            )
        self.assertEqual(
            await self.get(url + "api/ip.txt", x_forwarded_for="175.16.199.1"),
            (200, TEXT, self.expected("Asia/Harbin", "175.16.199.1", text=True)),
        )
        self.assertEqual(
            await self.get(url + "api/ip", "HEAD", x_forwarded_for="81.2.69.142"),
            (200, JSON, b""),
        )
        # A client behind the proxy on a private network: unknown.
        self.assertEqual(
            await self.get(url + "api/ip", x_forwarded_for="192.168.1.20"),
            (404, JSON, b'{"error":"unknown location"}'),
        )
        metrics = metricsOf(site)
        assert metrics is not None
        self.assertEqual(
            metrics.registry.get_sample_value(
                "clocksvc_requests_total", {"endpoint": "/api/ip", "status": "200"}
            ),
            6,
        )
        untrusted, _ = self.serve(GeoIP(database(self)))
        self.assertEqual(
            await self.get(untrusted + "api/ip", x_forwarded_for="81.2.69.142"),
            (404, JSON, b'{"error":"unknown location"}'),
        )

    async def test_overIPv6(self) -> None:
        """
        Over IPv6, from a trusted proxy at ::1, C{/api/ip} is for the
        address it forwards; from ::1 itself, unknown.
        """
        url, _ = self.serve(GeoIP(database(self)), ["::1"], interface="::1")
        self.assertEqual(
            await self.get(url + "api/ip", x_forwarded_for="2a02:8100::7"),
            (200, JSON, self.expected("Pacific/Apia", "2a02:8100::7")),
        )
        self.assertEqual(
            await self.get(url + "api/ip.txt", x_forwarded_for="81.2.69.142"),
            (200, TEXT, self.expected("Europe/London", "81.2.69.142", text=True)),
        )
        self.assertEqual(
            await self.get(url + "api/ip"),
            (404, JSON, b'{"error":"unknown location"}'),
        )


class OptionTests(SynchronousTestCase):
    """
    C{--geoip-db} reaches the site; a file that cannot be read is one line
    on standard error and exit status 2.
    """

    def run_(self, *argv: str) -> tuple[Deferred[None], str]:
        """
        Call L{run} with a memory reactor.

        @return: its L{Deferred}, and what it wrote to stderr.
        """
        stdout, stderr = io.StringIO(), io.StringIO()
        self.reactor = MemoryReactorClock()
        keepZoneDatabase(self)
        self.reactor.run()
        d = Deferred.fromCoroutine(run(self.reactor, argv, stdout, stderr))
        return d, stderr.getvalue()

    def test_database(self) -> None:
        """
        The database named reaches the site.
        """
        d, err = self.run_("--geoip-db", database(self))
        self.assertNoResult(d)
        self.assertEqual(err, "clocksvc: serving http://0.0.0.0:8880/\n" + SAID_CORE)
        response = self.successResultOf(
            stubTreq(siteOf(self.reactor).resource).get(
                "http://clock.example/api/ip/81.2.69.142.txt"
            )
        )
        self.assertEqual(response.code, 200)
        body = self.successResultOf(response.content())
        self.assertIn(b"\ntimezone: Europe/London\n", body)

    def test_startingLine(self) -> None:
        """
        At start-up, the service log says whether C{/api/ip} is on, and
        from which file.
        """
        events = capturedEvents(self)
        path = database(self)
        for argv, message, details in [
            ((), "/api/ip is off (501): no --geoip-db", {"geoip_db": None}),
            (("--geoip-db", path), f"/api/ip: zones from {path}", {"geoip_db": path}),
        ]:
            del events[:]
            d, _ = self.run_(*argv)
            self.assertNoResult(d)
            [event] = [event for event in events if event.get("event") == "geoip"]
            self.assertEqual((formatEvent(event), event["details"]), (message, details))

    def test_errors(self) -> None:
        """
        A missing file, or one that is not a MaxMind DB file, stops it with
        one line on stderr and exit status 2, before it listens.
        """
        missing = self.mktemp()
        garbage = Path(self.mktemp())
        garbage.write_bytes(b"GeoLite2-City.mmdb.tar.gz, not the database")
        for path, reason in [
            (missing, f"cannot read {missing!r}: No such file or directory"),
            (str(garbage), f"{str(garbage)!r} is not a MaxMind DB file"),
        ]:
            d, err = self.run_("--geoip-db", path)
            self.assertEqual(self.failureResultOf(d, SystemExit).value.code, 2)
            self.assertTrue(
                err.startswith(f"clocksvc: --geoip-db: {reason}"), (err, reason)
            )
            self.assertTrue(err.endswith(" (see --help)\n"), err)
            self.assertEqual(err.count("\n"), 1, err)
            self.assertEqual(self.reactor.tcpServers, [])

    def test_twist(self) -> None:
        """
        Under C{twist}, the database reaches the site too.
        """
        options = _tap.Options()
        options.parseOptions(
            ["--geoip-db", database(self), "--listen", "tcp:0", "--access-log", "off"]
        )
        memory = MemoryReactorClock()
        keepZoneDatabase(self)
        top = _tap.makeService(options, memory)
        top.startService()
        self.addCleanup(top.stopService)
        response = self.successResultOf(
            stubTreq(siteOf(memory).resource).get(
                "http://clock.example/api/ip/2001:4860::1"
            )
        )
        self.assertEqual(response.code, 200)


class ProcessTests(TestCase):
    """
    C{python -m clocksvc --geoip-db} as a real child process: SIGHUP reads
    the database again, as after geoipupdate's weekly update.
    """

    timeout = 2 * PATIENCE

    async def test_hangup(self) -> None:
        """
        After the file is replaced and SIGHUP sent, C{/api/ip/ADDRESS}
        answers from the new database; the process goes on serving.
        """
        path = database(self)
        process = spawnClocksvc(
            "--listen", "tcp:0:interface=127.0.0.1", "--geoip-db", path
        )

        async def kill() -> None:
            process.signal("KILL")
            await process.exited

        self.addCleanup(lambda: Deferred.fromCoroutine(kill()))
        line = (await process.firstLine).decode()
        self.assertTrue(line.startswith("clocksvc: serving "), process.stderr)
        url = line[len("clocksvc: serving ") :] + "api/ip/81.2.69.142"
        pool = HTTPConnectionPool(reactor, persistent=False)

        async def zone() -> str:
            response = await treq.get(url, pool=pool)
            document: dict[str, Any] = json.loads(await response.content())
            return str(document["timezone"])

        self.assertEqual(await zone(), "Europe/London")
        moved = {**NETWORKS, "81.2.69.0/24": {"location": {"time_zone": "Asia/Tokyo"}}}
        writeDatabase(path, moved)
        process.signal("HUP")
        await eventually(
            lambda: b'"event":"geoip_reloaded"' in process.stdout,
            PATIENCE,
            "the database read again",
        )
        self.assertEqual(await zone(), "Asia/Tokyo")
        process.signal("TERM")
        self.assertEqual(await process.exited, 0)
        # Where it serves, that it stops, and that it has (and whether it
        # runs pure Python): nothing else.
        self.assertEqual(
            len(process.stderr.splitlines()), 3 + SAID_CORE.count("\n"), process.stderr
        )
