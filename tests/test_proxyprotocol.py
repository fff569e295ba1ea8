"""
Tests for L{clocksvc._http._proxyprotocol}: the PROXY protocol's header,
read strictly, in pieces, within bounds of memory and time; and its wrapper
in front of a site's connections, in memory on a L{task.Clock}. Over real
sockets, see C{tests.test_proxies}.
"""

from __future__ import annotations

import ipaddress
import socket
import struct

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._http import PROXY_REFUSALS, Limits
from clocksvc._http._proxyprotocol import (
    V1_MAX,
    BadProxyHeader,
    HeaderReader,
    ProxyHeader,
    ProxyProtocolFactory,
    parseV1,
    proxyProtocolFactory,
)
from clocksvc._web._site import buildSite

from ._helpers import synchronized
from ._proxyheaders import REFUSED, V2_INET, proxyV2Raw

PEER = IPv4Address("TCP", "10.0.0.1", 40000)
HOST = IPv4Address("TCP", "10.0.0.2", 8880)


def readWhole(data: bytes) -> tuple[ProxyHeader, bytes]:
    """
    @return: what a reader reads from C{data}, given at once.
    @raise AssertionError: if it wants more.
    """
    found = HeaderReader().feed(data)
    if found is None:
        raise AssertionError(f"incomplete: {data!r}")
    return found


class HeaderTests(SynchronousTestCase):
    """
    L{HeaderReader} reads versions 1 and 2 as the specification writes
    them, and refuses anything else with its reason.
    """

    def test_v1(self) -> None:
        """
        Version 1 over IPv4 and IPv6 gives both addresses and ports, IPv6
        ones in their canonical form, and the bytes after the line.
        """
        self.assertEqual(
            readWhole(b"PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\nGET"),
            (
                ProxyHeader(
                    IPv4Address("TCP", "203.0.113.7", 56324),
                    IPv4Address("TCP", "192.0.2.1", 443),
                ),
                b"GET",
            ),
        )
        self.assertEqual(
            readWhole(b"PROXY TCP6 2001:DB8:0::7 ::ffff:192.0.2.1 0 65535\r\n"),
            (
                ProxyHeader(
                    IPv6Address("TCP", "2001:db8::7", 0),
                    IPv6Address("TCP", "::ffff:c000:201", 65535),
                ),
                b"",
            ),
        )

    def test_unknown(self) -> None:
        """
        C{PROXY UNKNOWN}, alone or with anything after it, says nothing of
        the addresses.
        """
        for line in [b"PROXY UNKNOWN", b"PROXY UNKNOWN \x00 whatever \x80"]:
            self.assertEqual(readWhole(line + b"\r\nGET"), (ProxyHeader(), b"GET"))

    def test_longest(self) -> None:
        """
        The specification's longest line, 107 bytes, is read; a byte more
        without CRLF is refused as too long.
        """
        longest = (
            b"PROXY UNKNOWN "
            + b"ffff:" * 7
            + b"ffff "
            + b"ffff:" * 7
            + b"ffff 65535 65535\r\n"
        )
        self.assertEqual(len(longest), V1_MAX)
        self.assertEqual(readWhole(longest), (ProxyHeader(), b""))
        with self.assertRaises(BadProxyHeader) as raised:
            HeaderReader().feed(longest[:-2] + b" \r\n")
        self.assertEqual(raised.exception.reason, "too_long")

    def test_v2(self) -> None:
        """
        Version 2 over IPv4 and IPv6 gives both addresses and ports; its
        TLVs are skipped.
        """
        self.assertEqual(
            readWhole(proxyV2Raw(0x21, 0x11, V2_INET + b"\x04\x00\x01\x00") + b"GET"),
            (
                ProxyHeader(
                    IPv4Address("TCP", "6.6.6.6", 56324),
                    IPv4Address("TCP", "192.0.2.1", 8880),
                ),
                b"GET",
            ),
        )
        block = (
            socket.inet_pton(socket.AF_INET6, "2001:db8::7")
            + socket.inet_pton(socket.AF_INET6, "2001:db8::1")
            + struct.pack("!HH", 1, 2)
        )
        self.assertEqual(
            readWhole(proxyV2Raw(0x21, 0x21, block)),
            (
                ProxyHeader(
                    IPv6Address("TCP", "2001:db8::7", 1),
                    IPv6Address("TCP", "2001:db8::1", 2),
                ),
                b"",
            ),
        )

    def test_v2OwnAddresses(self) -> None:
        """
        C{LOCAL}, whatever its family, an unspecified family or protocol,
        UDP and UNIX sockets leave the connection's own addresses.
        """
        for header in [
            proxyV2Raw(0x20, 0x00, b""),
            proxyV2Raw(0x20, 0xFF, b"anything"),
            proxyV2Raw(0x21, 0x00, b""),
            proxyV2Raw(0x21, 0x10, V2_INET),
            proxyV2Raw(0x21, 0x12, V2_INET),
            proxyV2Raw(0x21, 0x31, b"/run/a.sock".ljust(216, b"\x00")),
        ]:
            self.assertEqual(readWhole(header + b"GET"), (ProxyHeader(), b"GET"))

    def test_refused(self) -> None:
        """
        Each of issue 22's headers, and the others like them, is refused
        with its reason, whose message never holds the client's bytes.
        """
        for preface, reason in REFUSED:
            with self.assertRaises(BadProxyHeader) as raised:
                HeaderReader().feed(preface + b"GET / HTTP/1.1\r\n")
            self.assertEqual(raised.exception.reason, reason, preface)
            self.assertTrue(str(raised.exception).isascii())
            self.assertNotIn("6.6", str(raised.exception))

    def test_reasons(self) -> None:
        """
        The reasons are the labels that C{tests.test_proxies} and the docs
        name.
        """
        self.assertEqual(
            PROXY_REFUSALS,
            ("signature", "malformed", "address", "port", "too_long", "timeout"),
        )

    def test_parseV1(self) -> None:
        """
        L{parseV1} reads a line without its CRLF.
        """
        self.assertEqual(
            parseV1(b"PROXY TCP4 1.2.3.4 5.6.7.8 0 1").source,
            IPv4Address("TCP", "1.2.3.4", 0),
        )


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


