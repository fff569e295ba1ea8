# -*- test-case-name: tests.test_roughtime_wire -*-
"""
Roughtime's wire format, every rule of it in one place, each with the
section of RFC 10049 it implements: packets (C{ROUGHTIM}, a length, a
message), messages (a tag/offset header and the values, tags sorted as
little-endian uint32s), and what a server reads of a request and writes in
a response.

L{parseRequest} is the one reader of requests: it returns a L{Request} or
raises L{Malformed} with a short reason, the label the server counts it
under. Nothing here does cryptography or I/O.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "DRAFT_VERSION",
    "MAX_REQUEST",
    "MIN_UDP_REQUEST",
    "RFC_VERSION",
    "SUPPORTED_VERSIONS",
    "Malformed",
    "Request",
    "chooseVersion",
    "decodeMessage",
    "encodeMessage",
    "frame",
    "parseRequest",
    "tag",
]

#: RFC 10049 section 5: the first field of every packet, "ROUGHTIM" as a
#: little-endian uint64.
MAGIC = b"ROUGHTIM"
#: The magic and the uint32 length of the message.
FRAME_HEADER = 12

#: Section 5: "The version of Roughtime specified by this document has
#: version number 1."
RFC_VERSION = 0x00000001
#: The version the drafts used from draft 12 to draft 19, which deployed
#: clients still offer.
DRAFT_VERSION = 0x8000000C
#: Section 5.2.5: VERS lists the server's versions in ascending order.
SUPPORTED_VERSIONS = (RFC_VERSION, DRAFT_VERSION)
#: Section 5.1.1: a request's VER holds at most 32 versions.
MAX_VERSIONS = 32

#: Section 5.1: a request over UDP SHOULD be at least 1024 bytes, so that no
#: reply is larger than its request (section 11.6); smaller ones are not
#: answered.
MIN_UDP_REQUEST = 1024
#: The largest request read: an Ethernet MTU's UDP payload, as roughenough
#: takes. A request's leaf hashes all of it, so its cost is bounded here.
MAX_REQUEST = 1472

#: Section 5.1.2: a nonce is 32 bytes.
NONCE_SIZE = 32
#: Section 5.1.4: SRV is the first 32 bytes of SHA-512(0xff || public key).
SRV_SIZE = 32
#: Section 5.1.3 and 5.2.3: TYPE is 0 in a request, 1 in a response.
TYPE_REQUEST = 0
TYPE_RESPONSE = 1


def tag(name: str) -> int:
    """
    Section 4.1.3: a tag is one to four capital ASCII letters padded with
    zero bytes, sorted and registered as the little-endian uint32 of those
    four bytes.

    @param name: the tag's letters, such as C{"NONC"} or C{"VER"}.
    @return: the tag as a uint32.
    """
    return int.from_bytes(name.encode("ascii").ljust(4, b"\0"), "little")


SIG, VER, SRV, NONC, DELE, TYPE = map(
    tag, ["SIG", "VER", "SRV", "NONC", "DELE", "TYPE"]
)
PATH, RADI, PUBK, MIDP, SREP, VERS = map(
    tag, ["PATH", "RADI", "PUBK", "MIDP", "SREP", "VERS"]
)
MINT, ROOT, CERT, MAXT, INDX, ZZZZ = map(
    tag, ["MINT", "ROOT", "CERT", "MAXT", "INDX", "ZZZZ"]
)


class Malformed(ValueError):
    """
    A request that is not answered, with the reason it is counted under.

    @ivar reason: one of C{"malformed"} (not a Roughtime packet or message),
        C{"version"} (no version in common), C{"type"} (a TYPE other than
        0), or C{"nonce"} (no 32-byte NONC).
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def encodeMessage(values: Mapping[int, bytes]) -> bytes:
    """
    Section 4: the header (the number of pairs, N-1 offsets, N tags) and the
    values, in ascending order of the tags as uint32s.

    @param values: each tag's value; each value but the last in tag order
        must be a multiple of four bytes long, as offsets are.
    @return: the message.
    """
    tags = sorted(values)
    offsets = []
    position = 0
    for t in tags[:-1]:
        position += len(values[t])
        offsets.append(position)
    header = struct.pack(f"<{2 * len(tags)}I", len(tags), *offsets, *tags)
    return header + b"".join(values[t] for t in tags)


