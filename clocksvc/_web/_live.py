# -*- test-case-name: tests.test_live -*-
"""
C{/live}: a page that shows the server's time ticking, in the server's
zone and in the visitor's, and how far the visitor's own clock is from this
server's; with no third-party script, font or stylesheet.

The page is rendered with the server's time in it, so without JavaScript it
still tells the time; C{live.js} then keeps it ticking and measures the
offset with C{/now?t1=} exchanges, whose uncertainty against this server is
half the round trip. How far the server itself may be from true time (its
clock's maximum error) is a statement of its own: an unsynchronized server
may be 16 s off, which says nothing of the visitor's clock. Everything comes
from this server, which is what lets the Content-Security-Policy be strict.
"""

from __future__ import annotations

import math
from datetime import datetime
from html import escape
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

from twisted.internet.interfaces import IReactorTime
from twisted.web.iweb import IRequest

from .._clock import UNKNOWN, ClockHealth, ClockState
from ._answer import Answer, Ask
from ._openapi import Fragment, html, operation
from ._resource import MethodResource, pageHeaders

__all__ = [
    "FAVICON_CACHE",
    "LivePage",
    "StaticFile",
    "duration",
    "serverClockText",
    "zoneLabel",
]

#: Only this server's own script, style, icon and API; no inline code, no
#: frames.
CONTENT_SECURITY_POLICY = (
    b"default-src 'none'; script-src 'self'; style-src 'self'; "
    b"connect-src 'self'; img-src 'self'; base-uri 'none'; "
    b"form-action 'none'; frame-ancestors 'none'"
)

