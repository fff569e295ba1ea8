"""
Tests for L{clocksvc._http._forwarded}: the grammars of C{Forwarded},
C{X-Forwarded-For} and C{X-Forwarded-Proto}, the trusted proxies, and the
rule that picks a request's client from them; all pure functions.
"""

from __future__ import annotations

import contextlib
import ipaddress
from typing import Union

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.interfaces import IAddress
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._http._forwarded import (
    FORWARDED,
    X_FORWARDED_FOR,
    Forwarding,
    HiddenAddress,
    Hop,
    Malformed,
    Node,
    Resolution,
    TrustedProxies,
    parseForwarded,
    parseProtos,
    parseXForwardedFor,
)

IP = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

PROXY = IPv4Address("TCP", "127.0.0.1", 40000)
STRANGER = IPv4Address("TCP", "192.0.2.99", 40000)


def ip(text: str) -> IP:
    """
    @return: C{text} as an address.
    """
    return ipaddress.ip_address(text)


def fields(**values: str) -> dict[bytes, list[bytes]]:
    """
    @return: request fields by lower-case name, C{x_forwarded_for} for
        C{X-Forwarded-For}.
    """
    return {
        name.replace("_", "-").encode(): [value.encode("latin-1")]
        for name, value in values.items()
    }


def unmapped(address: IP) -> IP:
    """
    @return: C{address}, an IPv4-mapped IPv6 address as its IPv4 address.
    """
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class ForwardedTests(SynchronousTestCase):
    """
    L{parseForwarded} reads RFC 7239's C{Forwarded}.
    """

    def test_rfcExamples(self) -> None:
        """
        The examples of RFC 7239 sections 4 and 7.4 read as they mean.
        """
        self.assertEqual(
            parseForwarded([b'for="_gazonk"']), [Hop(Node(None, 0, "_gazonk"))]
        )
        self.assertEqual(
            parseForwarded([b'For="[2001:db8:cafe::17]:4711"']),
            [Hop(Node(ip("2001:db8:cafe::17"), 4711))],
        )
        self.assertEqual(
            parseForwarded([b"for=192.0.2.60;proto=http;by=203.0.113.43"]),
            [Hop(Node(ip("192.0.2.60")), "http")],
        )
        self.assertEqual(
            parseForwarded([b"for=192.0.2.43, for=198.51.100.17"]),
            [Hop(Node(ip("192.0.2.43"))), Hop(Node(ip("198.51.100.17")))],
        )

    def test_severalLines(self) -> None:
        """
        Several field lines are one list, in order; empty elements are
        skipped, and an element without C{for=} is still a hop.
        """
        self.assertEqual(
            parseForwarded(
                [b"for=unknown, ,", b'proto=HTTPS;host="a,b"', b'for="_x:_y"']
            ),
            [
                Hop(Node(None, 0, "unknown")),
                Hop(None, "https"),
                Hop(Node(None, 0, "_x")),
            ],
        )

    def test_quotedPairs(self) -> None:
        """
        A quoted value may escape any character with a backslash.
        """
        self.assertEqual(
            parseForwarded([b'for="\\1\\9\\2.0.2.1:\\80"']),
            [Hop(Node(ip("192.0.2.1"), 80))],
        )

    def test_mappedAddress(self) -> None:
        """
        An IPv4-mapped IPv6 address is its IPv4 address.
        """
        self.assertEqual(
            parseForwarded([b'for="[::ffff:192.0.2.1]"']), [Hop(Node(ip("192.0.2.1")))]
        )

    def test_malformed(self) -> None:
        """
        Anything that is not the grammar, an address that is not one, a
        port over 65535, an unknown scheme, or a parameter twice in an
        element is L{Malformed}.
        """
        for value in [
            b"for=",
            b"for",
            b"=1.2.3.4",
            b'for="[2001:db8::1]',
            b"for=2001:db8::1",
            b'for="2001:db8::1"',
            b'for="[192.0.2.1]"',
            b"for=192.0.2.256",
            b'for="192.0.2.1:65536"',
            b"for=192.0.2.1;For=192.0.2.2",
            b"proto=ftp",
            b"for=192.0.2.1 for=192.0.2.2",
            b'for="a"b',
            b"for=localhost",
            b'for="\\"',
            b'for="[' + b"1:" * 4000 + b'x]"',
            b"for=" + b"a" * 8000 + b";" * 100 + b"=",
        ]:
            with self.subTest(value=value), self.assertRaises(Malformed):
                parseForwarded([value])


