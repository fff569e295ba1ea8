"""
Tests for L{clocksvc._http._h2}: HTTP/2, which ALPN negotiates over TLS,
held to the same L{Limits} as HTTP/1.1.

The frame-level tests serve clocksvc's site on an C{ssl:} endpoint of this
process and speak to it with L{RawH2}, a client that sends whatever frames
it is given (the CONTINUATION flood of 2024, a header list beyond the size
advertised, a request that never ends), from a worker thread.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from h2.errors import ErrorCodes
from h2.settings import SettingCodes
from hpack import Decoder
from hyperframe.frame import (
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    PriorityFrame,
    RstStreamFrame,
    SettingsFrame,
)
from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IAddress, IListeningPort
from twisted.internet.task import Clock, deferLater
from twisted.internet.testing import StringTransport
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase
from twisted.web import http

from clocksvc._http import ClockSite, Limits
from clocksvc._web._site import buildSite

from ._rawh2 import (
    GET_NOW,
    PREFACE,
    RawH2,
    Received,
    continuation,
    data,
    ended,
    headers,
    wentAway,
)
from ._tls import TLS_MISSING, makeCredentials

try:
    from clocksvc._http._h2 import (
        MAX_FRAME_SIZE,
        ClockH2Connection,
        FrameWatch,
        headRefusal,
    )
except ImportError as e:  # pragma: no cover (the h2 package is missing)
    H2_MISSING: str | None = f"HTTP/2 needs the h2 package: {e}"
else:
    H2_MISSING = None

T = TypeVar("T")

#: The fields of a POST to /timesync, whose body is still to come.
POST = [
    (b":method", b"POST"),
    (b":scheme", b"https"),
    (b":authority", b"localhost"),
    (b":path", b"/timesync"),
    (b"content-type", b"application/json"),
]


def _field(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    return (name, value)


def _reset(received: Received, stream: int) -> bool:
    """
    @return: whether the server reset C{stream}.
    """
    response = received.responses().get(stream)
    return response is not None and response.reset is not None


class _Served:
    """
    clocksvc's site on an C{ssl:} endpoint of 127.0.0.1.

    @ivar site: the site.
    @ivar port: its port number.
    @ivar caFile: the CA a client trusts.
    @ivar received: how many bytes the server has read from its clients,
        after TLS.
    """

    def __init__(self, site: ClockSite, port: int, caFile: str) -> None:
        self.site = site
        self.port = port
        self.caFile = caFile
        self.received = 0

    def client(self) -> RawH2:
        """
        @return: a new connection, preface not yet sent.
        """
        return RawH2(self.port, self.caFile)


class HTTP2Tests(TestCase):
    """
    HTTP/2 over a real TLS socket, held to the limits.
    """

    timeout = 30

    def setUp(self) -> None:
        if TLS_MISSING is not None:
            raise SkipTest(TLS_MISSING)
        if H2_MISSING is not None or not http.H2_ENABLED:
            raise SkipTest("the h2 package is not installed")
        self.credentials = makeCredentials(self.mktemp())

    async def serve(self, limits: Limits | None = None) -> _Served:
        """
        Serve clocksvc on the real clock with C{limits} (by default, the
        defaults) until the test ends, and count what it reads.
        """
        site = buildSite(reactor, limits=limits)
        endpoint = serverFromString(reactor, self.credentials.endpoint())
        port: IListeningPort = await endpoint.listen(site)
        address = port.getHost()
        assert isinstance(address, IPv4Address)
        served = _Served(site, address.port, self.credentials.caFile)
        build = site.buildProtocol

        def counting(addr: IAddress | None) -> Any:
            # Count each byte the connection is handed, under TLS.
            protocol = build(addr)
            received = protocol.dataReceived

            def dataReceived(data: bytes) -> None:
                served.received += len(data)
                received(data)

            protocol.dataReceived = dataReceived
            return protocol

        site.buildProtocol = counting  # type: ignore[method-assign]

        async def settled() -> None:
            # Wait for the server's side of every connection to close.
            deadline = time.monotonic() + 20
            while site.openConnections and time.monotonic() < deadline:
                await deferLater(reactor, 0.01)

        self.addCleanup(settled)
        self.addCleanup(port.stopListening)
        return served

    async def talk(self, served: _Served, exchange: Callable[[RawH2], T]) -> T:
        """
        Connect, run C{exchange} in a worker thread, and close.
        """

        def run() -> T:
            client = served.client()
            try:
                return exchange(client)
            finally:
                client.close()

        return await deferToThread(run)

    async def metric(self, served: _Served, status: int) -> float:
        """
        @return: how many requests C{/metrics} says were refused with
            C{status}, asked over HTTP/2.
        """

        def ask(client: RawH2) -> Received:
            path = [*GET_NOW[:3], (b":path", b"/metrics")]
            client.send(PREFACE, headers(1, client.block(path)))
            return client.receive(ended(1))

        text = (await self.talk(served, ask)).responses()[1].body.decode()
        found = re.search(
            rf'^clocksvc_refused_requests_total{{status="{status}"}} (\S+)$',
            text,
            re.MULTILINE,
        )
        return 0.0 if found is None else float(found.group(1))

    async def test_get(self) -> None:
        """
        C{GET /now} over HTTP/2 is answered with the time document, and the
        server's SETTINGS advertise the limits.
        """
        served = await self.serve(Limits(maxStreams=7))

        def exchange(client: RawH2) -> Received:
            client.send(PREFACE, headers(1, client.block(GET_NOW)))
            return client.receive(ended(1))

        received = await self.talk(served, exchange)
        response = received.responses()[1]
        self.assertEqual(response.status, 200)
        self.assertIn(b'"client_ip":"127.0.0.1"', response.body)
        settings = next(
            frame
            for frame in received.frames
            if isinstance(frame, SettingsFrame) and "ACK" not in frame.flags
        )
        # 16384 + 32 * (100 + 5): see Limits.headerListSize.
        self.assertEqual(
            (
                settings.settings[SettingCodes.MAX_CONCURRENT_STREAMS],
                settings.settings[SettingCodes.MAX_HEADER_LIST_SIZE],
            ),
            (7, 19744),
        )

    async def test_encoderTable(self) -> None:
        """
        The server keeps at most 4 KiB of its answers' fields for a
        connection (HPACK's dynamic table), however much its client offers.
        """
        served = await self.serve()
        offered = 1024 * 1024

        def exchange(client: RawH2) -> Received:
            settings = SettingsFrame(
                0, settings={SettingCodes.HEADER_TABLE_SIZE: offered}
            )
            client.send(
                PREFACE[:24],
                settings.serialize(),
                headers(1, client.block(GET_NOW)),
            )
            return client.receive(ended(1))

        received = await self.talk(served, exchange)
        decoder = Decoder()
        decoder.max_allowed_table_size = offered
        for frame in received.frames:
            if isinstance(frame, HeadersFrame):
                decoder.decode(frame.data)
        self.assertEqual(decoder.header_table_size, 4096)

    async def test_continuationFlood(self) -> None:
        """
        A C{HEADERS} frame without C{END_HEADERS}, followed by CONTINUATION
        frames of 16 KiB (the 2024 "CONTINUATION flood"), is cut off with
        C{GOAWAY} (C{ENHANCE_YOUR_CALM}) at the second: the server reads a
        few frames of the 40 MB, and counts a 431.
        """
        served = await self.serve()
        fragment = continuation(1, b"\x00" * MAX_FRAME_SIZE)

        def flood() -> Iterator[bytes]:
            for _ in range(40 * 1024 * 1024 // MAX_FRAME_SIZE):
                yield fragment

        def exchange(client: RawH2) -> tuple[Received, int]:
            block = client.block(GET_NOW)
            client.send(PREFACE, headers(1, block, endHeaders=False))
            client.send(fragment, fragment)
            received = client.receive(wentAway)
            # Then the rest of the 40 MB: the server reads little more.
            return received, client.sendAll(flood())

        received, sent = await self.talk(served, exchange)
        goaway = received.goaway()
        assert goaway is not None, received.frames
        self.assertEqual(goaway.error_code, ErrorCodes.ENHANCE_YOUR_CALM)
        self.assertLess(sent, 40 * 1024 * 1024)
        # At most: the preface and HEADERS, the two CONTINUATION frames, and
        # what the server reads once it is ending (64 KiB, and a TLS read of
        # 32 KiB more).
        self.assertLess(served.received, 200_000)
        self.assertEqual(await self.metric(served, 431), 1.0)

    async def test_manyFields(self) -> None:
        """
        A request with 500 header fields, within the header list size
        advertised, is answered 431, as over HTTP/1.1; the connection goes
        on.
        """
        served = await self.serve()

        def exchange(client: RawH2) -> Received:
            fields = [*GET_NOW, *(_field(b"h%d" % i, b"v") for i in range(500))]
            client.send(
                PREFACE,
                headers(1, client.block(fields)),
                headers(3, client.block(GET_NOW)),
            )
            return client.receive(lambda r: ended(1)(r) and ended(3)(r))

        responses = (await self.talk(served, exchange)).responses()
        self.assertEqual(responses[1].status, 431)
        self.assertEqual(responses[1].body, b"431 Request Header Fields Too Large\n")
        self.assertEqual(responses[3].status, 200)
        self.assertEqual(await self.metric(served, 431), 1.0)

    async def test_longValue(self) -> None:
        """
        A request with one 60 KB header value, beyond the header list size
        advertised, ends the connection with C{GOAWAY}
        (C{ENHANCE_YOUR_CALM}).
        """
        served = await self.serve()

        def exchange(client: RawH2) -> Received:
            block = client.block([*GET_NOW, (b"x-long", b"a" * 60_000)])
            chunks = [
                block[i : i + MAX_FRAME_SIZE]
                for i in range(0, len(block), MAX_FRAME_SIZE)
            ]
            frames = [headers(1, chunks[0], endHeaders=False)]
            frames += [continuation(1, chunk) for chunk in chunks[1:-1]]
            frames.append(continuation(1, chunks[-1], endHeaders=True))
            client.send(PREFACE, *frames)
            return client.receive()

        received = await self.talk(served, exchange)
        goaway = received.goaway()
        assert goaway is not None, received.frames
        self.assertEqual(goaway.error_code, ErrorCodes.ENHANCE_YOUR_CALM)
        self.assertNotIn(1, received.responses())
        self.assertTrue(received.closed)

    async def test_headerBomb(self) -> None:
        """
        A header block small enough that decodes to a list beyond the size
        advertised (as Huffman coding makes a long run of one letter) ends
        the connection with C{GOAWAY} (C{ENHANCE_YOUR_CALM}), counted 431.
        """
        served = await self.serve()

        def exchange(client: RawH2) -> Received:
            block = client.block([*GET_NOW, (b"x-bomb", b"a" * 30_000)])
            # 'a' is five bits in HPACK's Huffman code.
            assert len(block) < 19744
            client.send(
                PREFACE,
                headers(1, block[:MAX_FRAME_SIZE], endHeaders=False),
                continuation(1, block[MAX_FRAME_SIZE:], endHeaders=True),
            )
            return client.receive()

        received = await self.talk(served, exchange)
        goaway = received.goaway()
        assert goaway is not None, received.frames
        self.assertEqual(goaway.error_code, ErrorCodes.ENHANCE_YOUR_CALM)
        self.assertEqual(await self.metric(served, 431), 1.0)

    async def test_longField(self) -> None:
        """
        A field whose line would be over 8 KiB over HTTP/1.1 is answered 431,
        and a C{:path} over it 414, as over HTTP/1.1; the answer to a
        C{HEAD} has no body.
        """
        served = await self.serve()

        def exchange(client: RawH2) -> Received:
            head = [(b":method", b"HEAD"), *GET_NOW[1:]]
            client.send(
                PREFACE,
                headers(1, client.block([*GET_NOW, (b"x-long", b"a" * 9000)])),
                headers(3, client.block([*GET_NOW[:3], (b":path", b"/" * 9000)])),
                headers(5, client.block([*head, (b"x-long", b"a" * 9000)])),
            )
            return client.receive(lambda r: all(ended(s)(r) for s in (1, 3, 5)))

        responses = (await self.talk(served, exchange)).responses()
        statuses = [responses[stream].status for stream in (1, 3, 5)]
        self.assertEqual(statuses, [431, 414, 431])
        self.assertEqual(responses[3].body, b"414 Request-URI Too Long\n")
        self.assertEqual(responses[5].body, b"")

    async def test_headerDeadline(self) -> None:
        """
        A client that starts a header block and sends no more is cut off
        with C{GOAWAY} once the header timeout has passed, not the idle
        timeout, and a 408 is counted.
        """
        served = await self.serve(Limits(headerTimeout=1, idleTimeout=60))

        def exchange(client: RawH2) -> Received:
            block = client.block(GET_NOW)
            client.send(PREFACE, headers(1, block[:5], endHeaders=False))
            return client.receive(seconds=10)

        received = await self.talk(served, exchange)
        goaway = received.goaway()
        assert goaway is not None, received.frames
        self.assertEqual(goaway.error_code, ErrorCodes.ENHANCE_YOUR_CALM)
        self.assertTrue(received.closed)
        self.assertGreater(received.seconds, 0.9)
        self.assertLess(received.seconds, 8)
        self.assertEqual(await self.metric(served, 408), 1.0)

    async def test_prefaceDeadline(self) -> None:
        """
        A client that starts the connection preface and sends no more is
        cut off once the header timeout from connecting has passed.
        """
        served = await self.serve(Limits(headerTimeout=1, idleTimeout=60))

        def exchange(client: RawH2) -> Received:
            client.send(PREFACE[:10])
            return client.receive(seconds=10)

        received = await self.talk(served, exchange)
        self.assertTrue(received.closed)
        self.assertLess(received.seconds, 8)

    async def test_bodyDeadline(self) -> None:
        """
        A request whose body has not all come within the header timeout of
        its head is answered 408, and its stream reset; the connection goes
        on.
        """
        served = await self.serve(Limits(headerTimeout=1, idleTimeout=60))

        def exchange(client: RawH2) -> Received:
            client.send(
                PREFACE,
                headers(1, client.block(POST), endStream=False),
                data(1, b'{"jsonrpc"'),
            )
            first = client.receive(ended(1), seconds=10)
            client.send(headers(3, client.block(GET_NOW)))
            client.receive(ended(3))
            return first

        received = await self.talk(served, exchange)
        responses = received.responses()
        self.assertEqual(responses[1].status, 408)
        self.assertEqual(responses[3].status, 200)
        self.assertGreater(received.seconds, 0.9)
        self.assertEqual(await self.metric(served, 408), 1.0)

    async def test_refusedBodyDeadline(self) -> None:
        """
        A request refused before its body has all come is answered at once;
        its stream, on which the client may still send, is reset at its
        deadline.
        """
        served = await self.serve(Limits(headerTimeout=1, idleTimeout=60))

        def exchange(client: RawH2) -> Received:
            fields = [*POST, (b"x-long", b"a" * 9000)]
            client.send(PREFACE, headers(1, client.block(fields), endStream=False))
            return client.receive(lambda r: ended(1)(r) and _reset(r, 1))

        response = (await self.talk(served, exchange)).responses()[1]
        self.assertEqual((response.status, response.ended), (431, True))
        self.assertEqual(response.reset, ErrorCodes.NO_ERROR)

    async def test_bodyLimit(self) -> None:
        """
        A body is answered 413 as soon as it passes C{maxBodySize}, before
        it ends; the rest of it is dropped, and the stream's window is not
        opened again.
        """
        served = await self.serve(Limits(maxBodySize=1000))

        def exchange(client: RawH2) -> Received:
            client.send(
                PREFACE,
                headers(1, client.block(POST), endStream=False),
                data(1, b"x" * 600),
                data(1, b"x" * 600),
            )
            client.receive(ended(1))
            client.send(data(1, b"x" * 600), data(1, b"", endStream=True))
            client.send(headers(3, client.block(GET_NOW)))
            return client.receive(ended(3))

        received = await self.talk(served, exchange)
        responses = received.responses()
        self.assertEqual(responses[1].status, 413)
        self.assertEqual(responses[1].body, b"413 Request Entity Too Large\n")
        self.assertEqual(responses[3].status, 200)
        self.assertEqual(await self.metric(served, 413), 1.0)

    async def test_contentLength(self) -> None:
        """
        A C{Content-Length} over C{maxBodySize} is answered 413 at once,
        before any of the body comes.
        """
        served = await self.serve(Limits(maxBodySize=1000))

        def exchange(client: RawH2) -> Received:
            fields = [*POST, (b"content-length", b"5000")]
            client.send(PREFACE, headers(1, client.block(fields), endStream=False))
            return client.receive(ended(1))

        response = (await self.talk(served, exchange)).responses()[1]
        self.assertEqual(response.status, 413)

    async def test_maxStreams(self) -> None:
        """
        A client that opens more streams at once than C{maxStreams} is cut
        off.
        """
        served = await self.serve(Limits(maxStreams=3))

        def exchange(client: RawH2) -> Received:
            block = client.block(POST)
            opened = [headers(s, block, endStream=False) for s in (1, 3, 5, 7)]
            client.send(PREFACE, *opened)
            return client.receive()

        goaway = (await self.talk(served, exchange)).goaway()
        assert goaway is not None
        self.assertEqual(goaway.error_code, ErrorCodes.PROTOCOL_ERROR)

    async def test_rapidReset(self) -> None:
        """
        A client that resets stream after stream, each as soon as it asked
        ("rapid reset", CVE-2023-44487), is cut off with C{GOAWAY}
        (C{ENHANCE_YOUR_CALM}) once it has reset C{maxStreams} (100) streams
        faster than C{maxResetsPerSecond} (10 a second); it is counted as
        429.
        """
        served = await self.serve()

        def exchange(client: RawH2) -> Received:
            block = client.block(GET_NOW)
            chunks = [PREFACE]
            for stream in range(1, 600, 2):
                chunks.append(headers(stream, block))
                chunks.append(RstStreamFrame(stream, error_code=8).serialize())
            client.send(b"".join(chunks))
            return client.receive(wentAway)

        goaway = (await self.talk(served, exchange)).goaway()
        assert goaway is not None
        self.assertEqual(goaway.error_code, ErrorCodes.ENHANCE_YOUR_CALM)
        self.assertEqual(await self.metric(served, 429), 1.0)

    async def test_drain(self) -> None:
        """
        A drain closes an idle HTTP/2 connection at once, with C{GOAWAY}
        (C{NO_ERROR}).
        """
        served = await self.serve()
        answered = threading.Event()

        def exchange(client: RawH2) -> Received:
            client.send(PREFACE, headers(1, client.block(GET_NOW)))
            client.receive(ended(1))
            answered.set()
            return client.receive(seconds=10)

        talked = Deferred.fromCoroutine(self.talk(served, exchange))
        while not answered.is_set():
            await deferLater(reactor, 0.01)
        started = time.monotonic()
        await served.site.drain()
        self.assertLess(time.monotonic() - started, 5)
        received = await talked
        goaway = received.goaway()
        assert goaway is not None
        self.assertEqual(goaway.error_code, ErrorCodes.NO_ERROR)
        self.assertTrue(received.closed)

    async def test_pingFlood(self) -> None:
        """
        A client that sends PINGs and does not read their answers is
        aborted once 17 KiB of answers wait (Twisted's bound), and counted
        as 429.
        """
        served = await self.serve()

        def exchange(client: RawH2) -> int:
            pings = PingFrame(0, opaque_data=b"12345678").serialize() * 4096
            client.send(PREFACE)
            return client.sendAll(pings for _ in range(2000))

        sent = await self.talk(served, exchange)
        self.assertLess(sent, 2000 * 4096 * 17)
        self.assertEqual(await self.metric(served, 429), 1.0)

    async def test_priorities(self) -> None:
        """
        PRIORITY frames naming thousands of streams are ignored, rather than
        growing Twisted's priority tree until it raises.
        """
        served = await self.serve()

        def exchange(client: RawH2) -> Received:
            priorities = b"".join(
                PriorityFrame(stream, depends_on=0, stream_weight=16).serialize()
                for stream in range(1, 2400, 2)
            )
            client.send(PREFACE, priorities, headers(2401, client.block(GET_NOW)))
            return client.receive(ended(2401))

        response = (await self.talk(served, exchange)).responses()[2401]
        self.assertEqual(response.status, 200)
        self.assertEqual(self.flushLoggedErrors(), [])

    async def test_frameTooLarge(self) -> None:
        """
        A frame announced over 16 KiB ends the connection with C{GOAWAY}
        (C{FRAME_SIZE_ERROR}) at its header, rather than once all of it has
        come and been kept.
        """
        served = await self.serve()

        def exchange(client: RawH2) -> Received:
            # A DATA frame of 16 MiB - 1 on stream 1; only its start is sent.
            header = b"\xff\xff\xff\x00\x00\x00\x00\x00\x01"
            client.send(PREFACE, header + b"x" * 10000)
            return client.receive()

        received = await self.talk(served, exchange)
        goaway = received.goaway()
        assert goaway is not None
        self.assertEqual(goaway.error_code, ErrorCodes.FRAME_SIZE_ERROR)
        self.assertTrue(received.closed)

    async def test_badPreface(self) -> None:
        """
        A client whose preface is wrong is cut off, and counted as 400.
        """
        served = await self.serve()

        def exchange(client: RawH2) -> Received:
            client.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            return client.receive()

        received = await self.talk(served, exchange)
        self.assertTrue(received.closed)
        self.assertEqual(await self.metric(served, 400), 1.0)

    async def test_idle(self) -> None:
        """
        A connection with no request under way is closed after the idle
        timeout, with C{GOAWAY} (C{NO_ERROR}), however many PINGs its client
        sends.
        """
        served = await self.serve(Limits(idleTimeout=1))

        def exchange(client: RawH2) -> Received:
            client.send(PREFACE)
            # The idle time runs from the last answer, not from connecting.
            time.sleep(0.5)
            client.send(headers(1, client.block(GET_NOW)))
            client.receive(ended(1))
            start = time.monotonic()
            while time.monotonic() - start < 10:
                client.send(PingFrame(0, opaque_data=b"12345678").serialize())
                received = client.receive(wentAway, seconds=0.2)
                if received.closed or received.goaway() is not None:
                    break
            return Received(received.frames, received.closed, time.monotonic() - start)

        received = await self.talk(served, exchange)
        goaway = received.goaway()
        assert goaway is not None
        self.assertEqual(goaway.error_code, ErrorCodes.NO_ERROR)
        self.assertGreater(received.seconds, 0.9)
        self.assertLess(received.seconds, 8)

    async def test_eventStream(self) -> None:
        """
        An event stream is a request under way: the idle timeout does not
        close its connection.
        """
        served = await self.serve(Limits(idleTimeout=1.5))

        def exchange(client: RawH2) -> Received:
            path = [*GET_NOW[:3], (b":path", b"/stream")]
            client.send(PREFACE, headers(1, client.block(path)))
            return client.receive(seconds=3.5)

        received = await self.talk(served, exchange)
        self.assertFalse(received.closed)
        self.assertIsNone(received.goaway())
        ticks = received.responses()[1].body.count(b"event: tick\n")
        self.assertGreaterEqual(ticks, 2)

    async def test_stalled(self) -> None:
        """
        A client that lets nothing be sent to it (a window of 0) while its
        request is under way is cut off after the idle timeout of no
        traffic, with C{GOAWAY} (C{PROTOCOL_ERROR}), and the connection
        closes, rather than once Twisted aborts it.
        """
        served = await self.serve(Limits(idleTimeout=1))

        def exchange(client: RawH2) -> Received:
            shut = SettingsFrame(0, settings={SettingCodes.INITIAL_WINDOW_SIZE: 0})
            path = [*GET_NOW[:3], (b":path", b"/stream")]
            client.send(PREFACE[:24], shut.serialize(), headers(1, client.block(path)))
            return client.receive(seconds=10)

        received = await self.talk(served, exchange)
        goaway = received.goaway()
        assert goaway is not None
        self.assertEqual(goaway.error_code, ErrorCodes.PROTOCOL_ERROR)
        self.assertTrue(received.closed)
        self.assertLess(received.seconds, 6)

    async def test_clientGoaway(self) -> None:
        """
        A client that says GOAWAY has its connection closed.
        """
        served = await self.serve()

        def exchange(client: RawH2) -> Received:
            client.send(PREFACE, GoAwayFrame(0, last_stream_id=0).serialize())
            return client.receive(seconds=10)

        received = await self.talk(served, exchange)
        self.assertTrue(received.closed)
        self.assertLess(received.seconds, 5)

    async def test_drainEventStreams(self) -> None:
        """
        A drain ends the event streams of an HTTP/2 connection with their
        last event, and each stream, before its C{GOAWAY}.
        """
        served = await self.serve()
        streaming = threading.Event()

        def exchange(client: RawH2) -> Received:
            path = [*GET_NOW[:3], (b":path", b"/stream")]
            client.send(
                PREFACE,
                headers(1, client.block(path)),
                headers(3, client.block(path)),
            )
            client.receive(lambda r: 1 in r.responses() and 3 in r.responses())
            streaming.set()
            return client.receive(seconds=10)

        talked = Deferred.fromCoroutine(self.talk(served, exchange))
        while not streaming.is_set():
            await deferLater(reactor, 0.01)
        await served.site.drain()
        received = await talked
        responses = received.responses()
        for stream in (1, 3):
            self.assertTrue(responses[stream].ended, stream)
            self.assertIn(b"event: shutdown\n", responses[stream].body)
        goaway = received.goaway()
        assert goaway is not None
        self.assertEqual(goaway.error_code, ErrorCodes.NO_ERROR)
        self.assertIs(received.frames[-1], goaway)

    async def test_slowHeaderBlock(self) -> None:
        """
        A header block that comes in pieces, all within the header timeout,
        is taken.
        """
        served = await self.serve(Limits(headerTimeout=2))

        def exchange(client: RawH2) -> Received:
            block = client.block(GET_NOW)
            client.send(PREFACE, headers(1, block[:3], endHeaders=False))
            time.sleep(0.3)
            client.send(continuation(1, block[3:], endHeaders=True))
            return client.receive(ended(1))

        self.assertEqual((await self.talk(served, exchange)).responses()[1].status, 200)

    async def test_refusedThenReset(self) -> None:
        """
        A request refused whose client resets its stream in the same data
        is let go; the connection goes on.
        """
        served = await self.serve()

        def exchange(client: RawH2) -> Received:
            fields = [*POST, (b"x-long", b"a" * 9000)]
            client.send(
                PREFACE,
                headers(1, client.block(fields), endStream=False)
                + RstStreamFrame(1, error_code=8).serialize(),
                headers(3, client.block(GET_NOW)),
            )
            return client.receive(ended(3))

        responses = (await self.talk(served, exchange)).responses()
        self.assertEqual(responses[3].status, 200)
        self.assertIsNone(responses.get(1))


class FrameWatchTests(SynchronousTestCase):
    """
    L{FrameWatch} reads frame headers, however the bytes are split.
    """

    def setUp(self) -> None:
        if H2_MISSING is not None:
            raise SkipTest(H2_MISSING)

    def feed(self, watch: FrameWatch, stream: bytes, size: int) -> object:
        """
        Feed C{stream} to C{watch} C{size} bytes at a time.

        @return: the first cut, or L{None}.
        """
        for start in range(0, len(stream), size):
            cut = watch.feed(stream[start : start + size], float(start))
            if cut is not None:
                return cut
        return None

    def test_blockAtLimit(self) -> None:
        """
        A header block of exactly the limit passes, and so does any number of
        them; one byte more is cut off, however the bytes come.
        """
        block = headers(1, b"a" * 60, endHeaders=False) + continuation(
            1, b"b" * 40, endHeaders=True
        )
        for size in (1, 7, 9, 1000):
            watch = FrameWatch(100)
            self.assertIsNone(self.feed(watch, PREFACE + block * 3, size))
            self.assertTrue(watch.ready)
            self.assertIsNone(watch.blockSince)
            cut = self.feed(
                FrameWatch(99), PREFACE + block + continuation(1, b""), size
            )
            self.assertEqual(getattr(cut, "status", None), 431)

    def test_blockSince(self) -> None:
        """
        While a header block is under way, the watch says since when; DATA
        frames' payloads are counted, not read.
        """
        watch = FrameWatch(100)
        self.assertIsNone(watch.feed(PREFACE + data(1, b"HEADERS?" * 50), 1.0))
        self.assertIsNone(watch.blockSince)
        self.assertIsNone(watch.feed(headers(3, b"a", endHeaders=False), 2.0))
        self.assertEqual(watch.blockSince, 2.0)
        self.assertIsNone(watch.feed(data(3, b""), 3.0))
        self.assertIsNone(watch.blockSince)

    def test_ready(self) -> None:
        """
        The watch is ready once the preface and a first frame have come.
        """
        watch = FrameWatch(100)
        watch.feed(PREFACE[:24], 0.0)
        self.assertFalse(watch.ready)
        settings = SettingsFrame(0, settings={SettingCodes.ENABLE_PUSH: 0})
        raw = settings.serialize()
        watch.feed(raw[:-1], 0.0)
        self.assertFalse(watch.ready)
        watch.feed(raw[-1:], 0.0)
        self.assertTrue(watch.ready)

    def test_frameSize(self) -> None:
        """
        A frame over the largest size is cut off at its header.
        """
        cut = FrameWatch(100).feed(PREFACE + b"\x00\x40\x01\x00" + b"\x00" * 5, 0.0)
        self.assertEqual(getattr(cut, "code", None), ErrorCodes.FRAME_SIZE_ERROR)


class HeadRefusalTests(SynchronousTestCase):
    """
    L{headRefusal} holds an HTTP/2 request to the limits of the HTTP/1.1
    head it stands for.
    """

    def setUp(self) -> None:
        if H2_MISSING is not None:
            raise SkipTest(H2_MISSING)

    def test_headSize(self) -> None:
        """
        The head is measured as HTTP/1.1's: C{GET /now HTTP/1.1} is 17
        bytes, C{host: localhost} 15, C{x: ...} 3 more than its value.
        """
        limits = Limits(maxHeaderSize=17 + 15 + 3 + 10)
        within = [*GET_NOW, (b"x", b"a" * 10)]
        over = [*GET_NOW, (b"x", b"a" * 11)]
        self.assertIsNone(headRefusal(within, limits))
        self.assertEqual(headRefusal(over, limits), 431)

    def test_lines(self) -> None:
        """
        A request line over C{maxRequestLine} is 414; a field line, 431.
        """
        limits = Limits(maxRequestLine=20)
        self.assertIsNone(headRefusal(GET_NOW, limits))
        longPath = [*GET_NOW[:3], (b":path", b"/" * 10)]
        self.assertEqual(headRefusal(longPath, limits), 414)
        self.assertEqual(headRefusal([*GET_NOW, (b"x", b"a" * 18)], limits), 431)

    def test_fieldCount(self) -> None:
        """
        C{:authority} counts as C{Host}, and more than C{maxHeaders} fields
        is 431.
        """
        limits = Limits(maxHeaders=2)
        self.assertIsNone(headRefusal([*GET_NOW, (b"a", b"")], limits))
        self.assertEqual(headRefusal([*GET_NOW, (b"a", b""), (b"b", b"")], limits), 431)

    def test_contentLength(self) -> None:
        """
        A C{Content-Length} over C{maxBodySize} is 413; one within it, or not
        a number, is left to h2.
        """
        limits = Limits(maxBodySize=10)
        for value, status in [(b"10", None), (b"11", 413), (b"1" * 5000, 413)]:
            fields = [*GET_NOW, (b"content-length", value)]
            self.assertEqual(headRefusal(fields, limits), status)
        self.assertIsNone(headRefusal([*GET_NOW, (b"content-length", b"x")], limits))


class ConnectionTests(SynchronousTestCase):
    """
    L{ClockH2Connection} on a transport in memory, for what a real socket
    cannot show at a chosen moment.
    """

    def setUp(self) -> None:
        if H2_MISSING is not None:
            raise SkipTest(H2_MISSING)

    def test_drainTwice(self) -> None:
        """
        A connection drained twice, whose client does not leave, says
        GOAWAY once, closes, and is aborted after C{abortTimeout}; Twisted's
        own idle timer, due then too, adds nothing.
        """
        clock = Clock()
        connection = ClockH2Connection(buildSite(clock), 10.0)
        transport = StringTransport()
        connection.makeConnection(transport)
        transport.registerProducer(connection, True)
        transport.clear()
        connection.drain()
        connection.drain()
        self.assertTrue(transport.disconnecting)
        self.assertFalse(transport.disconnected)
        self.assertIsNone(transport.producer)
        # Twisted's sending loop, scheduled when it was made, finds the
        # connection gone and stops.
        clock.advance(0)
        clock.advance(connection.abortTimeout)
        # StringTransport.abortConnection says so in "disconnected".
        self.assertTrue(transport.disconnected)
        goaway = GoAwayFrame(0).serialize()[:5]
        self.assertEqual(transport.value().count(goaway), 1)
        connection.connectionLost()
        self.assertEqual(clock.getDelayedCalls(), [])