#: The favicon's caching: it changes with a release at most, and browsers
#: ask for it with every page they show, of this server or not.
FAVICON_CACHE = b"public, max-age=86400"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Is my clock right? · clocksvc</title>
<link rel="icon" href="/favicon.ico">
<link rel="stylesheet" href="/live.css">
<noscript><meta http-equiv="refresh" content="10"></noscript>
<script src="/live.js" defer></script>
</head>
<body>
<main>
<h1>The server's time</h1>
<p class="clock"><time id="server-time" datetime="{iso}" data-server-ms="{ms}">{clock}</time></p>
<p id="server-date">{date}</p>
<p id="zone" data-zone="{zone}" data-abbreviation="{abbreviation}" data-utc-offset-s="{offset}">{zoneLabel}</p>
<p id="visitor" hidden>In your time zone, <span id="visitor-zone"></span>: <time id="visitor-time"></time></p>
<p id="offset" aria-live="polite">Measuring your clock against this server needs JavaScript; this page reloads every 10 seconds.</p>
<p id="detail"></p>
<p id="server-clock" data-synchronized="{synchronized}" data-max-error-ms="{maxError}">{serverClock}</p>
<p id="api">From a program: <code>curl {api}</code></p>
</main>
<footer><a href="/now">/now</a> · <a href="/stream">/stream</a> · <a href="/openapi.json">API</a></footer>
</body>
</html>
"""  # noqa: E501


def duration(milliseconds: float) -> str:
    """
    Say how long a bound is, rounded up, as live.js says it (C{duration},
    with C{Math.ceil}): whole milliseconds (at least 1) below a second,
    seconds to a tenth below a minute, and whole seconds in days, hours and
    minutes above.

    @param milliseconds: a length of time, not negative.
    """
    whole = max(1, math.ceil(milliseconds))
    if whole < 1000:
        return f"{whole} ms"
    if milliseconds < 60_000:
        tenths = math.ceil(milliseconds / 100)
        return f"{tenths // 10}.{tenths % 10} s"
    seconds = math.ceil(milliseconds / 1000)
    parts: list[str] = []
    for unit, size in [("d", 86400), ("h", 3600), ("min", 60)]:
        if parts or seconds >= size:
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
    return " ".join([*parts, f"{seconds} s"])


def serverClockText(state: ClockState) -> str:
    """
    @return: what the page says of how far the server's clock, in C{state},
        may be from true time; live.js says the same (C{describeServer}).
    """
    if state.synchronized is None:
        return "This server cannot tell how far its clock may be from true time."
    bound = duration(state.maxErrorMs or 0)
    if state.synchronized:
        return f"This server's clock is synchronized: within ±{bound} of true time."
    return (
        f"This server's clock is not synchronized: it may be up to {bound} "
        f"from true time."
    )


def zoneLabel(name: str, abbreviation: str) -> str:
    """
    @param name: the server's zone's IANA name; empty for the process's
        local time, which has none.
    @param abbreviation: what the zone is called now, such as C{JST}.
    @return: how the page labels the server's zone; live.js labels it the
        same way (C{zoneLabel}).
    """
    if not name:
        return f"{abbreviation}, the server's local time"
    if abbreviation == name:
        return f"{name}, the server's time zone"
    return f"{name} ({abbreviation}), the server's time zone"


def livePage(
    seconds: float,
    api: str = "/now",
    state: ClockState = UNKNOWN,
    zone: ZoneInfo | None = None,
) -> bytes:
    """
    @param seconds: the server's time.
    @param api: the URL of C{/now} on this server, as the client reaches it.
    @param state: the state of the server's clock.
    @param zone: the server's zone; L{None} for the process's local time.
    @return: the page, showing that time in C{zone}, and the clock's state.
    """
    if zone is None:
        moment = datetime.fromtimestamp(seconds).astimezone()
    else:
        moment = datetime.fromtimestamp(seconds, zone)
    # As the time document has them (abbreviation, timezone, and
    # raw_offset + dst_offset), which is where the script takes them from.
    name = "" if zone is None else zone.key
    abbreviation = moment.tzname() or ""
    offset = moment.utcoffset()
    synchronized = {None: "unknown", True: "true", False: "false"}[state.synchronized]
    return _PAGE.format(
        api=escape(api),
        iso=escape(moment.isoformat(timespec="milliseconds")),
        ms=int(seconds * 1000),
        clock=moment.strftime("%H:%M:%S"),
        date=escape(moment.strftime("%A %d %B %Y")),
        zone=escape(name),
        abbreviation=escape(abbreviation),
        offset=0 if offset is None else int(offset.total_seconds()),
        zoneLabel=escape(zoneLabel(name, abbreviation)),
        synchronized=synchronized,
        maxError="" if state.maxErrorMs is None else f"{state.maxErrorMs:g}",
        serverClock=escape(serverClockText(state)),
    ).encode()


class LivePage(MethodResource):
    """
    C{/live}: the page. Its URLs are absolute, so that it works wherever a
    link to it leads; C{/live/} and anything below it is C{404}, where a
    leaf would serve the page again, and the browser would resolve its
    asset URLs under C{/live/}.

    The page names the URL of C{/now} as the client reached this server,
    its C{Host} and scheme (L{apiURL}), which a plain request head as the
    quick path has it does not carry: its answer is the request's own
    (L{render_GET}), on the general path. A person loads it once, and its
    script then polls C{/now?t1=}, which the quick path answers.
    """

    def __init__(
        self,
        wallClock: IReactorTime,
        health: ClockHealth | None = None,
        zone: ZoneInfo | None = None,
    ) -> None:
        """
        @param wallClock: where the time comes from.
        @param health: the state of the server's clock, which the page
            shows; if L{None}, unknown.
        @param zone: the server's zone, the one C{/now} answers in when a
            client names none; if L{None}, the process's local time. The
            script then follows the zone that C{/now}'s answers name.
        """
        super().__init__()
        self._wallClock = wallClock
        self._health = health
        self._zone = zone

    def render_GET(self, request: IRequest) -> bytes:
        pageHeaders(request, CONTENT_SECURITY_POLICY)
        request.setHeader(b"cache-control", b"no-store")
        state = UNKNOWN if self._health is None else self._health.state()
        return livePage(self._wallClock.seconds(), apiURL(request), state, self._zone)


def apiURL(request: IRequest) -> str:
    """
    @return: the URL of C{/now} as the client reaches this server: its
        C{Host}, with the scheme it used (which a trusted proxy may say,
        L{clocksvc._http.Forwarding}); only the path without a C{Host}.
    """
    host: bytes | None = request.getHeader(b"host")
    if host is None:
        return "/now"
    scheme = "https" if request.isSecure() else "http"
    # ClockRequest lets only a valid Host through; escaped all the same.
    return f"{scheme}://{host.decode('latin-1')}/now"


class StaticFile(MethodResource):
    """
    One of the page's files, read from the package once; nothing below it.
    """

    def __init__(
        self, name: str, contentType: bytes, cacheControl: bytes = b"no-cache"
    ) -> None:
        """
        @param name: the file's name in C{clocksvc/_web/_static}.
        @param contentType: its C{Content-Type}.
        @param cacheControl: its C{Cache-Control}: by default, check back
            each time, so that a new release's script is used at once.
        """
        super().__init__()
        self._body = files(__package__).joinpath("_static", name).read_bytes()
        self._fields = (
            (b"Content-Type", contentType),
            (b"X-Content-Type-Options", b"nosniff"),
            (b"Cache-Control", cacheControl),
        )

    def answerAllowed(self, ask: Ask) -> Answer:
        return Answer(200, self._fields, self._body)


# The description of these resources' paths (/openapi.json).


def liveFragment() -> Fragment:
    """
    @return: the description of C{/live} (L{LivePage}).
    """
    return Fragment(
        {
            "/live": operation(
                "A page that shows the server's time, in its zone and in "
                "yours, how far your clock is from the server's, and how far "
                "the server's may be from true time",
                {"200": {"description": "The page", "content": html()}},
            )
        }
    )


def staticFragment(
    path: str, summary: str, description: str, content: dict[str, Any]
) -> Fragment:
    """
    @return: the description of one of the page's files (L{StaticFile}).
    """
    return Fragment(
        {
            path: operation(
                summary, {"200": {"description": description, "content": content}}
            )
        }
    )
