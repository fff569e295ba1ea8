"""
clocksvc's time layer: pure functions of an instant and a zone. The time
document in JSON and text, daylight-saving periods and transitions, instants
and local times as clients write them, the zone catalogue, and
the page's and time.akamai.com's formats, and the leap-second list.

It imports nothing of Twisted, and nothing of the layers above it.
"""

from ._convert import DISAMBIGUATIONS, LocalInstants, chosenInstant, localInstants
from ._document import (
    FIELDS,
    TimeDocument,
    documentJSON,
    documentJSONAt,
    documentText,
    documentTextAt,
    timeDocument,
)
from ._formats import (
    ZONE_NAME,
    ZONE_SEGMENT,
    akamaiTime,
    clockPageBody,
    ctimeIn,
    isZoneName,
)
from ._instants import (
    INSTANT,
    LOCAL_TIME,
    localTime,
    notAbove,
    parseInstant,
)
from ._leapseconds import (
    LeapSecond,
    LeapSecondList,
    findLeapSecondLists,
    leapSecondList,
    parseLeapSeconds,
)
from ._periods import Period, periodAround, stateAt
from ._timeapi import (
    DAY_NAMES,
    conversionResult,
    currentTime,
    currentTimeJSONAt,
    netDateTime,
    timeZoneData,
    timeZoneDataJSONAt,
)
from ._transitions import (
    LONGEST_RANGE,
    STATE_FIELDS,
    Transition,
    transitionsBetween,
    transitionsJSON,
)
from ._tzdata import (
    TZDATA_CHOICES,
    ZoneDatabase,
    chooseZoneDatabase,
    tzifBytes,
    useZoneDatabase,
    zoneDatabase,
    zoneDatabases,
)
from ._zones import ZoneCatalogue, defaultCatalogue, localZoneName, serverZoneName

__all__ = [
    "DAY_NAMES",
    "DISAMBIGUATIONS",
    "FIELDS",
    "INSTANT",
    "LOCAL_TIME",
    "LONGEST_RANGE",
    "STATE_FIELDS",
    "TZDATA_CHOICES",
    "ZONE_NAME",
    "ZONE_SEGMENT",
    "LeapSecond",
    "LeapSecondList",
    "LocalInstants",
    "Period",
    "TimeDocument",
    "Transition",
    "ZoneCatalogue",
    "ZoneDatabase",
    "akamaiTime",
    "chooseZoneDatabase",
    "chosenInstant",
    "clockPageBody",
    "conversionResult",
    "ctimeIn",
    "currentTime",
    "currentTimeJSONAt",
    "defaultCatalogue",
    "documentJSON",
    "documentJSONAt",
    "documentText",
    "documentTextAt",
    "findLeapSecondLists",
    "isZoneName",
    "leapSecondList",
    "localInstants",
    "localTime",
    "localZoneName",
    "netDateTime",
    "notAbove",
    "parseInstant",
    "parseLeapSeconds",
    "periodAround",
    "serverZoneName",
    "stateAt",
    "timeDocument",
    "timeZoneData",
    "timeZoneDataJSONAt",
    "transitionsBetween",
    "transitionsJSON",
    "tzifBytes",
    "useZoneDatabase",
    "zoneDatabase",
    "zoneDatabases",
]
