"""
Tests for L{clocksvc._roughtime._wire} and L{clocksvc._roughtime._merkle}:
Roughtime's messages, requests and Merkle paths (RFC 10049 sections 4, 5.1
and 5.3), and a property that no datagram makes the parser fail otherwise
than by L{Malformed}.
"""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._roughtime._merkle import MerkleTree, hashLeaf, rootFrom
from clocksvc._roughtime._wire import (
    DRAFT_VERSION,
    NONC,
    RFC_VERSION,
    SRV,
    TYPE,
    VER,
    ZZZZ,
    Malformed,
    chooseVersion,
    decodeMessage,
    encodeMessage,
    frame,
    parseRequest,
    request,
    tag,
)

NONCE = bytes(range(32))


def _request(values: dict[int, bytes]) -> bytes:
    """
    @return: a packet of C{values}, padded to 1024 bytes.
    """
    unpadded = 12 + len(encodeMessage({**values, ZZZZ: b""}))
    return frame(encodeMessage({**values, ZZZZ: bytes(1024 - unpadded)}))


class MessageTests(SynchronousTestCase):
    """
    Messages are encoded and read as section 4 says.
    """

    def test_tags(self) -> None:
        """
        Tags are little-endian uint32s of their letters, padded with zeros:
        the RFC's examples.
        """
        self.assertEqual((tag("NONC"), tag("VER")), (0x434E4F4E, 0x00524556))

    def test_roundTrip(self) -> None:
        """
        A message's tags are sorted as uint32s, with N-1 offsets, and read
        back as they were.
        """
        values = {NONC: NONCE, VER: b"\1\0\0\0", ZZZZ: b"\0" * 7}
        message = encodeMessage(values)
        self.assertEqual(message[:4], b"\3\0\0\0")
        self.assertEqual(
            struct.unpack_from("<5I", message, 4), (4, 36, VER, NONC, ZZZZ)
        )
        self.assertEqual(decodeMessage(message), values)

    def test_strict(self) -> None:
        """
        Tags out of order, a repeated one, offsets out of order or not
        aligned, no pairs, or more pairs than fit are malformed.
        """
        for message in [
            struct.pack("<3I", 2, 4, NONC) + struct.pack("<I", VER) + bytes(8),
            struct.pack("<4I", 2, 4, NONC, NONC) + bytes(8),
            struct.pack("<4I", 2, 2, VER, NONC) + bytes(8),
            struct.pack("<5I", 3, 8, 4, VER, NONC) + struct.pack("<I", ZZZZ) + bytes(8),
            struct.pack("<4I", 2, 12, VER, NONC) + bytes(8),
            struct.pack("<I", 0),
            struct.pack("<I", 1000) + bytes(16),
            b"\1\0",
        ]:
            self.assertRaises(Malformed, decodeMessage, message)


