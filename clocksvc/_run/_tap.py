# -*- test-case-name: tests.test_tap -*-
"""
The C{twist clocksvc} (and C{twistd clocksvc}) plugin: the options of
C{python -m clocksvc}, and the same service (L{ClockService}), which
C{twist} runs.

Under C{twist}, the log is C{twist}'s (C{--log-file}, C{--log-format=json}):
clocksvc's access and service events go there, unless C{--access-log PATH}
sends the access log to a file of its own (in clocksvc's C{--log-format}).
SIGHUP reopens that file, and reads the certificates of C{ssl:} endpoints
again, as it does under C{python -m clocksvc}; C{twist} never reopens its
own log file.

A bad option, an endpoint that cannot be used, or one that cannot be
listened on is one line on standard error and exit status 2, as under
C{python -m clocksvc}, rather than C{twist}'s usage and status 64 or a
traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import IO, Any

from twisted.application import service
from twisted.logger import globalLogPublisher
from twisted.python import usage

from .._clock import defaultReactor, useMonotonicTime
from ._endpoints import Problem, parseEndpoints
from ._logging import JSONLinesObserver, ThreadedWriter, inFormat, say
from ._options import Options as _Options
from ._service import ClockService, WriterService
from ._signals import Reload, onReloadSignal

__all__ = ["Options", "makeService"]


class Options(_Options):
    """
    C{python -m clocksvc}'s options, checked against the reactor C{twist}
    has installed.
    """

    # After twist's own: "Usage: twist [options] plugin [plugin_options]
    # clocksvc [clocksvc options]", as twist web's.
    synopsis = "[clocksvc options]"

    def parseOptions(self, options: Sequence[str] | None = None) -> None:
        """
        Parse, and say what is wrong in one line, exit status 2.
        """
        try:
            super().parseOptions(options)
        except usage.UsageError as e:
            say(sys.stderr, f"clocksvc: {e} (see twist clocksvc --help)")
            raise SystemExit(2) from None
        except Problem as e:
            say(sys.stderr, f"clocksvc: {e}")
            raise SystemExit(2) from None

    def postOptions(self) -> None:
        super().postOptions()
        if self["workers"] != 1:
            # twist runs one process; the supervisor is python -m clocksvc's.
            raise usage.UsageError(
                "twist clocksvc runs one process; for several, use "
                "python -m clocksvc --workers"
            )
        parseEndpoints(defaultReactor(), [*self["listen"], *self["admin-listen"]])


class ReloadService(service.Service):
    """
    Under C{twist}: SIGHUP does L{Reload}'s callbacks, and never ends the
    process, as its default action would.
    """

    def __init__(self, reactor: Any, reload: Reload) -> None:
        self._reactor = reactor
        self._reload = reload

    def startService(self) -> None:
        super().startService()
        onReloadSignal(self._reactor, self._reload)


def makeService(options: Options, reactor: Any = None) -> ClockService:
    """
    @param options: the parsed options.
    @param reactor: the reactor to serve with; by default the one C{twist}
        installed, and then SIGHUP reopens C{--access-log PATH}.
    @return: clocksvc's service, which listens on every endpoint as it
        starts.
    """
    reload = Reload()
    # Without a reactor given, this is the real twist process: its signals
    # are clocksvc's to handle.
    handleSignals = reactor is None
    if reactor is None:
        reactor = defaultReactor()
        # twist has installed the reactor and scheduled nothing on it yet:
        # timers on the monotonic clock, as python -m clocksvc's.
        useMonotonicTime(reactor)
    if options["geoip-db"] is not None:
        reload.add(options["geoip-db"].reload)
    writer = write = None
    if options["access-log"] not in ("-", "off"):
        path = options["access-log"]

        def reopen() -> IO[str]:
            return open(path, "a", encoding="utf-8")

        writer = ThreadedWriter(reopen(), closeFile=True, reopen=reopen)
        write = inFormat(writer.write, options["log-format"])
        # The access lines go straight to the writer; service events too.
        globalLogPublisher.addObserver(JSONLinesObserver(write, access=False))
        reload.add(writer.reopen)
    try:
        endpoints = parseEndpoints(reactor, options["listen"], reload.add)
        adminEndpoints = parseEndpoints(reactor, options["admin-listen"], reload.add)
    except Problem as e:
        # A certificate that changed since the options were checked.
        say(sys.stderr, f"clocksvc: {e}")
        raise SystemExit(2) from None
    top = ClockService(
        reactor,
        options,
        endpoints,
        adminEndpoints,
        accessLines=write,
    )
    if handleSignals:
        ReloadService(reactor, reload).setServiceParent(top)
    if writer is not None:
        WriterService(writer).setServiceParent(top)
    return top
