# -*- test-case-name: tests.test_server,tests.test_hardening -*-
"""
clocksvc's site: Twisted Web's L{Site} with L{ClockChannel}s and
L{ClockRequest}s, a cap on connections, a drain for a graceful shutdown, and
what the layers above hand it when they build it: quick answers for plain
requests, and reporters that hear of every request answered or refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, cast

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IAddress, IReactorTime, ITCPTransport
from twisted.internet.protocol import Protocol
from twisted.web import server
from twisted.web.resource import IResource
from zope.interface import Attribute, Interface

from ._channel import ClockChannel, QuickResponse
from ._forwarded import Forwarding
from ._grammar import QuickHead, rawResponse
from ._limits import Limits
from ._request import ClockRequest

__all__ = ["ClockSite", "Finished", "IReporter", "QuickAnswer"]

_SERVICE_UNAVAILABLE = 503

#: The site's quick answers: the complete response to a plain request, or
#: L{None} to leave the request to the resource tree.
QuickAnswer = Callable[[QuickHead, IAddress], "QuickResponse | None"]


class Finished(NamedTuple):
    """
    A request answered.

    @ivar when: when its answer was done, by the site's wall clock.
    @ivar seconds: how long it took, from when it was taken up, by the
        site's timers.
    @ivar method: its method.
    @ivar target: its request target.
    @ivar status: the status of its answer.
    @ivar bodyLength: the length of the answer's body.
    @ivar client: the client's address, if a reporter wants details.
    @ivar userAgent: its C{User-Agent}, if a reporter wants details.
    @ivar secure: whether the client used HTTPS, as the connection or a
        trusted proxy says, if a reporter wants details.
    """

    when: float
    seconds: float
    method: bytes
    target: bytes
    status: int
    bodyLength: int
    client: IAddress | None
    userAgent: bytes | None
    secure: bool | None = None


class IReporter(Interface):
    """
    Hears of the requests a site answers and refuses: metrics and logs.
    """

    wantsDetails = Attribute(
        "Whether it needs each request's client and user agent, which cost "
        "a little to look up."
    )

    def requestFinished(finished: Finished) -> None:
        """
        A request was answered.
        """

    def requestRefused(status: int) -> None:
        """
        A request was refused on its connection, before any resource saw it.
        """


def _uncounted(reason: str) -> None:
    pass


class _Overloaded(Protocol):
    """
    What a connection beyond the cap gets: 503 and a close.
    """

    def __init__(self, site: ClockSite) -> None:
        self._site = site

    def connectionMade(self) -> None:
        self._site.refused(_SERVICE_UNAVAILABLE)
        transport = cast(ITCPTransport, self.transport)
        transport.write(rawResponse(_SERVICE_UNAVAILABLE))
        transport.loseConnection()


class ClockSite(server.Site):
    """
    A L{Site} of L{ClockChannel}s and L{ClockRequest}s, that caps its
    connections and can drain them for a graceful shutdown.

    It has two clocks: C{timers}, which its timeouts run on and which
    measures how long a request took, and C{wallClock}, which tells the time
    of day for C{Date} and for the log. In production the first is monotonic
    and the second the system's clock; in a test, one L{task.Clock
    <twisted.internet.task.Clock>} may be both. (Twisted's own access-log
    date, which C{HTTPFactory} keeps by its C{reactor}, is never written:
    L{log} replaces Twisted's log.)

    @ivar limits: the limits its channels keep.
    @ivar reporters: what hears of each request.
    @ivar quickAnswer: the quick answers, if any.
    @ivar forwarding: how a request's client address and scheme are found
        behind trusted proxies, if any are.
    @ivar proxyRefused: told the reason of each connection whose PROXY
        header (C{haproxy:} endpoints) was refused, to count it.
    @ivar timers: what its timeouts run on, and what times requests (also
        Twisted's C{reactor}, which C{Site} wants).
    @ivar wallClock: the time of day.
    """

    requestFactory = ClockRequest

    #: Whether a drain has begun; it never ends but with the process.
    draining = False

    def __init__(
        self,
        resource: IResource,
        timers: IReactorTime,
        limits: Limits,
        reporters: Sequence[IReporter] = (),
        quickAnswer: QuickAnswer | None = None,
        forwarding: Forwarding | None = None,
        *,
        wallClock: IReactorTime | None = None,
        proxyRefused: Callable[[str], None] | None = None,
    ) -> None:
        """
        @param resource: the root resource.
        @param timers: what the timeouts run on, and what times requests.
        @param limits: the limits.
        @param reporters: what hears of each request answered or refused.
        @param quickAnswer: answers plain requests from their head alone.
        @param forwarding: the trusted proxies' rule for a request's client
            address and scheme; L{None}, the default, trusts no proxy.
        @param wallClock: the time of day; by default C{timers}.
        @param proxyRefused: counts connections whose PROXY header was
            refused, by reason; by default they are not counted.
        """
        # No form parsing: nothing in clocksvc reads form arguments, and
        # Twisted's parser (the email package's) takes quadratic time and
        # raises on some bodies, for any POST with a form's content type.
        super().__init__(
            resource,
            reactor=timers,
            timeout=limits.idleTimeout,
            parsePOSTFormSubmission=False,
        )
        self.timers = timers
        self.wallClock = timers if wallClock is None else wallClock
        self.limits = limits
        self.reporters = list(reporters)
        self.quickAnswer = quickAnswer
        self.forwarding = forwarding
        self.proxyRefused = _uncounted if proxyRefused is None else proxyRefused
        self._details = any(reporter.wantsDetails for reporter in self.reporters)
        self._channels: set[ClockChannel] = set()
        self._drained: Deferred[None] | None = None
        self._onDrain: list[Callable[[], None]] = []

    def buildProtocol(self, addr: IAddress | None) -> Any:
        if len(self._channels) >= self.limits.maxConnections or self.draining:
            return _Overloaded(self)
        return ClockChannel(self)

    def log(self, request: Any) -> None:
        """
        Report a finished request, in place of Twisted's access log, which
        formats a line for every request whether anyone reads it or not.
        """
        details = self._details
        self._report(
            request.method,
            request.uri,
            request.code,
            request.sentLength,
            request.getClientAddress() if details else None,
            request.getHeader(b"user-agent") if details else None,
            getattr(request, "startedAt", None),
            request.isSecure() if details else None,
        )

    def answeredQuickly(
        self,
        channel: ClockChannel,
        head: QuickHead,
        response: QuickResponse,
        started: float,
        client: IAddress,
        secure: bool | None,
    ) -> None:
        """
        Report a request answered quickly, as L{log} does one the resource
        tree answered.

        @param client: the client's address, as L{forwarding} resolved it.
        @param secure: whether the client used HTTPS, if a trusted proxy
            said; else L{None}, to go by the connection.
        """
        details = self._details
        self._report(
            head.method,
            head.target,
            response.status,
            response.bodyLength,
            client if details else None,
            head.userAgent,
            started,
            (channel.isSecure() if secure is None else secure) if details else None,
        )

    def _report(
        self,
        method: bytes,
        target: bytes,
        status: int,
        bodyLength: int,
        client: IAddress | None,
        userAgent: bytes | None,
        started: float | None,
        secure: bool | None,
    ) -> None:
        if not self.reporters:
            return
        now = self.timers.seconds()
        finished = Finished(
            self.wallClock.seconds(),
            0.0 if started is None else now - started,
            method,
            target,
            status,
            bodyLength,
            client,
            userAgent,
            secure,
        )
        for reporter in self.reporters:
            reporter.requestFinished(finished)

    def refused(self, status: int) -> None:
        """
        Report a request refused on the connection, before any resource.
        """
        for reporter in self.reporters:
            reporter.requestRefused(status)

    @property
    def openConnections(self) -> int:
        """
        The number of connections open now.
        """
        return len(self._channels)

    def channelOpened(self, channel: ClockChannel) -> None:
        """
        Count C{channel} as open.
        """
        self._channels.add(channel)

    def channelClosed(self, channel: ClockChannel) -> None:
        """
        Count C{channel} as closed; the last one to close ends a drain.
        """
        self._channels.discard(channel)
        if self._drained is not None and not self._channels:
            drained, self._drained = self._drained, None
            drained.callback(None)

    def whenDraining(self, callback: Callable[[], None]) -> None:
        """
        Call C{callback} when a drain begins: for resources with responses
        that never end, such as event streams, to end them.
        """
        self._onDrain.append(callback)

    def drain(self) -> Deferred[None]:
        """
        Stop taking requests: idle connections close now, the others once
        their request is answered, and never-ending responses are ended.

        @return: fires once every connection is closed.
        """
        self.draining = True
        if not self._channels:
            return succeed(None)
        drained: Deferred[None] = Deferred()
        self._drained = drained
        for callback in self._onDrain:
            callback()
        for channel in list(self._channels):
            channel.drain()
        return drained

    def abortAll(self) -> None:
        """
        Drop every connection at once: the drain took too long.
        """
        for channel in list(self._channels):
            channel.abortConnection()
