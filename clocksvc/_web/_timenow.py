# -*- test-case-name: tests.test_timenow -*-
"""
time.now's API, for the clients (and the device libraries' examples) that
moved to it from worldtimeapi.org: C{/developer/api/timezone/AREA/LOCATION}
and C{/developer/api/ip}, whose answers are worldtimeapi's time document
(time.now's documentation shows a subset of its fields, with worldtimeapi's
names and formats), and C{/developer/api/timezone}, the list of zones.

So they are answered by worldtimeapi's own resources,
L{Timezones<clocksvc._web._api.Timezones>} and
L{IPZone<clocksvc._web._geoip.IPZone>}, mounted a second time under
C{/developer/api}: the same decisions, the same bytes.
"""

from __future__ import annotations

from twisted.internet.interfaces import IReactorTime
from twisted.web.resource import Resource

from .._clock import ClockHealth
from .._time import ZoneCatalogue
from ._api import APIDirectory, Timezones, zonesFragment
from ._geoip import GeoIP, IPZone, ipFragment
from ._openapi import Fragment

__all__ = ["TIME_NOW_PATHS", "timeNowDirectory", "timeNowFragment"]

#: time.now's paths, in C{/openapi.json}: as worldtimeapi's below
#: C{/api}, without their C{.txt} forms and transitions, which time.now
#: does not document (they are answered all the same).
TIME_NOW_PATHS = (
    "/developer/api/timezone",
    "/developer/api/timezone/{area}",
    "/developer/api/timezone/{area}/{location}",
    "/developer/api/timezone/{area}/{location}/{region}",
    "/developer/api/ip",
)


def timeNowDirectory(
    wallClock: IReactorTime,
    catalogue: ZoneCatalogue,
    geoip: GeoIP | None,
    health: ClockHealth | None = None,
) -> Resource:
    """
    @param wallClock: where the time of day comes from.
    @param catalogue: the zones.
    @param geoip: the IP geolocation database (C{--geoip-db}), if any: as
        at C{/api/ip}, without one C{/developer/api/ip} answers 501.
    @param health: the server clock's state, for C{Clock-Status}.
    @return: C{/developer}: C{api} below it, and C{timezone} and C{ip}
        below that; 404 in JSON for anything else, as below C{/api}.
    """
    api = APIDirectory()
    api.putChild(b"timezone", Timezones(wallClock, catalogue, health=health))
    api.putChild(b"ip", IPZone(wallClock, catalogue, geoip, health=health))
    developer = APIDirectory()
    developer.putChild(b"api", api)
    return developer


def timeNowFragment() -> Fragment:
    """
    @return: the description of L{TIME_NOW_PATHS}: worldtimeapi's paths'
        own (L{zonesFragment}, L{ipFragment}), below C{/developer} as their
        resources are mounted there.
    """
    worldtimeapi = zonesFragment() + ipFragment(None)
    paths = {
        path: worldtimeapi.paths[path[len("/developer") :]] for path in TIME_NOW_PATHS
    }
    return Fragment(paths, dict(worldtimeapi.schemas))
