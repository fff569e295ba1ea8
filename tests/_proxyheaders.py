"""
PROXY protocol headers for the tests of clocksvc's reader of them, in
memory (C{tests.test_proxyprotocol}) and over real sockets
(C{tests.test_proxies}): version 2's, made to order, and the headers that
are refused, each with its reason.
"""

from __future__ import annotations

import socket
import struct

__all__ = ["GET_NOW", "REFUSED", "V2_INET", "proxyV2Raw"]

#: A plain request, to send after a header.
GET_NOW = b"GET /now HTTP/1.1\r\nHost: a\r\n\r\n"


def proxyV2Raw(
    command: int, family: int, block: bytes, length: int | None = None
) -> bytes:
    """
    @return: a PROXY protocol version 2 head (version and C{command},
        C{family} and protocol) with C{block} after it, which C{length}
        says is that long unless it says otherwise.
    """
    size = len(block) if length is None else length
    return (
        b"\r\n\r\n\x00\r\nQUIT\n"
        + bytes([command, family])
        + struct.pack("!H", size)
        + block
    )


#: An address block of IPv4 over TCP: 6.6.6.6:56324 to 192.0.2.1:8880.
V2_INET = (
    socket.inet_pton(socket.AF_INET, "6.6.6.6")
    + socket.inet_pton(socket.AF_INET, "192.0.2.1")
    + struct.pack("!HH", 56324, 8880)
)


#: Issue 22's headers (items 5 and 6), and others like them, with the
#: reason each is refused for.
REFUSED = [
    # Item 5: what Twisted's reader logged as a critical traceback.
    (b"PROXY TCP4 6.6.6.6 127.0.0.1 abc 80\r\n", "port"),
    (b"PROXY TCP4 6.6.6.6 127.0.0.1 56324 80\n", "malformed"),
    (b"PROXY TCP4 6.6.6.6 127.0.0.1 56324 \r\n", "malformed"),
    (b"PROXY TCP4 6.6.6.6 127.0.0.1 56324\r\n", "malformed"),
    (b"PROXY TCP4 6.6.6.6\r\n", "malformed"),
    (b"PROXY TCP4  6.6.6.6 127.0.0.1 56324 80\r\n", "malformed"),
    (b"PROXY TCP4 6.6.6.6 127.0.0.1 56324 80\rX\n", "malformed"),
    (b"PROXY UDP4 6.6.6.6 127.0.0.1 56324 80\r\n", "malformed"),
    # Item 6: what it took as the client's address, or port.
    (b"PROXY TCP4 evil.example 127.0.0.1 56324 80\r\n", "address"),
    (b"PROXY TCP4 999.6.6.6 127.0.0.1 56324 80\r\n", "address"),
    (b'PROXY TCP4 6.6.6.6" 127.0.0.1 56324 80\r\n', "address"),
    (b"PROXY TCP4 1.2.3.4/8 127.0.0.1 56324 80\r\n", "address"),
    (b"PROXY TCP6 fe80::1%lo ::1 56324 80\r\n", "address"),
    (b"PROXY TCP4 6.6.6.6\x00 127.0.0.1 56324 80\r\n", "address"),
    (b"PROXY TCP4 6.6.6.6 127.0.0.1 70000 80\r\n", "port"),
    (b"PROXY TCP4 6.6.6.6 127.0.0.1 -1 80\r\n", "port"),
    # Addresses of the other family, leading zeros.
    (b"PROXY TCP4 2001:db8::1 127.0.0.1 56324 80\r\n", "address"),
    (b"PROXY TCP6 6.6.6.6 ::1 56324 80\r\n", "address"),
    (b"PROXY TCP4 6.6.6.006 127.0.0.1 56324 80\r\n", "address"),
    (b"PROXY TCP4 6.6.6.6 127.0.0.1 056324 80\r\n", "port"),
    # No CRLF within 107 bytes; not the PROXY protocol at all.
    (b"PROXY UNKNOWN " + b"f" * 100 + b"\r\n", "too_long"),
    (GET_NOW, "signature"),
    (b"PROXY\r\n", "signature"),
    # Version 2: another version, an unknown command, family or protocol,
    # too short an address block for IPv4 over TCP.
    (proxyV2Raw(0x11, 0x11, V2_INET), "malformed"),
    (proxyV2Raw(0x22, 0x11, V2_INET), "malformed"),
    (proxyV2Raw(0x21, 0x41, V2_INET), "malformed"),
    (proxyV2Raw(0x21, 0x13, V2_INET), "malformed"),
    (proxyV2Raw(0x21, 0x11, V2_INET[:4]), "malformed"),
]
