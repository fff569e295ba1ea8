# -*- test-case-name: tests.test_server -*-
"""
The limits that keep broken and hostile clients from wearing the server down.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Limits", "defaultMaxConnections"]

# File descriptors kept back from the connection cap: for listening sockets,
# log files, and the zone files that zoneinfo opens.
_RESERVED_DESCRIPTORS = 64


def defaultMaxConnections() -> int:
    """
    @return: how many connections the process can hold open: its
        file-descriptor limit, less a reserve for everything else.
    """
    try:
        import resource
    except ImportError:  # pragma: no cover (not POSIX)
        return 1000
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:  # pragma: no cover (no limit set)
        return 65536
    return max(soft - _RESERVED_DESCRIPTORS, 16)


@dataclass(frozen=True)
class Limits:
    """
    The server's limits, each with the default the command line uses.

    @ivar maxBodySize: the largest request body taken, in bytes; a larger one
        is answered C{413} without being read (or written anywhere).
    @ivar headerTimeout: seconds a client has, from the first byte of a
        request (or from connecting), to send all of it; then C{408}.
    @ivar idleTimeout: seconds a kept-alive connection may sit idle between
        requests before it is closed.
    @ivar maxConnections: connections served at once; beyond that, new ones
        get C{503} and are closed.
    @ivar maxRequestLine: the longest request line, in bytes; then C{414}.
    @ivar maxHeaderSize: the most bytes of request line and headers; then
        C{431}.
    @ivar maxHeaders: the most header fields in one request; then C{431}.
    @ivar maxStreams: the most requests under way at once on one HTTP/2
        connection (C{SETTINGS_MAX_CONCURRENT_STREAMS}); and how many of its
        streams a client may reset at once.
    @ivar maxResetsPerSecond: how many streams an HTTP/2 client may reset
        a second, once it has reset C{maxStreams}; beyond that, the
        connection ends (C{GOAWAY}, C{ENHANCE_YOUR_CALM}).
    @ivar stalledStreamSeconds: how long an event stream whose client has
        stopped reading is kept before it is dropped.
    @ivar socketSendBuffer: the kernel's send buffer for each TCP
        connection, in bytes. Fixing it stops Linux from growing it to
        megabytes for a client that does not read, where answers would pile
        up unseen by Twisted's backpressure; answers here are small.
    @ivar readAhead: the most bytes of a client's pipelined requests held
        unread while the connection cannot go on with them: while one is
        being answered, while the client is not reading its answers, or
        while its connection waits for its next turn. Past it, the
        connection stops reading from the client until it has caught up.
        With one read of the socket (64 KiB) past it, and what Twisted holds
        to send (64 KiB and the answer that crosses it), a connection holds
        at most about 256 KiB of the server's memory, whatever its client
        sends.
    @ivar answersPerTurn: the most pipelined requests one connection takes
        up in one turn of the reactor; the rest wait for its next turn, so
        that other connections are served meanwhile.
    @ivar secondsPerTurn: how long one connection may keep the reactor
        answering its pipelined requests before the rest wait for its next
        turn (an answer under way is never cut short).
    """

    maxBodySize: int = 64 * 1024
    headerTimeout: float = 10.0
    idleTimeout: float = 15.0
    maxConnections: int = field(default_factory=defaultMaxConnections)
    maxRequestLine: int = 8 * 1024
    maxHeaderSize: int = 16 * 1024
    maxHeaders: int = 100
    maxStreams: int = 100
    maxResetsPerSecond: float = 10.0
    stalledStreamSeconds: int = 30
    socketSendBuffer: int = 32 * 1024
    readAhead: int = 64 * 1024
    answersPerTurn: int = 100
    secondsPerTurn: float = 0.002

    @property
    def headerListSize(self) -> int:
        """
        The largest header list an HTTP/2 request may have, as HTTP/2
        measures it (C{SETTINGS_MAX_HEADER_LIST_SIZE}, RFC 9113 section
        6.5.2): each field's name and value and 32 bytes more. It takes every
        head that C{maxHeaderSize} and C{maxHeaders} take, with room for its
        pseudo-header fields (as much as 5 more fields' 32 bytes); and it is
        the most bytes of frame payload one header block may have, which no
        HPACK encoding of such a list needs.
        """
        return self.maxHeaderSize + 32 * (self.maxHeaders + 5)
