"""
Helpers for the Roughtime tests: a server's parts on a chosen clock, and a
client's checks of an answer, written from RFC 10049 section 5.4 with
C{cryptography}, as the tests' own second opinion beside C{roughly}'s.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from twisted.internet.interfaces import IReactorTime

from clocksvc._roughtime import Responder, generateKey
from clocksvc._roughtime._merkle import rootFrom
from clocksvc._roughtime._signing import DELEGATION_CONTEXT, RESPONSE_CONTEXT
from clocksvc._roughtime._wire import (
    CERT,
    DELE,
    INDX,
    MAXT,
    MIDP,
    MINT,
    NONC,
    PATH,
    PUBK,
    RADI,
    ROOT,
    SIG,
    SREP,
    TYPE,
    VER,
    decodeMessage,
    unframe,
)
from clocksvc._web import RoughtimeService

__all__ = ["Answer", "checkAnswer", "roughtimeService"]


def roughtimeService(
    clock: IReactorTime, radius: Callable[[], int | None] = lambda: 1
) -> RoughtimeService:
    """
    @return: a Roughtime server on C{clock} (wall clock and timers both),
        with a new key, published as listening on UDP port 2002 of every
        interface.
    """
    return RoughtimeService(
        Responder(generateKey(), clock, clock, radius), [("udp", None, 2002)]
    )


class Answer:
    """
    What a checked answer says.
    """

    def __init__(self, values: dict[int, bytes], srep: dict[int, bytes]) -> None:
        self.index = struct.unpack("<I", values[INDX])[0]
        self.path = values[PATH]
        self.version = struct.unpack("<I", srep[VER])[0]
        self.radius = struct.unpack("<I", srep[RADI])[0]
        self.midpoint = struct.unpack("<Q", srep[MIDP])[0]
        self.root = srep[ROOT]
        self.signature = values[SIG]


def checkAnswer(request: bytes, reply: bytes, publicKey: bytes) -> Answer:
    """
    Check a reply as section 5.4 says a client must.

    @raise AssertionError: or C{cryptography}'s C{InvalidSignature}, if it
        fails.
    @return: what it says.
    """
    values = decodeMessage(unframe(reply))
    srep = decodeMessage(values[SREP])
    answer = Answer(values, srep)
    assert values[TYPE] == struct.pack("<I", 1)
    assert values[NONC] == decodeMessage(unframe(request))[NONC]
    cert = decodeMessage(values[CERT])
    dele = decodeMessage(cert[DELE])
    Ed25519PublicKey.from_public_bytes(publicKey).verify(
        cert[SIG], DELEGATION_CONTEXT[answer.version] + cert[DELE]
    )
    mint = struct.unpack("<Q", dele[MINT])[0]
    maxt = struct.unpack("<Q", dele[MAXT])[0]
    assert mint <= answer.midpoint <= maxt, (mint, answer.midpoint, maxt)
    assert rootFrom(request, answer.index, answer.path) == answer.root
    Ed25519PublicKey.from_public_bytes(dele[PUBK]).verify(
        answer.signature, RESPONSE_CONTEXT[answer.version] + values[SREP]
    )
    return answer
