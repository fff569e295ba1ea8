"""
clocksvc served on a port of 127.0.0.1, under the real clock, for the tests
that talk to it over raw sockets (L{tests._rawhttp}): with a canary at
C{/smuggled} that counts the requests it is asked, to tell whether a request
hidden in another one's body was taken as a request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase
from twisted.web.iweb import IRequest
from twisted.web.resource import Resource

from clocksvc._http import ClockSite, Limits
from clocksvc._web._site import buildSite

from ._rawhttp import Address

__all__ = ["Canary", "Server", "serve"]


class Canary(Resource):
    """
    A resource that counts its requests: mounted at C{/smuggled}, it tells
    whether a request hidden in another one's body was taken as a request.
    """

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.hits = 0

    def render(self, request: IRequest) -> bytes:
        self.hits += 1
        return b"smuggled\n"


@dataclass
class Server:
    """
    A clocksvc site on a port of 127.0.0.1, with a canary at C{/smuggled}.
    """

    site: ClockSite
    address: Address
    canary: Canary


async def _settled(site: ClockSite, seconds: float = 10.0) -> None:
    """
    Wait until every connection the site has open is closed, so that trial
    finds the reactor clean.
    """
    deadline = time.monotonic() + seconds
    while site.openConnections and time.monotonic() < deadline:
        await deferLater(reactor, 0.01)


def serve(testCase: TestCase, limits: Limits) -> Server:
    """
    Serve clocksvc, under the real clock and C{limits}, until C{testCase}
    ends.
    """
    site = buildSite(reactor, limits=limits)
    canary = Canary()
    # The root is a Resource, which IResource declares putChild for.
    site.resource.putChild(b"smuggled", canary)
    # The same Site annotation gap as in clocksvc._web._site.listen.
    port = reactor.listenTCP(0, site, interface="127.0.0.1")  # type: ignore[arg-type]
    # Cleanups run last first: stop listening, then wait for the
    # connections to go.
    testCase.addCleanup(_settled, site)
    testCase.addCleanup(port.stopListening)
    host = port.getHost()
    if not isinstance(host, IPv4Address):
        raise TypeError(f"not a TCP port: {host!r}")
    return Server(site, (host.host, host.port), canary)
