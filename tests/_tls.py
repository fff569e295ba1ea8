"""
TLS for the tests: whether this Python has it, and a throwaway CA and a
server certificate it issued, in files, for C{ssl:} endpoints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import trustme
from twisted.internet.endpoints import quoteStringArgument

__all__ = ["TLS_MISSING", "Credentials", "makeCredentials"]

try:
    # Imported only to learn whether it can be.
    import twisted.internet.ssl  # noqa: F401
except ImportError as e:
    # Twisted's TLS needs pyOpenSSL, from its tls extra. On PyPy 3.9 the tests
    # group leaves that out: Twisted 26.4's needs a cryptography release with
    # no PyPy 3.9 wheel (see pyproject.toml). The tests that need TLS skip.
    TLS_MISSING: str | None = f"TLS needs pyOpenSSL, which is missing: {e}"
else:
    TLS_MISSING = None


@dataclass(frozen=True)
class Credentials:
    """
    A throwaway CA and a server certificate it issued for C{localhost} and
    C{127.0.0.1}, written to files.

    @ivar caFile: the CA's certificate (PEM), for clients to trust.
    @ivar caPEM: the same, in memory.
    @ivar keyFile: the server's private key (PEM).
    @ivar certFile: the server's certificate chain (PEM).
    """

    caFile: str
    caPEM: bytes
    keyFile: str
    certFile: str

    def endpoint(self, port: int = 0) -> str:
        """
        @return: the C{ssl:} endpoint description that serves with these
            credentials on 127.0.0.1.
        """
        return (
            f"ssl:{port}:interface=127.0.0.1"
            f":privateKey={quoteStringArgument(self.keyFile)}"
            f":certKey={quoteStringArgument(self.certFile)}"
        )


def makeCredentials(directory: str) -> Credentials:
    """
    Make a CA, and a certificate it issues, in C{directory} (created here).
    """
    os.makedirs(directory)
    ca = trustme.CA()
    leaf = ca.issue_cert("localhost", "127.0.0.1")
    caFile = os.path.join(directory, "ca.pem")
    keyFile = os.path.join(directory, "key.pem")
    certFile = os.path.join(directory, "cert.pem")
    ca.cert_pem.write_to_path(caFile)
    leaf.private_key_pem.write_to_path(keyFile)
    with open(certFile, "wb") as f:
        for pem in leaf.cert_chain_pems:
            f.write(pem.bytes())
    return Credentials(caFile, ca.cert_pem.bytes(), keyFile, certFile)
