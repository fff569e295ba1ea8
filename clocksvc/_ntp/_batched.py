# -*- test-case-name: tests.test_ntpbatched -*-
"""
A UDP port that reads its datagrams many to a system call, with Linux's
C{recvmmsg(2)}, where Twisted's reads one with C{recvfrom}, and writes a
batch's replies with one C{sendmmsg(2)}.

An SNTP reply is cheap to make (a third of a microsecond on PyPy) and two
system calls to carry: one to read the request, one to write the reply.
Reading thirty-two requests with one call, as chrony does, and writing
their replies with one more, takes most of both off each reply. Python's
C{socket} module has neither call: this calls them through cffi, in its
ABI mode, which needs no compiler, and which PyPy's JIT calls as it calls
its own code.

The port is Twisted's L{udp.Port<twisted.internet.udp.Port>}, with its
binding, its writes and its closing, but for L{BatchedPort.doRead}. It is
used where it can be (L{listenBatched}): on 64-bit Linux, on a reactor
that watches file descriptors, with cffi importable; elsewhere the
reactor's own C{listenUDP} serves, with the same protocol and the same
answers.

Its cost is bounded: one batch of buffers a port, made with it (C{batch}
datagrams of C{maxPacketSize} bytes, their addresses and headers: 38 KiB
for L{BATCH} datagrams of 1 KiB); a table of at most 1,024 parsed
addresses; and each C{doRead} reads at most C{maxThroughput} bytes, as
Twisted's does, before the reactor serves anything else.
"""

from __future__ import annotations

import errno
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any, cast

from twisted.internet import udp
from twisted.internet.interfaces import (
    IListeningPort,
    IReactorFDSet,
    IReactorUDP,
)
from twisted.internet.protocol import DatagramProtocol
from twisted.python import log

__all__ = ["BATCH", "BatchedPort", "batchedAvailable", "listenBatched"]

#: How many datagrams one C{recvmmsg} reads at most: chrony's figure (its
#: C{MAX_RECV_MESSAGES}). A larger batch saves little more, as a busy
#: socket seldom holds more between two reads.
BATCH = 32

# The room for one datagram's source address: a sockaddr_in6 is 28 bytes,
# the largest an IPv4 or IPv6 socket gives.
_NAME_ROOM = 32

# recvmmsg's flags: never block, even on a socket that would.
_MSG_DONTWAIT = 0x40

# What recvmmsg fails with that means there is nothing to read now, or a
# signal came first: the reactor calls again when there is. A refusal (an
# ICMP port unreachable for an earlier reply) means nothing to a port that
# is not connected, as Twisted's udp.Port takes it.
_TRY_LATER = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR})
_IGNORED = _TRY_LATER | {errno.ECONNREFUSED}

# The C declarations, in cffi's ABI mode: laid out as glibc and musl lay
# them out on 64-bit Linux (musl's int msg_iovlen and its padding read the
# same as glibc's size_t on a little-endian machine, and the kernel's
# struct is glibc's).
_DECLARATIONS = """
struct iovec { void *iov_base; size_t iov_len; };
struct msghdr {
    void *msg_name;
    unsigned int msg_namelen;
    struct iovec *msg_iov;
    size_t msg_iovlen;
    void *msg_control;
    size_t msg_controllen;
    int msg_flags;
};
struct mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; };
int recvmmsg(int sockfd, struct mmsghdr *msgvec, unsigned int vlen,
             int flags, void *timeout);
int sendmmsg(int sockfd, struct mmsghdr *msgvec, unsigned int vlen,
             int flags);
void *memcpy(void *dest, const void *src, size_t n);
"""


def _load() -> tuple[Any, Any] | None:
    """
    @return: cffi's C{FFI} and the C library with C{recvmmsg} in it, or
        L{None} where there is none: not Linux, no cffi, or a C library
        without the call.
    """
    if not sys.platform.startswith("linux") or sys.maxsize < 2**32:
        # The declarations are 64-bit Linux's.
        return None
    try:
        from cffi import FFI
    except ImportError:  # pragma: no cover (cffi is a dependency on Linux)
        return None
    ffi = FFI()
    ffi.cdef(_DECLARATIONS)
    libc = ffi.dlopen(None)
    if not (hasattr(libc, "recvmmsg") and hasattr(libc, "sendmmsg")):
        # pragma: no cover (glibc has both since 2.14, musl since 1.1.0)
        return None
    return ffi, libc


