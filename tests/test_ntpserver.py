"""
Tests for clocksvc's SNTP server over real UDP sockets on the loopback: its
replies, the rate limit, the drop rules and the no-amplification rule, its
metrics and sampled access lines, and that it says of the clock what the
HTTP answers say, from the one clock state.

Every test waits on events: a client sends what is dropped, then a request
that is answered, from the same socket (or from another address, sent
after), and the loopback delivers them in order, so that the answer
arriving means every datagram before it has been handled.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import cast

from twisted.internet import reactor
from twisted.internet.interfaces import IListeningPort, IReactorUDP
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import ILogObserver, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase, TestCase

from clocksvc import listenNTP
from clocksvc._clock import ClockState
from clocksvc._ntp import (
    HEADER_LENGTH,
    LEAP_INSERT,
    LEAP_NONE,
    LEAP_UNSYNCHRONIZED,
    BatchedPort,
    Policy,
    RateLimit,
    Sample,
    SNTPServer,
    toTimestamp,
)
from clocksvc._time import parseLeapSeconds
from clocksvc._web import buildSite, ntpStatusOf
from clocksvc._web._sntp import NTPAccessLog

from ._helpers import BILLENNIUM, SYNCHRONIZED, UNSYNCHRONIZED, clockAt, stubTreq
from ._ntp import UDPClient, fields, request

URL = "http://127.0.0.1"

# A leap second at the end of September 2001: BILLENNIUM (2001-09-09) is in
# the month before it. (Not a real one: a list written for the test.)
_LEAP_LIST = parseLeapSeconds(
    "Leap\t1972\tJun\t30\t23:59:60\t+\tS\n"
    "Leap\t2001\tSep\t30\t23:59:60\t+\tS\n"
    "#expires 1100000000 (2004-11-09 00:00:00 UTC)\n"
)

#: The UDP reactor, which trial runs.
_udp: IReactorUDP = reactor  # type: ignore[assignment]


class ServerTests(TestCase):
    """
    An SNTP server on 127.0.0.1, its time and its timers on a L{Clock} set
    to L{BILLENNIUM}, so that every timestamp is known and no token of the
    rate limit is earned while a test runs.
    """

    def setUp(self) -> None:
        self.clock = clockAt(BILLENNIUM)
        self.state: ClockState = SYNCHRONIZED
        self.lines: list[str] = []
        self.site = buildSite(
            self.clock, readClock=lambda: self.state, leapSeconds=_LEAP_LIST
        )

    def serve(
        self,
        interface: str = "127.0.0.1",
        rateLimit: RateLimit | None = None,
        **options: object,
    ) -> IListeningPort:
        """
        @return: a server of C{self.site}, listening on port 0 of
            C{interface} until the test ends.
        """
        port = listenNTP(
            0,
            interface,
            reactor=_udp,
            site=self.site,
            rateLimit=rateLimit,
            accessLog=self.lines.append,
            **options,  # type: ignore[arg-type]
        )
        self.addCleanup(port.stopListening)
        return port

    def client(self, server: IListeningPort, interface: str = "127.0.0.1") -> UDPClient:
        """
        @return: a client of C{server}, on port 0 of C{interface}, closed
            when the test ends.
        """
        client = UDPClient(server)
        port = _udp.listenUDP(0, client, interface, 8192)
        self.addCleanup(port.stopListening)
        return client

    def metrics(self) -> dict[str, float]:
        """
        @return: the site's C{clocksvc_ntp_*} samples, by name and labels.
        """
        response = self.successResultOf(
            stubTreq(self.site.resource).get(URL + "/metrics")
        )
        text = self.successResultOf(response.content()).decode()
        found = {}
        for line in text.splitlines():
            if line.startswith("clocksvc_ntp_"):
                name, value = line.rsplit(" ", 1)
                found[name] = float(value)
        return found

    async def test_reply(self) -> None:
        """
        A request gets one reply of 48 bytes: the client's version and poll
        echoed, its transmit timestamp as the origin, the receive and
        transmit timestamps the server's time, stratum 2, the root
        dispersion the kernel's maximum error (1.25 ms, rounded up to
        1/65536 s), the reference when the clock was last read
        synchronized.
        """
        client = self.client(self.serve())
        client.send(request(version=3, poll=7, transmit=12345))
        reply = await client.receivedCount(1)
        self.assertEqual(len(reply), HEADER_LENGTH)
        (
            leap,
            version,
            mode,
            stratum,
            poll,
            precision,
            delay,
            dispersion,
            referenceID,
            reference,
            origin,
            received,
            transmitted,
        ) = fields(reply)
        self.assertEqual(
            (leap, version, mode, stratum, poll, delay, origin),
            (LEAP_INSERT, 3, 4, 2, 7, 0, 12345),
        )
        # A float of the Clock's time, 1e9, resolves 2**-23 s (its last
        # bit), coarser than the system clock's 1 ns: -23.
        self.assertEqual(precision, -23)
        self.assertEqual(dispersion, 82)
        self.assertEqual(referenceID, bytes([127, 127, 1, 1]))
        self.assertEqual(reference, toTimestamp(BILLENNIUM))
        self.assertEqual(received, toTimestamp(BILLENNIUM))
        self.assertEqual(transmitted, toTimestamp(BILLENNIUM))

    async def test_wallClock(self) -> None:
        """
        A wall clock given to L{listenNTP} dates its replies rather than
        the site's; given by its deprecated name, C{clock}, it does the
        same, and warns that C{wallClock} replaces it.
        """
        # A second after the site's clock, so that the dates tell them apart.
        later = toTimestamp(BILLENNIUM + 1)
        for port in [
            self.serve(wallClock=clockAt(BILLENNIUM + 1)),
            self.serve(clock=clockAt(BILLENNIUM + 1)),
        ]:
            client = self.client(port)
            client.send(request(transmit=12345))
            reply = await client.receivedCount(1)
            self.assertEqual(fields(reply)[-2:], (later, later))
        [warning] = self.flushWarnings()
        self.assertEqual(warning["category"], DeprecationWarning)
        self.assertIn("'clock' parameter", warning["message"])
        self.assertIn("please use wallClock instead", warning["message"])

    async def test_ipv6(self) -> None:
        """
        A server on ::1 answers a client on ::1.
        """
        client = self.client(self.serve("::1"), "::1")
        client.send(request())
        reply = await client.receivedCount(1)
        self.assertEqual(fields(reply)[:4], (LEAP_INSERT, 4, 4, 2))

    async def test_dropped(self) -> None:
        """
        Short, malformed, control (modes 6 and 7), non-client and
        wrong-version datagrams get nothing, and are counted by reason.
        """
        client = self.client(self.serve())
        for datagram in [
            b"",
            request()[:47],
            request(extra=b"x"),
            request(transmit=0),
            # ntpq's readvar (12 bytes) and ntpdc's monlist request.
            bytes([0x16, 0x02, 0, 1]) + bytes(8),
            bytes([0x17, 0x00, 0x03, 0x2A]) + bytes(44),
            request(mode=4),
            request(mode=1),
            request(version=5),
        ]:
            client.send(datagram)
        client.send(request())
        await client.receivedCount(1)
        self.assertEqual(len(client.received), 1)
        self.assertEqual(fields(client.received[0])[2], 4)
        samples = self.metrics()
        self.assertEqual(
            {
                reason: samples[f'clocksvc_ntp_dropped_total{{reason="{reason}"}}']
                for reason in ("short", "malformed", "control", "mode", "version")
            },
            {"short": 2, "malformed": 2, "control": 2, "mode": 2, "version": 1},
        )
        self.assertEqual(samples["clocksvc_ntp_requests_total"], 10)
        self.assertEqual(samples["clocksvc_ntp_replies_total"], 1)

    async def test_noAmplification(self) -> None:
        """
        Requests of every length from 48 bytes up are answered with 48:
        never more than they sent.
        """
        client = self.client(self.serve())
        lengths = [48, 52, 68, 72, 120, 1000]
        for length in lengths:
            client.send(request(extra=bytes(length - HEADER_LENGTH)))
        await client.receivedCount(len(lengths))
        self.assertEqual(
            [len(reply) for reply in client.received], [HEADER_LENGTH] * len(lengths)
        )

    async def test_rateLimit(self) -> None:
        """
        An address over its limit (a burst of 3) gets its burst answered,
        one C{RATE} kiss-o'-death, then nothing; another address is
        answered all the while; and all is counted.
        """
        server = self.serve(rateLimit=RateLimit(1.0, 3.0))
        greedy = self.client(server)
        other = self.client(server, "127.0.0.2")
        for transmit in range(1, 7):
            greedy.send(request(transmit=transmit))
        other.send(request())
        await other.receivedCount(1)
        self.assertEqual(len(greedy.received), 4)
        replies = [fields(reply) for reply in greedy.received]
        self.assertEqual(
            [(reply[0], reply[3], reply[10]) for reply in replies[:3]],
            [(LEAP_INSERT, 2, 1), (LEAP_INSERT, 2, 2), (LEAP_INSERT, 2, 3)],
        )
        kiss = replies[3]
        self.assertEqual(
            (kiss[0], kiss[3], kiss[8], kiss[10], kiss[11], kiss[12]),
            (LEAP_UNSYNCHRONIZED, 0, b"RATE", 4, 4, 4),
        )
        samples = self.metrics()
        self.assertEqual(samples["clocksvc_ntp_replies_total"], 4)
        self.assertEqual(samples["clocksvc_ntp_kod_total"], 1)
        self.assertEqual(samples['clocksvc_ntp_dropped_total{reason="rate"}'], 2)
        # One later, once a token is earned: answered again.
        self.clock.advance(1)
        greedy.send(request(transmit=7))
        reply = await greedy.receivedCount(5)
        self.assertEqual(fields(reply)[3], 2)

    async def test_unsynchronized(self) -> None:
        """
        With the clock unsynchronized, replies say so as chrony does: leap
        indicator 3, stratum 0; and C{/healthz} says the server does not
        serve the time.
        """
        self.state = UNSYNCHRONIZED
        client = self.client(self.serve())
        client.send(request())
        reply = fields(await client.receivedCount(1))
        self.assertEqual((reply[0], reply[3]), (LEAP_UNSYNCHRONIZED, 0))
        health = await self.health()
        self.assertEqual(
            health["ntp"],
            {
                "listening": [self.listening()],
                "serving": False,
                "stratum": 0,
                "leap_indicator": 3,
            },
        )

    async def test_localStratum(self) -> None:
        """
        With a local stratum, an unsynchronized clock is served at it.
        """
        self.state = UNSYNCHRONIZED
        client = self.client(self.serve(localStratum=9))
        client.send(request())
        reply = fields(await client.receivedCount(1))
        self.assertEqual((reply[0], reply[3]), (LEAP_INSERT, 9))

    def listening(self) -> str:
        """
        @return: where the site's one server listens, as C{/healthz} says.
        """
        status = ntpStatusOf(self.site).asJSON()
        assert status is not None
        listening = status["listening"]
        assert isinstance(listening, list)
        return str(listening[0])

    async def health(self) -> dict[str, object]:
        """
        @return: the site's C{/healthz}.
        """
        response = await stubTreq(self.site.resource).get(URL + "/healthz")
        body: dict[str, object] = json.loads(await response.content())
        return body

    async def test_oneClockState(self) -> None:
        """
        SNTP, C{Clock-Status} and C{/healthz} change together when the
        clock's state does: they read the one L{ClockHealth}.
        """
        client = self.client(self.serve())
        client.send(request())
        synchronized = fields(await client.receivedCount(1))
        response = await stubTreq(self.site.resource).get(URL + "/now.json")
        self.assertEqual(
            (synchronized[0], response.headers.getRawHeaders(b"clock-status")),
            (LEAP_INSERT, [b"sync=?1, max-error=1.25"]),
        )
        self.state = UNSYNCHRONIZED
        # The state is read again a second later, for every answer at once.
        self.clock.advance(1)
        client.send(request())
        unsynchronized = fields(await client.receivedCount(2))
        response = await stubTreq(self.site.resource).get(URL + "/now.json")
        health = await self.health()
        self.assertEqual(
            (
                unsynchronized[0],
                response.headers.getRawHeaders(b"clock-status"),
                health["ntp"]["serving"],  # type: ignore[index]
                health["clock"]["synchronized"],  # type: ignore[index]
            ),
            (LEAP_UNSYNCHRONIZED, [b"sync=?0, max-error=16000.0"], False, False),
        )

    async def test_leapIndicator(self) -> None:
        """
        The leap indicator warns of a leap second through the month that it
        ends, and not before: with no leap second this month, 0.
        """
        client = self.client(self.serve())
        client.send(request())
        self.assertEqual(fields(await client.receivedCount(1))[0], LEAP_INSERT)
        # 2001-08-30, on a wall clock of its own: the month before. (The
        # timers, which never go back, stay where they are.)
        self.site = buildSite(
            clockAt(BILLENNIUM - 10 * 86400),
            readClock=lambda: self.state,
            leapSeconds=_LEAP_LIST,
            timers=self.clock,
        )
        client = self.client(self.serve())
        client.send(request())
        self.assertEqual(fields(await client.receivedCount(1))[0], LEAP_NONE)

    async def test_sampledLog(self) -> None:
        """
        The access log gets one line for the first datagram, then one in
        each 10 s, which counts the datagrams it stands for.
        """
        client = self.client(self.serve())
        for _ in range(3):
            client.send(request())
        await client.receivedCount(3)
        self.clock.advance(10)
        client.send(request(version=3))
        await client.receivedCount(4)
        self.assertEqual(
            [json.loads(line) for line in self.lines],
            [
                {
                    "time": "2001-09-09T01:46:40.000+00:00",
                    "client": "127.0.0.1",
                    "protocol": "ntp",
                    "version": 4,
                    "outcome": "reply",
                    "stratum": 2,
                    "leap": 1,
                    "sampled": 1,
                },
                {
                    "time": "2001-09-09T01:46:50.000+00:00",
                    "client": "127.0.0.1",
                    "protocol": "ntp",
                    "version": 3,
                    "outcome": "reply",
                    "stratum": 2,
                    "leap": 1,
                    "sampled": 3,
                },
            ],
        )

    async def test_latency(self) -> None:
        """
        The time from receive to transmit is a histogram in C{/metrics}:
        0 on a Clock that does not move.
        """
        client = self.client(self.serve())
        client.send(request())
        await client.receivedCount(1)
        samples = self.metrics()
        self.assertEqual(samples["clocksvc_ntp_reply_seconds_count"], 1)
        self.assertEqual(samples['clocksvc_ntp_reply_seconds_bucket{le="1e-06"}'], 1)
        self.assertEqual(samples["clocksvc_ntp_reply_seconds_sum"], 0)

    def test_onePolicy(self) -> None:
        """
        The servers of one site serve with one policy: another stratum is a
        ValueError.
        """
        self.serve()
        self.assertRaises(ValueError, self.serve, stratum=4)

    def test_ownSite(self) -> None:
        """
        Without a site, L{listenNTP} makes one of its own, on the reactor's
        clock.
        """
        port = listenNTP(0, "127.0.0.1", reactor=_udp)
        self.addCleanup(port.stopListening)
        self.assertEqual(port.getHost().host, "127.0.0.1")  # type: ignore[attr-defined]


class TwistedPortTests(TestCase):
    """
    What the server relies on in Twisted's UDP port.
    """

    def test_socket(self) -> None:
        """
        Twisted's UDP port has the socket it reads from, with C{sendto},
        which the server writes its replies to directly (its C{write}
        parses the address again for each datagram).
        """
        port = _udp.listenUDP(0, DatagramProtocol(), "127.0.0.1", 8192)
        self.addCleanup(port.stopListening)
        self.assertTrue(
            callable(getattr(getattr(port, "socket", None), "sendto", None))
        )

    def test_batchedPort(self) -> None:
        """
        On Linux, L{listenNTP} reads with the batched port, which writes a
        batch's replies itself.
        """
        port = listenNTP(0, "127.0.0.1", reactor=_udp)
        self.addCleanup(port.stopListening)
        self.assertIsInstance(port, BatchedPort)


class _FullSocket:
    """
    A transport whose socket's buffer is full.
    """

    def write(self, datagram: bytes, address: object) -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")


class EdgeTests(SynchronousTestCase):
    """
    What happens off the usual path.
    """

    def test_unsent(self) -> None:
        """
        A reply the socket will not take is counted as C{unsent}, not
        raised to the reactor.
        """
        header = Policy().header(True, 0.001, BILLENNIUM, 0)
        clock = clockAt(BILLENNIUM)
        server = SNTPServer(lambda: header, clock, clock)
        server.makeConnection(_FullSocket())  # type: ignore[arg-type]
        server.datagramReceived(request(), ("127.0.0.1", 123))
        self.assertEqual(server.counters.outcomes["unsent"], 1)
        self.assertEqual(server.counters.outcomes["reply"], 0)

    def test_batch(self) -> None:
        """
        A batch is answered as its datagrams would be one by one: a reply
        to each request, a kiss-o'-death past the limit, nothing to the
        rest; all stamped received when the batch came and transmitted
        once, just before the one write; and what the write did not take
        is counted C{unsent}.
        """
        header = Policy().header(True, 0.001, BILLENNIUM, 0)
        clock = clockAt(BILLENNIUM)
        server = SNTPServer(lambda: header, clock, clock, RateLimit(burst=1))
        written: list[list[tuple[int, bytes]]] = []

        def write(replies: Sequence[tuple[int, bytes]]) -> int:
            written.append(list(replies))
            return 2

        a, b = ("192.0.2.1", 123), ("192.0.2.2", 123)
        server.batchReceived(
            [
                (request(transmit=1), a),
                (b"short", a),
                (request(transmit=2), a),
                (request(mode=6), b),
                (request(transmit=3), b),
                (request(transmit=4), a),
            ],
            write,
        )
        [replies] = written
        self.assertEqual([index for index, _ in replies], [0, 2, 4])
        self.assertEqual(
            [fields(reply)[10] for _, reply in replies],
            [1, 2, 3],
        )
        # The second to a: a kiss-o'-death (stratum 0, "RATE").
        self.assertEqual(fields(replies[1][1])[3], 0)
        self.assertEqual(fields(replies[1][1])[8], b"RATE")
        outcomes = {k: v for k, v in server.counters.outcomes.items() if v}
        self.assertEqual(
            outcomes,
            {"reply": 1, "kiss": 1, "short": 1, "control": 1, "rate": 1, "unsent": 1},
        )

    def test_sampleEvent(self) -> None:
        """
        Without a writer, a sampled datagram is an event of the
        C{clocksvc.ntp} namespace, with the line's fields.
        """
        events: list[dict[str, object]] = []
        # A callable of an event is what an observer is; the interface is
        # only declared by classes.
        observer = cast(ILogObserver, events.append)
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        NTPAccessLog()(Sample(BILLENNIUM, "192.0.2.1", 4, "reply", 2, 0, 7))
        [event] = [e for e in events if e.get("log_namespace") == "clocksvc.ntp"]
        self.assertEqual(
            {key: event[key] for key in ("client", "outcome", "sampled", "when")},
            {
                "client": "192.0.2.1",
                "outcome": "reply",
                "sampled": 7,
                "when": BILLENNIUM,
            },
        )
