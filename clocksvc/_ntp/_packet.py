# -*- test-case-name: tests.test_ntppacket -*-
"""
The NTP packet, as an SNTP server reads requests and writes replies: RFC
5905's 48-byte header (its section 7.3), and what section 14 asks of an
SNTP server. Every rule of the wire format is here, and nothing else: no
socket, no clock.

A request is read with L{readRequest}, which says either why it is dropped
or what the reply needs from it (the client's version, poll and transmit
timestamp). A reply is made by L{Header.reply}: the fields that change at
most once a second (leap indicator, stratum, root dispersion, reference)
are kept in a L{Header}, so that each reply is one C{struct} call.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = [
    "DROP_REASONS",
    "HEADER_LENGTH",
    "KISS_RATE",
    "LEAP_DELETE",
    "LEAP_INSERT",
    "LEAP_NONE",
    "LEAP_UNSYNCHRONIZED",
    "NTP_EPOCH_OFFSET",
    "Header",
    "Request",
    "fromShort",
    "fromTimestamp",
    "precisionOf",
    "readRequest",
    "toShort",
    "toTimestamp",
]

#: The length of an NTP header: a reply is never longer, and a request never
#: shorter.
HEADER_LENGTH = 48

#: Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01).
NTP_EPOCH_OFFSET = 2_208_988_800

# RFC 5905, figure 9: the leap indicator, the top two bits of the first
# octet.
#: No leap second is pending.
LEAP_NONE = 0
#: The last minute of the day (the month's last, for a leap second) has 61
#: seconds.
LEAP_INSERT = 1
#: The last minute of the day has 59 seconds.
LEAP_DELETE = 2
#: The server's clock is unsynchronized: clients must not use its time.
LEAP_UNSYNCHRONIZED = 3

# RFC 5905, figure 10: the association modes, the low three bits.
_MODE_CLIENT = 3
_MODE_SERVER = 4
# Modes 6 (control, ntpq) and 7 (private, ntpdc's monlist): the modes of
# amplification attacks; never answered.
_MODE_CONTROL = 6

#: The versions answered, each echoed: RFC 5905 section 9.2 has a server
#: reply in the request's version. 1 and 2 are old, but still sent (ntplib
#: asks in version 2 by default), and their header is the same.
_VERSIONS = range(1, 5)

#: RFC 5905 section 7.4's kiss code for "rate exceeded": the client must
#: reduce its rate.
KISS_RATE = b"RATE"

#: Why a datagram is dropped, as the metrics label it.
DROP_REASONS = ("short", "malformed", "version", "mode", "control", "rate")

# The whole reply, RFC 5905 figure 8: LI, VN and mode in one octet; stratum;
# poll and precision, signed; root delay and root dispersion in the 32-bit
# short format; the reference ID; then four 64-bit timestamps, of which the
# origin is the client's transmit timestamp, copied as the 8 bytes it sent.
_REPLY = struct.Struct("!BBbbII4sQ8sQQ")

# 2**32: the fraction of a second in a timestamp's low 32 bits.
_FRACTION = 4_294_967_296.0
# Timestamps are kept modulo 2**64, so that they roll over into NTP era 1
# (2036-02-07) as RFC 5905 section 6 has them.
_TIMESTAMP_MASK = (1 << 64) - 1
_SHORT_MAX = 0xFFFF_FFFF
_ZERO_TIMESTAMP = bytes(8)


def toTimestamp(seconds: float) -> int:
    """
    @param seconds: an instant, in seconds since the Unix epoch.
    @return: it as an NTP timestamp: 32 bits of seconds since 1900 (modulo
        2**32, so in era 1 after 2036) and 32 bits of fraction.
    """
    return int((seconds + NTP_EPOCH_OFFSET) * _FRACTION) & _TIMESTAMP_MASK


def fromTimestamp(timestamp: int, era: int = 0) -> float:
    """
    @param timestamp: an NTP timestamp.
    @param era: its NTP era: 0 until 2036-02-07, 1 after.
    @return: the instant, in seconds since the Unix epoch.
    """
    return timestamp / _FRACTION + era * 2**32 - NTP_EPOCH_OFFSET


def toShort(seconds: float) -> int:
    """
    @param seconds: a duration of at least 0.
    @return: it in NTP's short format (16 bits of seconds, 16 of fraction),
        rounded up, so that a bound stays a bound; at most its largest value.
    """
    return min(math.ceil(max(seconds, 0.0) * 65536), _SHORT_MAX)


def fromShort(short: int) -> float:
    """
    @param short: a duration in NTP's short format.
    @return: it in seconds.
    """
    return short / 65536


def precisionOf(resolution: float, now: float) -> int:
    """
    RFC 5905's precision: the log2 of the clock's resolution in seconds,
    rounded up.

    @param resolution: what the clock says its resolution is
        (C{time.get_clock_info("time").resolution}: 1 ns on Linux).
    @param now: the time now, in seconds since the epoch: a C{float} of it
        resolves no better than its last bit (C{math.ulp}), 238 ns in this
        century, which is then the clock's resolution as clocksvc reads it.
    @return: the precision, between -32 and 0.
    """
    finest = max(resolution, math.ulp(now), 2.0**-32)
    return max(-32, min(0, math.ceil(math.log2(finest))))


class Request(NamedTuple):
    """
    What a reply needs from a client's request: a tuple, which costs less
    to make for each datagram than a class.

    @ivar version: its NTP version, echoed in the reply.
    @ivar poll: its poll exponent, echoed.
    @ivar transmit: its transmit timestamp, as the 8 bytes it sent: the
        reply's origin timestamp.
    """

    version: int
    poll: int
    transmit: bytes


def readRequest(datagram: bytes) -> Request | str:
    """
    Read a datagram as an SNTP server does (RFC 5905 section 14).

    @param datagram: the datagram, whole.
    @return: the request; or why it is dropped, one of L{DROP_REASONS}:
        C{control} for modes 6 and 7; C{short} below 48 bytes; C{mode} for
        any other mode than a client's (3); C{version} outside 1 to 4;
        C{malformed} for a length that is not a whole number of 32-bit
        words (extension fields and MACs are), or a transmit timestamp of
        0, which no client sends and which would make the origin of the
        reply 0, a time no client can match.
    """
    if not datagram:
        return "short"
    first = datagram[0]
    mode = first & 7
    # Control queries first, whatever their length: ntpq's are 12 bytes.
    if mode >= _MODE_CONTROL:
        return "control"
    if len(datagram) < HEADER_LENGTH:
        return "short"
    if mode != _MODE_CLIENT:
        return "mode"
    version = (first >> 3) & 7
    if version not in _VERSIONS:
        return "version"
    transmit = datagram[40:48]
    if len(datagram) & 3 or transmit == _ZERO_TIMESTAMP:
        return "malformed"
    poll = datagram[2]
    return Request(version, poll - 256 if poll > 127 else poll, transmit)


@dataclass(frozen=True)
class Header:
    """
    The fields of a reply that are the same for every client while the
    server clock's state is the same.

    @ivar leap: the leap indicator: L{LEAP_NONE}, L{LEAP_INSERT},
        L{LEAP_DELETE} or L{LEAP_UNSYNCHRONIZED}.
    @ivar stratum: 1 to 15 while serving time; 0 ("unspecified or
        invalid") when unsynchronized, which clients take, with the leap
        indicator 3, as a reason to use another server.
    @ivar precision: L{precisionOf} the clock.
    @ivar rootDelay: the round-trip delay to the reference clock, in
        seconds.
    @ivar rootDispersion: the bound on the error to the reference clock, in
        seconds.
    @ivar referenceID: 4 bytes: a kiss code or the reference's identifier.
    @ivar reference: when the clock was last set or checked, in seconds
        since the Unix epoch; L{None} if never (0 on the wire).
    """

    leap: int
    stratum: int
    precision: int
    rootDelay: float
    rootDispersion: float
    referenceID: bytes
    reference: float | None
    # The first octet's leap indicator and mode, to which a reply adds the
    # version; the fields after poll, packed for each reply.
    _leapMode: int = field(init=False, repr=False, compare=False)
    _fields: tuple[int, int, int, bytes, int] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_leapMode", self.leap << 6 | _MODE_SERVER)
        object.__setattr__(
            self,
            "_fields",
            (
                self.precision,
                toShort(self.rootDelay),
                toShort(self.rootDispersion),
                self.referenceID,
                0 if self.reference is None else toTimestamp(self.reference),
            ),
        )

    def reply(self, request: Request, received: float, transmitted: float) -> bytes:
        """
        @param request: the client's request.
        @param received: when it arrived, in seconds since the Unix epoch.
        @param transmitted: when the reply leaves, the same.
        @return: the 48 bytes of the reply.
        """
        precision, delay, dispersion, referenceID, reference = self._fields
        return _REPLY.pack(
            self._leapMode | request.version << 3,
            self.stratum,
            request.poll,
            precision,
            delay,
            dispersion,
            referenceID,
            reference,
            request.transmit,
            toTimestamp(received),
            toTimestamp(transmitted),
        )

    def kiss(self, request: Request, code: bytes = KISS_RATE) -> bytes:
        """
        @param request: the client's request.
        @param code: the kiss code, 4 ASCII letters.
        @return: a kiss-o'-death (RFC 5905 section 7.4): stratum 0, the
            leap indicator 3, the code as reference ID; its receive and
            transmit timestamps are the client's own, as ntpd's are, so
            that a client that ignores the kiss cannot take a time from it.
        """
        transmit = int.from_bytes(request.transmit, "big")
        return _REPLY.pack(
            LEAP_UNSYNCHRONIZED << 6 | request.version << 3 | _MODE_SERVER,
            0,
            request.poll,
            self._fields[0],
            0,
            0,
            code,
            0,
            request.transmit,
            transmit,
            transmit,
        )
