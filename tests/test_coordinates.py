"""
Tests for L{clocksvc._web._coordinates}: the zone at a point, from the
boundary data of the C{tzfpy} package, and C{/api/coordinates}.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._time import ZoneCatalogue, documentJSON, timeDocument
from clocksvc._web import _coordinates
from clocksvc._web._answer import Ask
from clocksvc._web._api import QueryError
from clocksvc._web._coordinates import (
    LATITUDE,
    LONGITUDE,
    NO_FINDER,
    CoordinatesUnavailable,
    LookUp,
    ZoneFinder,
    _loadTzfpy,
    defaultFinder,
    nauticalZoneName,
    parseCoordinate,
    pointFromQuery,
)

from ._helpers import capturedEvents, clockAt
from ._serving import LiveSiteTestCase

#: Twenty cities, at their centres, and the zone each is in: on every
#: continent, north and south, east and west, with offsets of half and
#: three quarters of an hour.
CITIES = [
    ("Berlin", 52.52, 13.405, "Europe/Berlin"),
    ("New York", 40.7128, -74.006, "America/New_York"),
    ("Tokyo", 35.6762, 139.6503, "Asia/Tokyo"),
    ("Sydney", -33.8688, 151.2093, "Australia/Sydney"),
    ("Sao Paulo", -23.5505, -46.6333, "America/Sao_Paulo"),
    ("London", 51.5074, -0.1278, "Europe/London"),
    ("Los Angeles", 34.0522, -118.2437, "America/Los_Angeles"),
    ("Mumbai", 19.076, 72.8777, "Asia/Kolkata"),
    ("Beijing", 39.9042, 116.4074, "Asia/Shanghai"),
    ("Cairo", 30.0444, 31.2357, "Africa/Cairo"),
    ("Moscow", 55.7558, 37.6173, "Europe/Moscow"),
    ("Mexico City", 19.4326, -99.1332, "America/Mexico_City"),
    ("Buenos Aires", -34.6037, -58.3816, "America/Argentina/Buenos_Aires"),
    ("Lagos", 6.5244, 3.3792, "Africa/Lagos"),
    ("Johannesburg", -26.2041, 28.0473, "Africa/Johannesburg"),
    ("Auckland", -36.8485, 174.7633, "Pacific/Auckland"),
    ("Honolulu", 21.3069, -157.8583, "Pacific/Honolulu"),
    ("Kathmandu", 27.7172, 85.324, "Asia/Kathmandu"),
    ("Reykjavik", 64.1466, -21.9426, "Atlantic/Reykjavik"),
    ("Anchorage", 61.2181, -149.9003, "America/Anchorage"),
]

#: Five points at sea, far from any coast, and their nautical zones: the
#: hour of their 15-degree band of longitude, with POSIX's sign.
SEA = [
    ("mid-Atlantic", 0.0, -30.0, "Etc/GMT+2"),
    ("central Pacific", 0.0, -150.0, "Etc/GMT+10"),
    ("southern Indian Ocean", -30.0, 80.0, "Etc/GMT-5"),
    ("South Atlantic, on the meridian", -45.0, 0.0, "Etc/GMT"),
    ("North Pacific, west of the date line", 30.0, 170.0, "Etc/GMT-11"),
]

#: 2026-04-18T01:49:42.625Z.
APRIL = 1_776_563_382.625


def withoutPackage(testCase: SynchronousTestCase) -> None:
    """
    Make C{import tzfpy} fail, as on a server without the package, for the
    rest of C{testCase}.
    """
    saved = sys.modules.get("tzfpy")
    # None in sys.modules makes an import of the name raise ImportError.
    sys.modules["tzfpy"] = None  # type: ignore[assignment]

    def restore() -> None:
        if saved is None:
            del sys.modules["tzfpy"]
        else:
            sys.modules["tzfpy"] = saved

    testCase.addCleanup(restore)


class ParseTests(SynchronousTestCase):
    """
    L{parseCoordinate} takes a JSON number within the bounds, and names the
    parameter in its error otherwise.
    """

    def test_accepted(self) -> None:
        """
        Numbers as clients write floats: with or without a fraction, with
        an exponent, and the bounds themselves.
        """
        for text, value in [
            ("38.9", 38.9),
            ("-77.03", -77.03),
            ("38.900000", 38.9),
            ("0", 0.0),
            ("-0", 0.0),
            ("90", 90.0),
            ("-90.0", -90.0),
            ("1e-05", 0.00001),
            ("4.5E1", 45.0),
        ]:
            self.assertEqual(parseCoordinate(text, "lat", LATITUDE), value, text)

    def test_refused(self) -> None:
        """
        Anything else is 400, naming the parameter: out of bounds, not a
        number, a number as JSON does not write it, too long, or absent.
        """
        for text in [
            "90.000001",
            "-91",
            "1e3",
            "abc",
            "NaN",
            "Infinity",
            "1e999",
            "+1",
            "01",
            "1.",
            ".5",
            "1,5",
            " 1",
            # An Arabic-Indic digit one, which float() would read.
            "\u0661",
            "0." + "0" * 40,
            "",
            None,
        ]:
            with self.assertRaises(QueryError) as raised:
                parseCoordinate(text, "lat", LATITUDE)
            self.assertEqual(raised.exception.code, 400, text)
            self.assertEqual(raised.exception.detail, {"parameter": "lat"}, text)
        self.assertEqual(parseCoordinate("180", "lon", LONGITUDE), 180.0)


class NauticalTests(SynchronousTestCase):
    """
    L{nauticalZoneName}: the zone a ship keeps at a longitude.
    """

    def test_bands(self) -> None:
        """
        Each 15-degree band is an hour, centred on a multiple of 15 degrees;
        the bands at the date line are half as wide, 12 hours either side.
        """
        for longitude, name in [
            (0.0, "Etc/GMT"),
            (7.4, "Etc/GMT"),
            (-7.4, "Etc/GMT"),
            (7.6, "Etc/GMT-1"),
            (-7.6, "Etc/GMT+1"),
            (75.0, "Etc/GMT-5"),
            (-150.0, "Etc/GMT+10"),
            (172.4, "Etc/GMT-11"),
            (172.6, "Etc/GMT-12"),
            (180.0, "Etc/GMT-12"),
            (-172.4, "Etc/GMT+11"),
            (-172.6, "Etc/GMT+12"),
            (-180.0, "Etc/GMT+12"),
        ]:
            self.assertEqual(nauticalZoneName(longitude), name, longitude)

    def test_zones(self) -> None:
        """
        Every band's name is a zone, whose offset is the band's hour.
        """
        for hours in range(-12, 13):
            zone = ZoneInfo(nauticalZoneName(hours * 15.0))
            offset = datetime(2026, 1, 1, tzinfo=zone).utcoffset()
            assert offset is not None
            self.assertEqual(offset.total_seconds(), hours * 3600)


class ZoneFinderTests(SynchronousTestCase):
    """
    L{ZoneFinder}: the boundary data's zone at a point; the nautical zone at
    sea and wherever the data has none.
    """

    def test_cities(self) -> None:
        """
        Each of twenty cities is in its zone.
        """
        for city, latitude, longitude, name in CITIES:
            self.assertEqual(defaultFinder.zoneAt(latitude, longitude).key, name, city)

    def test_sea(self) -> None:
        """
        A point at sea is in its nautical zone, as the boundary data has it.
        """
        for where, latitude, longitude, name in SEA:
            self.assertEqual(defaultFinder.zoneAt(latitude, longitude).key, name, where)
            self.assertEqual(nauticalZoneName(longitude), name, where)

    def test_edges(self) -> None:
        """
        The poles and the date line have a zone too: the data's, or where
        some releases have none, the nautical one.
        """
        for latitude, longitude in [(90, 0), (-90, 0), (0, 180), (0, -180)]:
            zone = defaultFinder.zoneAt(latitude, longitude)
            self.assertIsInstance(zone, ZoneInfo)

    def test_loadedOnFirstUse(self) -> None:
        """
        The data is loaded by the first lookup, not before, and once; a log
        line names its release.
        """
        events = capturedEvents(self)
        finder = ZoneFinder()
        self.assertEqual(events, [])
        self.assertEqual(finder.zoneAt(52.52, 13.405).key, "Europe/Berlin")
        finder.zoneAt(35.6762, 139.6503)
        [loaded] = [e for e in events if e.get("event") == "coordinates_loaded"]
        self.assertEqual(loaded["release"], finder.release())
        self.assertRegex(finder.release(), r"^[0-9]{4}[a-z]$")

    def test_unknownToTheZoneDatabase(self) -> None:
        """
        A zone the data names but the zone database does not know (one
        newer than it) is answered with the nautical zone, rather than not
        at all.
        """
        nautical = [nauticalZoneName(hours * 15.0) for hours in range(-12, 13)]
        finder = ZoneFinder(ZoneCatalogue(nautical))
        self.assertEqual(finder.zoneAt(52.52, 13.405).key, "Etc/GMT-1")

    def test_noPackage(self) -> None:
        """
        Without the C{tzfpy} package, a lookup raises
        L{CoordinatesUnavailable}, saying so.
        """
        withoutPackage(self)
        finder = ZoneFinder()
        with self.assertRaises(CoordinatesUnavailable) as raised:
            finder.zoneAt(0, 0)
        self.assertEqual(str(raised.exception), NO_FINDER)


def countedFinder() -> tuple[ZoneFinder, list[tuple[float, float]]]:
    """
    @return: a finder of tzfpy's data, and the list of the points it looks
        up there, each as it asks for it (latitude, longitude).
    """
    asked: list[tuple[float, float]] = []

    def load() -> tuple[LookUp, str]:
        lookUp, release = _loadTzfpy()

        def counted(longitude: float, latitude: float) -> str:
            asked.append((latitude, longitude))
            return lookUp(longitude, latitude)

        return counted, release

    return ZoneFinder(load=load), asked


#: Points anywhere on the earth, as parseCoordinate reads them.
points = st.tuples(
    st.floats(-LATITUDE, LATITUDE, allow_nan=False),
    st.floats(-LONGITUDE, LONGITUDE, allow_nan=False),
)


class KeptZonesTests(SynchronousTestCase):
    """
    L{ZoneFinder} keeps each point's zone, a bounded number, and the zone
    it keeps is the one a lookup gives.
    """

    def test_keptIsLookedUp(self) -> None:
        """
        For each city and point at sea, the zone kept is the one looked up,
        and the second request for a point is not looked up again.
        """
        finder, asked = countedFinder()
        for where, latitude, longitude, name in CITIES + SEA:
            first = finder.zoneAt(latitude, longitude)
            kept = finder.zoneAt(latitude, longitude)
            self.assertIs(kept, first, where)
            self.assertEqual(kept.key, name, where)
            self.assertEqual(ZoneFinder().zoneAt(latitude, longitude), first, where)
        self.assertEqual(len(asked), len(CITIES + SEA))

    @given(points)
    def test_anyPoint(self, point: tuple[float, float]) -> None:
        """
        At any point, the zone kept is the one a finder that has kept
        nothing looks up.
        """
        finder, _ = countedFinder()
        latitude, longitude = point
        first = finder.zoneAt(latitude, longitude)
        self.assertEqual(finder.zoneAt(latitude, longitude), first)
        self.assertEqual(ZoneFinder().zoneAt(latitude, longitude), first)
        self.assertEqual(first, defaultFinder.zoneAt(latitude, longitude))

    def test_spellings(self) -> None:
        """
        Two spellings of a point that are read as the same numbers share a
        lookup, negative zero with zero too, which is looked up as zero.
        """
        finder, asked = countedFinder()
        spellings = [("52.52", "13.405"), ("52.520", "1.3405e1"), ("5252e-2", "13.405")]
        zones = {
            finder.zoneAt(
                parseCoordinate(latitude, "lat", LATITUDE),
                parseCoordinate(longitude, "lon", LONGITUDE),
            )
            for latitude, longitude in spellings
        }
        self.assertEqual([zone.key for zone in zones], ["Europe/Berlin"])
        self.assertEqual(asked, [(52.52, 13.405)])
        del asked[:]
        finder.zoneAt(-0.0, -0.0)
        finder.zoneAt(0.0, 0.0)
        self.assertEqual(asked, [(0.0, 0.0)])
        self.assertEqual(str(asked[0]), "(0.0, 0.0)")

    def test_bounded(self) -> None:
        """
        It keeps at most C{_KEPT} points: the next one empties it, and it is
        kept alone.
        """
        finder, asked = countedFinder()
        self.patch(ZoneFinder, "_KEPT", 3)
        for longitude in (1.0, 2.0, 3.0, 1.0, 2.0, 3.0):
            finder.zoneAt(0.0, longitude)
        self.assertEqual(len(asked), 3)
        finder.zoneAt(0.0, 4.0)
        self.assertEqual(list(finder._zones), [(0.0, 4.0)])
        finder.zoneAt(0.0, 1.0)
        self.assertEqual(len(asked), 5)


class PointFromQueryTests(SynchronousTestCase):
    """
    L{pointFromQuery} reads a query's point once, and keeps it for the
    next request with the same query, a bounded number.
    """

    def setUp(self) -> None:
        self.patch(_coordinates, "_points", {})

    def ask(self, query: bytes) -> Ask:
        return Ask(b"GET", (), query, None, None)

    def test_read(self) -> None:
        """
        The point of the named parameters, kept by the query and their
        names.
        """
        self.assertEqual(
            pointFromQuery(self.ask(b"lat=52.52&lon=13.405"), "lat", "lon"),
            (52.52, 13.405),
        )
        self.assertEqual(
            pointFromQuery(self.ask(b"y=1&x=2&lat=52.52&lon=13.405"), "y", "x"),
            (1.0, 2.0),
        )
        self.assertEqual(
            set(_coordinates._points),
            {
                (b"lat=52.52&lon=13.405", "lat", "lon"),
                (b"y=1&x=2&lat=52.52&lon=13.405", "y", "x"),
            },
        )

    def test_errors(self) -> None:
        """
        A query without its point raises L{QueryError} naming the first
        parameter at fault, each time: nothing is kept of it.
        """
        for query, parameter in [
            (b"lon=0", "lat"),
            (b"lat=0", "lon"),
            (b"lat=95&lon=500", "lat"),
            (b"lat=0&lon=0&lon=1", "lon"),
            (b"lat=%FF&lon=0", "lat"),
        ]:
            for _ in range(2):
                with self.assertRaises(QueryError) as raised:
                    pointFromQuery(self.ask(query), "lat", "lon")
                self.assertEqual(raised.exception.detail, {"parameter": parameter})
        self.assertEqual(_coordinates._points, {})

    def test_bounded(self) -> None:
        """
        It keeps at most C{_POINTS_KEPT} queries, emptied by the next; and
        no query longer than C{_LONGEST_QUERY} bytes.
        """
        self.patch(_coordinates, "_POINTS_KEPT", 2)
        pointFromQuery(self.ask(b"lat=1&lon=1"), "lat", "lon")
        pointFromQuery(self.ask(b"lat=2&lon=2"), "lat", "lon")
        self.assertEqual(len(_coordinates._points), 2)
        pointFromQuery(self.ask(b"lat=3&lon=3"), "lat", "lon")
        self.assertEqual(list(_coordinates._points), [(b"lat=3&lon=3", "lat", "lon")])
        padding = b"&x=" + b"y" * (_coordinates._LONGEST_QUERY - 14)
        longest = b"lat=4&lon=4" + padding
        self.assertEqual(len(longest), _coordinates._LONGEST_QUERY)
        self.assertEqual(pointFromQuery(self.ask(longest), "lat", "lon"), (4.0, 4.0))
        self.assertIn((longest, "lat", "lon"), _coordinates._points)
        tooLong = b"lat=5&lon=5" + padding + b"y"
        self.assertEqual(pointFromQuery(self.ask(tooLong), "lat", "lon"), (5.0, 5.0))
        self.assertNotIn((tooLong, "lat", "lon"), _coordinates._points)


class CoordinatesTests(LiveSiteTestCase):
    """
    C{/api/coordinates?lat=&lon=}: the time document for the zone at a
    point, over a real socket.
    """

    def setUp(self) -> None:
        super().setUp()
        self.clock: Clock = clockAt(APRIL)
        self.serve()

    async def test_cities(self) -> None:
        """
        For each city and point at sea, the time document of its zone, as
        C{/api/timezone/NAME} answers it: C{zoneinfo}'s local time.
        """
        for where, latitude, longitude, name in CITIES + SEA:
            response = await self.fetch(
                "GET", f"/api/coordinates?lat={latitude}&lon={longitude}"
            )
            self.assertEqual(response.code, 200, where)
            document = response.json()
            self.assertEqual(
                document,
                json.loads(
                    documentJSON(timeDocument(APRIL, ZoneInfo(name), "127.0.0.1"))
                ),
            )
            self.assertEqual(
                document["datetime"],
                datetime.fromtimestamp(APRIL, ZoneInfo(name)).isoformat(
                    timespec="microseconds"
                ),
            )
            self.assertIn("clock-status", response.headers)

    async def test_errors(self) -> None:
        """
        A missing or malformed coordinate is 400, naming it; a method but
        C{GET} and C{HEAD} 405; a path below 404.
        """
        for query, parameter in [
            ("lon=0", "lat"),
            ("lat=0", "lon"),
            ("lat=95&lon=0", "lat"),
            ("lat=0&lon=-181", "lon"),
            ("lat=0&lat=1&lon=0", "lat"),
        ]:
            response = await self.fetch("GET", f"/api/coordinates?{query}")
            self.assertEqual(response.code, 400, query)
            self.assertEqual(response.json()["parameter"], parameter, query)
        posted = await self.fetch("POST", "/api/coordinates?lat=0&lon=0")
        self.assertEqual(
            (posted.code, posted.headers["allow"]), (405, "GET, HEAD, OPTIONS")
        )
        below = await self.fetch("GET", "/api/coordinates/52.5,13.4")
        self.assertEqual((below.code, below.json()), (404, {"error": "not found"}))

    async def test_noPackage(self) -> None:
        """
        On a server without the C{tzfpy} package, 501, saying so, as
        C{/api/ip} is without a database.
        """
        withoutPackage(self)
        # The site's finder, as if it had not loaded the data yet.
        self.patch(defaultFinder, "_lookUp", None)
        self.patch(defaultFinder, "_zones", {})
        response = await self.fetch("GET", "/api/coordinates?lat=0&lon=0")
        self.assertEqual((response.code, response.json()), (501, {"error": NO_FINDER}))
        timeAPI = await self.fetch(
            "GET", "/api/Time/current/coordinate?latitude=0&longitude=0"
        )
        self.assertEqual((timeAPI.code, timeAPI.json()["error"]), (501, NO_FINDER))