class XForwardedForTests(SynchronousTestCase):
    """
    L{parseXForwardedFor} and L{parseProtos} read the de facto fields.
    """

    def test_addresses(self) -> None:
        """
        IPv4 and IPv6 addresses, bare or bracketed, with or without a port,
        and C{unknown}, over several lines.
        """
        self.assertEqual(
            parseXForwardedFor([b"198.51.100.1, 203.0.113.9:80", b" 2001:db8::1,"]),
            [
                Hop(Node(ip("198.51.100.1"))),
                Hop(Node(ip("203.0.113.9"), 80)),
                Hop(Node(ip("2001:db8::1"))),
            ],
        )
        self.assertEqual(
            parseXForwardedFor([b"[2001:db8::1]:4711,unknown"]),
            [Hop(Node(ip("2001:db8::1"), 4711)), Hop(Node(None, 0, "unknown"))],
        )

    def test_malformed(self) -> None:
        """
        Anything else is L{Malformed}.
        """
        for value in [
            b"example.com",
            b"1.2.3",
            b"::g",
            b"1.2.3.4:x",
            b'"1.2.3.4"',
            # As long as a field line may be: read in one pass, not by
            # backtracking over every way to split it.
            b"1::2::3",
            b"1:" * 4000 + b"x",
            b"[" + b"1:" * 4000 + b"x]",
        ]:
            with self.subTest(value=value), self.assertRaises(Malformed):
                parseXForwardedFor([value])

    def test_protos(self) -> None:
        """
        Schemes are C{http} and C{https}, in any case; nothing else.
        """
        self.assertEqual(
            parseProtos([b"HTTPS, http", b"https"]), ["https", "http", "https"]
        )
        with self.assertRaises(Malformed):
            parseProtos([b"https, ws"])


class TrustedProxiesTests(SynchronousTestCase):
    """
    L{TrustedProxies} reads C{--trusted-proxy} values and tells whether a
    peer is one of them.
    """

    def test_parse(self) -> None:
        """
        Addresses, networks and C{unix}, one a value or comma-separated.
        """
        trusted = TrustedProxies.parse(["127.0.0.1", "10.0.0.0/8, fd00::/8,unix"])
        self.assertEqual(
            [str(network) for network in trusted.networks],
            ["127.0.0.1/32", "10.0.0.0/8", "fd00::/8"],
        )
        self.assertTrue(trusted.unix)
        self.assertFalse(TrustedProxies.parse([]))
        self.assertTrue(TrustedProxies.parse(["unix"]))

    def test_header(self) -> None:
        """
        The proxies write X-Forwarded-For unless C{forwarded} is named;
        another name is a L{ValueError} that says which it takes.
        """
        self.assertEqual(TrustedProxies.parse(["unix"]).header, "x-forwarded-for")
        self.assertEqual(
            TrustedProxies.parse(["unix"], "forwarded").header, "forwarded"
        )
        for header in ["Forwarded", "x-real-ip", ""]:
            with self.subTest(header=header), self.assertRaises(ValueError) as raised:
                TrustedProxies.parse(["unix"], header)
            self.assertEqual(
                str(raised.exception),
                "--forwarded-header needs one of x-forwarded-for, forwarded, "
                f"not {header!r}",
            )

    def test_parseBad(self) -> None:
        """
        Anything else is a L{ValueError} that names it: names, networks with
        host bits set, empty items.
        """
        for spec, item in [
            ("localhost", "localhost"),
            ("10.0.0.1/8", "10.0.0.1/8"),
            ("127.0.0.1,", ""),
            ("UNIX", "UNIX"),
        ]:
            with self.subTest(spec=spec), self.assertRaises(ValueError) as raised:
                TrustedProxies.parse([spec])
            self.assertEqual(
                str(raised.exception),
                "--trusted-proxy needs an IP address, a network such as "
                f"10.0.0.0/8, or unix, not {item!r}",
            )

    def test_trusts(self) -> None:
        """
        A TCP peer is trusted by its address, IPv4-mapped ones by their IPv4
        address; a UNIX one if C{unix} was named; anything else never.
        """
        trusted = TrustedProxies.parse(["127.0.0.1", "2001:db8::/32"])
        self.assertTrue(trusted.trusts(PROXY))
        self.assertTrue(trusted.trusts(IPv6Address("TCP", "::ffff:127.0.0.1", 1)))
        self.assertTrue(trusted.trusts(IPv6Address("TCP", "2001:db8::9", 1)))
        self.assertFalse(trusted.trusts(STRANGER))
        self.assertFalse(trusted.trusts(UNIXAddress(b"/run/x.sock")))
        self.assertFalse(trusted.trusts(HiddenAddress("unknown")))
        self.assertTrue(TrustedProxies.parse(["unix"]).trusts(UNIXAddress(None)))