_C = _load()


def batchedAvailable(reactor: object) -> bool:
    """
    @param reactor: a reactor.
    @return: whether L{listenBatched} listens on it with a L{BatchedPort}:
        on 64-bit Linux with cffi, and a reactor that watches file
        descriptors, as Twisted's C{udp.Port} needs.
    """
    return _C is not None and IReactorFDSet.providedBy(reactor)


def addressOf(name: bytes) -> tuple[str, int]:
    """
    @param name: a C{sockaddr_in} or C{sockaddr_in6}, as the kernel wrote
        it.
    @return: its C{(host, port)}, as C{recvfrom} gives it (an IPv6 one
        without its flow and scope, as Twisted's udp.Port gives it).
    """
    port = int.from_bytes(name[2:4], "big")
    if len(name) >= 24 and name[0:2] == _AF_INET6:
        return socket.inet_ntop(socket.AF_INET6, name[8:24]), port
    return socket.inet_ntop(socket.AF_INET, name[4:8]), port


# The address family's two bytes as the kernel writes them, in the
# machine's order.
_AF_INET6 = socket.AF_INET6.to_bytes(2, sys.byteorder)


class _Addresses:
    """
    The C{(host, port)} of each source address seen lately, so that a
    client that asks again is not parsed again: at most L{_Addresses.SIZE}
    of them, forgotten all at once when there are more, as the quick
    path's caches are.
    """

    SIZE = 1024

    def __init__(self) -> None:
        self._known: dict[bytes, tuple[str, int]] = {}

    def __call__(self, name: bytes) -> tuple[str, int]:
        known = self._known
        address = known.get(name)
        if address is None:
            if len(known) >= self.SIZE:
                known.clear()
            address = known[name] = addressOf(name)
        return address


