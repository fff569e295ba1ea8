# -*- test-case-name: tests.test_cli -*-
"""
Endpoints, as the command line names them: checked and parsed before any
is listened on, described in the lines that say where clocksvc serves, and
their problems put in a few words, in terms of the description rather than
of Python.

C{haproxy:} before another endpoint is read here, not by Twisted's parser
of that name: its connections start with a PROXY header, which clocksvc's
own strict reader reads (L{ProxyProtocolEndpoint}).
"""

from __future__ import annotations

import errno
import os
import re
import socket
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from twisted.internet.abstract import isIPAddress as isIPv4Address
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.endpoints import (
    AdoptedStreamServerEndpoint,
    SSL4ServerEndpoint,
    TCP4ServerEndpoint,
    _parse,
    quoteStringArgument,
    serverFromString,
)
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IAddress, IStreamServerEndpoint

from .._http import ProxyProtocolEndpoint
from ._adopted import SystemdEndpoint
from ._tls import ReloadableCertificate, TLSError, loadCertificate

if TYPE_CHECKING:
    from twisted.internet.ssl import CertificateOptions

__all__ = [
    "Problem",
    "describeAddress",
    "describeListenError",
    "logDestination",
    "parseEndpoint",
    "parseEndpoints",
    "splitProxy",
    "withCertificate",
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
        interface = error.interface
        if isinstance(socketError, socket.gaierror):
            # The interface was taken for a host name, and none resolved.
            return (
                f"the interface {interface!r} is not an IP address, nor a host "
                "name that resolves to one"
            )
        if socketError.errno == errno.EADDRNOTAVAIL:
            return f"no network interface of this machine has the address {interface}"
        if socketError.errno == errno.EACCES and 0 < _portOf(error) < 1024:
            return (
                "permission denied: ports below 1024 need root, or the "
                "CAP_NET_BIND_SERVICE capability"
            )
        if socketError.errno is not None:
            return os.strerror(socketError.errno).lower()
        return str(socketError)
    if isinstance(error, OSError) and error.errno is not None:
        # A UNIX socket's directory or lock file.
        return os.strerror(error.errno).lower()
    return str(error) or type(error).__name__


#: The endpoint types whose descriptions clocksvc checks before Twisted
#: parses them, each with its parameters in the order Twisted's parser
#: takes them by position, and how many of them are required.
_PARAMETERS: dict[str, tuple[tuple[str, ...], int]] = {
    "tcp": (("port", "interface", "backlog"), 1),
    "tcp6": (("port", "backlog", "interface"), 1),
    "ssl": (
        (
            "port",
            "privateKey",
            "certKey",
            "sslmethod",
            "interface",
            "backlog",
            "extraCertChain",
            "dhParameters",
        ),
        1,
    ),
    "unix": (("address", "mode", "backlog", "lockfile"), 1),
    "systemd": (("domain", "index", "name"), 1),
}

#: An example of each, for the message that says one lacks its first value.
_EXAMPLES = {
    "tcp": "tcp:8880",
    "tcp6": "tcp6:8880",
    "ssl": "ssl:8443",
    "unix": "unix:/run/clocksvc.sock",
    "systemd": "systemd:domain=INET:index=0",
}

#: What C{--listen} takes, for the message about a type it does not know.
_TYPES = "tcp:, tcp6:, ssl:, unix:, systemd:, or haproxy: before one of them"


#: Said of a description with more values than it should have.
_ESCAPE = "; a ':' inside a value needs a backslash before it, as in interface=\\:\\:1"


class _Bad(Exception):
    """
    What is wrong with an endpoint description, in a few words.
    """


def _values(kind: str, args: Sequence[str], kwargs: dict[str, str]) -> dict[str, str]:
    """
    Name each value of a description, as Python names a call's arguments.

    @param kind: the endpoint type, a key of L{_PARAMETERS}.
    @param args: the values given by position, after the type.
    @param kwargs: those given as C{name=value}.
    @return: every value given, by its parameter's name.
    @raise _Bad: for a value too many, an unknown name, a name given twice,
        or a required value missing.
    """
    names, required = _PARAMETERS[kind]
    usage = f"{kind}:{names[0].upper()}" + "".join(f"[:{name}=]" for name in names[1:])
    if len(args) > len(names):
        raise _Bad(f"too many values for {usage}{_ESCAPE}")
    values = dict(zip(names, args))
    for name, value in kwargs.items():
        if name not in names:
            raise _Bad(f"unknown parameter {name!r} of {usage}")
        if name in values:
            # As an unescaped IPv6 address makes it: interface=::1 is
            # interface= and two values more.
            hint = _ESCAPE if "" in args else ""
            raise _Bad(f"{name} is given twice{hint}")
        values[name] = value
    for name in names[:required]:
        if not values.get(name):
            what = "path" if name == "address" else name
            raise _Bad(f"{kind}: needs its {what}, as in {_EXAMPLES[kind]}")
    return values


def _isWhole(value: str) -> bool:
    """
    @return: whether C{value} is a whole number written in ASCII digits.
    """
    return value.isascii() and value.isdigit()


def _checkValues(kind: str, values: dict[str, str]) -> None:
    """
    Check each value that Twisted would take apart with C{int()}, or with a
    message about Python rather than the endpoint.

    @raise _Bad: for the first that is wrong.
    """
    port = values.get("port")
    if port is not None and not (_isWhole(port) and int(port) <= 65535):
        raise _Bad(f"port {port!r} is not a number from 0 to 65535")
    for name in ["backlog", "index", "lockfile"]:
        value = values.get(name)
        if value is not None and not _isWhole(value):
            raise _Bad(f"{name} {value!r} is not a whole number")
    mode = values.get("mode")
    if mode is not None and not re.fullmatch(r"[0-7]{1,4}", mode):
        raise _Bad(f"mode {mode!r} is not a file mode in octal, such as 660")
    interface = values.get("interface", "")
    if kind == "tcp6" and isIPv4Address(interface):
        raise _Bad(
            f"tcp6: listens on IPv6, and {interface} is an IPv4 address "
            "(use tcp: for it)"
        )
    if kind == "systemd":
        domain = values["domain"]
        if domain not in ("INET", "INET6", "UNIX"):
            raise _Bad(f"domain {domain!r} is not INET, INET6 or UNIX")
        if ("index" in values) == ("name" in values):
            raise _Bad("systemd: needs one of index= and name=")


def _check(description: str) -> tuple[str, dict[str, str]]:
    """
    Check a description of one of the types of L{_PARAMETERS}, or of
    C{haproxy:} before one.

    @return: its type, as written, and its values by name; for a type of
        another kind, the type and nothing.
    @raise _Bad: if something is wrong with it.
    """
    # Twisted's own tokenizer, so that the description is split as Twisted
    # splits it, backslashes and all; no public API gives its pieces.
    # tests.test_private.PrivateNamesTests fails if it goes.
    try:
        proxied, inner = splitProxy(description)
    except ValueError as e:
        raise _Bad(str(e)) from None
    if proxied:
        # The PROXY protocol's reader: the rest is the endpoint it reads on.
        _check(inner)
        return "haproxy", {}
    args, kwargs = _parse(description)
    if not args or not args[0]:
        raise _Bad("no endpoint type: a description starts with one, as in tcp:8880")
    kind = args[0]
    if kind != kind.lower() and kind.lower() in (*_PARAMETERS, "haproxy"):
        # Twisted takes some in any case (its plugins': tcp6:, systemd:,
        # haproxy:, which would then be Twisted's PROXY reader rather than
        # clocksvc's), and others not; clocksvc, lower case only.
        raise _Bad(
            f"unknown endpoint type {kind!r} (types are lower case: "
            f"{kind.lower()}:); use {_TYPES}"
        )
    if kind not in _PARAMETERS:
        return kind, {}
    values = _values(kind, args[1:], kwargs)
    _checkValues(kind, values)
    return kind, values


def _portOf(error: CannotListenError) -> int:
    """
    @return: the port that C{error} could not listen on; 0 if not a number.
    """
    return error.port if isinstance(error.port, int) else 0


def parseEndpoint(
    reactor: Any,
    description: str,
    reload: Callable[[Callable[[], None]], None] | None = None,
) -> IStreamServerEndpoint:
    """
    Check and parse one endpoint description.

    Twisted's parser decides what a description means; this first checks
    what Twisted would take apart with C{int()} or as a Python call's
    arguments, so that a mistake is said in terms of the description. An
    C{ssl:} endpoint's certificate and key are read here
    (L{loadCertificate}) rather than by Twisted's parser: each problem with
    them is then one line naming the file, and SIGHUP can read them again.

    @param reactor: the reactor the endpoint listens with.
    @param description: as the command line gives it.
    @param reload: given each C{ssl:} endpoint's
        L{ReloadableCertificate.reload}, to call on SIGHUP; if L{None}, the
        certificate is only read.
    @raise Problem: if something is wrong with the description, or with an
        C{ssl:} endpoint's files.
    """
    try:
        return _endpoint(reactor, description, reload)
    except _Bad as e:
        raise Problem(f"invalid endpoint {description!r}: {e}") from None
    except TLSError as e:
        raise Problem(f"{description}: {e}") from None


def _endpoint(
    reactor: Any,
    description: str,
    reload: Callable[[Callable[[], None]], None] | None,
) -> IStreamServerEndpoint:
    """
    L{parseEndpoint}'s work.

    @raise _Bad: if something is wrong with the description.
    @raise TLSError: if something is wrong with an C{ssl:} endpoint's files.
    """
    kind, values = _check(description)
    if kind == "haproxy":
        inner = splitProxy(description)[1]
        innerKind, innerValues = _check(inner)
        if innerKind == "ssl":
            # The PROXY header comes in clear before TLS's handshake: read
            # on the TCP port, then TLS.
            return ProxyProtocolEndpoint(
                _tcpOf(reactor, innerValues),
                reactor,
                _certificateOf(innerValues, reload),
            )
        return ProxyProtocolEndpoint(_endpoint(reactor, inner, reload), reactor)
    if kind == "ssl":
        return _sslEndpoint(reactor, values, reload)
    try:
        endpoint: IStreamServerEndpoint = serverFromString(reactor, description)
    except ValueError as e:
        if str(e).startswith("Unknown endpoint type"):
            raise _Bad(f"unknown endpoint type {kind!r}; use {_TYPES}") from e
        raise _Bad(str(e)) from e
    except IndexError as e:
        # What Twisted's systemd parser raises when no socket was passed.
        raise _Bad(
            "no socket was passed at that index (systemd passes them in LISTEN_FDS)"
        ) from e
    except KeyError as e:
        if kind == "systemd":
            raise _Bad(
                f"no socket named {values.get('name')!r} was passed (systemd "
                "passes their names in LISTEN_FDNAMES)"
            ) from e
        raise _Bad("wrong or missing arguments") from e
    except TypeError as e:
        # Another type's parser, given arguments it does not take: Python's
        # message is about a function, not the endpoint.
        raise _Bad("wrong or missing arguments") from e
    if type(endpoint) is AdoptedStreamServerEndpoint:
        # Served as systemd made it, rather than as Twisted's own port would.
        return SystemdEndpoint(
            endpoint.reactor, endpoint.fileno, endpoint.addressFamily
        )
    return endpoint


def _sslEndpoint(
    reactor: Any,
    values: dict[str, str],
    reload: Callable[[Callable[[], None]], None] | None,
) -> IStreamServerEndpoint:
    """
    @return: the C{ssl:} endpoint of C{values}: what Twisted's parser makes
        of them, but with a certificate that is read again on SIGHUP.
    @raise TLSError: if its files cannot serve.
    """
    port, backlog, interface = _listenValues(values)
    return SSL4ServerEndpoint(
        reactor,
        port,
        _certificateOf(values, reload),
        backlog=backlog,
        interface=interface,
    )


def _certificateOf(
    values: dict[str, str],
    reload: Callable[[Callable[[], None]], None] | None,
) -> ReloadableCertificate:
    """
    @return: the certificate of an C{ssl:} endpoint's C{values}, read again
        on SIGHUP.
    @raise TLSError: if its files cannot serve.
    """
    # Twisted's defaults: server.pem, holding the key and the certificate.
    keyFile = values.get("privateKey", "server.pem")
    certFile = values.get("certKey", keyFile)

    def load() -> CertificateOptions:
        return loadCertificate(
            certFile,
            keyFile,
            chainFile=values.get("extraCertChain"),
            dhFile=values.get("dhParameters"),
            method=values.get("sslmethod"),
        )

    certificate = ReloadableCertificate(load, certFile)
    if reload is not None:
        reload(certificate.reload)
    return certificate


def _tcpOf(reactor: Any, values: dict[str, str]) -> IStreamServerEndpoint:
    """
    @return: the TCP endpoint beneath the TLS of an C{ssl:} endpoint's
        C{values}.
    """
    port, backlog, interface = _listenValues(values)
    return TCP4ServerEndpoint(reactor, port, backlog=backlog, interface=interface)


def _listenValues(values: dict[str, str]) -> tuple[int, int, str]:
    """
    @return: the port, backlog and interface of a C{tcp:} or C{ssl:}
        endpoint's C{values}, with Twisted's defaults.
    """
    port = int(values["port"])
    backlog = int(values.get("backlog", 50))
    return port, backlog, values.get("interface", "")


def parseEndpoints(
    reactor: Any,
    descriptions: Sequence[str],
    reload: Callable[[Callable[[], None]], None] | None = None,
) -> list[tuple[str, IStreamServerEndpoint]]:
    """
    Parse every endpoint description before listening on any, so that a typo
    in the second one leaves nothing half started.

    @param reactor: the reactor the endpoints listen with.
    @param descriptions: the descriptions given on the command line.
    @param reload: as L{parseEndpoint}'s.
    @return: each description with its endpoint.
    @raise Problem: if a description cannot be parsed.
    """
    return [
        (description, parseEndpoint(reactor, description, reload))
        for description in descriptions
    ]


def withCertificate(description: str, certFile: str, keyFile: str) -> str:
    """
    Give an C{ssl:} description that names no key or certificate of its own
    (perhaps after C{haproxy:}) those of C{--tls-cert} and C{--tls-key}.

    @return: C{description}, with C{privateKey=} and C{certKey=} added if it
        is one of those, else as it is.
    """
    try:
        kind, values = _check(description)
    except _Bad:
        # Left for parseEndpoint to say what is wrong with it.
        return description
    if kind == "haproxy":
        inner = splitProxy(description)[1]
        return PROXY_PREFIX + withCertificate(inner, certFile, keyFile)
    if kind != "ssl" or "privateKey" in values or "certKey" in values:
        return description
    return (
        f"{description}:privateKey={quoteStringArgument(keyFile)}"
        f":certKey={quoteStringArgument(certFile)}"
    )


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
