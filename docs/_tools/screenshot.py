"""
Take the picture of /live that the README and the docs show: headless
Chromium, driven by Selenium, loads the page of a running clocksvc, waits
until the page's script has measured the offset, and saves the window.

C{nox -s screenshot} starts the server and runs this; by hand:
C{python docs/_tools/screenshot.py URL OUTPUT}.
"""

from __future__ import annotations

import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

#: Debian's Chromium and its driver.
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def main(url: str, output: str) -> int:
    """
    Save a picture of C{url} (a clocksvc's C{/live}) to C{output}, once it
    shows its measurement.
    """
    with tempfile.TemporaryDirectory(prefix="clocksvc-screenshot-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless", "--no-sandbox", "--disable-gpu"):
            options.add_argument(flag)
        options.add_argument("--hide-scrollbars")
        options.add_argument("--window-size=900,1000")
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(
            service=Service(executable_path=CHROMEDRIVER), options=options
        )
        try:
            driver.get(url)
            # The page sets these once its exchanges are done.
            WebDriverWait(driver, 60).until(
                lambda d: d.find_element(By.ID, "offset").get_attribute("data-rtt-ms")
            )
            driver.save_screenshot(output)
        finally:
            driver.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