class HiddenAddressTests(SynchronousTestCase):
    """
    L{HiddenAddress} is a value: equal by its identifier.
    """

    def test_value(self) -> None:
        """
        Equal identifiers are equal addresses, with equal hashes; another
        kind of address is never equal.
        """
        self.assertEqual(HiddenAddress("_x"), HiddenAddress("_x"))
        self.assertEqual(hash(HiddenAddress("_x")), hash(HiddenAddress("_x")))
        self.assertNotEqual(HiddenAddress("_x"), HiddenAddress("unknown"))
        self.assertNotEqual(HiddenAddress("_x"), PROXY)
        self.assertEqual(repr(HiddenAddress("_x")), "HiddenAddress('_x')")


class ResolveTests(SynchronousTestCase):
    """
    L{Forwarding.resolve} is the rule: the rightmost hop that is not a
    trusted proxy, only on a trusted proxy's connection.
    """

    def setUp(self) -> None:
        self.invalid = 0

        def count() -> None:
            self.invalid += 1

        trusted = ["127.0.0.1", "10.0.0.0/8", "unix"]
        self.forwarding = Forwarding(TrustedProxies.parse(trusted), count)
        self.rfc7239 = Forwarding(TrustedProxies.parse(trusted, FORWARDED), count)

    def resolve(self, peer: IAddress, **values: str) -> Resolution:
        """
        @return: the resolution behind proxies that write X-Forwarded-For,
            the default.
        """
        return self.forwarding.resolve(peer, fields(**values).get)

    def resolveRFC7239(self, peer: IAddress, **values: str) -> Resolution:
        """
        @return: the resolution behind proxies that write Forwarded
            (C{--forwarded-header forwarded}).
        """
        return self.rfc7239.resolve(peer, fields(**values).get)

    def test_xForwardedFor(self) -> None:
        """
        The issue's example: the client is the rightmost address, the one
        the trusted proxy appended.
        """
        self.assertEqual(
            self.resolve(PROXY, x_forwarded_for="198.51.100.1, 203.0.113.9"),
            Resolution(IPv4Address("TCP", "203.0.113.9", 0)),
        )

    def test_forwarded(self) -> None:
        """
        Behind proxies that write C{Forwarded}, its quoted IPv6 address with
        a port gives that address and port.
        """
        self.assertEqual(
            self.resolveRFC7239(
                PROXY, forwarded='for="[2001:db8::1]:4711";proto=https'
            ),
            Resolution(IPv6Address("TCP", "2001:db8::1", 4711), True),
        )

    def test_onlyTheProxysField(self) -> None:
        """
        Issue 22: only the field the trusted proxies write is read. A proxy
        that appends to X-Forwarded-For passes a client's own C{Forwarded}
        through, which names whom the client likes; and one that writes
        C{Forwarded} passes its client's X-Forwarded-For and
        X-Forwarded-Proto through.
        """
        spoofed = {
            "forwarded": "for=6.6.6.6;proto=https",
            "x_forwarded_for": "6.6.6.6, 203.0.113.9",
            "x_forwarded_proto": "http",
        }
        self.assertEqual(
            self.resolve(PROXY, **spoofed),
            Resolution(IPv4Address("TCP", "203.0.113.9", 0), False),
        )
        self.assertEqual(
            self.resolveRFC7239(
                PROXY,
                forwarded="for=6.6.6.6;proto=https, for=203.0.113.9",
                x_forwarded_for="6.6.6.6",
                x_forwarded_proto="https",
            ),
            Resolution(IPv4Address("TCP", "203.0.113.9", 0)),
        )
        # Without the field the proxies write, the client is the peer.
        self.assertEqual(
            self.resolveRFC7239(PROXY, x_forwarded_for="6.6.6.6"), Resolution(PROXY)
        )
        self.assertEqual(
            self.resolve(PROXY, forwarded="for=6.6.6.6"), Resolution(PROXY)
        )
        self.assertEqual(self.invalid, 0)

    def test_untrusted(self) -> None:
        """
        From a peer that is not a trusted proxy, the fields change nothing.
        """
        self.assertEqual(
            self.resolve(
                STRANGER,
                forwarded="for=203.0.113.9;proto=https",
                x_forwarded_for="203.0.113.9",
            ),
            Resolution(STRANGER),
        )
        self.assertEqual(
            Forwarding(TrustedProxies()).resolve(
                PROXY, fields(x_forwarded_for="203.0.113.9").get
            ),
            Resolution(PROXY),
        )

    def test_unix(self) -> None:
        """
        Over a UNIX socket, with C{unix} trusted, the fields are read.
        """
        self.assertEqual(
            self.resolve(UNIXAddress(None), x_forwarded_for="203.0.113.9"),
            Resolution(IPv4Address("TCP", "203.0.113.9", 0)),
        )

    def test_chain(self) -> None:
        """
        Trusted proxies in the chain are passed over; if every hop is one,
        the leftmost is the client.
        """
        self.assertEqual(
            self.resolve(
                PROXY, x_forwarded_for="1.1.1.1, 203.0.113.9, 10.0.0.2, 10.1.1.1"
            ),
            Resolution(IPv4Address("TCP", "203.0.113.9", 0)),
        )
        self.assertEqual(
            self.resolve(PROXY, x_forwarded_for="10.0.0.3, 10.0.0.2"),
            Resolution(IPv4Address("TCP", "10.0.0.3", 0)),
        )

    def test_hidden(self) -> None:
        """
        An obfuscated identifier, C{unknown}, or an element without C{for=}
        where the client would be hides its address.
        """
        self.assertEqual(
            self.resolveRFC7239(
                PROXY, forwarded="for=192.0.2.1, for=_hidden, for=10.0.0.1"
            ),
            Resolution(HiddenAddress("_hidden")),
        )
        self.assertEqual(
            self.resolve(PROXY, x_forwarded_for="unknown"),
            Resolution(HiddenAddress("unknown")),
        )
        self.assertEqual(
            self.resolveRFC7239(
                PROXY, forwarded="for=192.0.2.1, proto=https, for=10.0.0.1"
            ),
            Resolution(HiddenAddress("unknown"), True),
        )
        self.assertEqual(self.invalid, 0)

    def test_schemeOnly(self) -> None:
        """
        A scheme alone leaves the address the peer's.
        """
        self.assertEqual(
            self.resolve(PROXY, x_forwarded_proto="https"), Resolution(PROXY, True)
        )
        self.assertEqual(
            self.resolveRFC7239(PROXY, forwarded="proto=http"),
            Resolution(PROXY, False),
        )
        self.assertEqual(self.resolve(PROXY), Resolution(PROXY))

    def test_protoPairs(self) -> None:
        """
        X-Forwarded-Proto's schemes pair with X-Forwarded-For's hops from
        the right; one scheme stands for all.
        """
        self.assertEqual(
            self.resolve(
                PROXY,
                x_forwarded_for="203.0.113.9, 10.0.0.2",
                x_forwarded_proto="https, http",
            ),
            Resolution(IPv4Address("TCP", "203.0.113.9", 0), True),
        )
        self.assertEqual(
            self.resolve(
                PROXY,
                x_forwarded_for="203.0.113.9, 10.0.0.2",
                x_forwarded_proto="https",
            ),
            Resolution(IPv4Address("TCP", "203.0.113.9", 0), True),
        )

    def test_malformed(self) -> None:
        """
        Fields that do not parse leave the peer's address and scheme, and
        are counted.
        """
        self.assertEqual(
            self.resolve(PROXY, x_forwarded_for="203.0.113.9, bogus"), Resolution(PROXY)
        )
        self.assertEqual(
            self.resolve(
                PROXY, x_forwarded_for="203.0.113.9", x_forwarded_proto="gopher"
            ),
            Resolution(PROXY),
        )
        self.assertEqual(
            self.resolveRFC7239(PROXY, forwarded="for="), Resolution(PROXY)
        )
        self.assertEqual(self.invalid, 3)


