"""
End-to-end test of CORS in headless Chromium: a page of another origin (a
second server, on another port) calls clocksvc's endpoints with a header of
its own, which makes the browser send a preflight first, and reads the
answers; as a page of any site that shows the time may.
"""

from __future__ import annotations

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from . import startClocksvc
from ._browser import WAIT, BrowserTestCase

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    # BrowserTestCase skips (or fails) every test without selenium.
    pass

#: The page of the other origin: it makes each call in C{CALLS} (which the
#: test writes into it) with an C{X-Foo} header, and puts what it could read
#: of each answer into C{#results}, as JSON, once all are done.
PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Another origin</title></head>
<body>
<pre id="results"></pre>
<script>
const SERVER = %(server)s;
const CALLS = %(calls)s;
(async () => {
  const results = {};
  for (const [name, path, init, header] of CALLS) {
    const headers = { "X-Foo": "1", ...(init.headers || {}) };
    try {
      const response = await fetch(SERVER + path, { ...init, headers });
      const body = await response.text();
      results[name] = {
        status: response.status,
        body: body.slice(0, 1000),
        header: header === null ? null : response.headers.get(header),
      };
    } catch (error) {
      // What a browser gives a page for an answer CORS does not let it
      // read: a TypeError, and nothing else.
      results[name] = { error: String(error) };
    }
  }
  document.getElementById("results").textContent = JSON.stringify(results);
})();
</script>
</body>
</html>
"""

#: Each call: a name, a path on clocksvc, fetch()'s options, and a header of
#: the answer for the page to read (which CORS must expose).
CALLS: list[tuple[str, str, dict[str, Any], str | None]] = [
    ("now", "/now?t1=1700000000000", {}, "clock-status"),
    ("zone", "/api/timezone/Europe/Berlin", {}, None),
    ("openapi", "/openapi.json", {}, None),
    ("wellKnown", "/.well-known/time", {}, "x-httpstime"),
    (
        "timesync",
        "/timesync",
        {
            "method": "POST",
            "headers": {"Content-Type": "application/json"},
            "body": '{"jsonrpc":"2.0","id":7,"method":"timesync"}',
        },
        None,
    ),
    # The operator's endpoint answers no preflight: the browser refuses.
    ("metrics", "/metrics", {}, None),
]


class _QuietHandler(SimpleHTTPRequestHandler):
    """
    Serves the page's directory, without a line on standard error for
    each request.
    """

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serveOtherOrigin(case: BrowserTestCase, directory: Path) -> str:
    """
    Serve C{directory} over HTTP on a free port of 127.0.0.1, from a thread,
    until C{case} ends: another origin than clocksvc's, whose port differs.

    @return: the URL of its root.
    """
    handler = partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    case.addCleanup(server.server_close)
    case.addCleanup(thread.join, WAIT)
    case.addCleanup(server.shutdown)
    return f"http://127.0.0.1:{server.server_address[1]}/"


class CrossOriginTests(BrowserTestCase):
    """
    A page on another origin calls clocksvc from a real browser.
    """

    maxDiff = None

    def setUp(self) -> None:
        super().setUp()
        clocksvc = startClocksvc(self).rstrip("/")
        directory = Path(self.mktemp()).resolve()
        directory.mkdir(parents=True)
        page = PAGE % {"server": json.dumps(clocksvc), "calls": json.dumps(CALLS)}
        (directory / "page.html").write_text(page, encoding="utf-8")
        self.pageURL = serveOtherOrigin(self, directory) + "page.html"
        self.assertNotEqual(self.pageURL.split("/")[2], clocksvc.split("/")[2])

    def test_calls(self) -> None:
        """
        Each public endpoint answers the preflight that the C{X-Foo} header
        brings, and the page reads the answer (and the headers CORS exposes);
        the operator's C{/metrics} does not let it in.
        """
        driver = self.browser()
        driver.get(self.pageURL)
        element = driver.find_element(By.ID, "results")
        WebDriverWait(driver, WAIT).until(lambda d: element.text)
        results = json.loads(element.text)
        self.assertEqual(set(results), {name for name, *_ in CALLS})
        now = results["now"]
        self.assertEqual(now.get("status"), 200, now)
        self.assertIn('"t1":1700000000000', now["body"])
        self.assertRegex(now["header"], r"^sync=")
        zone = results["zone"]
        self.assertEqual(zone.get("status"), 200, zone)
        self.assertIn('"timezone":"Europe/Berlin"', zone["body"])
        self.assertEqual(results["openapi"].get("status"), 200, results)
        wellKnown = results["wellKnown"]
        self.assertEqual(wellKnown.get("status"), 204, wellKnown)
        self.assertRegex(wellKnown["header"], r"^\d+\.\d{6}$")
        timesync = results["timesync"]
        self.assertEqual(timesync.get("status"), 200, timesync)
        self.assertIn('"id":7', timesync["body"])
        self.assertEqual(
            results["metrics"], {"error": "TypeError: Failed to fetch"}, results
        )
