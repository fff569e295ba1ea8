# -*- test-case-name: tests.test_proxyprotocol,tests.test_proxies -*-
"""
The PROXY protocol (HAProxy's, versions 1 and 2) in front of a connection,
for C{haproxy:} endpoints: a strict reader of its header
(L{HeaderReader}), and the wrapper that reads it before anything else on
the connection and then gives the client's address as the peer's
(L{ProxyProtocol}).

The rules are the specification's (HAProxy's C{doc/proxy-protocol.txt}):

  - version 1 is one line of US-ASCII, C{PROXY}, the family (C{TCP4},
    C{TCP6} or C{UNKNOWN}), two addresses and two ports, separated by
    exactly one space and ended by CRLF, 107 bytes at most. Addresses must
    be of the family the line declares, written as the specification says
    (no leading zeros in IPv4, no zone in IPv6), and ports decimal numbers
    from 0 to 65535 without leading zeros. After C{UNKNOWN} anything up to
    the CRLF is ignored, and the connection's own addresses are used.
  - version 2 is a 16-byte head (signature, version 2 and a command, the
    family and protocol, the length of the rest), then the addresses and
    any TLVs. C{LOCAL} (a proxy's health check), an unspecified family or
    protocol, and the families clocksvc does not serve (UDP, UNIX) keep the
    connection's own addresses, as the specification allows; TLVs are
    skipped unread.

Anything else refuses the connection: it is closed unanswered, counted by
reason (L{REASONS}), and logged in one line, never with a traceback. A
header must be complete within the site's header timeout, and no more of it
is kept than its addresses: 107 bytes for version 1, 232 for version 2.

Twisted's own reader (L{twisted.protocols.haproxy}) is not used: a port
that is not a number there is an unhandled C{ValueError}, logged with its
traceback for each connection; it takes any text as an address, and
ports out of range; it refuses C{PROXY UNKNOWN}; and it drops a connection
whose first read is shorter than 8 bytes.
"""

from __future__ import annotations

import ipaddress
import re
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, Union, cast

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionLost
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IListeningPort,
    IProtocolFactory,
    IReactorTime,
    IStreamServerEndpoint,
    ITCPTransport,
)
from twisted.internet.protocol import connectionDone
from twisted.logger import Logger
from twisted.protocols import policies
from twisted.python.failure import Failure
from zope.interface import implementer

from ._limits import Limits
from ._site import ClockSite

__all__ = [
    "REASONS",
    "V1_MAX",
    "BadProxyHeader",
    "HeaderReader",
    "ProxyHeader",
    "ProxyProtocol",
    "ProxyProtocolEndpoint",
    "ProxyProtocolFactory",
    "listeningFactory",
    "parseV1",
    "proxyProtocolFactory",
]

# The service log's namespace: each refusal is one of its lines, at info,
# as the log's other events are (clocksvc._run._logging).
_log = Logger(namespace="clocksvc.service")

#: Why a header was refused, as C{/metrics} labels it: it does not start
#: with a PROXY signature; it breaks the grammar; an address is not of its
#: family; a port is not one; version 1 without CRLF in 107 bytes; not
#: complete within the header timeout.
REASONS = ("signature", "malformed", "address", "port", "too_long", "timeout")

#: The longest version 1 line, CRLF included (the specification's figure:
#: C{UNKNOWN} with two IPv6 addresses of 39 characters and two ports of 5).
V1_MAX = 107

_V1_SIGNATURE = b"PROXY "
_V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
_V2_HEAD = 16
#: Version 2's address block by family (the 14th byte's high half):
#: unspecified, IPv4 and IPv6 (two addresses and two ports), UNIX (two
#: paths of 108 bytes).
_V2_ADDRESSES = (0, 12, 36, 216)
_INET, _INET6, _STREAM = 1, 2, 1

_V1_LINE = re.compile(
    rb"PROXY (?:UNKNOWN(?: .*)?|(?P<family>TCP4|TCP6)"
    rb" (?P<source>[^ ]+) (?P<destination>[^ ]+)"
    rb" (?P<sourcePort>[^ ]+) (?P<destinationPort>[^ ]+))",
    re.DOTALL,
)
_OCTET = rb"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(_OCTET + rb"(?:\." + _OCTET + rb"){3}")
#: What an IPv6 address is written with (no zone: C{%} is not among them);
#: ipaddress checks the rest.
_IPV6_CHARS = re.compile(rb"[0-9A-Fa-f:.]+")
_PORT = re.compile(rb"0|[1-9][0-9]{0,4}")

IP = Union[IPv4Address, IPv6Address]


