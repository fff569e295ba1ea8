# -*- test-case-name: tests.test_live -*-
"""
C{/live}: a page that shows the server's time ticking and how far the
visitor's own clock is off, with no third-party script, font or stylesheet.

The page is rendered with the server's time in it, so without JavaScript it
still tells the time; C{live.js} then keeps it ticking and measures the
offset with C{/now?t1=} exchanges, whose uncertainty is half the round
trip plus the server clock's own maximum error. Everything comes from this server, which
is what lets the Content-Security-Policy be strict.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from html import escape
from importlib.resources import files

from twisted.internet.interfaces import IReactorTime
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource

from ._clockhealth import UNKNOWN, ClockHealth, ClockState
from ._resource import MethodResource, NotFound, pageHeaders

__all__ = ["LivePage", "StaticFile"]

#: Only this server's own script, style and API; no inline code, no frames.
CONTENT_SECURITY_POLICY = (
    b"default-src 'none'; script-src 'self'; style-src 'self'; "
    b"connect-src 'self'; img-src 'self'; base-uri 'none'; "
    b"form-action 'none'; frame-ancestors 'none'"
)

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Is my clock right? · clocksvc</title>
<link rel="stylesheet" href="/live.css">
<noscript><meta http-equiv="refresh" content="10"></noscript>
<script src="/live.js" defer></script>
</head>
<body>
<main>
<h1>The server's time</h1>
<p class="clock"><time id="server-time" datetime="{iso}" data-server-ms="{ms}">{clock}</time></p>
<p id="server-date">{date}</p>
<p id="zone">UTC</p>
<p id="server-clock" data-synchronized="{synchronized}" data-max-error-ms="{maxError}">{serverClock}</p>
<p id="offset" aria-live="polite">Measuring your clock's offset needs JavaScript; this page reloads every 10 seconds.</p>
<p id="detail"></p>
<p id="api">From a program: <code>curl {api}</code></p>
</main>
<footer><a href="/now">/now</a> · <a href="/stream">/stream</a> · <a href="/openapi.json">API</a></footer>
</body>
</html>
"""  # noqa: E501


def serverClockText(state: ClockState) -> str:
    """
    @return: what the page says of the server clock in C{state}; live.js
        says the same (C{describeServer}).
    """
    if state.synchronized is None:
        return "The server cannot tell how good its clock is."
    if state.synchronized:
        return (
            f"The server's clock is synchronized, to within "
            f"±{_milliseconds(state.maxErrorMs)} ms."
        )
    return (
        f"The server's clock is not synchronized: it may be off by up to "
        f"{_milliseconds(state.maxErrorMs)} ms."
    )


def _milliseconds(value: float | None) -> str:
    # As live.js rounds it: up, to a whole millisecond, at least 1.
    return str(max(1, math.ceil(value or 0)))


def livePage(seconds: float, api: str = "/now", state: ClockState = UNKNOWN) -> bytes:
    """
    @param seconds: the server's time.
    @param api: the URL of C{/now} on this server, as the client reaches it.
    @param state: the state of the server's clock.
    @return: the page, showing that time in UTC, and the clock's state.
    """
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    synchronized = {None: "unknown", True: "true", False: "false"}[state.synchronized]
    return _PAGE.format(
        api=escape(api),
        iso=escape(moment.isoformat(timespec="milliseconds")),
        ms=int(seconds * 1000),
        clock=moment.strftime("%H:%M:%S"),
        date=escape(moment.strftime("%A %d %B %Y")),
        synchronized=synchronized,
        maxError="" if state.maxErrorMs is None else f"{state.maxErrorMs:g}",
        serverClock=escape(serverClockText(state)),
    ).encode()


class _Exact(MethodResource):
    """
    A resource that answers its own path only: C{/live/} and anything below
    it is C{404}, where a leaf would serve the page again, and the browser
    would resolve its asset URLs under C{/live/}.
    """

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        return NotFound()


class LivePage(_Exact):
    """
    C{/live}: the page. Its URLs are absolute, so that it works wherever a
    link to it leads.
    """

    def __init__(self, clock: IReactorTime, health: ClockHealth | None = None) -> None:
        """
        @param clock: where the time comes from.
        @param health: the state of the server's clock, which the page
            shows; if L{None}, unknown.
        """
        super().__init__()
        self._clock = clock
        self._health = health

    def render_GET(self, request: IRequest) -> bytes:
        pageHeaders(request, CONTENT_SECURITY_POLICY)
        request.setHeader(b"cache-control", b"no-store")
        state = UNKNOWN if self._health is None else self._health.state()
        return livePage(self._clock.seconds(), apiURL(request), state)


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


class StaticFile(_Exact):
    """
    One of the page's files, read from the package once.
    """

    def __init__(self, name: str, contentType: bytes) -> None:
        """
        @param name: the file's name in C{clocksvc/_static}.
        @param contentType: its C{Content-Type}.
        """
        super().__init__()
        self._body = files(__package__).joinpath("_static", name).read_bytes()
        self._contentType = contentType

    def render_GET(self, request: IRequest) -> bytes:
        request.setHeader(b"content-type", self._contentType)
        request.setHeader(b"x-content-type-options", b"nosniff")
        # Check back each time, so a new release's script is used at once.
        request.setHeader(b"cache-control", b"no-cache")
        return self._body
