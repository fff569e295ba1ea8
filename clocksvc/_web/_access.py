# -*- test-case-name: tests.test_logging -*-
"""
The access log's events: one for each request answered, through
C{twisted.logger}, for whatever observes them (the run layer writes them as
JSON lines).
"""

from __future__ import annotations

from twisted.logger import Logger
from zope.interface import implementer

from .._http import Finished, IReporter
from ._api import addressIP

__all__ = ["ACCESS_NAMESPACE", "AccessLog", "accessLog"]

#: The namespace of the access log's events.
ACCESS_NAMESPACE = "clocksvc.access"

#: Emits one event per answered request.
accessLog = Logger(namespace=ACCESS_NAMESPACE)


@implementer(IReporter)
class AccessLog:
    """
    Emits an access-log event for each request a site answers. A site
    without one formats nothing.
    """

    wantsDetails = True

    def requestFinished(self, finished: Finished) -> None:
        accessLog.info(
            "{method} {path} {status}",
            when=finished.when,
            client=addressIP(finished.client),
            method=finished.method.decode("latin-1"),
            path=finished.target.decode("latin-1"),
            status=finished.status,
            bytes=finished.bodyLength,
            duration_ms=round(finished.seconds * 1000, 3),
            user_agent=(finished.userAgent or b"").decode("latin-1"),
            scheme="https" if finished.secure else "http",
        )

    def requestRefused(self, status: int) -> None:
        # Refusals are counted in /metrics; they have no request to log.
        pass
