# -*- test-case-name: tests.test_roughtime_web -*-
"""
RFC 10049 section 7.3: a server list, the JSON by which clients learn of
servers, their keys and their addresses.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from ._wire import RFC_VERSION

__all__ = ["SERVER_LIST_TYPE", "serverList"]

#: Section 12.4.1: the media type of a server list.
SERVER_LIST_TYPE = "application/roughtime-server+json"


def serverList(
    name: str, publicKey: bytes, addresses: Sequence[tuple[str, str]]
) -> dict[str, object]:
    """
    @param name: the server's name, for people.
    @param publicKey: its long-term public key.
    @param addresses: each address as (C{"udp"} or C{"tcp"}, C{"host:port"},
        an IPv6 host in brackets).
    @return: a server list of this one server.
    """
    return {
        "servers": [
            {
                "name": name,
                # Section 7.3: "the highest Roughtime version number
                # supported by the server".
                "version": RFC_VERSION,
                "publicKeyType": "ed25519",
                "publicKey": base64.b64encode(publicKey).decode("ascii"),
                "addresses": [
                    {"protocol": protocol, "address": address}
                    for protocol, address in addresses
                ],
            }
        ]
    }
