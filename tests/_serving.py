"""
A live clocksvc for the tests of the APIs other services' clients call
(timeapi.io's, time.now's, C{/api/coordinates}): a site on a free port of
127.0.0.1, dated by a fixed clock, and a client that fetches from it over
a real socket and checks every answer against C{/openapi.json}.
"""

from __future__ import annotations

import json
from typing import Any

import treq
from twisted.internet import reactor
from twisted.internet.interfaces import IListeningPort, IReactorTime
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase
from twisted.web.client import HTTPConnectionPool

from clocksvc._http import ClockSite, TrustedProxies
from clocksvc._web._geoip import GeoIP
from clocksvc._web._site import buildSite
from clocksvc._web._timeapi import timeAPIEndpoint

from ._helpers import urlOf
from ._openapi import validateResponse

__all__ = ["Fetched", "LiveSiteTestCase"]


class Fetched:
    """
    An answer, read whole.

    @ivar code: its status code.
    @ivar headers: its header fields, by lower-case name, each the first
        value.
    @ivar body: its body.
    """

    def __init__(self, code: int, headers: dict[str, str], body: bytes) -> None:
        self.code = code
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        """
        @return: the body, parsed as JSON, as a client's C{response.json()}.
        """
        return json.loads(self.body)


class LiveSiteTestCase(TestCase):
    """
    A test that talks to a live clocksvc over a real socket.

    @ivar clock: where the site reads the time: set it before L{serve}.
    """

    clock: Clock

    def setUp(self) -> None:
        self.pool = HTTPConnectionPool(reactor, persistent=False)
        self.addCleanup(self.pool.closeCachedConnections)

    def serve(self, geoip: GeoIP | None = None, proxy: bool = False) -> ClockSite:
        """
        Serve on a free port of 127.0.0.1 until the test ends, dated by
        L{clock}, with its timers on the reactor.

        @param geoip: the IP geolocation database, if any.
        @param proxy: whether the tests' client, at 127.0.0.1, is a trusted
            proxy, whose C{X-Forwarded-For} gives the client's address.
        @return: the site.
        """
        site = buildSite(
            self.clock,
            timers=IReactorTime(reactor),
            geoip=geoip,
            trustedProxies=TrustedProxies.parse(["127.0.0.1"]) if proxy else None,
        )
        # The same Site annotation gap as in clocksvc._web._site.listen.
        port: IListeningPort = reactor.listenTCP(
            0,
            site,  # type: ignore[arg-type]
            interface="127.0.0.1",
        )
        self.addCleanup(port.stopListening)
        self.base = urlOf(port, "")
        return site

    async def fetch(self, method: str, path: str, **kwargs: Any) -> Fetched:
        """
        @param path: the path, with its query, as a client writes it.
        @param kwargs: for treq's C{request}, such as C{json} or C{headers}.
        @return: the answer, checked against C{/openapi.json}: timeapi.io's
            paths in any letter case as the path it documents.
        """
        response = await treq.request(
            method, self.base + path, pool=self.pool, **kwargs
        )
        body = await response.content()
        headers = {
            name.decode().lower(): values[0].decode()
            for name, values in response.headers.getAllRawHeaders()
        }
        plain = path.partition("?")[0]
        below = plain.split("/")[2:] if plain.startswith("/api/") else []
        endpoint = timeAPIEndpoint([segment.encode() for segment in below])
        validateResponse(
            method,
            plain if endpoint is None else endpoint.path,
            response.code,
            headers.get("content-type"),
            body,
        )
        return Fetched(response.code, headers, body)
