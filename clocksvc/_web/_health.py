# -*- test-case-name: tests.test_metrics -*-
"""
C{/healthz}: whether this server takes requests, for load balancers and
orchestrators: 200 while serving, 503 once a graceful shutdown has begun, so
that traffic moves elsewhere before the server stops.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.web import http
from twisted.web.iweb import IRequest

from ._resource import MethodResource, sendJSON

__all__ = ["Health"]


class Health(MethodResource):
    """
    C{/healthz}: C{{"status": "ok"}}, or C{{"status": "draining"}} with 503.
    """

    isLeaf = True

    def __init__(self, draining: Callable[[], bool]) -> None:
        """
        @param draining: says whether the server is shutting down.
        """
        super().__init__()
        self._draining = draining

    def render_GET(self, request: IRequest) -> bytes:
        request.setHeader(b"cache-control", b"no-store")
        if self._draining():
            return sendJSON(request, {"status": "draining"}, http.SERVICE_UNAVAILABLE)
        return sendJSON(request, {"status": "ok"})