class RequestTests(SynchronousTestCase):
    """
    L{parseRequest} reads what section 5.1 requires of a request.
    """

    def test_request(self) -> None:
        """
        A client's request: its nonce, the version chosen (1 before the
        draft's), and no SRV.
        """
        parsed = parseRequest(request(NONCE))
        self.assertEqual(
            (parsed.nonce, parsed.version, parsed.srv, len(parsed.packet)),
            (NONCE, RFC_VERSION, None, 1024),
        )
        self.assertEqual(
            parseRequest(request(NONCE, [DRAFT_VERSION])).version, DRAFT_VERSION
        )

    def test_chooseVersion(self) -> None:
        """
        Unknown versions are ignored; 1 is preferred.
        """
        self.assertEqual(chooseVersion([7, DRAFT_VERSION, RFC_VERSION]), RFC_VERSION)
        self.assertEqual(chooseVersion([0x8000000B]), None)

    def test_draftWithoutType(self) -> None:
        """
        Drafts 12 and 13 sent no TYPE: the draft's version is answered
        without it; version 1 requires it.
        """
        draft = {VER: struct.pack("<I", DRAFT_VERSION), NONC: NONCE}
        self.assertEqual(parseRequest(_request(draft)).version, DRAFT_VERSION)
        rfc = {VER: struct.pack("<I", RFC_VERSION), NONC: NONCE}
        self.assertEqual(
            self.assertRaises(Malformed, parseRequest, _request(rfc)).reason, "type"
        )

    def test_refused(self) -> None:
        """
        Each request the RFC says to ignore raises L{Malformed} with its
        reason.
        """
        ver = struct.pack("<I", RFC_VERSION)
        typ = struct.pack("<I", 0)
        packet = request(NONCE)
        for values, reason in [
            ({NONC: NONCE, TYPE: typ}, "malformed"),
            ({VER: b"", NONC: NONCE, TYPE: typ}, "malformed"),
            (
                {VER: struct.pack("<33I", *range(33)), NONC: NONCE, TYPE: typ},
                "malformed",
            ),
            (
                {VER: struct.pack("<2I", DRAFT_VERSION, 1), NONC: NONCE, TYPE: typ},
                "malformed",
            ),
            ({VER: struct.pack("<I", 2), NONC: NONCE, TYPE: typ}, "version"),
            ({VER: ver, TYPE: typ}, "nonce"),
            ({VER: ver, NONC: NONCE * 2, TYPE: typ}, "nonce"),
            ({VER: ver, NONC: NONCE, TYPE: struct.pack("<I", 1)}, "type"),
            ({VER: ver, NONC: NONCE, TYPE: typ, SRV: bytes(16)}, "malformed"),
        ]:
            error = self.assertRaises(Malformed, parseRequest, _request(values))
            self.assertEqual(error.reason, reason, values)
        for bad in [packet[:11], b"ROUGHTIX" + packet[8:], packet + b"\0\0\0\0"]:
            self.assertEqual(
                self.assertRaises(Malformed, parseRequest, bad).reason, "malformed"
            )

    def test_unknownTagsIgnored(self) -> None:
        """
        Section 5.1: unknown tags are ignored.
        """
        values = {
            VER: struct.pack("<I", 1),
            NONC: NONCE,
            TYPE: struct.pack("<I", 0),
            tag("ABCD"): b"x" * 8,
        }
        self.assertEqual(parseRequest(_request(values)).nonce, NONCE)

    @given(st.binary(max_size=1472))
    def test_anyDatagram(self, datagram: bytes) -> None:
        """
        Any datagram is either a request or L{Malformed}: nothing else is
        raised.
        """
        try:
            parseRequest(datagram)
        except Malformed as e:
            self.assertIn(e.reason, {"malformed", "version", "nonce", "type"})

    @given(
        st.dictionaries(
            st.sampled_from([VER, NONC, TYPE, SRV, ZZZZ, tag("PAD"), 0, 2**32 - 1]),
            st.binary(max_size=64).map(lambda b: b[: len(b) // 4 * 4]),
            max_size=6,
        ),
        st.integers(0, 3),
    )
    def test_anyMessage(self, values: dict[int, bytes], cut: int) -> None:
        """
        Well-framed messages of any tags and values, cut short or not,
        are a request or L{Malformed}.
        """
        packet = frame(encodeMessage(values)) if values else frame(b"")
        packet = packet[: len(packet) - cut] if cut else packet
        try:
            parsed = parseRequest(packet)
        except Malformed:
            return
        self.assertEqual(parsed.nonce, values[NONC])


class MerkleTests(SynchronousTestCase):
    """
    Every leaf's path leads to the root, by the client's algorithm.
    """

    def test_paths(self) -> None:
        """
        For batches of 1 to 70, each request's PATH and INDX lead to ROOT
        (section 5.3.1), with as many nodes as the tree is high.
        """
        for size in range(1, 71):
            packets = [request(bytes([i % 256]) * 32) for i in range(size)]
            tree = MerkleTree([hashLeaf(p) for p in packets])
            height = (size - 1).bit_length()
            for index, packet in enumerate(packets):
                path = tree.path(index)
                self.assertEqual(len(path), 32 * height)
                self.assertEqual(rootFrom(packet, index, path), tree.root)

    def test_single(self) -> None:
        """
        A batch of one: the root is the leaf, and PATH is empty.
        """
        packet = request(NONCE)
        tree = MerkleTree([hashLeaf(packet)])
        self.assertEqual((tree.root, tree.path(0)), (hashLeaf(packet), b""))

    def test_indexBitsLeft(self) -> None:
        """
        An INDX with bits beyond PATH fails the check; another request's
        packet leads elsewhere.
        """
        packets = [request(bytes([i]) * 32) for i in range(2)]
        tree = MerkleTree([hashLeaf(p) for p in packets])
        self.assertIsNone(rootFrom(packets[0], 2, tree.path(0)))
        self.assertNotEqual(rootFrom(packets[1], 0, tree.path(0)), tree.root)
        self.assertRaises(ValueError, MerkleTree, [])
