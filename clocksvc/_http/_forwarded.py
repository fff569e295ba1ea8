# -*- test-case-name: tests.test_forwarded -*-
"""
The client behind a reverse proxy: which proxies are trusted
(C{--trusted-proxy}), the grammars of the fields they add (RFC 7239's
C{Forwarded}, and the de facto C{X-Forwarded-For} and C{X-Forwarded-Proto}),
and the one rule that turns a connection's peer and those fields into the
client's address and scheme (L{Forwarding.resolve}).

A proxy appends the address it took a request from to what it received, so
the fields list the hops from the first (leftmost, which its client may
have written itself) to the last proxy (rightmost). The client is the
rightmost address that is not itself a trusted proxy: whatever a client
writes into the fields lies to the left of what the first trusted proxy
appends, and is never reached. Fields are read only on connections from a
trusted proxy; from anyone else they change nothing.

Only the field the trusted proxies write is read (L{TrustedProxies.header}):
C{X-Forwarded-For} (with C{X-Forwarded-Proto}) by default, or
C{Forwarded}. A proxy passes on the fields it does not write as its client
sent them, so reading the other one would let any client choose its own
address: nginx, for one, appends to C{X-Forwarded-For} and passes a
client's C{Forwarded} through.

The parsers are pure: bytes in, values out, or L{Malformed}.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple, Union

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.interfaces import IAddress
from zope.interface import implementer

from ._grammar import TCHARS

__all__ = [
    "FORWARDED",
    "HEADERS",
    "X_FORWARDED_FOR",
    "Forwarding",
    "HiddenAddress",
    "Hop",
    "Malformed",
    "Node",
    "Resolution",
    "TrustedProxies",
    "parseForwarded",
    "parseProtos",
    "parseXForwardedFor",
]

IP = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


class Malformed(ValueError):
    """
    A forwarding field does not keep to its grammar.
    """


class Node(NamedTuple):
    """
    One hop's node (RFC 7239 section 6): an IP address, or an identifier
    that stands for one the proxy would not or could not give.

    @ivar ip: the address, IPv4-mapped IPv6 addresses unmapped; L{None} for
        an identifier.
    @ivar port: the port, 0 if none was given or it was obfuscated.
    @ivar identifier: for an identifier, C{"unknown"} or the obfuscated
        C{"_name"}, as sent; else empty.
    """

    ip: IP | None
    port: int = 0
    identifier: str = ""


class Hop(NamedTuple):
    """
    One element of C{Forwarded}, or one address of C{X-Forwarded-For}.

    @ivar node: whom the proxy took the request from (C{for=}); L{None} if
        the element does not say.
    @ivar proto: the scheme the request came to that proxy with
        (C{proto=}), lower case; L{None} if not said.
    """

    node: Node | None
    proto: str | None = None


@implementer(IAddress)
class HiddenAddress:
    """
    The address of a client that a trusted proxy hides: C{for=unknown}, or
    an obfuscated identifier such as C{for=_hidden}. It has no IP address.

    @ivar identifier: the identifier, as the proxy sent it.
    """

    def __init__(self, identifier: str) -> None:
        self.identifier = identifier

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HiddenAddress):
            return NotImplemented
        return self.identifier == other.identifier

    def __hash__(self) -> int:
        return hash(self.identifier)

    def __repr__(self) -> str:
        return f"HiddenAddress({self.identifier!r})"


# RFC 9110 section 5.6.2 and 5.6.4: token, and quoted-string with its
# quoted-pairs; field values are read as Latin-1, so obs-text is \x80-\xff.
_TOKEN = "[" + re.escape(TCHARS.decode("ascii")) + "]+"
_QUOTED = r'"(?:[\t !#-\[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*"'
#: One forwarded-pair (or none: the list rules allow empty elements), with
#: the separator after it: ";" within an element, "," between elements.
_PAIR = re.compile(
    rf"[ \t]*(?:(?P<name>{_TOKEN})=(?P<value>{_TOKEN}|{_QUOTED}))?"
    r"[ \t]*(?P<sep>[;,]|\Z)"
)
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)

#: node = nodename [ ":" node-port ] (RFC 7239 section 6), and for
#: X-Forwarded-For a bare IPv6 address too.
_OBFUSCATED = r"_[A-Za-z0-9._-]+"
_NODE = re.compile(
    r"(?:(?P<v4>[0-9]{1,3}(?:\.[0-9]{1,3}){3})"
    r"|\[(?P<v6>[0-9A-Fa-f:.]+)\]"
    r"|(?P<name>[Uu][Nn][Kk][Nn][Oo][Ww][Nn]|" + _OBFUSCATED + r"))"
    r"(?::(?P<port>[0-9]{1,5}|" + _OBFUSCATED + r"))?"
)
#: What a bare IPv6 address is made of (it has two colons at least). One
#: class, not a pattern of colons, which would backtrack for ever on a long
#: run of them.
_IPV6_CHARS = re.compile(r"[0-9A-Fa-f:.]+")

#: How many addresses a L{TrustedProxies} keeps its answer for.
_KEPT = 1024

#: The schemes a proxy may say the request came with.
_SCHEMES = ("http", "https")

#: The fields a trusted proxy may write, as C{--forwarded-header} names
#: them: C{X-Forwarded-For} with C{X-Forwarded-Proto}, which nearly every
#: proxy and load balancer writes; or RFC 7239's C{Forwarded}.
X_FORWARDED_FOR = "x-forwarded-for"
FORWARDED = "forwarded"
HEADERS = (X_FORWARDED_FOR, FORWARDED)


def _ip(text: str) -> IP:
    """
    @return: C{text} as an IP address, IPv4-mapped addresses unmapped.
    @raise ValueError: if it is not one.
    """
    ip = ipaddress.ip_address(text)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


# The ipaddress module takes microseconds to read an address, and the same
# few clients and proxies come again and again: nodes are kept, up to a
# bound that no client can grow past.
@lru_cache(maxsize=1024)
def _node(text: str, bareIPv6: bool = False) -> Node:
    """
    @param text: a node, C{"203.0.113.9"}, C{"[2001:db8::1]:4711"},
        C{"unknown"}, C{"_hidden"}.
    @param bareIPv6: whether an IPv6 address may come without brackets, as
        X-Forwarded-For writes them.
    @raise Malformed: if it is not one.
    """
    if bareIPv6 and text.count(":") >= 2 and _IPV6_CHARS.fullmatch(text):
        try:
            return Node(_ip(text))
        except ValueError:
            raise Malformed(f"not an address: {text!r}") from None
    match = _NODE.fullmatch(text)
    if match is None:
        raise Malformed(f"not a node: {text!r}")
    portText = match.group("port") or ""
    port = int(portText) if portText.isdigit() else 0
    if port > 65535:
        raise Malformed(f"not a port: {portText!r}")
    name = match.group("name")
    if name is not None:
        return Node(None, port, name)
    v6 = match.group("v6")
    try:
        if v6 is not None and ipaddress.ip_address(v6).version != 6:
            raise ValueError(v6)
        ip = _ip(match.group("v4") or v6)
    except ValueError:
        raise Malformed(f"not an address: {text!r}") from None
    return Node(ip, port)


def _proto(text: str) -> str:
    """
    @return: C{text} as a scheme, lower case.
    @raise Malformed: if it is not C{http} or C{https}.
    """
    scheme = text.lower()
    if scheme not in _SCHEMES:
        raise Malformed(f"not a scheme: {text!r}")
    return scheme


def _joined(values: Sequence[bytes]) -> str:
    """
    @return: field lines of one name as one list, as RFC 9110 section 5.3
        joins them; read as Latin-1, which decodes any bytes.
    """
    return ",".join(value.decode("latin-1") for value in values)


def parseForwarded(values: Sequence[bytes]) -> list[Hop]:
    """
    Read C{Forwarded} fields (RFC 7239 section 4)::

        Forwarded         = 1#forwarded-element
        forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )
        forwarded-pair    = token "=" value
        value             = token / quoted-string

    @param values: the fields' values, in order.
    @return: each element's C{for=} and C{proto=}, left to right; elements
        with neither are kept, so that positions count hops.
    @raise Malformed: for anything else, or a parameter given twice in an
        element.
    """
    text = _joined(values)
    hops: list[Hop] = []
    seen: dict[str, str] = {}
    position = 0
    while True:
        match = _PAIR.match(text, position)
        if match is None:
            raise Malformed("not a Forwarded field")
        name, value, separator = match.group("name", "value", "sep")
        if name is not None:
            name = name.lower()
            if name in seen:
                raise Malformed(f"{name}= twice in one element")
            if value.startswith('"'):
                value = _QUOTED_PAIR.sub(r"\1", value[1:-1])
            seen[name] = value
        if separator != ";":
            if seen:
                forValue = seen.get("for")
                protoValue = seen.get("proto")
                hops.append(
                    Hop(
                        None if forValue is None else _node(forValue),
                        None if protoValue is None else _proto(protoValue),
                    )
                )
            seen = {}
        if not separator:
            return hops
        position = match.end()


def parseXForwardedFor(values: Sequence[bytes]) -> list[Hop]:
    """
    Read C{X-Forwarded-For} fields: a list of addresses, IPv6 ones bare or in
    brackets, each perhaps with a port, or C{unknown}.

    @return: each address as a hop, left to right.
    @raise Malformed: for anything else.
    """
    return [
        Hop(_node(item, bareIPv6=True))
        for item in (item.strip(" \t") for item in _joined(values).split(","))
        if item
    ]


def parseProtos(values: Sequence[bytes]) -> list[str]:
    """
    Read C{X-Forwarded-Proto} fields: a list of C{http} and C{https}.

    @return: each scheme, lower case, left to right.
    @raise Malformed: for anything else.
    """
    return [
        _proto(item)
        for item in (item.strip(" \t") for item in _joined(values).split(","))
        if item
    ]


class TrustedProxies:
    """
    The proxies whose forwarding fields are believed: addresses and networks,
    and, if so configured, every peer on a UNIX socket; and the field they
    write, the only one believed.

    @ivar header: L{X_FORWARDED_FOR} or L{FORWARDED}.
    """

    def __init__(
        self,
        networks: Iterable[Network] = (),
        unix: bool = False,
        header: str = X_FORWARDED_FOR,
    ) -> None:
        """
        @param networks: the trusted addresses, as networks of one or more.
        @param unix: whether connections over a UNIX socket come from a
            trusted proxy.
        @param header: the field they write, one of L{HEADERS}.
        @raise ValueError: for another field.
        """
        if header not in HEADERS:
            raise ValueError(
                f"--forwarded-header needs one of {', '.join(HEADERS)}, not {header!r}"
            )
        self.networks = tuple(networks)
        self.unix = unix
        self.header = header
        # Whether each address seen is trusted, as ipaddress is slow: up to
        # _KEPT of them, then afresh.
        self._trusted: dict[object, bool] = {}

    @classmethod
    def parse(
        cls, specs: Iterable[str], header: str = X_FORWARDED_FOR
    ) -> TrustedProxies:
        """
        @param specs: C{--trusted-proxy} values: each an address, a network
            in CIDR notation, or C{unix}, or a comma-separated list of them.
        @param header: the field they write (C{--forwarded-header}).
        @return: the proxies they name.
        @raise ValueError: naming the first that is none of those, or for a
            field not in L{HEADERS}.
        """
        networks: list[Network] = []
        unix = False
        for spec in specs:
            for item in spec.split(","):
                item = item.strip()
                if item == "unix":
                    unix = True
                    continue
                try:
                    networks.append(ipaddress.ip_network(item))
                except ValueError:
                    raise ValueError(
                        f"--trusted-proxy needs an IP address, a network such "
                        f"as 10.0.0.0/8, or unix, not {item!r}"
                    ) from None
        return cls(networks, unix, header)

    def __bool__(self) -> bool:
        return bool(self.networks) or self.unix

    def trustsIP(self, ip: IP) -> bool:
        """
        @return: whether C{ip} is a trusted proxy's.
        """
        trusted = self._trusted.get(ip)
        if trusted is None:
            trusted = any(ip in network for network in self.networks)
            self._keep(ip, trusted)
        return trusted

    def trusts(self, address: IAddress) -> bool:
        """
        @return: whether a connection from C{address} comes from a trusted
            proxy.
        """
        if isinstance(address, UNIXAddress):
            return self.unix
        if isinstance(address, (IPv4Address, IPv6Address)) and self.networks:
            host = address.host
            trusted = self._trusted.get(host)
            if trusted is None:
                try:
                    trusted = self.trustsIP(_ip(host))
                except ValueError:  # pragma: no cover (a scoped IPv6 address)
                    trusted = False
                self._keep(host, trusted)
            return trusted
        return False

    def _keep(self, key: object, trusted: bool) -> None:
        if len(self._trusted) >= _KEPT:
            self._trusted.clear()
        self._trusted[key] = trusted


class Resolution(NamedTuple):
    """
    Who a request came from, as far as the trusted proxies tell.

    @ivar address: the client's address: the connection's peer, or an
        L{IPv4Address}, L{IPv6Address} or L{HiddenAddress} that a trusted
        proxy gave.
    @ivar secure: whether the client used HTTPS, if a trusted proxy said;
        L{None} to go by the connection.
    """

    address: IAddress
    secure: bool | None = None


#: Looks up a request's field values by lower-case name.
FieldValues = Callable[[bytes], "Sequence[bytes] | None"]


class Forwarding:
    """
    The one rule for a request's client address and scheme, which every
    user of them goes through: the HTTP layer sets them on each request, and
    hands them to quick answers and reporters.
    """

    def __init__(
        self, trusted: TrustedProxies, invalid: Callable[[], None] = lambda: None
    ) -> None:
        """
        @param trusted: the trusted proxies.
        @param invalid: called for each request whose forwarding fields, from
            a trusted proxy, could not be read: for C{/metrics}.
        """
        self.trusted = trusted
        self._invalid = invalid

    def resolve(self, peer: IAddress, values: FieldValues) -> Resolution:
        """
        @param peer: the connection's peer.
        @param values: the request's fields.
        @return: the client's address and scheme, if C{peer} is a trusted
            proxy: from C{Forwarded}, or from C{X-Forwarded-For} and
            C{X-Forwarded-Proto}, whichever the proxies write (the other is
            never read); else C{peer}'s. Fields that do not keep to their
            grammar count as L{invalid}, and leave it C{peer}'s.
        """
        resolution, invalid = self.read(peer, values)
        if invalid:
            self._invalid()
        return resolution

    def read(self, peer: IAddress, values: FieldValues) -> tuple[Resolution, bool]:
        """
        L{resolve}, but without counting fields that do not keep to their
        grammar: for a quick answer, which may yet leave the request to the
        resource tree, where it is resolved, and counted, again.

        @return: what L{resolve} returns, and whether the fields were
            invalid (for L{countInvalid}).
        """
        if not self.trusted.trusts(peer):
            return Resolution(peer), False
        try:
            if self.trusted.header == FORWARDED:
                forwarded = parseForwarded(values(b"forwarded") or ())
                return self._choose(peer, forwarded, None), False
            addresses = values(b"x-forwarded-for")
            protos = values(b"x-forwarded-proto")
            return self._choose(
                peer,
                parseXForwardedFor(addresses or ()),
                parseProtos(protos) if protos else None,
            ), False
        except Malformed:
            return Resolution(peer), True

    def countInvalid(self) -> None:
        """
        Count a request whose fields L{read} found invalid.
        """
        self._invalid()

    def _choose(
        self, peer: IAddress, hops: list[Hop], protos: list[str] | None
    ) -> Resolution:
        """
        @param hops: the hops, left to right.
        @param protos: X-Forwarded-Proto's schemes; L{None} for the hops' own.
        @return: the rightmost hop that is not a trusted proxy (the leftmost
            if all are), with its scheme; the peer if no hop names a node.
        """
        if all(hop.node is None for hop in hops):
            # Only a scheme was forwarded, if anything: the address is the
            # peer's.
            if protos is not None:
                return Resolution(peer, _secure(protos[-1] if protos else None))
            return Resolution(peer, _secure(hops[-1].proto if hops else None))
        chosen = 0
        for index in range(len(hops) - 1, -1, -1):
            node = hops[index].node
            if node is None or node.ip is None or not self.trusted.trustsIP(node.ip):
                chosen = index
                break
        if protos is None:
            proto = hops[chosen].proto
        else:
            # Paired from the right; a proxy that sets one scheme for the
            # whole chain gives it for every hop.
            fromRight = len(hops) - 1 - chosen
            proto = protos[-1 - fromRight] if fromRight < len(protos) else None
            if proto is None and protos:
                proto = protos[0]
        secure = _secure(proto)
        node = hops[chosen].node
        if node is None:
            return Resolution(HiddenAddress("unknown"), secure)
        if node.ip is None:
            return Resolution(HiddenAddress(node.identifier), secure)
        kind = IPv4Address if node.ip.version == 4 else IPv6Address
        return Resolution(kind("TCP", _text(node.ip), node.port), secure)


@lru_cache(maxsize=1024)
def _text(ip: IP) -> str:
    """
    @return: C{ip} as text, which takes ipaddress microseconds for IPv6.
    """
    return str(ip)


def _secure(proto: str | None) -> bool | None:
    """
    @return: whether C{proto} is HTTPS; L{None} if no scheme was given.
    """
    return None if proto is None else proto == "https"