def decodeMessage(message: bytes) -> dict[int, bytes]:
    """
    Read a message strictly (section 4.2): at least one pair; offsets that
    are multiples of four, in order, within the values; tags strictly
    ascending, so that none repeats.

    @return: each tag's value.
    @raise Malformed: if C{message} is not one.
    """
    if len(message) < 4:
        raise Malformed("malformed", "message shorter than its count")
    (count,) = struct.unpack_from("<I", message)
    headerSize = 8 * count
    if count == 0 or headerSize > len(message):
        raise Malformed("malformed", f"{count} pairs do not fit the message")
    fields = struct.unpack_from(f"<{2 * count - 1}I", message, 4)
    offsets = (0, *fields[: count - 1], len(message) - headerSize)
    tags = fields[count - 1 :]
    found: dict[int, bytes] = {}
    for i, t in enumerate(tags):
        start, end = offsets[i], offsets[i + 1]
        if start % 4 or end < start or (i < count - 1 and end % 4):
            raise Malformed("malformed", "offsets out of order or not aligned")
        if i and t <= tags[i - 1]:
            raise Malformed("malformed", "tags not in ascending order")
        found[t] = message[headerSize + start : headerSize + end]
    return found


def frame(message: bytes) -> bytes:
    """
    Section 5: a packet: C{ROUGHTIM}, the message's length, the message.
    """
    return MAGIC + struct.pack("<I", len(message)) + message


def unframe(packet: bytes) -> bytes:
    """
    @return: the message of a packet whose length field says exactly how
        long it is.
    @raise Malformed: if C{packet} is not one.
    """
    if len(packet) < FRAME_HEADER or packet[:8] != MAGIC:
        raise Malformed("malformed", "no ROUGHTIM header")
    (length,) = struct.unpack_from("<I", packet, 8)
    if length != len(packet) - FRAME_HEADER:
        raise Malformed("malformed", "length field does not match the packet")
    return packet[FRAME_HEADER:]


@dataclass(frozen=True)
class Request:
    """
    A request the server may answer.

    @ivar packet: the whole request packet, which its Merkle leaf hashes.
    @ivar nonce: its 32-byte nonce.
    @ivar version: the version its response is in.
    @ivar srv: the hash of the long-term key it asks for, if it names one.
    """

    packet: bytes
    nonce: bytes
    version: int
    srv: bytes | None


def chooseVersion(offered: Iterable[int]) -> int | None:
    """
    Section 5.1.1: unknown versions are ignored; of those in common, the
    RFC's version 1 is preferred to the draft's.

    @return: the version to answer in, or L{None} if there is none in
        common.
    """
    common = set(offered)
    for version in SUPPORTED_VERSIONS:
        if version in common:
            return version
    return None