class BadProxyHeader(ValueError):
    """
    A PROXY header that breaks the specification.

    @ivar reason: one of L{REASONS}.
    """

    def __init__(self, reason: str, problem: str) -> None:
        """
        @param problem: what is wrong, in a few words, for the log; never
            the client's bytes.
        """
        super().__init__(problem)
        self.reason = reason


class ProxyHeader(NamedTuple):
    """
    What a PROXY header says.

    @ivar source: the client's address; L{None} to use the connection's own
        (C{UNKNOWN}, C{LOCAL}, or a family clocksvc does not serve).
    @ivar destination: the address the client connected to; likewise.
    """

    source: IP | None = None
    destination: IP | None = None


def _address(family: bytes, text: bytes, portText: bytes) -> IP:
    """
    @return: C{text} and C{portText} as an address of C{family}.
    @raise BadProxyHeader: if they are not one.
    """
    if not _PORT.fullmatch(portText) or int(portText) > 65535:
        raise BadProxyHeader(
            "port", f"a {family.decode()} port that is not a number from 0 to 65535"
        )
    port = int(portText)
    if family == b"TCP4":
        if _IPV4.fullmatch(text):
            return IPv4Address("TCP", text.decode("ascii"), port)
    elif _IPV6_CHARS.fullmatch(text):
        try:
            ip = ipaddress.IPv6Address(text.decode("ascii"))
        except ValueError:
            pass
        else:
            return IPv6Address("TCP", ip.compressed, port)
    version = "IPv4" if family == b"TCP4" else "IPv6"
    raise BadProxyHeader(
        "address", f"a {family.decode()} address that is not an {version} address"
    )


def parseV1(line: bytes) -> ProxyHeader:
    """
    Read a version 1 line.

    @param line: the line, without its CRLF.
    @raise BadProxyHeader: if it breaks the grammar.
    """
    match = _V1_LINE.fullmatch(line)
    if match is None:
        raise BadProxyHeader("malformed", "a version 1 line that does not parse")
    family = match.group("family")
    if family is None:
        # UNKNOWN: the connection's own addresses, whatever follows.
        return ProxyHeader()
    source = _address(family, match.group("source"), match.group("sourcePort"))
    destination = _address(
        family, match.group("destination"), match.group("destinationPort")
    )
    return ProxyHeader(source, destination)


def _v2Addresses(family: int, block: bytes) -> ProxyHeader:
    """
    @param family: L{_INET} or L{_INET6}.
    @param block: the address block: two addresses, then two ports.
    """
    size = 4 if family == _INET else 16
    sourcePort, destinationPort = struct.unpack("!HH", block[2 * size :])
    if family == _INET:
        return ProxyHeader(
            IPv4Address("TCP", str(ipaddress.IPv4Address(block[:size])), sourcePort),
            IPv4Address(
                "TCP",
                str(ipaddress.IPv4Address(block[size : 2 * size])),
                destinationPort,
            ),
        )
    return ProxyHeader(
        IPv6Address("TCP", ipaddress.IPv6Address(block[:size]).compressed, sourcePort),
        IPv6Address(
            "TCP",
            ipaddress.IPv6Address(block[size : 2 * size]).compressed,
            destinationPort,
        ),
    )


