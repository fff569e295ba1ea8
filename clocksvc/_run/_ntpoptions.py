# -*- test-case-name: tests.test_ntpoptions -*-
"""
The values of the SNTP options, as the command line writes them:
C{--ntp-listen [HOST:]PORT}, C{--ntp-stratum N}, C{--ntp-local-stratum N}
and C{--ntp-rate-limit RATE/BURST}.
"""

from __future__ import annotations

from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.python import usage

from .._ntp import RateLimit

__all__ = [
    "NTPAddress",
    "describeNTPAddress",
    "parseNTPAddress",
    "parseRateLimit",
    "parseStratum",
]

#: Where an SNTP server listens: an IP address (C{""} for every IPv4
#: interface) and a UDP port.
NTPAddress = tuple[str, int]


def parseNTPAddress(text: str) -> NTPAddress:
    """
    @param text: C{PORT}, C{IPV4:PORT} or C{[IPV6]:PORT}: C{123},
        C{127.0.0.1:123}, C{[::]:123}.
    @return: the address (C{""} for a bare port: every IPv4 interface) and
        the port.
    @raise usage.UsageError: if C{text} is not one of those.
    """
    host, colon, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        valid = isIPv6Address(host)
    else:
        valid = not colon or isIPAddress(host)
    if not (valid and port.isascii() and port.isdigit() and int(port) <= 65535):
        raise usage.UsageError(
            f"--ntp-listen needs [HOST:]PORT, such as 123, 127.0.0.1:123 or "
            f"[::]:123, not {text!r}"
        )
    return host, int(port)


def describeNTPAddress(address: NTPAddress) -> str:
    """
    @return: C{address} as C{--ntp-listen} writes it.
    """
    host, port = address
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}" if host else str(port)


def parseStratum(option: str, text: str) -> int:
    """
    @param option: the option, for the message.
    @param text: a stratum, 1 to 15.
    @return: it.
    @raise usage.UsageError: if it is not one.
    """
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 15):
        raise usage.UsageError(f"{option} needs a stratum from 1 to 15, not {text!r}")
    return int(text)


def parseRateLimit(text: str) -> RateLimit:
    """
    @param text: C{RATE/BURST}.
    @return: the rate limit.
    @raise usage.UsageError: if it is not one.
    """
    try:
        return RateLimit.parse(text)
    except ValueError as e:
        raise usage.UsageError(str(e)) from None
