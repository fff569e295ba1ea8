# -*- test-case-name: tests.test_page -*-
"""
The lesson's clock page, from Twisted Web's "Generating a Page Dynamically".

The lesson's C{render_GET} returns C{str}, which Python 3's Twisted refuses
with a 500; this is the same page, byte for byte, as bytes, with the time read
from an injected clock so that it can be tested at a fixed instant. A server
shows it in its one zone: C{time.ctime}'s format, in C{--timezone}'s zone,
or in the local zone, which is what C{time.ctime} shows.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from twisted.internet.interfaces import IReactorTime
from twisted.web.iweb import IRequest

from .._clock import defaultWallClock
from .._time import clockPageBody
from ._answer import Answer, Ask, applyAnswer
from ._renamed import clockRenamed, wallClockOf
from ._resource import MethodResource, pageFields

#: The page's fields: an HTML page's, and no caching, since the page is the
#: time now: a cached copy is a wrong answer.
_FIELDS = (*pageFields(), (b"Cache-Control", b"no-store"))
#: What the page is asked when the lesson's way renders it: it answers any
#: request alike.
_ANY = Ask(b"GET", (), b"", None, None)

__all__ = ["ClockPage"]


class ClockPage(MethodResource):
    """
    A page giving the time, as in the lesson: GET answers the time in the
    server's local zone (or in a zone of one's choice), in C{time.ctime}'s
    format::

        <html><body>Sun Sep  9 01:46:40 2001</body></html>

    Mount it at any point of a resource tree: like the lesson's, it is a leaf,
    so it answers for every path below the point where it is mounted.
    """

    isLeaf = True

    @clockRenamed
    def __init__(
        self,
        wallClock: IReactorTime | None = None,
        zone: ZoneInfo | None = None,
        *,
        clock: IReactorTime | None = None,
    ) -> None:
        """
        @param wallClock: where the time of day comes from; by default the
            global reactor, which is imported only then.
        @param zone: the zone to show the time in; by default the process's
            local zone, with C{time.ctime} itself, as the lesson does.
        @param clock: deprecated since clocksvc 0.2.0: C{wallClock}.
        """
        super().__init__()
        wallClock = wallClockOf(wallClock, clock)
        self._wallClock = defaultWallClock() if wallClock is None else wallClock
        self._zone = zone
        self._second = -1
        self._body = b""

    def pageAt(self, now: float) -> bytes:
        """
        @return: the page for the instant C{now}; made once a second in a
            given zone (the local zone may change under it).
        """
        zone = self._zone
        if zone is None:
            return clockPageBody(now)
        if int(now) != self._second:
            self._second = int(now)
            self._body = clockPageBody(now, zone)
        return self._body

    def answerAllowed(self, ask: Ask) -> Answer:
        """
        @return: the page, whatever C{ask} is.
        """
        return Answer(200, _FIELDS, self.pageAt(self._wallClock.seconds()))

    def render_GET(self, request: IRequest) -> bytes | int:
        """
        Render the page for the clock's current time, as the lesson's does:
        its answer (L{answerAllowed}), applied to C{request}.

        @param request: the request to answer.
        @return: the page.
        """
        return applyAnswer(request, self.answerAllowed(_ANY))