class PiecesTests(SynchronousTestCase):
    """
    A header may come in any pieces; the reader keeps no more of it than
    its addresses, and refuses as soon as it can tell.
    """

    def feedAll(self, reader: HeaderReader, chunks: list[bytes]) -> object:
        found: object = None
        for chunk in chunks:
            self.assertIsNone(found, "read before its last piece")
            found = reader.feed(chunk)
            self.assertLessEqual(len(reader._buffer), 16 + 216)
        return found

    def test_byteByByte(self) -> None:
        """
        A byte at a time, either version is read once its last byte comes.
        """
        for header, source in [
            (b"PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\n", "203.0.113.7"),
            (proxyV2Raw(0x21, 0x11, V2_INET + b"\x04\x00\x02\x00\x00"), "6.6.6.6"),
        ]:
            found = self.feedAll(HeaderReader(), pieces(header, 1))
            self.assertEqual(found, readWhole(header))
            self.assertEqual(
                readWhole(header)[0].source, IPv4Address("TCP", source, 56324)
            )

    def test_longTLVs(self) -> None:
        """
        A version 2 header of the longest length, 64 KiB of TLVs, is read
        with no more than its 28 bytes of head and addresses kept.
        """
        length = 65535
        header = proxyV2Raw(0x21, 0x11, V2_INET, length) + b"\x00" * (length - 12)
        reader = HeaderReader()
        found = self.feedAll(reader, pieces(header + b"GET", 1000))
        self.assertEqual(found, (readWhole(proxyV2Raw(0x21, 0x11, V2_INET))[0], b"GET"))

    def test_refusedEarly(self) -> None:
        """
        A first byte that starts neither signature, or a v1 line past 107
        bytes, is refused then, without waiting for more.
        """
        with self.assertRaises(BadProxyHeader) as raised:
            HeaderReader().feed(b"G")
        self.assertEqual(raised.exception.reason, "signature")
        reader = HeaderReader()
        reader.feed(b"PROXY " + b"x" * 100)
        with self.assertRaises(BadProxyHeader) as raised:
            reader.feed(b"x")
        self.assertEqual(raised.exception.reason, "too_long")
        reader = HeaderReader()
        self.assertIsNone(reader.feed(b"PROXY TCP4\r"))
        with self.assertRaises(BadProxyHeader) as raised:
            reader.feed(b" ")
        self.assertEqual(raised.exception.reason, "malformed")

    @given(st.binary(max_size=300), st.integers(1, 300))
    def test_anyBytes(self, data: bytes, size: int) -> None:
        """
        Whatever bytes come, in whatever pieces, the reader waits, reads a
        header, or refuses with one of its reasons: nothing else escapes
        it.
        """
        reader = HeaderReader()
        try:
            for chunk in pieces(data, size):
                if reader.feed(chunk) is not None:
                    break
        except BadProxyHeader as bad:
            self.assertIn(bad.reason, PROXY_REFUSALS)

    @given(
        st.ip_addresses(),
        st.ip_addresses(),
        st.integers(0, 65535),
        st.integers(0, 65535),
    )
    def test_v1RoundTrip(
        self,
        source: ipaddress.IPv4Address | ipaddress.IPv6Address,
        destination: ipaddress.IPv4Address | ipaddress.IPv6Address,
        sourcePort: int,
        destinationPort: int,
    ) -> None:
        """
        Any line a sender writes (both addresses of the family of the
        first) reads as the addresses it names.
        """
        if destination.version != source.version:
            destination = (
                ipaddress.IPv4Address(int(destination) % 2**32)
                if source.version == 4
                else ipaddress.IPv6Address(int(destination))
            )
        family = f"TCP{source.version}"
        line = f"PROXY {family} {source} {destination} {sourcePort} {destinationPort}"
        kind = IPv4Address if source.version == 4 else IPv6Address
        self.assertEqual(
            readWhole(line.encode() + b"\r\n"),
            (
                ProxyHeader(
                    kind("TCP", source.compressed, sourcePort),
                    kind("TCP", destination.compressed, destinationPort),
                ),
                b"",
            ),
        )