class HeaderReader:
    """
    Reads a connection's PROXY header, version 1 or 2, from its first bytes
    as they come, keeping no more of them than the header's addresses.
    """

    def __init__(self) -> None:
        self._buffer = b""
        #: Once a version 2 header is read: what it says, and how many bytes
        #: of its TLVs are still to be skipped.
        self._read: ProxyHeader | None = None
        self._skip = 0

    def feed(self, data: bytes) -> tuple[ProxyHeader, bytes] | None:
        """
        @param data: the next bytes of the connection.
        @return: L{None} while the header is incomplete; then the header,
            and the bytes after it.
        @raise BadProxyHeader: if it breaks the specification.
        """
        if self._read is not None:
            return self._skipped(data)
        buffer = self._buffer + data
        self._buffer = b""
        signature = _V2_SIGNATURE if buffer[:1] == b"\r" else _V1_SIGNATURE
        if not buffer.startswith(signature[: len(buffer)]):
            raise BadProxyHeader("signature", "no PROXY protocol signature")
        if len(buffer) < len(signature):
            self._buffer = buffer
            return None
        if signature is _V1_SIGNATURE:
            return self._v1(buffer)
        return self._v2(buffer)

    def _v1(self, buffer: bytes) -> tuple[ProxyHeader, bytes] | None:
        end = buffer.find(b"\n", 0, V1_MAX)
        if end == -1:
            if len(buffer) >= V1_MAX:
                raise BadProxyHeader("too_long", "no CRLF in the first 107 bytes")
            if b"\r" in buffer[:-1]:
                raise BadProxyHeader("malformed", "a CR without LF")
            self._buffer = buffer
            return None
        if buffer[end - 1 : end] != b"\r" or b"\r" in buffer[: end - 1]:
            raise BadProxyHeader("malformed", "a line end other than CRLF")
        return parseV1(buffer[: end - 1]), buffer[end + 1 :]

    def _v2(self, buffer: bytes) -> tuple[ProxyHeader, bytes] | None:
        if len(buffer) < _V2_HEAD:
            self._buffer = buffer
            return None
        versionCommand, familyProtocol = buffer[12], buffer[13]
        (length,) = struct.unpack("!H", buffer[14:16])
        if versionCommand >> 4 != 2 or versionCommand & 0xF > 1:
            raise BadProxyHeader("malformed", "a version 2 head of another version")
        family, protocol = familyProtocol >> 4, familyProtocol & 0xF
        local = versionCommand & 0xF == 0
        needed = 0
        if not local:
            # LOCAL ignores the family; PROXY must give a known one.
            if family >= len(_V2_ADDRESSES) or protocol > 2:
                raise BadProxyHeader("malformed", "an unknown version 2 family")
            needed = _V2_ADDRESSES[family] if protocol else 0
            if length < needed:
                raise BadProxyHeader("malformed", "too short a version 2 address")
        end = _V2_HEAD + needed
        if len(buffer) < end:
            self._buffer = buffer
            return None
        if local or protocol != _STREAM or family not in (_INET, _INET6):
            # The connection's own addresses: a health check, or what
            # clocksvc does not serve, as the specification allows.
            self._read = ProxyHeader()
        else:
            self._read = _v2Addresses(family, buffer[_V2_HEAD:end])
        self._skip = length - needed
        return self._skipped(buffer[end:])

    def _skipped(self, data: bytes) -> tuple[ProxyHeader, bytes] | None:
        """
        Skip version 2's TLVs, unread and unkept.
        """
        if len(data) < self._skip:
            self._skip -= len(data)
            return None
        rest, self._skip = data[self._skip :], 0
        return cast(ProxyHeader, self._read), rest


class ProxyProtocol(policies.ProtocolWrapper):
    """
    One connection's PROXY header, read before anything else on it: its
    bytes are never the wrapped protocol's, and once it is read the wrapped
    protocol's peer (and host) are the ones it gives.

    The wrapped protocol is connected at once, as Twisted's own wrapper
    does, so that a site counts the connection against its cap and drains
    it; it sees no bytes until the header is read. A refused header closes
    the connection, and the wrapped protocol is told at once that it is
    lost, so that none of its own timers answers on it.
    """

    factory: ProxyProtocolFactory
    _header: ProxyHeader | None = None
    _deadline: IDelayedCall | None = None
    _refused = False

    def __init__(self, factory: ProxyProtocolFactory, wrappedProtocol: Any) -> None:
        super().__init__(factory, wrappedProtocol)
        self._reader = HeaderReader()

    def makeConnection(self, transport: Any) -> None:
        # The deadline first: scheduled before the wrapped protocol's own
        # of the same length (ClockChannel's header timeout), it runs first.
        self._deadline = self.factory.timers.callLater(
            self.factory.timeout, self._timedOut
        )
        super().makeConnection(transport)

    def dataReceived(self, data: bytes) -> None:
        if self._header is not None:
            self.wrappedProtocol.dataReceived(data)
            return
        if self._refused or self.disconnecting:
            return
        try:
            found = self._reader.feed(data)
        except BadProxyHeader as bad:
            self._refuse(bad)
            return
        if found is None:
            return
        self._header, rest = found
        self._cancelDeadline()
        if rest:
            self.wrappedProtocol.dataReceived(rest)

    def getPeer(self) -> IAddress:
        if self._header is not None and self._header.source is not None:
            return self._header.source
        return self._transport().getPeer()

    def getHost(self) -> IAddress:
        if self._header is not None and self._header.destination is not None:
            return self._header.destination
        return self._transport().getHost()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._cancelDeadline()
        if self._refused:
            # The wrapped protocol was told when the header was refused.
            self.factory.unregisterProtocol(self)
            return
        super().connectionLost(reason)

    def _timedOut(self) -> None:
        self._deadline = None
        if self._header is None and not self._refused and not self.disconnecting:
            self._refuse(
                BadProxyHeader(
                    "timeout", f"no whole PROXY header in {self.factory.timeout:g} s"
                )
            )

    def _transport(self) -> ITCPTransport:
        # Connected whenever this is called: a TCP, TLS or UNIX transport.
        return cast(ITCPTransport, self.transport)

    def _cancelDeadline(self) -> None:
        # Set only while pending: _timedOut clears it as it runs.
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _refuse(self, bad: BadProxyHeader) -> None:
        """
        Close the connection unanswered, log it in one line, and count it.
        """
        self._refused = True
        self._cancelDeadline()
        peer = self._transport().getPeer()
        host = getattr(peer, "host", None) or "a UNIX socket"
        _log.info(
            "refused a connection from {peer}: {problem}",
            event="proxy_refused",
            peer=host,
            problem=str(bad),
            details={"reason": bad.reason},
        )
        self.factory.refused(bad.reason)
        self._transport().loseConnection()
        self.wrappedProtocol.connectionLost(
            Failure(ConnectionLost("the PROXY header was refused"))
        )


