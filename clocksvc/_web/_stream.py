# -*- test-case-name: tests.test_stream -*-
"""
C{/stream}: Server-Sent Events, one C{tick} event per wall-clock second.

Every stream shares one L{Ticker}: a single timer, scheduled afresh for the
next second boundary each time it fires, so it never drifts; it runs only
while someone is listening.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, cast
from zoneinfo import ZoneInfo

from twisted.internet.interfaces import (
    IDelayedCall,
    IPushProducer,
    IReactorTime,
    ITCPTransport,
)
from twisted.web.http import Request
from twisted.web.iweb import IRequest
from twisted.web.server import NOT_DONE_YET
from zope.interface import implementer

from .._clock import STEP_THRESHOLD, ClockHealth, StepWatch
from .._http import IEventChannel, frameChunk
from .._time import ZoneCatalogue, documentJSONAt
from ._answer import Answer, Ask, askOf, queryArgs
from ._api import JSON_FORM, QueryError, TimeResource, clientIP, zoneFromQuery
from ._openapi import TZ, Fragment, error, operation, ref
from ._resource import timeHeaders

__all__ = ["SHUTDOWN_EVENT", "Stream", "Ticker", "stepEvent"]

#: A ticker's listener: called with the second (since the epoch) that has
#: just begun.
Listener = Callable[[int], None]


class Ticker:
    """
    Calls its listeners at each wall-clock second boundary, on one timer.

    The timer runs on the monotonic clock, each delay measured afresh on the
    wall clock to the next boundary. When the wall clock is stepped, the
    timer still fires when it was due, and finds that the wall clock did not
    move as the monotonic one did: the ticker then tells C{watch}, ticks at
    once for the second the wall clock is in now, and keeps to the new
    boundaries from there; so ticks go on within a second of a step, either
    way. Their seconds follow the wall clock: after a step back, seconds
    already ticked come again.
    """

    def __init__(
        self,
        wallClock: IReactorTime,
        timers: IReactorTime | None = None,
        watch: StepWatch | None = None,
    ) -> None:
        """
        @param wallClock: where the time of day comes from.
        @param timers: where the timer runs; by default C{wallClock}.
        @param watch: told to look for a step when the clocks disagree.
        """
        self._wallClock = wallClock
        self._timers = wallClock if timers is None else timers
        self._watch = watch
        self._listeners: dict[object, Listener] = {}
        self._call: IDelayedCall | None = None
        self._target = 0
        self._scheduledAt = (0.0, 0.0)

    def __len__(self) -> int:
        return len(self._listeners)

    def subscribe(self, key: object, listener: Listener) -> None:
        """
        Call C{listener} at every second boundary from now on.

        @param key: what to unsubscribe it by.
        @param listener: the listener.
        """
        self._listeners[key] = listener
        if self._call is None:
            self._schedule(math.floor(self._wallClock.seconds()) + 1)

    def unsubscribe(self, key: object) -> None:
        """
        Stop calling the listener subscribed as C{key}; the timer stops with
        the last one.
        """
        self._listeners.pop(key, None)
        if not self._listeners and self._call is not None:
            self._call.cancel()
            self._call = None

    def _schedule(self, target: int) -> None:
        # Each delay is measured afresh from the clock to an absolute
        # boundary, so the lateness of one tick never carries into the next.
        self._target = target
        now = self._wallClock.seconds()
        self._scheduledAt = (now, self._timers.seconds())
        self._call = self._timers.callLater(max(target - now, 0), self._tick)

    def _tick(self) -> None:
        second = self._target
        now = self._wallClock.seconds()
        wallThen, timersThen = self._scheduledAt
        if abs((now - wallThen) - (self._timers.seconds() - timersThen)) > (
            STEP_THRESHOLD
        ):
            # The wall clock was stepped: the boundary this timer was set
            # for is not now. Tick for the second the wall clock is in.
            if self._watch is not None:
                self._watch.look()
            second = math.floor(now)
        # If the reactor was held up past further boundaries, skip them:
        # the next tick is the next boundary still to come.
        self._schedule(max(second, math.floor(now)) + 1)
        for listener in list(self._listeners.values()):
            listener(second)


#: The last event of a stream, when the server shuts down: an EventSource
#: then reconnects after C{retry}, to another replica if there is one.
SHUTDOWN_EVENT = b'event: shutdown\ndata: {"reason":"server shutting down"}\n\n'


@implementer(IPushProducer)
class _StreamClient:
    """
    One client of a stream. A client that has stopped reading is stalled:
    its ticks are skipped rather than queued, and one that stays stalled for
    the stream's C{stalledSeconds} is dropped.

    It is stalled while Twisted has paused it (its buffer is full), and,
    where its request can tell (L{IEventChannel.unsentBytes}: over
    clocksvc's own HTTP/1.1 channel), while the kernel still holds bytes of
    earlier events that the client has not taken: an event is a few hundred
    bytes a second, so a client that never reads would otherwise fill the
    kernel's buffers and Twisted's for minutes before the pause came.
    """

    paused = False

    def __init__(
        self, stream: Stream, request: Request, zone: ZoneInfo, address: str
    ) -> None:
        self._stream = stream
        self._request = request
        self.zone = zone
        self.address = address
        #: Clients with the same key get the same events.
        self.key = (zone.key, address)
        self._stalledTicks = 0
        # Twisted's write frames each chunk for each client; the HTTP
        # layer's request can take one already framed, made once for every
        # client alike, and tell how much its client has not yet taken.
        events = IEventChannel(request, None)
        self._writeFramed = None if events is None else events.writeFramed
        self._unsent = None if events is None else events.unsentBytes

    def send(self, event: bytes, framed: bytes) -> None:
        """
        Send one tick's event, unless the client has stopped reading.

        @param event: the event.
        @param framed: the event as one chunk of a chunked body.
        """
        stalled = self.paused or (self._unsent is not None and self._unsent() > 0)
        if not stalled:
            self._stalledTicks = 0
            if self._writeFramed is not None:
                self._writeFramed(event, framed)
            else:
                self._request.write(event)
            return
        self._stalledTicks += 1
        if self._stalledTicks > self._stream.stalledSeconds:
            # Nothing more can be sent to it, the goodbye included.
            self._stream.forget(self)
            # Over HTTP/1.1 the connection goes; over HTTP/2 the channel is
            # the stream (with no transport), and only the stream goes.
            channel = self._request.channel
            target = channel if channel.transport is None else channel.transport
            cast(ITCPTransport, target).abortConnection()

    def close(self) -> None:
        """
        End the stream with L{SHUTDOWN_EVENT}.
        """
        self._stream.forget(self)
        self._request.unregisterProducer()
        self._request.write(SHUTDOWN_EVENT)
        self._request.finish()

    def pauseProducing(self) -> None:
        self.paused = True

    def resumeProducing(self) -> None:
        # Still stalled until the next tick finds everything taken.
        self.paused = False

    def stopProducing(self) -> None:
        # The connection is going; notifyFinish tells the stream.
        pass


class Stream(TimeResource):
    """
    C{/stream}: a C{text/event-stream} of the time document (for C{?tz=} or
    the default zone), one C{tick} event at each second boundary, after a
    first C{retry: 1000} that tells a reconnecting client not to wait long.

    Each event is::

        id: 1000000001
        event: tick
        data: {"abbreviation":"UTC",...,"unixtime":1000000001,...}

    The document is for the boundary itself, so C{unixtime} equals C{id}.

    When the server's wall clock is stepped, a C{step} event says by how
    much, in milliseconds (negative for a step back)::

        event: step
        data: {"step_ms":-30000.125}

    and the ticks go on from the second the clock is in now: after a step
    back, C{id}s already sent come again.

    @ivar stalledSeconds: how many ticks a client that has stopped reading
        may miss before it is dropped.
    """

    def __init__(
        self,
        ticker: Ticker,
        catalogue: ZoneCatalogue,
        defaultZone: ZoneInfo,
        stalledSeconds: int = 30,
        *,
        health: ClockHealth | None = None,
    ) -> None:
        """
        @param ticker: the ticker every stream shares.
        @param catalogue: where C{?tz=} is looked up.
        @param defaultZone: the zone without C{?tz=}.
        @param stalledSeconds: see L{stalledSeconds}.
        @param health: the server clock's state, for C{Clock-Status}.
        """
        super().__init__("json", health=health)
        self._ticker = ticker
        self._catalogue = catalogue
        self._defaultZone = defaultZone
        self.stalledSeconds = stalledSeconds
        self._clients: set[_StreamClient] = set()

    def answerAllowed(self, ask: Ask) -> Answer | None:
        """
        @return: the error of a malformed or unknown C{?tz=}; else L{None},
            for the stream, which only the request itself can carry
            (L{render_GET}).
        """
        try:
            zoneFromQuery(queryArgs(ask), self._catalogue, self._defaultZone)
        except QueryError as e:
            return self.queryError(JSON_FORM, e)
        return None

    def render_GET(self, request: IRequest) -> bytes | int:
        ask = askOf(request)
        # Checked by answerAllowed.
        zone = zoneFromQuery(queryArgs(ask), self._catalogue, self._defaultZone)
        timeHeaders(request, self.clockStatus())
        request.setHeader(b"content-type", b"text/event-stream; charset=utf-8")
        # Ask proxies such as nginx to pass each event on as it comes.
        request.setHeader(b"x-accel-buffering", b"no")
        if request.method == b"HEAD":
            return b""
        # IRequest leaves out the producer methods and notifyFinish that
        # every request Twisted Web renders (twisted.web.http.Request) has.
        httpRequest = cast(Request, request)
        client = _StreamClient(self, httpRequest, zone, clientIP(ask))
        request.write(b"retry: 1000\n\n")
        httpRequest.registerProducer(client, True)
        if not self._clients:
            self._ticker.subscribe(self, self._tick)
        self._clients.add(client)
        # Fires on a normal finish and errs when the client goes away: both
        # forget the client at once, and the error needs no logging.
        httpRequest.notifyFinish().addBoth(lambda _: self.forget(client))
        return NOT_DONE_YET

    @property
    def clientCount(self) -> int:
        """
        The number of clients streaming now.
        """
        return len(self._clients)

    def forget(self, client: _StreamClient) -> None:
        """
        Stop sending to C{client}.
        """
        self._clients.discard(client)
        if not self._clients:
            self._ticker.unsubscribe(self)

    def closeAll(self) -> None:
        """
        End every stream with L{SHUTDOWN_EVENT}: the server is shutting down.
        """
        for client in list(self._clients):
            client.close()

    def stepped(self, step: float) -> None:
        """
        Tell every client that the wall clock was stepped, with
        L{stepEvent}.

        @param step: the step, in seconds.
        """
        event = stepEvent(step)
        framed = frameChunk(event)
        for client in list(self._clients):
            client.send(event, framed)

    def _tick(self, second: int) -> None:
        # One stream, one listener: the fan-out to thousands of clients is a
        # loop that does little besides send, for the last client's sake.
        # Clients in the same zone at the same address get the same event:
        # it is made, and framed as a chunk, once per tick.
        events: dict[tuple[str, str], tuple[bytes, bytes]] = {}
        for client in list(self._clients):
            both = events.get(client.key)
            if both is None:
                event = tickEvent(second, client.zone, client.address)
                both = events[client.key] = (event, frameChunk(event))
            client.send(*both)


def tickEvent(second: int, zone: ZoneInfo, address: str) -> bytes:
    """
    @return: the tick event for C{second}, for a client in C{zone} at
        C{address}.
    """
    data = documentJSONAt(second, zone, address)
    return b"id: %d\nevent: tick\ndata: %s\n\n" % (second, data)


def stepEvent(step: float) -> bytes:
    """
    @param step: a step of the wall clock, in seconds: ahead if positive.
    @return: the C{step} event that tells a stream's clients of it, the step
        in milliseconds.
    """
    return b'event: step\ndata: {"step_ms":%s}\n\n' % (
        json.dumps(round(step * 1000, 3)).encode(),
    )


# The description of this resource's path (/openapi.json).


def _jsonData(schema: dict[str, Any]) -> dict[str, Any]:
    """
    @return: the schema of an event's C{data} that holds JSON valid against
        C{schema}.
    """
    return {
        "type": "string",
        "contentMediaType": "application/json",
        "contentSchema": schema,
    }


def _streamEvent() -> dict[str, Any]:
    """
    @return: the schema of one of C{/stream}'s events, as the HTML standard
        parses them (and OpenAPI 3.2's generic C{text/event-stream} schema
        reads them): C{event}, C{id}, C{retry} and C{data}, each a string but
        C{retry}. A block without C{data} is no event, so the stream's first
        block (C{retry: 1000}) is not one; C{id} carries on to the events
        after it that set none, as it does to C{shutdown}.
    """
    return {
        "type": "object",
        "description": "A tick (its id and the document's unixtime are the "
        "second that began), a step of the server's wall clock, or, last, "
        "the shutdown notice.",
        "required": ["event", "data"],
        "properties": {
            "event": {"enum": ["tick", "step", "shutdown"]},
            "id": {"type": "string", "pattern": "^[0-9]+$"},
            "retry": {"type": "integer", "minimum": 0},
            "data": {"type": "string"},
        },
        "additionalProperties": False,
        # As if/then rather than oneOf, so that a validator reports what is
        # wrong with the data of the event it is, not that none matched.
        "allOf": [
            {
                "if": {"properties": {"event": {"const": "tick"}}},
                "then": {
                    "required": ["id"],
                    "properties": {"data": _jsonData(ref("TimeDocument"))},
                },
            },
            {
                "if": {"properties": {"event": {"const": "step"}}},
                "then": {"properties": {"data": _jsonData(ref("StepNotice"))}},
            },
            {
                "if": {"properties": {"event": {"const": "shutdown"}}},
                "then": {"properties": {"data": _jsonData(ref("ShutdownNotice"))}},
            },
        ],
    }


def streamFragment() -> Fragment:
    """
    @return: the description of C{/stream} (L{Stream}), in OpenAPI 3.2: each
        event's schema is its C{itemSchema}.
    """
    return Fragment(
        {
            "/stream": operation(
                "Server-sent events: a tick event with the time document at "
                "each second boundary",
                {
                    "200": {
                        "description": "An endless event stream: first a "
                        "retry of 1000 ms for reconnecting clients, then a "
                        "tick event each second; a step event when the "
                        "server's wall clock is stepped, after which the "
                        "ticks follow the new time (after a step back, ids "
                        "come again); a shutdown event ends it when the "
                        "server stops",
                        # No schema: in 3.2 it would describe the whole
                        # stream, which never ends; itemSchema is each event.
                        "content": {
                            "text/event-stream": {"itemSchema": ref("StreamEvent")}
                        },
                    },
                    "400": error("A malformed query parameter"),
                    "404": error("No zone has that name"),
                },
                [TZ],
            )
        },
        {
            "StreamEvent": _streamEvent(),
            "ShutdownNotice": {
                "type": "object",
                "additionalProperties": False,
                "required": ["reason"],
                "properties": {"reason": {"type": "string"}},
            },
            "StepNotice": {
                "type": "object",
                "additionalProperties": False,
                "required": ["step_ms"],
                "properties": {
                    "step_ms": {
                        "type": "number",
                        "description": "How far the wall clock was "
                        "stepped, in milliseconds: negative if back",
                    }
                },
            },
        },
    )
