"""
The tutorial's test of L{clocksvc.ClockPage}, as docs/tutorial/embedding.md
shows it (the page includes this file): the suite runs it, so the tutorial
cannot drift from the code.
"""

from __future__ import annotations

import time

from treq.testing import StubTreq
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from clocksvc import ClockPage


class ClockPageTests(TestCase):
    """
    A test of the page at a fixed instant, as a user of clocksvc writes one.
    """

    def test_page(self) -> None:
        """
        The page shows the clock's time, in the server's local zone.
        """
        clock = Clock()
        clock.advance(1_000_000_000)  # 2001-09-09T01:46:40Z
        treq = StubTreq(ClockPage(clock))
        response = self.successResultOf(treq.get("http://example/"))
        self.assertEqual(response.code, 200)
        body = self.successResultOf(response.content())
        expected = f"<html><body>{time.ctime(1_000_000_000)}</body></html>"
        self.assertEqual(body, expected.encode())
