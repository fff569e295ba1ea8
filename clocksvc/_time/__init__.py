"""
clocksvc's time layer: pure functions of an instant and a zone. The time
document in JSON and text, daylight-saving periods, the zone catalogue, and
the page's and time.akamai.com's formats.

It imports nothing of Twisted, and nothing of the layers above it.
"""

from ._document import (
    FIELDS,
    TimeDocument,
    documentJSON,
    documentJSONAt,
    documentText,
    documentTextAt,
    timeDocument,
)
from ._formats import ZONE_NAME, ZONE_SEGMENT, akamaiTime, clockPageBody, isZoneName
from ._periods import Period, periodAround, stateAt
from ._zones import ZoneCatalogue, defaultCatalogue, tzdataVersion

__all__ = [
    "FIELDS",
    "ZONE_NAME",
    "ZONE_SEGMENT",
    "Period",
    "TimeDocument",
    "ZoneCatalogue",
    "akamaiTime",
    "clockPageBody",
    "defaultCatalogue",
    "documentJSON",
    "documentJSONAt",
    "documentText",
    "documentTextAt",
    "isZoneName",
    "periodAround",
    "stateAt",
    "timeDocument",
    "tzdataVersion",
]
