# -*- test-case-name: tests.test_tls -*-
"""
The certificate of an HTTPS endpoint: read from its files and checked
before anything listens, each problem put in one line that names the file;
and read again on SIGHUP (after certbot or an ACME client has renewed it),
for new connections only, while the connections already open go on with
the one they began with.

TLS needs pyOpenSSL (the C{http2} extra, through Twisted's C{tls} extra):
it is imported only when an endpoint asks for TLS, so that clocksvc runs
without it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from twisted.internet.interfaces import IOpenSSLServerConnectionCreator
from twisted.logger import Logger
from zope.interface import implementer

if TYPE_CHECKING:
    from OpenSSL.crypto import X509
    from OpenSSL.SSL import Connection
    from twisted.internet.ssl import CertificateOptions

__all__ = [
    "MAX_PEM_BYTES",
    "ReloadableCertificate",
    "TLSError",
    "loadCertificate",
]

_log = Logger(namespace="clocksvc.service")

#: The most bytes read from a certificate, key, chain or DH parameters
#: file: an RSA-2048 certificate and its intermediate (certbot's
#: fullchain.pem) measured 2.6 KiB, and a path given by mistake (a log,
#: /dev/zero) is refused rather than read to its end.
MAX_PEM_BYTES = 1024 * 1024

#: What to install for TLS.
INSTALL_HINT = (
    "TLS needs pyOpenSSL, which is not installed: pip install 'clocksvc[http2]'"
)


class TLSError(Exception):
    """
    A certificate or a key that cannot be served, in one line that names
    the file.
    """


def _read(path: str, what: str) -> bytes:
    """
    @param what: what the file is to hold, for the message.
    @return: the file's bytes.
    @raise TLSError: if it cannot be read, or is too large to be that.
    """
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_PEM_BYTES + 1)
    except OSError as e:
        reason = os.strerror(e.errno).lower() if e.errno else str(e)
        raise TLSError(f"cannot read the {what} {path}: {reason}") from None
    if len(data) > MAX_PEM_BYTES:
        raise TLSError(
            f"the {what} {path} is larger than {MAX_PEM_BYTES // 1024} KiB: "
            "not a PEM file"
        )
    return data


def _certificates(data: bytes, path: str, what: str) -> list[Any]:
    """
    @param data: the bytes of the file at C{path}.
    @return: its PEM certificates, in order.
    @raise TLSError: if it holds none.
    """
    from cryptography import x509

    try:
        return list(x509.load_pem_x509_certificates(data))
    except ValueError:
        raise TLSError(f"the {what} {path} holds no PEM certificate") from None


def loadCertificate(
    certFile: str,
    keyFile: str,
    chainFile: str | None = None,
    dhFile: str | None = None,
    method: str | None = None,
) -> CertificateOptions:
    """
    Read a certificate and its private key, and check that they can serve.

    @param certFile: the certificate, PEM, perhaps followed by the
        intermediate certificates of its chain (as certbot's
        C{fullchain.pem}), which are sent with it.
    @param keyFile: its private key, PEM, unencrypted; it may be
        C{certFile} itself, holding both.
    @param chainFile: more intermediate certificates, PEM (C{ssl:}'s
        C{extraCertChain}).
    @param dhFile: Diffie-Hellman parameters, PEM (C{ssl:}'s
        C{dhParameters}).
    @param method: the name of a pyOpenSSL method, such as C{TLS_METHOD}
        (C{ssl:}'s C{sslmethod}).
    @return: the options of TLS connections that serve them.
    @raise TLSError: if a file cannot be read, holds nothing of what it
        should, or the key does not match the certificate; or if pyOpenSSL
        is missing.
    """
    # Read first: a file that is not there is the first thing to say.
    certPEM = _read(certFile, "certificate")
    keyPEM = _read(keyFile, "private key")
    try:
        from OpenSSL import SSL, crypto
        from twisted.internet import ssl
    except ImportError:
        raise TLSError(INSTALL_HINT) from None
    from cryptography.hazmat.primitives import serialization
    from twisted.python.filepath import FilePath

    certificates = _certificates(certPEM, certFile, "certificate")
    try:
        key = serialization.load_pem_private_key(keyPEM, password=None)
    except TypeError:
        # What cryptography raises for a key that needs a password.
        raise TLSError(
            f"the private key {keyFile} is encrypted: clocksvc needs it without "
            "a passphrase"
        ) from None
    except Exception:
        # A ValueError for no key or a malformed one; UnsupportedAlgorithm
        # for a kind that OpenSSL cannot use.
        raise TLSError(f"the private key {keyFile} holds no PEM private key") from None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if certificates[0].public_key().public_bytes(der, public) != (
        key.public_key().public_bytes(der, public)
    ):
        raise TLSError(
            f"the private key {keyFile} does not match the certificate {certFile}"
        )
    chain = certificates[1:]
    if chainFile is not None:
        what = "certificate chain"
        chain += _certificates(_read(chainFile, what), chainFile, what)
    extra: dict[str, Any] = {}
    if method is not None:
        if not (method.endswith("_METHOD") and hasattr(SSL, method)):
            raise TLSError(
                f"sslmethod {method!r} is not one of pyOpenSSL's, such as TLS_METHOD"
            )
        extra["method"] = getattr(SSL, method)
    if dhFile is not None:
        # OpenSSL reads the file itself, as the context is made below; what
        # it finds wrong there is said of the certificate, so a file that is
        # not DH parameters at all is said of its own.
        if b"-----BEGIN DH PARAMETERS-----" not in _read(dhFile, "DH parameters"):
            raise TLSError(f"the DH parameters {dhFile} hold no PEM DH parameters")
        extra["dhParameters"] = ssl.DiffieHellmanParameters.fromFile(FilePath(dhFile))
    options = ssl.CertificateOptions(
        privateKey=crypto.PKey.from_cryptography_key(key),  # type: ignore[arg-type]
        certificate=crypto.X509.from_cryptography(certificates[0]),
        extraCertChain=[crypto.X509.from_cryptography(c) for c in chain],
        **extra,
    )
    try:
        # Made now, rather than at the first connection: whatever OpenSSL
        # refuses (DH parameters it cannot read, a key too weak for its
        # security level) is said before anything listens.
        options.getContext()
    except SSL.Error as e:
        withDH = "" if dhFile is None else f" with the DH parameters {dhFile}"
        raise TLSError(
            f"OpenSSL cannot serve the certificate {certFile}{withDH}: "
            f"{_openSSLReason(e)}"
        ) from None
    return options


def _openSSLReason(error: Exception) -> str:
    """
    @return: the reason OpenSSL gives in C{error}, such as C{ee key too
        small}.
    """
    for entry in (
        error.args[0] if error.args and isinstance(error.args[0], list) else []
    ):
        if isinstance(entry, tuple) and entry:
            return str(entry[-1])
    return str(error)


def serialOf(options: CertificateOptions) -> str:
    """
    @return: the serial number of the certificate C{options} serve, in
        hexadecimal, as C{openssl x509 -serial} prints it.
    """
    # Options that loadCertificate made always hold a certificate.
    certificate = cast("X509", options.certificate)
    return f"{certificate.get_serial_number():X}"


@implementer(IOpenSSLServerConnectionCreator)
class ReloadableCertificate:
    """
    Makes each new TLS connection with the certificate last loaded; L{reload}
    loads it again. A connection keeps the certificate it began with.
    """

    def __init__(self, load: Callable[[], CertificateOptions], name: str) -> None:
        """
        @param load: reads the files (L{loadCertificate}, with them).
        @param name: the certificate's file, for the log.
        @raise TLSError: if the first load fails.
        """
        self._load = load
        self._name = name
        self.options = load()

    def serverConnectionForTLS(self, protocol: Any) -> Connection:
        """
        A new connection, with the options of the certificate last loaded.
        """
        return self.options.serverConnectionForTLS(protocol)

    def reload(self) -> None:
        """
        Read the files again: new connections get the new certificate. If
        it cannot be served, say so in one log line and keep the old one.
        """
        try:
            options = self._load()
        except TLSError as e:
            _log.warn(
                "kept the certificate in use: {problem}",
                event="tls_reload_failed",
                problem=str(e),
                details={"certificate": self._name},
            )
            return
        self.options = options
        _log.info(
            "reloaded the certificate {certificate} (serial {serial})",
            event="tls_reloaded",
            certificate=self._name,
            serial=serialOf(options),
            details={"certificate": self._name, "serial": serialOf(options)},
        )
