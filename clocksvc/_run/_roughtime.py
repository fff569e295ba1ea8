# -*- test-case-name: tests.test_roughtime_run -*-
"""
The Roughtime server's run-time parts: its long-term key on disk (made by
C{python -m clocksvc roughtime-keygen FILE}, read by C{--roughtime-key}),
the C{--roughtime-listen} addresses, and the listeners.

The key is a PKCS #8 PEM file, as C{openssl genpkey -algorithm ed25519}
also makes one, readable by its owner alone: a file others may read is
refused, as OpenSSH refuses such a private key.
"""

from __future__ import annotations

import base64
import os
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from twisted.internet.interfaces import IListeningPort, IReactorTime

from .._clock import ClockState
from .._roughtime import (
    RateLimit,
    Responder,
    RoughtimeStreamFactory,
    RoughtimeUDP,
    cryptographyMissing,
    generateKey,
    publicKeyOf,
    radiusFor,
)
from ._endpoints import Problem, describeListenError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = [
    "DEFAULT_PORT",
    "KeyProblem",
    "RoughtimeAddress",
    "RoughtimeListeners",
    "keygen",
    "loadKey",
    "parseAddress",
    "radiusOf",
]

#: Deployed servers listen on 2002 (roughenough, Cloudflare's, int08h's);
#: RFC 10049 section 12.1 asks IANA for a port, assigned from the user
#: range (roughly uses 5319). clocksvc has no default: the operator picks.
DEFAULT_PORT = 2002

_ADDRESS = re.compile(
    r"(?:(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\[\]]+)):)?(?P<port>\d{1,5})"
)


class KeyProblem(Exception):
    """
    A key file that cannot be used, in one line.
    """


@dataclass(frozen=True)
class RoughtimeAddress:
    """
    Where C{--roughtime-listen} asks the server to listen.

    @ivar host: the interface's address, C{""} for all IPv4 interfaces.
    @ivar port: the port.
    """

    host: str
    port: int

    def published(self, port: int) -> str | None:
        """
        @param port: the port it listens on (the system's pick for 0).
        @return: C{host:port} for a server list, or L{None} if the host is
            every interface, which names no address.
        """
        # Comparing, not binding: the wildcards name no address to publish.
        if self.host in ("", "0.0.0.0", "::"):  # noqa: S104
            return None
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{port}"


def parseAddress(value: str) -> RoughtimeAddress:
    """
    @param value: C{PORT}, C{HOST:PORT} or C{[IPV6]:PORT}.
    @return: the address.
    @raise ValueError: if C{value} is none of those.
    """
    match = _ADDRESS.fullmatch(value)
    if match is None or int(match["port"]) > 65535:
        raise ValueError(
            f"--roughtime-listen needs [HOST:]PORT, such as 2002 or "
            f"127.0.0.1:2002, not {value!r}"
        )
    return RoughtimeAddress(match["v6"] or match["host"] or "", int(match["port"]))


def loadKey(path: str) -> Ed25519PrivateKey:
    """
    Read the long-term key.

    @param path: a PEM file of an Ed25519 private key, which only its owner
        may read.
    @return: the key.
    @raise KeyProblem: if it cannot be used, saying why in one line.
    """
    missing = cryptographyMissing()
    if missing is not None:
        raise KeyProblem(missing)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        with open(path, "rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise KeyProblem(
                    f"{path} may be read by others (mode {stat.S_IMODE(mode):04o}): "
                    f"chmod 600 {path}"
                )
            data = f.read(64 * 1024)
    except OSError as e:
        raise KeyProblem(f"cannot read {path}: {e.strerror or e}") from None
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyProblem(
            f"{path} is not an Ed25519 private key in PEM "
            "(make one with: python -m clocksvc roughtime-keygen FILE)"
        )
    return key


def keygen(path: str, stdout: TextIO) -> None:
    """
    Make a long-term key in a new file that only its owner may read, and
    print its public key in base64, as a server list gives it.

    @raise KeyProblem: if the file exists or cannot be made.
    """
    missing = cryptographyMissing()
    if missing is not None:
        raise KeyProblem(missing)
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    key = generateKey()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    try:
        # Made with mode 0600 from the start: never readable by others.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        raise KeyProblem(f"cannot make {path}: {e.strerror or e}") from None
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    stdout.write(base64.b64encode(publicKeyOf(key)).decode("ascii") + "\n")


def radiusOf(
    state: Callable[[], ClockState], requireSynchronized: bool
) -> Callable[[], int | None]:
    """
    @param state: reads the server clock's state (at most once a second).
    @param requireSynchronized: whether an unsynchronized clock answers
        nothing.
    @return: gives RADI now (L{radiusFor}), or L{None} to answer nothing.
    """

    def radius() -> int | None:
        now = state()
        return radiusFor(
            now.synchronized, now.maxErrorMs, now.leap, requireSynchronized
        )

    return radius


class RoughtimeListeners:
    """
    The Roughtime server's ports: UDP on each C{--roughtime-listen}
    address, and TCP too with C{--roughtime-tcp}.

    @ivar responder: answers the requests.
    @ivar published: each listening port as (protocol, address or L{None},
        port), for the server list.
    """

    def __init__(
        self,
        reactor: Any,
        key: Ed25519PrivateKey,
        wallClock: IReactorTime,
        radius: Callable[[], int | None],
        addresses: Sequence[RoughtimeAddress],
        tcp: bool,
    ) -> None:
        """
        @param reactor: listens, and runs the timers.
        @param key: the long-term key.
        @param wallClock: the wall clock.
        @param radius: gives RADI now, or L{None} to answer nothing.
        @param addresses: where to listen.
        @param tcp: whether to listen on TCP as well as UDP.
        """
        self._reactor = reactor
        timers = IReactorTime(reactor)
        self.responder = Responder(key, wallClock, timers, radius)
        self._limit = RateLimit(timers)
        self._addresses = list(addresses)
        self._tcp = tcp
        self._ports: list[IListeningPort] = []
        self.published: list[tuple[str, str | None, int]] = []

    def listen(self, say: Callable[[str], None]) -> None:
        """
        Listen on every address.

        @param say: told where, in a line for people, as each listens.
        @raise Problem: if an address cannot be listened on; those already
            listening are stopped.
        """
        protocols = ["udp", "tcp"] if self._tcp else ["udp"]
        for address in self._addresses:
            for protocol in protocols:
                where = f"{protocol} {address.host or '*'}:{address.port}"
                try:
                    if protocol == "udp":
                        port = self._reactor.listenUDP(
                            address.port,
                            RoughtimeUDP(self.responder, self._limit),
                            interface=address.host,
                        )
                    else:
                        port = self._reactor.listenTCP(
                            address.port,
                            RoughtimeStreamFactory(
                                self.responder, IReactorTime(self._reactor), self._limit
                            ),
                            interface=address.host,
                        )
                except Exception as e:
                    self.stop()
                    raise Problem(
                        f"cannot listen for Roughtime on {where}: "
                        f"{describeListenError(e)}"
                    ) from e
                self._ports.append(port)
                number = port.getHost().port
                self.published.append((protocol, address.published(number), number))
                say(f"roughtime on {protocol} {address.host or '*'}:{number}")

    def stop(self) -> None:
        """
        Stop listening, and answer what is pending.
        """
        ports, self._ports = self._ports, []
        for port in ports:
            port.stopListening()
        self.responder.stop()
