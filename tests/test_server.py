"""
Tests for L{clocksvc._http}: the limits and checks of the HTTP/1.1 server,
driven in memory over a L{StringTransport} with a L{task.Clock}.
"""

from __future__ import annotations

from typing import cast

from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IPushProducer
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyClass

from clocksvc._http import (
    ClockRequest,
    ClockSite,
    IEventChannel,
    Limits,
    defaultMaxConnections,
)
from clocksvc._web._site import buildSite

from ._helpers import BILLENNIUM, RawConnection, clockAt, dechunk

GET = b"GET /?iso HTTP/1.1\r\nHost: clock.example\r\n\r\n"


def producerOf(transport: StringTransport) -> IPushProducer:
    """
    @return: the producer the channel registered with C{transport}: the
        channel itself.
    """
    producer = transport.producer
    if producer is None:
        raise AssertionError("the channel registered no producer")
    return cast(IPushProducer, producer)


def status(response: bytes) -> bytes:
    """
    @return: the status line of C{response}.
    """
    return response.split(b"\r\n", 1)[0]


class ServerTestCase(SynchronousTestCase):
    """
    Connections to a L{ClockSite} whose clock says the billennium.
    """

    limits = Limits()

    def setUp(self) -> None:
        self.clock = clockAt(BILLENNIUM)
        self.site = buildSite(self.clock, limits=self.limits)

    def connect(self) -> RawConnection:
        return RawConnection(self.site)

    def assertRefused(self, connection: RawConnection, code: bytes) -> None:
        """
        Assert that the server answered with a complete C{code} response,
        told the client it closes, and is closing.
        """
        response = connection.received()
        self.assertEqual(status(response), b"HTTP/1.1 " + code, response)
        head, _, body = response.partition(b"\r\n\r\n")
        self.assertIn(b"\r\nConnection: close", head)
        self.assertIn(b"\r\nServer: clocksvc", head)
        self.assertIn(b"\r\nContent-Length: %d" % len(body), head)
        self.assertEqual(body, code + b"\n")
        self.assertTrue(connection.transport.disconnecting)


