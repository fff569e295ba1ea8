# -*- test-case-name: tests.test_roughtime_server -*-
"""
The keys: a server's long-term Ed25519 key signs a delegation (DELE) to an
online key, which signs each batch's SREP (RFC 10049 section 5.2.6), each
signature over a context string and the value.

The signatures are C{cryptography}'s, which is optional (C{pip install
clocksvc[roughtime]}): it is imported only when a key is made or used, so
that clocksvc without it still runs.

Two spellings of the context strings are in circulation. The drafts, and
roughenough and Cloudflare's servers, write C{"RoughTime v1 ..."}; C{roughly},
written against the RFC as published, verifies version 1 with
C{"Roughtime v1 ..."} and the draft's version with C{"RoughTime v1 ..."}. The
interoperating client decides: version 1 is signed as C{roughly} checks it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._wire import (
    DRAFT_VERSION,
    RFC_VERSION,
    SUPPORTED_VERSIONS,
    certificate,
    delegation,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = [
    "DELEGATION_CONTEXT",
    "RESPONSE_CONTEXT",
    "Delegation",
    "cryptographyMissing",
    "delegate",
    "generateKey",
    "publicKeyOf",
    "srvOf",
]

#: Section 5.2.1: the context of the online key's signature over SREP, by
#: version, each with its terminating zero byte.
RESPONSE_CONTEXT = {
    RFC_VERSION: b"Roughtime v1 response signature\0",
    DRAFT_VERSION: b"RoughTime v1 response signature\0",
}
#: Section 5.2.6: the context of the long-term key's signature over DELE.
DELEGATION_CONTEXT = {
    RFC_VERSION: b"Roughtime v1 delegation signature\0",
    DRAFT_VERSION: b"RoughTime v1 delegation signature\0",
}


def cryptographyMissing() -> str | None:
    """
    @return: why Roughtime cannot sign here, in one line, or L{None} if it
        can.
    """
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519  # noqa: F401
    except ImportError:
        return (
            "the Roughtime server needs the cryptography package: "
            "pip install clocksvc[roughtime]"
        )
    return None


def generateKey() -> Ed25519PrivateKey:
    """
    @return: a new Ed25519 key, made as RFC 8032 section 5.1.5 says (section
        10.3 requires it).
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


def publicKeyOf(key: Ed25519PrivateKey) -> bytes:
    """
    @return: the 32 bytes of C{key}'s public key.
    """
    return key.public_key().public_bytes_raw()


def srvOf(publicKey: bytes) -> bytes:
    """
    Section 5.1.4: the SRV value that names a long-term public key.
    """
    return hashlib.sha512(b"\xff" + publicKey).digest()[:32]


@dataclass(frozen=True)
class Delegation:
    """
    An online key, delegated for a window of MIDP.

    @ivar minTime: MINT, in seconds since the epoch.
    @ivar maxTime: MAXT.
    @ivar sign: signs with the online key.
    @ivar certificates: CERT's value, by version (their contexts differ).
    """

    minTime: int
    maxTime: int
    sign: Callable[[bytes], bytes]
    certificates: dict[int, bytes]


def delegate(longTerm: Ed25519PrivateKey, minTime: int, maxTime: int) -> Delegation:
    """
    Make an online key and delegate the window to it.

    @param longTerm: the server's long-term key.
    @param minTime: MINT.
    @param maxTime: MAXT.
    """
    online = generateKey()
    dele = delegation(publicKeyOf(online), minTime, maxTime)
    certificates = {
        version: certificate(dele, longTerm.sign(DELEGATION_CONTEXT[version] + dele))
        for version in SUPPORTED_VERSIONS
    }
    return Delegation(minTime, maxTime, online.sign, certificates)
