"""
A bare ASGI app (no framework) answering clocksvc's C{/} and C{/now}, served
by uvicorn on uvloop and httptools with its access log off, for the
benchmark: C{python asgi_app.py PORT}.

This is the same as C{uvicorn asgi_app:app --loop uvloop --http httptools
--no-access-log --log-level warning}, run in this process so that the
benchmark measures the server's own process.
"""

import json
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime, timezone
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        # lifespan and the rest: nothing to set up.
        return
    if scope["path"] == "/now":
        instant = time.time()
        document = {
            "unixtime": int(instant),
            "utc_datetime": datetime.fromtimestamp(instant, timezone.utc).isoformat(),
        }
        body = json.dumps(document).encode()
        contentType = b"application/json"
    elif scope["path"] == "/":
        body = f"<html><body>{time.ctime()}</body></html>".encode()
        contentType = b"text/html; charset=utf-8"
    else:
        body, contentType = b"not found", b"text/plain"
    await send(
        {
            "type": "http.response.start",
            "status": 404 if contentType == b"text/plain" else 200,
            "headers": [
                (b"content-type", contentType),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        lifespan="off",
    )
