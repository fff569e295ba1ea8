# -*- test-case-name: tests.test_tap -*-
"""
The C{twist clocksvc} (and C{twistd clocksvc}) plugin's service: the same
options as C{python -m clocksvc}, as a service that C{twist} runs.

Under C{twist}, the log is C{twist}'s (C{--log-file}, C{--log-format=json}):
clocksvc's access and service events go there, unless C{--access-log PATH}
sends the access log to a file of its own.
"""

from __future__ import annotations

from typing import Any

from twisted.application import service
from twisted.application.internet import StreamServerEndpointService
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IReactorTime
from twisted.logger import globalLogPublisher
from twisted.python import usage

from . import _cli
from ._logging import JSONLinesObserver, ThreadedWriter
from ._reactors import defaultReactor
from ._server import ClockSite
from ._site import buildAdminSite

__all__ = ["Options", "makeService"]


class Options(_cli.Options):
    """
    C{python -m clocksvc}'s options, checked against the reactor C{twist}
    has installed.
    """

    synopsis = "Usage: twist clocksvc [options]"

    def postOptions(self) -> None:
        super().postOptions()
        if self["workers"] != 1:
            # twist runs one process; the supervisor is python -m clocksvc's.
            raise usage.UsageError(
                "twist clocksvc runs one process; for several, use "
                "python -m clocksvc --workers"
            )
        reactor = defaultReactor()
        for description in [*self["listen"], *self["admin-listen"]]:
            try:
                _cli.parseEndpoints(reactor, [description])
            except _cli._Exit as e:
                raise usage.UsageError(str(e)) from None


class _Drain(service.Service):
    """
    Drains the site when the service stops, within the shutdown timeout:
    added before the listening services, so that it stops after them.
    """

    def __init__(self, site: ClockSite, timeout: float, clock: IReactorTime) -> None:
        self._site = site
        self._timeout = timeout
        self._clock = clock

    def stopService(self) -> Deferred[None]:
        super().stopService()
        timer = self._clock.callLater(self._timeout, self._site.abortAll)
        drained = self._site.drain()

        def cancel(result: None) -> None:
            if timer.active():
                timer.cancel()

        return drained.addCallback(cancel)


class _Closing(service.Service):
    """
    Closes the access log's writer when the service stops.
    """

    def __init__(self, writer: ThreadedWriter) -> None:
        self._writer = writer

    def stopService(self) -> None:
        super().stopService()
        self._writer.close()


def makeService(options: Options) -> service.IService:
    """
    @param options: the parsed options.
    @return: a service that serves clocksvc on every endpoint.
    """
    reactor: Any = defaultReactor()
    site = options.site(IReactorTime(reactor))
    top = service.MultiService()
    if options["access-log"] not in ("-", "off"):
        writer = ThreadedWriter(
            open(options["access-log"], "a", encoding="utf-8"),  # noqa: SIM115
            closeFile=True,
        )
        globalLogPublisher.addObserver(JSONLinesObserver(writer.write))
        _Closing(writer).setServiceParent(top)
    _Drain(site, options["shutdown-timeout"], reactor).setServiceParent(top)
    for description in options["listen"]:
        StreamServerEndpointService(
            serverFromString(reactor, description), site
        ).setServiceParent(top)
    if options["admin-listen"]:
        admin = buildAdminSite(site)
        for description in options["admin-listen"]:
            StreamServerEndpointService(
                serverFromString(reactor, description), admin
            ).setServiceParent(top)
    return top
