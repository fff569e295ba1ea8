"""
Zones and instants for the property tests of the time layer.
"""

from __future__ import annotations

import zoneinfo

__all__ = ["LAST_INSTANT", "ZONES", "ZONE_NAMES"]

#: Zones with the edges a conversion of local date-times meets: ordinary
#: DST, southern DST that ended, a 30-minute DST, tzdata's negative DST, and
#: a skipped day.
ZONES = [
    "Europe/Berlin",
    "America/Sao_Paulo",
    "Australia/Lord_Howe",
    "Europe/Dublin",
    "Pacific/Apia",
    "America/New_York",
    "Asia/Kolkata",
]

#: 9998-12-31T23:59:59Z, the last instant the property tests try: local time
#: in any zone is still before the end of year 9999, which datetime needs.
LAST_INSTANT = 253_370_764_799

#: Every zone name a client may ask for: C{available_timezones} less the
#: three names that are not places (as in L{clocksvc._time._zones}).
ZONE_NAMES = sorted(
    zoneinfo.available_timezones() - {"localtime", "posixrules", "Factory"}
)
