"""
Helpers for the SNTP tests: requests as clients write them, replies read
field by field, and a client over real UDP.
"""

from __future__ import annotations

import struct
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import DatagramProtocol

__all__ = ["UDPClient", "fields", "request"]

#: The fields of a header, as RFC 5905's figure 8 lays them out.
_FIELDS = struct.Struct("!BBbbII4sQQQQ")


def request(
    version: int = 4,
    mode: int = 3,
    poll: int = 6,
    transmit: int = 0x1234_5678_9ABC_DEF0,
    extra: bytes = b"",
) -> bytes:
    """
    @return: a client's request with these fields, as an SNTP client sends
        it (every other field 0).
    """
    first = version << 3 | mode
    return _FIELDS.pack(first, 0, poll, 0, 0, 0, bytes(4), 0, 0, 0, transmit) + extra


def fields(reply: bytes) -> tuple[Any, ...]:
    """
    @return: the reply's fields: LI, VN, mode, then the rest of figure 8
        (stratum, poll, precision, root delay, root dispersion, reference
        ID, reference, origin, receive and transmit timestamps).
    """
    first, *rest = _FIELDS.unpack(reply)
    return (first >> 6, (first >> 3) & 7, first & 7, *rest)


class UDPClient(DatagramProtocol):
    """
    A client socket: sends datagrams to a server, and keeps what comes back.

    @ivar received: every datagram received, in order.
    """

    def __init__(self, server: IListeningPort) -> None:
        """
        @param server: the server's port, which it sends to.
        """
        address = server.getHost()
        self._server = (address.host, address.port)  # type: ignore[attr-defined]
        self.received: list[bytes] = []
        self._waiting: list[tuple[int, Deferred[bytes]]] = []

    def send(self, datagram: bytes) -> None:
        """
        Send C{datagram} to the server.
        """
        assert self.transport is not None
        self.transport.write(datagram, self._server)

    def datagramReceived(self, datagram: bytes, address: Any) -> None:
        self.received.append(datagram)
        for entry in list(self._waiting):
            if len(self.received) >= entry[0]:
                self._waiting.remove(entry)
                entry[1].callback(datagram)

    def receivedCount(self, count: int) -> Deferred[bytes]:
        """
        @return: fires with the C{count}th datagram received, once it is.
        """
        waiting: Deferred[bytes] = Deferred()
        if len(self.received) >= count:
            waiting.callback(self.received[count - 1])
        else:
            self._waiting.append((count, waiting))
        return waiting
