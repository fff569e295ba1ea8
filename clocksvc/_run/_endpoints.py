# -*- test-case-name: tests.test_cli -*-
"""
Endpoints, as the command line names them: parsed before any is listened
on, described in the lines that say where clocksvc serves, and their
problems put in a few words.

C{haproxy:} before another endpoint is read here, not by Twisted's parser
of that name: its connections start with a PROXY header, which clocksvc's
own strict reader reads (L{ProxyProtocolEndpoint}).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, TextIO

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.endpoints import serverFromString
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IAddress, IStreamServerEndpoint

from .._http import ProxyProtocolEndpoint

__all__ = [
    "Problem",
    "describeAddress",
    "describeListenError",
    "endpointFromString",
    "logDestination",
    "parseEndpoints",
    "splitProxy",
]

#: What starts the description of an endpoint whose connections start with
#: a PROXY header, before the description of the endpoint that listens.
PROXY_PREFIX = "haproxy:"


def splitProxy(description: str) -> tuple[bool, str]:
    """
    @param description: an endpoint description.
    @return: whether its connections start with a PROXY header
        (C{haproxy:...}), and the description of the endpoint that listens.
    @raise ValueError: for C{haproxy:} twice.
    """
    if not description.startswith(PROXY_PREFIX):
        return False, description
    inner = description[len(PROXY_PREFIX) :]
    if inner.startswith(PROXY_PREFIX):
        raise ValueError("haproxy: twice")
    return True, inner


def endpointFromString(reactor: Any, description: str) -> IStreamServerEndpoint:
    """
    Twisted's L{serverFromString}, with clocksvc's C{haproxy:}.

    @raise ValueError: and what L{serverFromString} raises, for a
        description that does not parse.
    """
    proxied, inner = splitProxy(description)
    endpoint = serverFromString(reactor, inner)
    return ProxyProtocolEndpoint(endpoint, reactor) if proxied else endpoint


class Problem(Exception):
    """
    A problem to report in one line before exiting with status 2.
    """


def describeAddress(address: IAddress, tls: bool = False) -> str:
    """
    Say where a listening port can be reached.

    @param address: the port's C{getHost()}.
    @param tls: whether the port speaks TLS.
    @return: an URL for TCP, C{ntp://HOST:PORT} for UDP (SNTP),
        C{unix:PATH} for a UNIX socket.
    """
    scheme = "https" if tls else "http"
    if isinstance(address, (IPv4Address, IPv6Address)) and address.type == "UDP":
        host = address.host if ":" not in address.host else f"[{address.host}]"
        return f"ntp://{host}:{address.port}"
    if isinstance(address, IPv4Address):
        return f"{scheme}://{address.host}:{address.port}/"
    if isinstance(address, IPv6Address):
        return f"{scheme}://[{address.host}]:{address.port}/"
    if isinstance(address, UNIXAddress) and address.name is not None:
        return "unix:" + os.fsdecode(address.name)
    return str(address)


def describeListenError(error: BaseException) -> str:
    """
    Say in a few words why an endpoint could not listen.

    @param error: what listening raised.
    @return: e.g. C{address already in use}.
    """
    if isinstance(error, CannotListenError) and isinstance(error.socketError, OSError):
        socketError = error.socketError
        if socketError.errno is not None:
            return os.strerror(socketError.errno).lower()
        return str(socketError)
    return str(error) or type(error).__name__


def parseEndpoints(
    reactor: Any, descriptions: Sequence[str]
) -> list[tuple[str, IStreamServerEndpoint]]:
    """
    Parse every endpoint description before listening on any, so that a typo
    in the second one leaves nothing half started.

    @param reactor: the reactor the endpoints listen with.
    @param descriptions: the descriptions given on the command line.
    @return: each description with its endpoint.
    @raise Problem: if a description cannot be parsed.
    """
    endpoints = []
    for description in descriptions:
        try:
            endpoint = endpointFromString(reactor, description)
        except ValueError as e:
            raise Problem(f"invalid endpoint {description!r}: {e}") from e
        except IndexError as e:
            # What Twisted's systemd parser raises when no socket was passed.
            raise Problem(
                f"invalid endpoint {description!r}: no socket was passed at that "
                "index (systemd passes them in LISTEN_FDS)"
            ) from e
        except (TypeError, KeyError) as e:
            # Twisted's parsers raise these for missing or unknown arguments,
            # with messages about Python functions rather than endpoints.
            raise Problem(
                f"invalid endpoint {description!r}: wrong or missing arguments"
            ) from e
        endpoints.append((description, endpoint))
    return endpoints


def logDestination(
    value: str, stdout: TextIO, stderr: TextIO
) -> tuple[TextIO | str, bool]:
    """
    Check where C{--access-log} sends the log.

    @return: the stream, or the path of the file (checked to be writable),
        that the log goes to; and whether the access log is on.
    @raise Problem: if the file cannot be written.
    """
    if value == "off":
        return stderr, False
    if value == "-":
        return stdout, True
    try:
        open(value, "a", encoding="utf-8").close()
    except OSError as e:
        raise Problem(
            f"cannot open access log {value}: {os.strerror(e.errno or 0).lower()}"
        ) from e
    return value, True
