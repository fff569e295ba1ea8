"""
End-to-end test of timeapi.io's and time.now's APIs with their clients'
own JavaScript, in node, against C{python -m clocksvc}: the code of public
repositories that call those services, with only the host changed.
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from twisted.trial.unittest import SynchronousTestCase

from . import executable, startClocksvc

CLIENTS = Path(__file__).with_name("timeapi_clients.mjs")

#: How far the time a client read may be from the time around its run: the
#: clients read the machine's clock through the server, over loopback.
SLACK = timedelta(seconds=5)


class ClientTests(SynchronousTestCase):
    """
    The clients' code, run by node, reads what it expects, and the values
    are C{zoneinfo}'s.
    """

    def setUp(self) -> None:
        self.node = executable("node")
        self.url = startClocksvc(self)

    def runClients(self) -> dict[str, Any]:
        """
        @return: what the clients read.
        """
        client = subprocess.run(
            [self.node, str(CLIENTS), self.url],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        self.assertEqual(client.returncode, 0, client.stderr)
        report: dict[str, Any] = json.loads(client.stdout.splitlines()[-1])
        return report

    def assertNear(self, text: str, zone: str, before: float, after: float) -> None:
        """
        Assert that C{text}, a local time without an offset, is C{zoneinfo}'s
        local time in C{zone} while the clients ran.
        """
        read = datetime.fromisoformat(text[:19])
        earliest = datetime.fromtimestamp(before, ZoneInfo(zone)).replace(tzinfo=None)
        latest = datetime.fromtimestamp(after, ZoneInfo(zone)).replace(tzinfo=None)
        self.assertTrue(earliest - SLACK <= read <= latest + SLACK, (text, zone))

    def test_clients(self) -> None:
        """
        Sebs5384/count-von-count's C{getServerTime}, NicoToff/
        web-workers-demo's C{getTimeData}, a search box's zone list, the
        Swagger document's sample conversion, and time.now's README's
        C{fetch}, each read what it expects.
        """
        before = time.time()
        report = self.runClients()
        after = time.time()

        serverTime = report["serverTime"]
        self.assertEqual(serverTime["timeZone"], "Europe/Amsterdam")
        self.assertNear(serverTime["dateTime"], "Europe/Amsterdam", before, after)
        local = datetime.fromisoformat(serverTime["dateTime"][:19])
        self.assertEqual(serverTime["dayOfWeek"], local.strftime("%A"))
        self.assertEqual(serverTime["date"], local.strftime("%m/%d/%Y"))

        timeData = report["timeData"]
        offset = datetime.fromtimestamp(after, ZoneInfo("America/New_York")).utcoffset()
        assert offset is not None
        self.assertEqual(timeData["timeZone"], "America/New_York")
        self.assertEqual(
            timeData["currentUtcOffset"]["seconds"], offset.total_seconds()
        )
        self.assertNear(timeData["currentLocalTime"], "America/New_York", before, after)

        self.assertEqual(report["search"], ["Europe/Amsterdam"])

        convert = report["convert"]
        self.assertEqual(convert["conversionResult"]["dateTime"], "2021-03-14T09:45:00")

        timeNow = report["timeNow"]
        self.assertEqual(timeNow["timezone"], "Asia/Tokyo")
        self.assertNear(timeNow["datetime"], "Asia/Tokyo", before, after)
