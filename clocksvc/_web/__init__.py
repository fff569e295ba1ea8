"""
clocksvc's web layer: the endpoints as Twisted Web resources, content
negotiation, C{/openapi.json}, C{/metrics}, C{/healthz}, the quick answers,
C{/api/ip}'s IP geolocation, C{/api/leap-seconds}, the SNTP servers'
assembly (L{listenNTP}), and the route table (L{ROUTES}) from which the
tree, the metrics' labels, the OpenAPI paths and the quick answers derive;
and the site they make.

It imports the time, clock, HTTP, SNTP and Roughtime layers, and nothing above.
"""

from ._access import (
    ACCESS_FIELDS,
    ACCESS_NAMESPACE,
    MAX_FIELD_CHARS,
    AccessLog,
    accessLine,
    accessLog,
    isoTime,
)
from ._geoip import GeoIP, GeoIPError
from ._health import Readiness
from ._metrics import SiteMetrics
from ._ntplisten import listenNTP, ntpStatusOf
from ._page import ClockPage
from ._routes import ROUTES, Route
from ._signedtime import RoughtimeService
from ._site import (
    buildAdminSite,
    buildRoot,
    buildSite,
    clockStateOf,
    listen,
    metricsOf,
    resolveZone,
)

__all__ = [
    "ACCESS_FIELDS",
    "ACCESS_NAMESPACE",
    "MAX_FIELD_CHARS",
    "ROUTES",
    "AccessLog",
    "ClockPage",
    "GeoIP",
    "GeoIPError",
    "Readiness",
    "RoughtimeService",
    "Route",
    "SiteMetrics",
    "accessLine",
    "accessLog",
    "buildAdminSite",
    "buildRoot",
    "buildSite",
    "clockStateOf",
    "isoTime",
    "listen",
    "listenNTP",
    "metricsOf",
    "ntpStatusOf",
    "resolveZone",
]
