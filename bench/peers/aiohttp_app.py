"""
aiohttp's answer to clocksvc's C{/} and C{/now}, for the benchmark:
C{python aiohttp_app.py PORT}.

C{/} is the lesson's page and C{/now} a small JSON time document; the access
log is off, and the event loop is asyncio's own, as C{web.run_app} sets it up.
"""

import json
import sys
import time
from datetime import datetime, timezone

from aiohttp import web


async def page(request: web.Request) -> web.Response:
    return web.Response(
        body=f"<html><body>{time.ctime()}</body></html>".encode(),
        content_type="text/html",
    )


async def now(request: web.Request) -> web.Response:
    instant = time.time()
    document = {
        "unixtime": int(instant),
        "utc_datetime": datetime.fromtimestamp(instant, timezone.utc).isoformat(),
    }
    return web.Response(text=json.dumps(document), content_type="application/json")


app = web.Application()
app.router.add_get("/", page)
app.router.add_get("/now", now)

if __name__ == "__main__":
    web.run_app(
        app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None
    )
