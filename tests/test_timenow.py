"""
Tests for L{clocksvc._web._timenow}: time.now's API, for the clients (and
the device libraries' examples) that moved to it from worldtimeapi.org.

time.now documents its API in chrisyau83/world-time-api (README.md and
examples.md, read 2026): base URL C{https://time.now/developer/api}, C{GET
/timezone/:area/:location}, C{GET /ip} and C{GET /timezone}, answering
worldtimeapi's document (its example shows C{abbreviation}, C{datetime},
C{day_of_week}, C{day_of_year}, C{dst}, C{dst_offset}, C{timezone},
C{unixtime}, C{utc_offset}, C{week_number}). The tests run the snippets of
those pages, translated into Python where they are not, against a live
clocksvc.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from twisted.internet.task import Clock

from clocksvc._web._geoip import GeoIP

from ._geoip import writeDatabase
from ._helpers import clockAt
from ._serving import LiveSiteTestCase

#: 2026-04-18T01:49:42.625Z.
APRIL = 1_776_563_382.625


def offsetText(seconds: float, name: str) -> str:
    """
    @return: C{zoneinfo}'s UTC offset of zone C{name} at C{seconds}, as
        C{+HH:MM}.
    """
    # isoformat's offset: strftime's %:z is Python 3.12's.
    return datetime.fromtimestamp(seconds, ZoneInfo(name)).isoformat()[-6:]


def isoLocal(seconds: float, name: str) -> str:
    """
    @return: C{zoneinfo}'s local time there then, as worldtimeapi writes it.
    """
    return datetime.fromtimestamp(seconds, ZoneInfo(name)).isoformat(
        timespec="microseconds"
    )


class ClientTests(LiveSiteTestCase):
    """
    time.now's documented snippets against a live clocksvc.
    """

    def setUp(self) -> None:
        super().setUp()
        self.clock: Clock = clockAt(APRIL)
        # The tests' client is a trusted proxy, as a reverse proxy in front
        # of clocksvc would be, so that its X-Forwarded-For is believed.
        self.serve(GeoIP(writeDatabase(self.mktemp())), proxy=True)

    async def test_pythonRequests(self) -> None:
        """
        examples.md's Python: C{url =
        f"https://time.now/developer/api/timezone/{timezone}"; response =
        requests.get(url); response.raise_for_status(); data =
        response.json(); print(f"Time in {timezone}: {data['datetime']}");
        print(f"DST Active: {data['dst']}")}, for its C{Asia/Tokyo}, and its
        default C{UTC}, a zone of one segment.
        """
        for timezone in ["Asia/Tokyo", "UTC", "Europe/London"]:
            url = f"/developer/api/timezone/{timezone}"
            response = await self.fetch("GET", url)
            self.assertEqual(response.code, 200)
            data = response.json()
            local = datetime.fromtimestamp(APRIL, ZoneInfo(timezone))
            self.assertEqual(data["datetime"], isoLocal(APRIL, timezone))
            self.assertEqual(data["dst"], bool(local.dst()))
            self.assertEqual(data["timezone"], timezone)

    async def test_nodeAxios(self) -> None:
        """
        examples.md's Node.js: C{const response = await
        axios.get('https://time.now/developer/api/timezone/America/
        Los_Angeles'); const { datetime, utc_offset, dst } =
        response.data;}.
        """
        response = await self.fetch(
            "GET", "/developer/api/timezone/America/Los_Angeles"
        )
        data = response.json()
        self.assertEqual(
            (data["datetime"], data["utc_offset"], data["dst"]),
            (
                isoLocal(APRIL, "America/Los_Angeles"),
                offsetText(APRIL, "America/Los_Angeles"),
                True,
            ),
        )

    async def test_goStruct(self) -> None:
        """
        examples.md's Go: C{type TimeResponse struct { Datetime string
        `json:"datetime"`; Timezone string `json:"timezone"`; UnixTime
        int64 `json:"unixtime"` }; resp, err :=
        http.Get("https://time.now/developer/api/timezone/Europe/Berlin")}.
        """
        data = (await self.fetch("GET", "/developer/api/timezone/Europe/Berlin")).json()
        self.assertEqual(
            (data["datetime"], data["timezone"], data["unixtime"]),
            (isoLocal(APRIL, "Europe/Berlin"), "Europe/Berlin", int(APRIL)),
        )

    async def test_ipFetch(self) -> None:
        """
        README.md's JavaScript: C{fetch('https://time.now/developer/api/ip')
        .then(response => response.json()).then(data => {
        console.log('Current time:', data.datetime); console.log('Timezone:',
        data.timezone); });}: from a client whose address the tests'
        database places in London.
        """
        response = await self.fetch(
            "GET",
            "/developer/api/ip",
            headers={"X-Forwarded-For": "81.2.69.142"},
        )
        data = response.json()
        self.assertEqual(
            (data["datetime"], data["timezone"], data["client_ip"]),
            (isoLocal(APRIL, "Europe/London"), "Europe/London", "81.2.69.142"),
        )

    async def test_listAll(self) -> None:
        """
        README.md's "List All Timezones": C{GET /timezone}, a JSON array of
        IANA names, as a Nushell script fetches it (C{http get --max-time
        10sec https://time.now/developer/api/timezone}): worldtimeapi's
        list.
        """
        zones = (await self.fetch("GET", "/developer/api/timezone")).json()
        self.assertIn("Europe/London", zones)
        self.assertEqual(zones, (await self.fetch("GET", "/api/timezone")).json())

    async def test_sameDocument(self) -> None:
        """
        Below C{/developer/api}, the answers are worldtimeapi's, byte for
        byte: the same resources answer them.
        """
        for path in ["/timezone/Europe/Berlin", "/timezone/Nowhere/At/All", "/ip"]:
            timeNow = await self.fetch("GET", "/developer/api" + path)
            worldtimeapi = await self.fetch("GET", "/api" + path)
            self.assertEqual(
                (timeNow.code, timeNow.body), (worldtimeapi.code, worldtimeapi.body)
            )

    async def test_outsideTheAPI(self) -> None:
        """
        Anything else below C{/developer} is 404 in JSON, as below C{/api}.
        """
        for path in ["/developer", "/developer/api", "/developer/api/convert"]:
            response = await self.fetch("GET", path)
            self.assertEqual(
                (response.code, response.json()), (404, {"error": "not found"})
            )


class AddressTests(LiveSiteTestCase):
    """
    C{/developer/api/ip} is C{/api/ip}: from the client's address, through
    a trusted proxy; and 501 without C{--geoip-db}.
    """

    async def test_noDatabase(self) -> None:
        """
        Without a database, 501 C{no GeoIP database configured}.
        """
        self.clock = clockAt(APRIL)
        self.serve()
        response = await self.fetch("GET", "/developer/api/ip")
        self.assertEqual(
            (response.code, response.json()),
            (501, {"error": "no GeoIP database configured"}),
        )
