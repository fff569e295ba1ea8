"""
End-to-end tests of C{/live} in headless Chromium, driven by selenium: the
page's script measures the offset, ticks, obeys the Content-Security-Policy,
works without JavaScript and fits a phone's screen.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from clocksvc._web import readKernelClock

from . import CHROMEDRIVER, CHROMIUM, executable, startClocksvc, unavailable

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    _seleniumMissing: str | None = "selenium is not installed"
else:
    _seleniumMissing = None

#: How long the page may take to load, measure or tick.
WAIT = 15.0

#: Flags for a quiet, throwaway, headless browser that asks nothing of the
#: network but the server under test. A fresh --user-data-dir is added per
#: browser.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # The page formats the time in the browser's locale; en-US, with its
    # "AM"/"PM", is both common and the widest.
    "--lang=en-US",
]

#: Records every CSP violation on the page, for the test to read back. Sent
#: over the DevTools protocol, it runs before the page's own script and is not
#: itself subject to the page's policy.
CSP_WATCH = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""

#: The clock as live.js shows it: 09:41:07, or 09:41:07 AM in en-US (where
#: recent ICU puts a narrow no-break space before the AM).
CLOCK_TEXT = re.compile(r"\d{2}:\d{2}:\d{2}(\s?[AP]M)?")


class LivePageTests(SynchronousTestCase):
    """
    C{/live} in a real browser, against a real C{python -m clocksvc}.
    """

    # Show every console entry when some are unexpected.
    maxDiff = None

    def setUp(self) -> None:
        if _seleniumMissing is not None:
            unavailable(_seleniumMissing)
        executable(CHROMIUM)
        executable(CHROMEDRIVER)
        self.url = startClocksvc(self) + "live"

    def browser(
        self, *, javascript: bool = True, phone: bool = False, watchCSP: bool = True
    ) -> webdriver.Chrome:
        """
        Start headless Chromium, to be quit when the test ends.

        @param javascript: whether to run scripts.
        @param phone: whether to emulate a phone's 390 by 844 screen, with its
            device pixel ratio and its handling of the viewport meta tag.
        @param watchCSP: whether to record CSP violations in
            C{window.cspViolations}.
        """
        profile = Path(self.mktemp()).resolve()
        profile.mkdir(parents=True)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        if phone:
            options.add_experimental_option(
                "mobileEmulation",
                {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 3.0}},
            )
        else:
            options.add_argument("--window-size=1280,800")
        if not javascript:
            options.add_experimental_option(
                "prefs", {"profile.managed_default_content_settings.javascript": 2}
            )
        driver = webdriver.Chrome(
            service=Service(executable_path=CHROMEDRIVER), options=options
        )
        self.addCleanup(driver.quit)
        driver.set_page_load_timeout(WAIT)
        driver.set_script_timeout(WAIT)
        if watchCSP and javascript:
            driver.execute_cdp_cmd(
                "Page.addScriptToEvaluateOnNewDocument", {"source": CSP_WATCH}
            )
        return driver

    def measured(self, driver: WebDriver) -> tuple[float, float]:
        """
        Load the page and wait for its first measurement.

        @return: the offset and round trip it shows in C{#offset}, in ms.
        """
        driver.get(self.url)
        offset = WebDriverWait(driver, WAIT).until(
            lambda d: d.find_element(By.ID, "offset").get_attribute("data-offset-ms")
        )
        rtt = driver.find_element(By.ID, "offset").get_attribute("data-rtt-ms")
        # until() returns once the attribute is there; the script sets both.
        assert offset is not None and rtt is not None
        return float(offset), float(rtt)

    def test_offset(self) -> None:
        """
        The page measures the browser's clock as right: the browser and the
        server read the same system clock.
        """
        offset, rtt = self.measured(self.browser())
        # Both ends read this machine's clock, so the true offset is zero and
        # what is measured is error: at most half the round trip (a few ms on
        # loopback), plus Date.now()'s millisecond steps. 50 ms leaves room for
        # a loaded CI machine and still catches a sign or unit mistake (the
        # offset of a clock read in seconds, or one an hour off).
        self.assertLess(abs(offset), 50, f"offset {offset} ms")
        self.assertGreaterEqual(rtt, 0)
        self.assertLess(rtt, 1000)

    def test_serverClock(self) -> None:
        """
        The page says how good the server's clock is, as the kernel tells
        it (on this project's machine: not synchronized, 16 s), and folds
        its maximum error into the uncertainty it shows: half the round trip
        plus that bound.
        """
        driver = self.browser()
        _, rtt = self.measured(driver)
        offset = driver.find_element(By.ID, "offset")
        server = driver.find_element(By.ID, "server-clock")
        state = readKernelClock()
        synchronized = server.get_attribute("data-synchronized")
        self.assertEqual(
            synchronized,
            {None: "unknown", True: "true", False: "false"}[state.synchronized],
        )
        bound = server.get_attribute("data-max-error-ms")
        uncertainty = offset.get_attribute("data-uncertainty-ms")
        assert bound is not None and uncertainty is not None
        maxError = float(bound) if bound else 0.0
        self.assertLessEqual(maxError + rtt / 2 - 0.1, float(uncertainty))
        self.assertLessEqual(float(uncertainty), maxError + rtt / 2 + 1.1)
        self.assertIn(f"±{uncertainty} ms", offset.text)
        if state.synchronized is False:
            self.assertIn("not synchronized", server.text)

    def test_ticking(self) -> None:
        """
        The page shows the time as a clock and keeps it ticking.
        """
        driver = self.browser()
        driver.get(self.url)
        clock = driver.find_element(By.ID, "server-time")
        WebDriverWait(driver, WAIT).until(
            lambda d: CLOCK_TEXT.fullmatch(clock.text) is not None
        )
        first = clock.text
        # It ticks every second; 2.5 s allows for one late timer.
        WebDriverWait(driver, 2.5, poll_frequency=0.1).until(
            lambda d: clock.text != first
        )
        self.assertRegex(clock.text, CLOCK_TEXT)

    def test_noErrors(self) -> None:
        """
        The page runs without console errors or CSP violations: everything it
        loads is allowed by its own policy.
        """
        driver = self.browser()
        self.measured(driver)
        violations = driver.execute_script("return window.cspViolations")
        self.assertEqual(violations, [])
        entries: list[dict[str, Any]] = driver.get_log("browser")
        errors = [
            entry
            for entry in entries
            if entry["level"] == "SEVERE"
            # Chromium asks for /favicon.ico on its own; clocksvc has none.
            and "/favicon.ico" not in entry["message"]
        ]
        self.assertEqual(errors, [])

    def test_withoutJavaScript(self) -> None:
        """
        Without JavaScript the page still shows the server's time, in UTC.
        """
        driver = self.browser(javascript=False)
        before = time.time()
        driver.get(self.url)
        after = time.time()
        clock = driver.find_element(By.ID, "server-time")
        iso = clock.get_attribute("datetime")
        assert iso is not None
        shown = datetime.fromisoformat(iso)
        self.assertEqual(shown.utcoffset(), timezone.utc.utcoffset(None))
        # The server read the time while the page loaded, from the clock this
        # process reads; the page keeps milliseconds, so allow a little.
        self.assertTrue(
            before - 0.01 <= shown.timestamp() <= after + 0.01,
            f"{iso} not within the load ({before} to {after})",
        )
        self.assertEqual(clock.text, shown.strftime("%H:%M:%S"))
        # The script did not run: there is no measurement, only the notice.
        offset = driver.find_element(By.ID, "offset")
        self.assertIsNone(offset.get_attribute("data-offset-ms"))
        self.assertIn("needs JavaScript", offset.text)

    def test_screenshot(self) -> None:
        """
        The page renders: a screenshot is a PNG of the window.
        """
        driver = self.browser()
        self.measured(driver)
        directory = Path(self.mktemp())
        directory.mkdir(parents=True)
        path = directory / "live.png"
        self.assertTrue(driver.save_screenshot(str(path)))
        png = path.read_bytes()
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        # The IHDR chunk comes first: its width and height are not zero.
        self.assertEqual(png[12:16], b"IHDR")
        width = int.from_bytes(png[16:20], "big")
        height = int.from_bytes(png[20:24], "big")
        self.assertGreater(width * height, 0)

    def test_phone(self) -> None:
        """
        On a phone's screen the clock fits: nothing scrolls sideways and the
        time is wholly inside the viewport.
        """
        driver = self.browser(phone=True)
        # Measured: the script has run, so the clock shows its own (widest)
        # format and the offset its sentence.
        self.measured(driver)
        layout = driver.execute_script(
            """
            const clock = document.getElementById("server-time");
            const box = clock.getBoundingClientRect();
            return {
              innerWidth: window.innerWidth,
              scrollWidth: document.documentElement.scrollWidth,
              left: box.left,
              right: box.right,
              text: clock.textContent,
            };
            """
        )
        self.assertEqual(layout["innerWidth"], 390, layout)
        self.assertLessEqual(layout["scrollWidth"], layout["innerWidth"], layout)
        self.assertGreaterEqual(layout["left"], 0, layout)
        self.assertLessEqual(layout["right"], layout["innerWidth"], layout)