def _ignore(reason: str) -> None:
    pass


if TYPE_CHECKING:
    _WrappingFactory = policies.WrappingFactory[ProxyProtocol]
else:
    # Generic for the type checker only: the Twisted of Python 3.9 (26.4,
    # PyPy's) may not subscript it at run time.
    _WrappingFactory = policies.WrappingFactory


class ProxyProtocolFactory(_WrappingFactory):
    """
    Wraps each connection of a factory in L{ProxyProtocol}.

    @ivar timers: run the header's deadline.
    @ivar timeout: seconds a connection has to send its whole header.
    @ivar refused: told the reason of each connection refused, to count it.
    """

    protocol = ProxyProtocol

    def __init__(
        self,
        wrappedFactory: IProtocolFactory,
        timers: IReactorTime,
        timeout: float,
        refused: Callable[[str], None] = _ignore,
    ) -> None:
        super().__init__(wrappedFactory)
        self.timers = timers
        self.timeout = timeout
        self.refused = refused

    def logPrefix(self) -> str:
        # As Twisted's PROXY factory says it.
        prefix = getattr(self.wrappedFactory, "logPrefix", None)
        name = prefix() if prefix else type(self.wrappedFactory).__name__
        return f"{name} (PROXY)"


def proxyProtocolFactory(
    factory: IProtocolFactory, timers: IReactorTime, tls: Any = None
) -> ProxyProtocolFactory:
    """
    @param factory: the factory to wrap: a L{ClockSite}, whose own timers,
        header timeout and counter of refusals are used; or any other, on
        C{timers}, with the default header timeout.
    @param tls: for TLS, its context factory: the PROXY header comes first,
        in clear, and TLS after it, as a proxy sends them (HAProxy's
        C{send-proxy} to an C{ssl} server).
    @return: C{factory}, reading the PROXY protocol first (then TLS).
    """
    inner = _withTLS(factory, tls)
    if isinstance(factory, ClockSite):
        return ProxyProtocolFactory(
            inner, factory.timers, factory.limits.headerTimeout, factory.proxyRefused
        )
    return ProxyProtocolFactory(inner, timers, Limits.headerTimeout)


def listeningFactory(
    factory: IProtocolFactory, timers: IReactorTime, proxied: bool, tls: Any
) -> IProtocolFactory:
    """
    What a TCP port listens with for an endpoint: the PROXY header first,
    if C{proxied}, in clear; then TLS, if C{tls}; then C{factory}'s
    protocol.

    @param factory: the factory to wrap, as L{proxyProtocolFactory} takes
        it.
    @param tls: a TLS context factory, or L{None}.
    @return: C{factory}, wrapped so.
    """
    if proxied:
        return proxyProtocolFactory(factory, timers, tls)
    return _withTLS(factory, tls)


def _withTLS(factory: IProtocolFactory, tls: Any) -> IProtocolFactory:
    """
    @param tls: a TLS context factory, or L{None}.
    @return: C{factory}, beneath TLS if C{tls}, as the reactor's
        C{listenSSL} wraps it for a TCP port.
    """
    if tls is None:
        return factory
    from twisted.protocols.tls import TLSMemoryBIOFactory

    return TLSMemoryBIOFactory(tls, False, factory)


@implementer(IStreamServerEndpoint)
class ProxyProtocolEndpoint:
    """
    An endpoint whose connections start with a PROXY header: C{haproxy:}.
    """

    def __init__(
        self, wrapped: IStreamServerEndpoint, timers: IReactorTime, tls: Any = None
    ) -> None:
        """
        @param wrapped: the endpoint that listens: for TLS, the TCP one
            beneath it.
        @param timers: run the header's deadline, for a factory that is not
            a L{ClockSite}.
        @param tls: for TLS, its context factory, which the connection
            starts once the PROXY header is read.
        """
        self._wrapped = wrapped
        self._timers = timers
        self._tls = tls

    def listen(self, protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:
        return self._wrapped.listen(
            proxyProtocolFactory(protocolFactory, self._timers, self._tls)
        )