class BatchedPort(udp.Port):
    """
    Twisted's UDP port, reading up to C{batch} datagrams a system call, and
    writing a batch's replies with one, to a protocol that answers batches.

    A protocol with a C{batchReceived(datagrams, write)} method (as
    L{SNTPServer<clocksvc._ntp.SNTPServer>} has) is handed each batch
    whole, with a C{write} that sends C{(index, reply)} pairs, each a reply
    to the datagram at C{index}, with one C{sendmmsg(2)}, from the buffer
    the request was read into (so a reply is never longer than its
    request). Any other protocol is handed each datagram with
    C{datagramReceived}, as Twisted's port hands it.
    """

    def __init__(
        self,
        port: int,
        proto: DatagramProtocol,
        interface: str = "",
        maxPacketSize: int = 8192,
        reactor: IReactorFDSet | None = None,
        batch: int = BATCH,
    ) -> None:
        """
        Arguments as Twisted's C{udp.Port}'s, and:

        @param batch: how many datagrams one system call reads at most.
        """
        super().__init__(port, proto, interface, maxPacketSize, reactor)
        ffi, self._libc = cast(tuple[Any, Any], _C)
        self._ffi = ffi
        self._unpack: Callable[[Any, int], bytes] = ffi.unpack
        self._batch = batch
        self._received = ffi.new("struct mmsghdr[]", batch)
        self._sending = ffi.new("struct mmsghdr[]", batch)
        iovecs = ffi.new("struct iovec[]", 2 * batch)
        self._buffers = ffi.new("char[]", batch * maxPacketSize)
        self._names = ffi.new("char[]", batch * _NAME_ROOM)
        self._keep = iovecs
        self._slots = []
        self._outgoing = []
        for i in range(batch):
            buffer = self._buffers + i * maxPacketSize
            name = self._names + i * _NAME_ROOM
            reading = iovecs + i
            reading.iov_base = buffer
            reading.iov_len = maxPacketSize
            header = self._received[i].msg_hdr
            header.msg_name = name
            header.msg_namelen = _NAME_ROOM
            header.msg_iov = reading
            header.msg_iovlen = 1
            self._slots.append((self._received[i], header, buffer, name))
            writing = iovecs + batch + i
            outgoing = self._sending[i].msg_hdr
            outgoing.msg_iov = writing
            outgoing.msg_iovlen = 1
            self._outgoing.append((outgoing, writing))
        self._addresses = _Addresses()

    def doRead(self) -> None:
        """
        Read what the socket holds, C{batch} datagrams a call, and hand
        them to the protocol, until it is empty or C{maxThroughput} bytes
        have been read.
        """
        recvmmsg = self._libc.recvmmsg
        unpack = self._unpack
        addressOf = self._addresses
        protocol = self.protocol
        batchReceived = getattr(protocol, "batchReceived", None)
        fd = self.socket.fileno()
        slots = self._slots
        batch = self._batch
        read = 0
        while read < self.maxThroughput:
            count = recvmmsg(fd, self._received, batch, _MSG_DONTWAIT, self._ffi.NULL)
            if count < 0:
                code = self._ffi.errno
                if code in _IGNORED:
                    return
                raise OSError(code, errno.errorcode.get(code, "recvmmsg"))
            datagrams = []
            for message, header, buffer, name in slots[:count]:
                length = message.msg_len
                read += length
                datagrams.append(
                    (
                        unpack(buffer, length),
                        addressOf(unpack(name, header.msg_namelen)),
                    )
                )
            self._deliver(protocol, batchReceived, datagrams)
            for _, header, _, _ in slots[:count]:
                # The kernel wrote each name's length over the room it was
                # given: give the room back for the next call.
                header.msg_namelen = _NAME_ROOM
            if count < batch:
                # The socket is empty, or was a moment ago: the reactor will
                # say when it is not, without a call that finds nothing.
                return

    def _deliver(
        self,
        protocol: DatagramProtocol,
        batchReceived: Callable[..., None] | None,
        datagrams: list[tuple[bytes, tuple[str, int]]],
    ) -> None:
        """
        Hand a batch to the protocol, whole if it takes batches; log what it
        raises, as Twisted's port does, and go on.
        """
        if batchReceived is not None:
            try:
                batchReceived(datagrams, self._write)
            except BaseException:
                log.err()
            return
        for datagram, address in datagrams:
            try:
                protocol.datagramReceived(datagram, address)
            except BaseException:
                log.err()

    def _write(self, replies: Sequence[tuple[int, bytes]]) -> int:
        """
        Write replies to the batch just read, with one C{sendmmsg} (more
        only if a signal cuts it short).

        @param replies: C{(index, reply)} pairs: the reply to the batch's
            datagram at C{index}, no longer than it.
        @return: how many were written, in order; the rest the socket
            would not take.
        """
        memcpy = self._libc.memcpy
        slots = self._slots
        outgoing = self._outgoing
        for (header, writing), (index, reply) in zip(outgoing, replies):
            message, received, buffer, name = slots[index]
            length = len(reply)
            if length > message.msg_len:
                raise ValueError("a reply is never longer than its request")
            memcpy(buffer, reply, length)
            writing.iov_base = buffer
            writing.iov_len = length
            header.msg_name = name
            header.msg_namelen = received.msg_namelen
        fd = self.socket.fileno()
        sendmmsg = self._libc.sendmmsg
        written = 0
        while written < len(replies):
            sent = sendmmsg(fd, self._sending + written, len(replies) - written, 0)
            if sent < 0:
                if self._ffi.errno == errno.EINTR:
                    continue
                # Full (EAGAIN), or the message at `written` cannot go: the
                # clients will ask again.
                break
            written += sent
        return written


def listenBatched(
    reactor: IReactorUDP,
    port: int,
    protocol: DatagramProtocol,
    interface: str = "",
    maxPacketSize: int = 8192,
) -> IListeningPort:
    """
    Listen for datagrams as C{reactor.listenUDP} does, with a L{BatchedPort}
    where L{batchedAvailable}.

    @return: the listening port.
    @raise twisted.internet.error.CannotListenError: if it cannot bind.
    """
    if not batchedAvailable(reactor):
        return reactor.listenUDP(port, protocol, interface, maxPacketSize)
    listening = BatchedPort(
        port, protocol, interface, maxPacketSize, cast(IReactorFDSet, reactor)
    )
    listening.startListening()
    return listening