class Recorded(Protocol):
    """
    A protocol that notes what happens to it.
    """

    def __init__(self) -> None:
        self.received = b""
        self.lost: list[Failure] = []
        self.peerAtConnect: object = None

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.peerAtConnect = self.transport.getPeer()

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost.append(reason)


class WrapperTests(SynchronousTestCase):
    """
    L{ProxyProtocol} in front of a protocol: it hands on the bytes after
    the header and gives the header's addresses; it refuses within its
    deadline.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.refusals: list[str] = []
        self.inner = Recorded()
        factory = ProxyProtocolFactory(
            Factory.forProtocol(lambda: self.inner),
            self.clock,
            5.0,
            self.refusals.append,
        )
        self.protocol = factory.buildProtocol(PEER)
        assert self.protocol is not None
        self.transport = StringTransport(hostAddress=HOST, peerAddress=PEER)
        self.protocol.makeConnection(self.transport)

    def test_addresses(self) -> None:
        """
        Until the header is read the addresses are the connection's; then
        the header's, and the wrapped protocol has the bytes after it.
        """
        self.assertEqual(self.inner.peerAtConnect, PEER)
        self.protocol.dataReceived(b"PROXY TCP4 203.0.113.7 192.0.2.1 1 2\r")
        self.assertEqual((self.protocol.getPeer(), self.inner.received), (PEER, b""))
        self.protocol.dataReceived(b"\nGET")
        self.protocol.dataReceived(b" /")
        self.assertEqual(self.inner.received, b"GET /")
        self.assertEqual(self.protocol.getPeer(), IPv4Address("TCP", "203.0.113.7", 1))
        self.assertEqual(self.protocol.getHost(), IPv4Address("TCP", "192.0.2.1", 2))
        self.clock.advance(5)
        self.assertFalse(self.transport.disconnecting)
        self.assertEqual(self.clock.calls, [])

    def test_unknown(self) -> None:
        """
        C{PROXY UNKNOWN} keeps the connection's own addresses.
        """
        self.protocol.dataReceived(b"PROXY UNKNOWN\r\nGET")
        self.assertEqual(
            (self.protocol.getPeer(), self.protocol.getHost(), self.inner.received),
            (PEER, HOST, b"GET"),
        )

    def test_refused(self) -> None:
        """
        A bad header closes the connection unanswered, counts its reason,
        and tells the wrapped protocol at once, which has seen none of it;
        what comes after is dropped.
        """
        self.protocol.dataReceived(b"PROXY TCP4 6.6.6.6 127.0.0.1 abc 80\r\nGET")
        self.assertEqual(self.refusals, ["port"])
        self.assertTrue(self.transport.disconnecting)
        self.assertEqual((self.transport.value(), self.inner.received), (b"", b""))
        self.assertEqual(len(self.inner.lost), 1)
        self.protocol.dataReceived(b"more")
        self.protocol.connectionLost(Failure(Exception("gone")))
        self.assertEqual(len(self.inner.lost), 1)
        self.assertEqual(self.clock.calls, [])

    def test_deadline(self) -> None:
        """
        Half a header is refused when the deadline comes, as C{timeout}.
        """
        self.protocol.dataReceived(b"PROXY TCP4 6.6")
        self.clock.advance(4.9)
        self.assertEqual(self.refusals, [])
        self.clock.advance(0.1)
        self.assertEqual(self.refusals, ["timeout"])
        self.assertTrue(self.transport.disconnecting)

    def test_lostFirst(self) -> None:
        """
        A connection lost before its header is neither counted nor timed.
        """
        self.protocol.dataReceived(b"PROXY")
        self.protocol.connectionLost(Failure(Exception("gone")))
        self.assertEqual((self.refusals, self.clock.calls), ([], []))
        self.assertEqual(len(self.inner.lost), 1)

    def test_closedByWrapped(self) -> None:
        """
        Once the wrapped protocol has closed the connection (a site at its
        cap answers 503 at once), its header is not read, nor refused.
        """
        self.protocol.loseConnection()
        self.protocol.dataReceived(b"GET / HTTP/1.1\r\n")
        self.clock.advance(5)
        self.assertEqual(self.refusals, [])


class SiteTests(SynchronousTestCase):
    """
    In front of a L{ClockSite}, the wrapper runs on the site's timers, with
    its header timeout, and counts in its metrics.
    """

    def test_deadlineBeforeChannels(self) -> None:
        """
        A connection that sends nothing is closed unanswered at the header
        timeout, counted once as C{timeout}: the channel's own deadline of
        the same length, which would answer 408, never runs.
        """
        clock = Clock()
        site = buildSite(
            clock, limits=Limits(headerTimeout=3.0), readClock=synchronized
        )
        factory = proxyProtocolFactory(site, Clock())
        self.assertEqual((factory.timers, factory.timeout), (clock, 3.0))
        protocol = factory.buildProtocol(PEER)
        assert protocol is not None
        transport = StringTransport(peerAddress=PEER)
        protocol.makeConnection(transport)
        self.assertEqual(site.openConnections, 1)
        clock.advance(3.0)
        self.assertEqual(transport.value(), b"")
        self.assertTrue(transport.disconnecting)
        self.assertEqual(site.openConnections, 0)
        self.assertEqual(clock.calls, [])
        metrics = site.reporters[0]
        registry = metrics.registry  # type: ignore[attr-defined]
        self.assertEqual(
            registry.get_sample_value(
                "clocksvc_proxy_refused_total", {"reason": "timeout"}
            ),
            1.0,
        )
        self.assertIsNone(
            registry.get_sample_value(
                "clocksvc_refused_requests_total", {"status": "408"}
            )
        )

    def test_otherFactory(self) -> None:
        """
        Around another factory, the reactor given, and the default header
        timeout.
        """
        clock = Clock()
        factory = proxyProtocolFactory(Factory.forProtocol(Recorded), clock)
        self.assertEqual((factory.timers, factory.timeout), (clock, 10.0))
        self.assertEqual(factory.logPrefix(), "Factory (PROXY)")
        # Its refusals are not counted, but close all the same.
        protocol = factory.buildProtocol(PEER)
        assert protocol is not None
        transport = StringTransport(peerAddress=PEER)
        protocol.makeConnection(transport)
        protocol.dataReceived(b"GET")
        self.assertTrue(transport.disconnecting)
