"""
A bare RSGI app (no framework) answering clocksvc's C{/} with the lesson's
page, served by granian, a Rust HTTP server, for the benchmark. bench/run.py
starts it as::

    granian --interface rsgi --workers 1 --http 1 --no-ws --loop uvloop \\
        --log-level warning --host 127.0.0.1 --port PORT rsgi_app:app

from this folder: one worker process, HTTP/1.1 only, no WebSocket handling
and no access log (granian's default), as uvicorn is run beside it. The
HTTP/1.1 work (parsing, framing, keep-alive) is Rust's; only this function
is Python's.
"""

from __future__ import annotations

import time

# granian documents HTTPProtocol here, but re-exports it from its Rust
# module by an import alone, which strict mypy does not count as an export.
from granian.rsgi import (  # type: ignore[attr-defined]
    HTTPProtocol,
    Scope,
)

__all__ = ["app"]

_PAGE = [("content-type", "text/html; charset=utf-8")]
_NOT_FOUND = [("content-type", "text/plain")]


async def app(scope: Scope, protocol: HTTPProtocol) -> None:
    """
    Answer C{/} with the lesson's page of the current time, and every other
    path with C{404}; granian adds the content length and C{Date}.
    """
    if scope.proto != "http":
        # WebSockets are off (--no-ws): nothing else arrives.
        return
    if scope.path == "/":
        protocol.response_bytes(
            200, _PAGE, f"<html><body>{time.ctime()}</body></html>".encode()
        )
    else:
        protocol.response_bytes(404, _NOT_FOUND, b"not found")
