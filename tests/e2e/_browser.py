"""
Headless Chromium for the end-to-end tests, driven by selenium: a quiet,
throwaway browser per test, with what the tests need of the DevTools
protocol (a script run before each page's own, the time zone).
"""

from __future__ import annotations

from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from . import CHROMEDRIVER, CHROMIUM, executable, unavailable

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
except ImportError:
    _seleniumMissing: str | None = "selenium is not installed"
else:
    _seleniumMissing = None

__all__ = ["CHROMIUM_FLAGS", "WAIT", "BrowserTestCase", "fastClock"]

#: How long a page may take to load, measure or tick.
WAIT = 15.0

#: Flags for a quiet, throwaway, headless browser that asks nothing of the
#: network but the servers under test. A fresh --user-data-dir is added per
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


def fastClock(milliseconds: int) -> str:
    """
    @param milliseconds: how far ahead the page's clock is to be.
    @return: a script that sets the clock of the page it runs in that far
        ahead, as a browser on a machine whose clock is off sees it:
        C{Date.now()} and C{new Date()}; dates given explicitly are as
        they are.
    """
    return f"""
(() => {{
  const RealDate = Date;
  const skew = {milliseconds};
  class SkewedDate extends RealDate {{
    constructor(...args) {{
      super(...(args.length === 0 ? [RealDate.now() + skew] : args));
    }}
    static now() {{
      return RealDate.now() + skew;
    }}
  }}
  globalThis.Date = SkewedDate;
}})();
"""


class BrowserTestCase(SynchronousTestCase):
    """
    A test that drives headless Chromium: skipped (or failed, with
    C{CLOCKSVC_E2E}) without selenium, Chromium or its driver.
    """

    def setUp(self) -> None:
        if _seleniumMissing is not None:
            unavailable(_seleniumMissing)
        executable(CHROMIUM)
        executable(CHROMEDRIVER)

    def browser(
        self,
        *,
        javascript: bool = True,
        phone: bool = False,
        beforeEachPage: tuple[str, ...] = (),
        timezone: str | None = None,
    ) -> webdriver.Chrome:
        """
        Start headless Chromium, to be quit when the test ends.

        @param javascript: whether to run scripts.
        @param phone: whether to emulate a phone's 390 by 844 screen, with its
            device pixel ratio and its handling of the viewport meta tag.
        @param beforeEachPage: scripts to run in each page before its own.
            Sent over the DevTools protocol, they are not subject to the
            page's Content-Security-Policy.
        @param timezone: the browser's time zone, if not the machine's.
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
        if javascript:
            for source in beforeEachPage:
                driver.execute_cdp_cmd(
                    "Page.addScriptToEvaluateOnNewDocument", {"source": source}
                )
        if timezone is not None:
            driver.execute_cdp_cmd(
                "Emulation.setTimezoneOverride", {"timezoneId": timezone}
            )
        return driver