class HostTests(ServerTestCase):
    """
    C{Host} must be there once in HTTP/1.1, and be a host.
    """

    def test_missing(self) -> None:
        """
        An HTTP/1.1 request without C{Host} is 400.
        """
        connection = self.connect()
        connection.send(b"GET / HTTP/1.1\r\n\r\n")
        self.assertRefused(connection, b"400 Bad Request")

    def test_optionalInHTTP10(self) -> None:
        """
        HTTP/1.0 may leave it out.
        """
        connection = self.connect()
        connection.send(b"GET /?iso HTTP/1.0\r\n\r\n")
        self.assertEqual(status(connection.received()), b"HTTP/1.0 200 OK")

    def test_repeated(self) -> None:
        """
        Two C{Host} headers are 400: which host is meant?
        """
        connection = self.connect()
        connection.send(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        self.assertRefused(connection, b"400 Bad Request")

    def test_malformed(self) -> None:
        """
        A C{Host} that is no host name, address or port is 400.
        """
        for host in [b"a b", b"a/b", b"a:port", b"[zz::1]", b"a@b:80:80"]:
            connection = self.connect()
            connection.send(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
            self.assertRefused(connection, b"400 Bad Request")

    def test_wellFormed(self) -> None:
        """
        Names, IPv4 and bracketed IPv6 addresses, with or without a port, and
        the empty host, are all served.
        """
        for host in [b"clock.example", b"127.0.0.1:8880", b"[::1]:8880", b""]:
            connection = self.connect()
            connection.send(b"GET /?iso HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
            self.assertEqual(status(connection.received()), b"HTTP/1.1 200 OK", host)

    def test_headAnswer(self) -> None:
        """
        HEAD with a bad C{Host} gets the 400's headers and no body.
        """
        connection = self.connect()
        connection.send(b"HEAD / HTTP/1.1\r\n\r\n")
        response = connection.received()
        self.assertEqual(status(response), b"HTTP/1.1 400 Bad Request")
        self.assertTrue(response.endswith(b"\r\n\r\n"), response)


class ServerHeaderTests(ServerTestCase):
    """
    The C{Server} header names the product and no version.
    """

    def test_server(self) -> None:
        """
        Answers, including C{OPTIONS *}, say C{Server: clocksvc}.
        """
        for request in [GET, b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"]:
            connection = self.connect()
            connection.send(request)
            response = connection.received()
            self.assertIn(b"\r\nServer: clocksvc\r\n", response)
            self.assertNotIn(b"Twisted", response)


class TargetTests(ServerTestCase):
    """
    Absolute-form request targets are served by their path.
    """

    def test_absoluteForm(self) -> None:
        """
        C{GET http://host/path?query} is C{GET /path?query}.
        """
        for target, expected in [
            (b"http://clock.example/?iso", b"2001-09-09T01:46:40Z"),
            (b"http://clock.example?ms", b"1000000000.000"),
            (b"https://x:1/now.txt?tz=UTC", b"week_number: 36\n"),
        ]:
            connection = self.connect()
            connection.send(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            response = connection.received()
            self.assertEqual(status(response), b"HTTP/1.1 200 OK", target)
            self.assertTrue(response.endswith(expected), response)


class DeadlineTests(ServerTestCase):
    """
    A request must arrive whole within C{headerTimeout}; an idle kept-alive
    connection closes after C{idleTimeout}.
    """

    def test_silent(self) -> None:
        """
        A client that connects and sends nothing gets 408 after 10 seconds.
        """
        connection = self.connect()
        self.clock.advance(9.99)
        self.assertEqual(connection.received(), b"")
        self.clock.advance(0.01)
        self.assertRefused(connection, b"408 Request Time-out")

    def test_trickle(self) -> None:
        """
        Every byte resets Twisted's idle timer, but not this deadline: a
        client trickling one byte a second is cut off 10 seconds in.
        """
        connection = self.connect()
        for byte in GET[:10]:
            connection.send(bytes([byte]))
            self.clock.advance(1)
        self.assertRefused(connection, b"408 Request Time-out")

    def test_completeInTime(self) -> None:
        """
        A request that arrives in time is answered, and its deadline is
        forgotten.
        """
        connection = self.connect()
        self.clock.advance(9)
        connection.send(GET)
        self.assertEqual(status(connection.received()), b"HTTP/1.1 200 OK")
        self.clock.advance(5)
        self.assertEqual(connection.received(), b"")
        self.assertFalse(connection.transport.disconnecting)

    def test_nextRequestStartsClock(self) -> None:
        """
        On a kept-alive connection, the next request's deadline starts with
        its first byte.
        """
        connection = self.connect()
        connection.send(GET)
        connection.received()
        self.clock.advance(14)
        connection.send(b"GET / HTT")
        self.clock.advance(9.99)
        self.assertEqual(connection.received(), b"")
        self.clock.advance(0.01)
        self.assertRefused(connection, b"408 Request Time-out")

    def test_idle(self) -> None:
        """
        A kept-alive connection idle for 15 seconds is closed, with no
        response to send.
        """
        connection = self.connect()
        connection.send(GET)
        connection.received()
        self.clock.advance(14.99)
        self.assertFalse(connection.transport.disconnecting)
        self.clock.advance(0.01)
        self.assertTrue(connection.transport.disconnecting)
        self.assertEqual(connection.received(), b"")

    def test_unreadRefusal(self) -> None:
        """
        A refused client that does not read its refusal is aborted after
        Twisted's abort timeout, and nothing is left scheduled.
        """
        connection = self.connect()
        self.clock.advance(10)
        self.assertFalse(connection.transport.disconnected)
        self.clock.advance(15)
        self.assertTrue(connection.transport.disconnected)
        connection.disconnect()
        self.assertFalse(self.clock.calls)


class SizeTests(ServerTestCase):
    """
    Request lines, heads and bodies have limits.
    """

    def test_requestLine(self) -> None:
        """
        A request line over 8 KiB is 414.
        """
        connection = self.connect()
        connection.send(b"GET /" + b"a" * 8192 + b" HTTP/1.1\r\n")
        self.assertRefused(connection, b"414 Request-URI Too Long")

    def test_headerLine(self) -> None:
        """
        A header line over 8 KiB is 431.
        """
        connection = self.connect()
        connection.send(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 8192 + b"\r\n")
        self.assertRefused(connection, b"431 Request Header Fields Too Large")

    def test_headerSection(self) -> None:
        """
        A head over 16 KiB in all is 431.
        """
        connection = self.connect()
        connection.send(b"GET / HTTP/1.1\r\n")
        for n in range(3):
            connection.send(b"X-%d: %s\r\n" % (n, b"a" * 6000))
        self.assertRefused(connection, b"431 Request Header Fields Too Large")

    def test_headerCount(self) -> None:
        """
        More than 100 header fields is 431.
        """
        connection = self.connect()
        fields = b"".join(b"X-%d: 1\r\n" % n for n in range(101))
        connection.send(b"GET / HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
        self.assertRefused(connection, b"431 Request Header Fields Too Large")

    def test_declaredBody(self) -> None:
        """
        A C{Content-Length} over 64 KiB is 413 before any of the body is
        read.
        """
        connection = self.connect()
        connection.send(
            b"POST /timesync HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n"
        )
        self.assertRefused(connection, b"413 Request Entity Too Large")

    def test_chunkedBody(self) -> None:
        """
        A chunked body is counted as it comes, and 413 once it passes 64 KiB.
        """
        connection = self.connect()
        connection.send(
            b"POST /timesync HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        connection.send(b"8000\r\n" + b" " * 0x8000 + b"\r\n")
        connection.send(b"8000\r\n" + b" " * 0x8000 + b"\r\n")
        self.assertEqual(connection.received(), b"")
        connection.send(b"1\r\n \r\n")
        self.assertRefused(connection, b"413 Request Entity Too Large")

    def test_bodyInMemory(self) -> None:
        """
        A body within the limit is taken, and kept in memory: Twisted would
        write one over 100 kB to a temporary file.
        """
        body = b'{"jsonrpc": "2.0", "id": 1, "method": "timesync"}'
        connection = self.connect()
        connection.send(
            b"POST /timesync HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
            % (len(body), body)
        )
        response = connection.received()
        self.assertEqual(status(response), b"HTTP/1.1 200 OK")
        self.assertTrue(response.endswith(b'"result":1000000000000}'), response)

    def test_transferCodings(self) -> None:
        """
        Transfer codings other than chunked are 501: Twisted alone would
        ignore C{identity} and read the body as the next request.
        """
        for coding in [b"identity", b"gzip", b"gzip, chunked", b"chunked, chunked"]:
            connection = self.connect()
            connection.send(
                b"POST /timesync HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                + coding
                + b"\r\n\r\nGET /?iso HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            self.assertRefused(connection, b"501 Not Implemented")

    def test_bareLF(self) -> None:
        """
        Lines ended by a bare LF are 400 at once, rather than a wait for a
        CRLF that never comes.
        """
        connection = self.connect()
        connection.send(b"GET / HTTP/1.1\nHost: x\n\n")
        self.assertRefused(connection, b"400 Bad Request")

    def test_bareLFAfterEmptyLine(self) -> None:
        """
        The one empty line tolerated before a request does not hide bare LFs
        after it.
        """
        connection = self.connect()
        connection.send(b"\r\nGET / HTTP/1.1\nHost: x\n\n")
        self.assertRefused(connection, b"400 Bad Request")

    def test_invisibleTarget(self) -> None:
        """
        A target with DEL or a byte above ASCII is 400, not a lookup.
        """
        for target in [b"/now\x7f", b"/now\xb0", b"/\x80"]:
            connection = self.connect()
            connection.send(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertRefused(connection, b"400 Bad Request")

    def test_chunkOverLimitNotServed(self) -> None:
        """
        A chunked body that crosses the limit gets its 413 and nothing else,
        even with the rest of the request in the same read.
        """
        connection = self.connect()
        connection.send(
            b"GET /now HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"10001\r\n" + b"a" * 0x10001 + b"\r\n0\r\n\r\n"
        )
        self.assertRefused(connection, b"413 Request Entity Too Large")

    def test_LFInBody(self) -> None:
        """
        An LF in a body is no bare line end, even when the body comes with
        the head's last CRLF split from it.
        """
        body = b'{\n"jsonrpc": "2.0",\n"method": "timesync"\n}'
        connection = self.connect()
        connection.send(
            b"POST /timesync HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r"
            % len(body)
        )
        connection.send(b"\n" + body)
        self.assertEqual(status(connection.received()), b"HTTP/1.1 200 OK")

    def test_garbage(self) -> None:
        """
        What Twisted cannot parse gets a complete 400, not its bare status
        line.
        """
        connection = self.connect()
        connection.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n")
        self.assertRefused(connection, b"400 Bad Request")


class ConnectionCapTests(ServerTestCase):
    """
    Beyond C{maxConnections}, new connections get 503.
    """

    limits = Limits(maxConnections=2)

    def test_cap(self) -> None:
        """
        The third connection is told 503 and closed; once one closes, a new
        one is served.
        """
        first, second = self.connect(), self.connect()
        self.assertEqual(self.site.openConnections, 2)
        third = self.connect()
        self.assertRefused(third, b"503 Service Unavailable")
        first.disconnect()
        fourth = self.connect()
        fourth.send(GET)
        self.assertEqual(status(fourth.received()), b"HTTP/1.1 200 OK")
        second.disconnect()
        fourth.disconnect()
        self.assertEqual(self.site.openConnections, 0)

    def test_default(self) -> None:
        """
        By default the cap follows the file-descriptor limit, less a reserve.
        """
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.assertEqual(defaultMaxConnections(), max(soft - 64, 16))
        self.assertEqual(Limits().maxConnections, defaultMaxConnections())


class _SmallBufferTransport(StringTransport):
    """
    A transport whose send buffer fills at 4 KiB, as a TCP transport's does
    at its high-water mark when the peer stops reading.
    """

    def write(self, data: bytes) -> None:
        super().write(data)
        if len(self.value()) > 4096 and self.producer is not None:
            self.producer.pauseProducing()


class PipeliningTests(ServerTestCase):
    """
    A client that pipelines requests and does not read the answers gets no
    more answered than fit its send buffer.
    """

    def test_bounded(self) -> None:
        """
        Of 500 pipelined requests, only those whose answers fit the send
        buffer are answered until the client reads; then the rest are.
        """
        address = IPv4Address("TCP", "127.0.0.1", 54321)
        protocol = self.site.buildProtocol(address)
        transport = _SmallBufferTransport(peerAddress=address)
        protocol.makeConnection(transport)
        protocol.dataReceived(GET * 500)
        answered = transport.value().count(b"HTTP/1.1 200 OK")
        self.assertLess(answered, 50)
        self.assertGreater(answered, 0)
        # The client reads everything: the buffer empties.
        channel = producerOf(transport)
        transport.clear()
        channel.resumeProducing()
        while transport.value():
            answered += transport.value().count(b"HTTP/1.1 200 OK")
            transport.clear()
            channel.resumeProducing()
        self.assertEqual(answered, 500)


class DrainTests(ServerTestCase):
    """
    L{ClockSite.drain} closes connections as soon as their requests are done.
    """

    def test_nothingOpen(self) -> None:
        """
        With no connection open, the drain is over at once.
        """
        self.successResultOf(self.site.drain())

    def test_idle(self) -> None:
        """
        Idle connections, new or kept alive, are closed at once.
        """
        fresh, kept = self.connect(), self.connect()
        kept.send(GET)
        kept.received()
        drained = self.site.drain()
        self.assertTrue(fresh.transport.disconnecting)
        self.assertTrue(kept.transport.disconnecting)
        self.assertNoResult(drained)
        fresh.disconnect()
        kept.disconnect()
        self.successResultOf(drained)

    def test_requestInFlight(self) -> None:
        """
        A request being received is answered, with C{Connection: close}, and
        then the connection closes; meanwhile new connections get 503.
        """
        connection = self.connect()
        connection.send(b"GET /?iso HTTP/1.1\r\n")
        drained = self.site.drain()
        self.assertFalse(connection.transport.disconnecting)
        late = self.connect()
        self.assertRefused(late, b"503 Service Unavailable")
        connection.send(b"Host: x\r\n\r\n")
        response = connection.received()
        self.assertEqual(status(response), b"HTTP/1.1 200 OK")
        self.assertIn(b"\r\nConnection: close\r\n", response)
        self.assertTrue(connection.transport.disconnecting)
        connection.disconnect()
        self.successResultOf(drained)

    def test_stream(self) -> None:
        """
        Event streams end with a shutdown event and the end of the body.
        """
        connection = self.connect()
        connection.send(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        self.clock.advance(1)
        connection.received()
        drained = self.site.drain()
        body = dechunk(connection.received().removesuffix(b"0\r\n\r\n"))
        self.assertEqual(
            body, b'event: shutdown\ndata: {"reason":"server shutting down"}\n\n'
        )
        self.assertTrue(connection.transport.disconnecting)
        connection.disconnect()
        self.successResultOf(drained)
        self.assertFalse(self.clock.calls)

    def test_abortAll(self) -> None:
        """
        L{ClockSite.abortAll} drops every connection, finished or not.
        """
        connection = self.connect()
        connection.send(b"GET / HTTP/1.1\r\n")
        self.site.drain()
        self.site.abortAll()
        self.assertTrue(connection.transport.disconnected)


class StalledStreamTests(ServerTestCase):
    """
    An event stream whose client stops reading skips ticks, then is dropped.
    """

    limits = Limits(stalledStreamSeconds=3)

    def test_stalled(self) -> None:
        """
        While the transport is full, ticks are skipped; a client stalled
        past the limit is aborted; one that reads again gets ticks again.
        """
        connection = self.connect()
        connection.send(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        connection.received()
        channel = producerOf(connection.transport)
        channel.pauseProducing()
        self.clock.advance(3)
        self.assertEqual(connection.received(), b"")
        channel.resumeProducing()
        self.clock.advance(1)
        self.assertIn(b"event: tick", connection.received())
        channel.pauseProducing()
        # A second at a time: one step of four would be a reactor held up,
        # which the ticker makes one late tick.
        for _ in range(3):
            self.clock.advance(1)
        self.assertFalse(connection.transport.disconnected)
        self.clock.advance(1)
        self.assertTrue(connection.transport.disconnected)
        connection.disconnect()
        self.assertEqual(self.clock.calls, [])


class EventChannelTests(SynchronousTestCase):
    """
    The HTTP layer's requests give an event stream what it asks of them.
    """

    def test_provided(self) -> None:
        """
        L{ClockRequest} provides L{IEventChannel}, which C{/stream} asks its
        requests for rather than knowing the HTTP layer's classes.
        """
        self.assertTrue(IEventChannel.implementedBy(ClockRequest))
        self.assertTrue(verifyClass(IEventChannel, ClockRequest))


class ClockSiteTests(SynchronousTestCase):
    """
    L{ClockSite} takes its limits and clock.
    """

    def test_idleTimeout(self) -> None:
        """
        Twisted's idle timeout is the limits' C{idleTimeout}.
        """
        site = ClockSite(
            buildSite(clockAt(0)).resource, clockAt(0), Limits(idleTimeout=7)
        )
        self.assertEqual(site.timeOut, 7)