# Hypothesis: nodes as a proxy writes them, and what they read as.
_ips = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6))
_identifiers = st.one_of(
    st.just("unknown"),
    st.from_regex(r"_[A-Za-z0-9._-]{1,10}", fullmatch=True),
)
_ports = st.one_of(st.none(), st.integers(0, 65535))
_protos = st.one_of(st.none(), st.sampled_from(["http", "https", "HTTPS"]))


@st.composite
def _nodes(draw: st.DrawFn) -> tuple[str, Node]:
    """
    @return: a node as C{Forwarded} writes it, and what it reads as.
    """
    port = draw(_ports)
    suffix = "" if port is None else f":{port}"
    if draw(st.booleans()):
        address = draw(_ips)
        text = str(address) if address.version == 4 else f"[{address}]"
        return text + suffix, Node(unmapped(address), port or 0)
    identifier = draw(_identifiers)
    return identifier + suffix, Node(None, port or 0, identifier)


_TOKEN_CHARS = set("!#$%&'*+.^_`|~-") | set(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


@st.composite
def _elements(draw: st.DrawFn) -> tuple[str, Hop]:
    """
    @return: a forwarded-element in any of the ways the grammar allows, and
        the hop it reads as.
    """
    pairs = []
    node = None
    proto = draw(_protos)
    if draw(st.booleans()) or proto is None:
        text, node = draw(_nodes())
        pairs.append(("for", text))
    if proto is not None:
        pairs.append(("proto", proto))
    if draw(st.booleans()):
        pairs.append(("by", draw(st.sampled_from(["203.0.113.43", '"[::1]"', "_p"]))))
    pairs = draw(st.permutations(pairs))
    written = []
    for name, value in pairs:
        name = "".join(c.upper() if draw(st.booleans()) else c for c in name)
        token = set(value) <= _TOKEN_CHARS
        if value.startswith('"') or (token and draw(st.booleans())):
            quoted = value
        else:
            escaped = "".join(
                "\\" + c if c in '"\\' or draw(st.booleans()) else c for c in value
            )
            quoted = f'"{escaped}"'
        written.append(f"{name}={quoted}")
    space = draw(st.sampled_from(["", " ", "\t "]))
    return f"{space};{space}".join(written), Hop(
        node, None if proto is None else proto.lower()
    )


class PropertyTests(SynchronousTestCase):
    """
    The parsers and the rule, over everything Hypothesis writes.
    """

    @given(st.lists(_elements(), min_size=1, max_size=6), st.integers(1, 3))
    def test_forwardedRoundTrip(
        self, elements: list[tuple[str, Hop]], lines: int
    ) -> None:
        """
        Elements written with any quoting, letter case, order and white
        space the grammar allows, on one line or several, read back as the
        hops they are.
        """
        texts = [text for text, _ in elements]
        values = [", ".join(texts[i::lines]).encode("latin-1") for i in range(lines)]
        # Lines are joined in order: interleaving them reorders the hops.
        order = [hop for i in range(lines) for _, hop in elements[i::lines]]
        self.assertEqual(parseForwarded([v for v in values if v]), order)

    @given(st.lists(st.tuples(_ips, _ports, st.booleans()), min_size=1, max_size=6))
    def test_xForwardedForRoundTrip(
        self, addresses: list[tuple[IP, int | None, bool]]
    ) -> None:
        """
        Addresses written as proxies write them read back as themselves.
        """
        written = []
        for address, port, brackets in addresses:
            if address.version == 6 and (brackets or port is not None):
                text = f"[{address}]"
            else:
                text = str(address)
            written.append(text if port is None else f"{text}:{port}")
        self.assertEqual(
            parseXForwardedFor([", ".join(written).encode()]),
            [Hop(Node(unmapped(a), port or 0)) for a, port, _ in addresses],
        )

    @given(st.lists(st.binary(max_size=64), max_size=3))
    def test_onlyMalformed(self, values: list[bytes]) -> None:
        """
        Whatever the bytes, the parsers give hops or raise L{Malformed},
        and nothing else.
        """
        for parse in parseForwarded, parseXForwardedFor, parseProtos:
            with contextlib.suppress(Malformed):
                parse(values)

    @given(
        st.dictionaries(
            st.sampled_from([b"forwarded", b"x-forwarded-for", b"x-forwarded-proto"]),
            st.lists(
                st.one_of(
                    st.binary(max_size=40),
                    st.sampled_from(
                        [b"for=203.0.113.9", b"203.0.113.9", b"https", b"for=_x"]
                    ),
                ),
                min_size=1,
                max_size=2,
            ),
        ),
        st.booleans(),
    )
    def test_resolveNeverFails(
        self, values: dict[bytes, list[bytes]], trusted: bool
    ) -> None:
        """
        Whatever the fields hold, resolving gives an address; from a peer
        that is not trusted, always the peer's, and no scheme.
        """
        forwarding = Forwarding(TrustedProxies.parse(["127.0.0.1"]))
        peer = PROXY if trusted else STRANGER
        resolution = forwarding.resolve(peer, values.get)
        if not trusted:
            self.assertEqual(resolution, Resolution(peer))

    @given(
        st.lists(_ips, max_size=4),
        st.ip_addresses(v=4).filter(lambda a: not a.is_private),
        st.booleans(),
    )
    def test_noSpoofing(
        self, claimed: list[IP], real: ipaddress.IPv4Address, forwarded: bool
    ) -> None:
        """
        Whatever addresses a client writes into the field itself, the
        trusted proxy's appended address is the client's.
        """
        header = FORWARDED if forwarded else X_FORWARDED_FOR
        forwarding = Forwarding(TrustedProxies.parse(["10.0.0.0/8"], header))
        hops = [f'for="[{a}]"' if a.version == 6 else f"for={a}" for a in claimed]
        addresses = ", ".join(map(str, claimed))
        values = {
            # What the client wrote, the field the proxy writes appended to:
            # and the other as the client wrote it, passed through.
            b"forwarded": ", ".join([*hops, f"for={real}"] if forwarded else hops),
            b"x-forwarded-for": addresses + (f", {real}" if not forwarded else ""),
        }
        resolution = forwarding.resolve(
            IPv4Address("TCP", "10.0.0.1", 1),
            {name: [value.encode()] for name, value in values.items() if value}.get,
        )
        self.assertEqual(resolution, Resolution(IPv4Address("TCP", str(real), 0)))
