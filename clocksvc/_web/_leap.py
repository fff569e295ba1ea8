# -*- test-case-name: tests.test_leapseconds -*-
"""
C{/api/leap-seconds}: the leap-second list the server knows (from the
C{tzdata} package or the system's zone files, whichever expires last),
TAI minus UTC now, the leap second scheduled if one is, when the list expires and
where it came from; in JSON, or in text at C{/api/leap-seconds.txt} or for
a client that asks for it in C{Accept}.
"""

from __future__ import annotations

from twisted.internet.interfaces import IReactorTime
from twisted.web.http import NOT_FOUND, NOT_IMPLEMENTED, OK

from .._clock import ClockHealth
from .._time import LeapSecondList
from ._answer import Answer, Ask
from ._api import Format, TimeResource
from ._openapi import Fragment, error, jsonContent, operation, ref, text
from ._resource import jsonBody

__all__ = [
    "LEAP_LIST_SCHEMA",
    "LEAP_SECONDS_SCHEMA",
    "NO_LIST",
    "LeapSeconds",
    "leapFragment",
]

#: The error of a server that found no leap-second list.
NO_LIST = "no leap-second list: the tzdata package is not installed"

# A time the list may not say.
_MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}

#: The list's source and expiry, as C{/healthz}'s C{leap_seconds} and
#: C{/api/leap-seconds} say them, in OpenAPI.
LEAP_LIST_SCHEMA: dict[str, object] = {
    "type": "object",
    "additionalProperties": False,
    "description": "The leap-second list: the tzdata package's or the "
    "system's (whichever expires last), its tz release, when it expires and "
    "whether it has",
    "required": ["source", "version", "expires", "updated", "expired"],
    "properties": {
        "source": {"enum": ["system", "package", "unknown"]},
        "version": {"type": "string", "example": "2026f"},
        "expires": _MAYBE_TIME,
        "updated": _MAYBE_TIME,
        "expired": {"type": "boolean"},
    },
}

_LEAP_SECOND = {
    "type": "object",
    "additionalProperties": False,
    "required": ["date", "utc", "correction", "tai_minus_utc", "unixtime"],
    "properties": {
        "date": {"type": "string", "format": "date"},
        "utc": {"type": "string", "example": "2016-12-31T23:59:60Z"},
        "correction": {"enum": [1, -1]},
        "tai_minus_utc": {"type": "integer"},
        "unixtime": {
            "type": "integer",
            "description": "The midnight after it, in POSIX seconds: the first "
            "instant of the new TAI - UTC",
        },
    },
}

#: C{/api/leap-seconds}'s JSON, in OpenAPI.
LEAP_SECONDS_SCHEMA: dict[str, object] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "tai_minus_utc",
        "scheduled",
        "expired",
        "source",
        "version",
        "expires",
        "updated",
        "leap_seconds",
    ],
    "properties": {
        "tai_minus_utc": {"type": "integer", "example": 37},
        "scheduled": {"oneOf": [_LEAP_SECOND, {"type": "null"}]},
        "expired": {"type": "boolean"},
        "source": {"enum": ["system", "package", "unknown"]},
        "version": {"type": "string", "example": "2026f"},
        "expires": _MAYBE_TIME,
        "updated": _MAYBE_TIME,
        "leap_seconds": {"type": "array", "items": _LEAP_SECOND},
    },
}


class LeapSeconds(TimeResource):
    """
    C{/api/leap-seconds} and C{/api/leap-seconds.txt}: L{LeapSecondList.asJSON
    <clocksvc._time.LeapSecondList.asJSON>} or its text; 501 C{NO_LIST} on a
    server that found none.
    """

    isLeaf = True

    def __init__(
        self,
        wallClock: IReactorTime,
        leapSeconds: LeapSecondList | None,
        forced: Format | None = None,
        *,
        health: ClockHealth | None = None,
    ) -> None:
        """
        @param wallClock: where the time comes from (TAI - UTC is now's).
        @param leapSeconds: the list, if there is one.
        @param forced: C{"text"} for C{.txt}.
        @param health: the server clock's state, for C{Clock-Status}.
        """
        super().__init__(forced, health=health)
        self._wallClock = wallClock
        self._leapSeconds = leapSeconds

    def answerAllowed(self, ask: Ask) -> Answer:
        form = self.formOf(ask)
        if ask.path:
            return self.error(form, NOT_FOUND, "not found")
        if self._leapSeconds is None:
            return self.error(form, NOT_IMPLEMENTED, NO_LIST)
        now = self._wallClock.seconds()
        if form.format == "text":
            body = self._leapSeconds.asText(now).encode()
        else:
            body = jsonBody(self._leapSeconds.asJSON(now))
        return Answer(OK, self.timeFields(form.tail), body)


def leapFragment(forced: Format | None) -> Fragment:
    """
    @param forced: C{"text"} for C{/api/leap-seconds.txt}.
    @return: the description of C{/api/leap-seconds} or its C{.txt}
        (L{LeapSeconds}).
    """
    missing = error("The server found no leap-second list", True)
    if forced is not None:
        return Fragment(
            {
                "/api/leap-seconds.txt": operation(
                    "The leap-second list, in text",
                    {
                        "200": {"description": "The list", "content": text()},
                        "501": missing,
                    },
                )
            }
        )
    return Fragment(
        {
            "/api/leap-seconds": operation(
                "The leap-second list: TAI - UTC now, the leap second "
                "scheduled, when the list expires, and its source",
                {
                    "200": {
                        "description": "The list, in JSON or (Accept) text",
                        "content": {**jsonContent(ref("LeapSeconds")), **text()},
                    },
                    "501": missing,
                },
            )
        },
        {"LeapSeconds": LEAP_SECONDS_SCHEMA},
    )
