# -*- test-case-name: tests.test_roughtime_wire -*-
"""
RFC 10049 section 5.3: the Merkle tree over a batch of requests, whose root
one signature covers, and the path that proves each request is in it.

A leaf is C{H(0x00 || request packet)}, a node C{H(0x01 || left || right)},
where C{H} is SHA-512 cut to its first 32 bytes. A level of odd length is
padded with a node of zeros, as roughenough pads it: the RFC says only how
a client checks a path (L{rootFrom}), and any tree whose paths pass it will
do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = ["MerkleTree", "hashLeaf", "rootFrom"]

_PAD = bytes(32)


def _h(data: bytes) -> bytes:
    return hashlib.sha512(data).digest()[:32]


def hashLeaf(packet: bytes) -> bytes:
    """
    @return: the leaf of a request packet (section 5.3).
    """
    return _h(b"\x00" + packet)


class MerkleTree:
    """
    The tree over a batch's leaves, with every level kept for the paths.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        """
        @param leaves: the batch's leaves (L{hashLeaf}), at least one.
        """
        if not leaves:
            raise ValueError("a Merkle tree needs a leaf")
        self._levels = [list(leaves)]
        level = self._levels[0]
        while len(level) > 1:
            if len(level) % 2:
                level.append(_PAD)
            level = [
                _h(b"\x01" + level[i] + level[i + 1]) for i in range(0, len(level), 2)
            ]
            self._levels.append(level)

    @property
    def root(self) -> bytes:
        """
        The root, which ROOT carries.
        """
        return self._levels[-1][0]

    def path(self, index: int) -> bytes:
        """
        @return: PATH for the leaf at C{index}: the sibling at each level,
            from the leaves up, 32 bytes each.
        """
        siblings = []
        for level in self._levels[:-1]:
            siblings.append(level[index ^ 1])
            index >>= 1
        return b"".join(siblings)


def rootFrom(packet: bytes, index: int, path: bytes) -> bytes | None:
    """
    Section 5.3.1, the client's check: the root that a request packet, its
    INDX and its PATH lead to.

    @return: the root, or L{None} if INDX has bits left when PATH ends.
    """
    value = hashLeaf(packet)
    for start in range(0, len(path), 32):
        node = path[start : start + 32]
        value = _h(b"\x01" + value + node if index & 1 == 0 else b"\x01" + node + value)
        index >>= 1
    return None if index else value