def parseRequest(packet: bytes) -> Request:
    """
    Read a request packet (section 5.1): VER, NONC and TYPE are required
    (TYPE from draft 14 on: requests in the draft's version may lack it,
    as those of drafts 12 and 13 do); unknown tags are ignored.

    The packet's size is the caller's to check: the minimum applies to UDP
    only.

    @param packet: a whole packet, of at most L{MAX_REQUEST} bytes.
    @return: the request.
    @raise Malformed: if the request is not to be answered.
    """
    values = decodeMessage(unframe(packet))
    ver = values.get(VER)
    if ver is None or not ver or len(ver) % 4 or len(ver) > 4 * MAX_VERSIONS:
        raise Malformed("malformed", "VER missing or not a list of versions")
    offered = struct.unpack(f"<{len(ver) // 4}I", ver)
    # Section 5.1.1: "MUST NOT repeat and MUST be sorted in ascending
    # numerical order".
    if any(b <= a for a, b in zip(offered, offered[1:])):
        raise Malformed("malformed", "VER not in ascending order")
    version = chooseVersion(offered)
    if version is None:
        raise Malformed("version", "no version in common")
    nonce = values.get(NONC)
    if nonce is None or len(nonce) != NONCE_SIZE:
        raise Malformed("nonce", "NONC missing or not 32 bytes")
    kind = values.get(TYPE)
    if kind is None:
        if version == RFC_VERSION:
            raise Malformed("type", "TYPE missing")
    elif kind != struct.pack("<I", TYPE_REQUEST):
        raise Malformed("type", "TYPE is not a request's")
    srv = values.get(SRV)
    if srv is not None and len(srv) != SRV_SIZE:
        raise Malformed("malformed", "SRV not 32 bytes")
    return Request(packet, nonce, version, srv)


def uint32(value: int) -> bytes:
    """
    Section 4.1.1: a little-endian uint32.
    """
    return struct.pack("<I", value)


def uint64(value: int) -> bytes:
    """
    Section 4.1.2: a little-endian uint64.
    """
    return struct.pack("<Q", value)


def signedResponse(version: int, radius: int, midpoint: int, root: bytes) -> bytes:
    """
    Section 5.2.5: SREP's value: VER, RADI, MIDP, VERS and ROOT.

    @param version: the response's version.
    @param radius: RADI, in seconds, above 0.
    @param midpoint: MIDP, in seconds since the Unix epoch.
    @param root: the Merkle tree's root.
    """
    return encodeMessage(
        {
            VER: uint32(version),
            RADI: uint32(radius),
            MIDP: uint64(midpoint),
            VERS: b"".join(uint32(v) for v in SUPPORTED_VERSIONS),
            ROOT: root,
        }
    )


def delegation(publicKey: bytes, minTime: int, maxTime: int) -> bytes:
    """
    Section 5.2.6: DELE's value: the online key and the window of MIDP it
    may sign, in seconds since the Unix epoch.
    """
    return encodeMessage(
        {PUBK: publicKey, MINT: uint64(minTime), MAXT: uint64(maxTime)}
    )


def certificate(dele: bytes, signature: bytes) -> bytes:
    """
    Section 5.2.6: CERT's value: DELE and the long-term key's signature.
    """
    return encodeMessage({SIG: signature, DELE: dele})


def response(
    signature: bytes,
    nonce: bytes,
    path: bytes,
    srep: bytes,
    cert: bytes,
    index: int,
) -> bytes:
    """
    Section 5.2: a response packet: SIG, NONC, TYPE, PATH, SREP, CERT, INDX.
    """
    return frame(
        encodeMessage(
            {
                SIG: signature,
                NONC: nonce,
                TYPE: uint32(TYPE_RESPONSE),
                PATH: path,
                SREP: srep,
                CERT: cert,
                INDX: uint32(index),
            }
        )
    )


def request(
    nonce: bytes,
    versions: Iterable[int] = SUPPORTED_VERSIONS,
    srv: bytes | None = None,
    size: int = MIN_UDP_REQUEST,
) -> bytes:
    """
    Section 5.1: a request packet padded with ZZZZ to C{size} bytes, as a
    client sends it; for the tests and the benchmark.
    """
    values = {
        VER: b"".join(uint32(v) for v in versions),
        NONC: nonce,
        TYPE: uint32(TYPE_REQUEST),
    }
    if srv is not None:
        values[SRV] = srv
    unpadded = FRAME_HEADER + len(encodeMessage({**values, ZZZZ: b""}))
    values[ZZZZ] = bytes(max(size - unpadded, 0))
    return frame(encodeMessage(values))
