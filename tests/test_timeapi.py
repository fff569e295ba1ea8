"""
Tests for L{clocksvc._web._timeapi} and L{clocksvc._time._timeapi}:
timeapi.io's API, answered unchanged for the clients that moved to it from
worldtimeapi.org.

The shapes are timeapi.io's Swagger document's ("Time API" 0.97.2, as a
client generated from it with swagger-typescript-api has them), and the
formats those of its live answers, as a note of 2026-04-18 on the public
no-key time APIs records them ("Confirmed live response (2026-04-18)").
The client tests run code written for timeapi.io, translated into Python
where it is not, against a live clocksvc, and compare what the client
reads with C{zoneinfo}'s.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._time import (
    conversionResult,
    currentTime,
    currentTimeJSONAt,
    defaultCatalogue,
    netDateTime,
    timeDocument,
    timeZoneData,
    timeZoneDataJSONAt,
)
from clocksvc._time._timeapi import _PIECES_KEPT, _pieces
from clocksvc._web import _timeapi
from clocksvc._web._answer import _KEPT, Answer, Ask, Fields, _parsed
from clocksvc._web._answer import parseQuery as queryArgs
from clocksvc._web._geoip import GeoIP
from clocksvc._web._metrics import SiteMetrics
from clocksvc._web._resource import jsonBody
from clocksvc._web._routes import metricLabellers, metricLabels
from clocksvc._web._timeapi import (
    _ZONES_KEPT,
    ENDPOINTS,
    INVALID_TIMEZONE,
    TimeAPI,
    timeAPIEndpoint,
    timeAPILabel,
)

from ._geoip import writeDatabase
from ._helpers import clockAt
from ._serving import LiveSiteTestCase

#: 2026-04-18T21:49:42.625 in New York (01:49:42.625 UTC the next day): the
#: day of the note's live answers, at a fraction a float holds exactly.
APRIL = 1_776_563_382.625
#: 2026-01-15T12:00:00Z: winter in the north.
JANUARY = 1_768_478_400

NEW_YORK = ZoneInfo("America/New_York")

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def expectedCurrentTime(seconds: float, name: str) -> dict[str, object]:
    """
    @return: the C{CurrentTime} fields that C{zoneinfo} gives for the zone
        C{name} at C{seconds}, in timeapi.io's formats; C{dstActive} as the
        time document decides it.
    """
    local = datetime.fromtimestamp(seconds, ZoneInfo(name))
    fraction = f"{local.microsecond:06d}".rstrip("0")
    return {
        "year": local.year,
        "month": local.month,
        "day": local.day,
        "hour": local.hour,
        "minute": local.minute,
        "seconds": local.second,
        "milliSeconds": local.microsecond // 1000,
        "dateTime": local.strftime("%Y-%m-%dT%H:%M:%S")
        + ("." + fraction if fraction else ""),
        "date": f"{local.month:02d}/{local.day:02d}/{local.year}",
        "time": f"{local.hour:02d}:{local.minute:02d}",
        "timeZone": name,
        "dayOfWeek": DAYS[local.weekday()],
        "dstActive": timeDocument(seconds, ZoneInfo(name), "")["dst"],
    }


class CurrentTimeTests(SynchronousTestCase):
    """
    timeapi.io's C{CurrentTime}: C{zoneinfo}'s local time, in its formats.
    """

    def test_documentedExample(self) -> None:
        """
        The note's live answer for America/New_York on 2026-04-18, to the
        millisecond: C{dateTime} local without an offset, C{date}
        C{MM/dd/yyyy}, C{time} C{HH:mm}, the day's English name.
        """
        # "data["dateTime"] "2026-04-18T21:49:42.6309083", data["date"]
        # "04/18/2026", data["time"] "21:49", data["dayOfWeek"] "Saturday",
        # data["dstActive"] True": here at .625, to the microsecond.
        self.assertEqual(
            currentTime(APRIL, NEW_YORK),
            {
                "year": 2026,
                "month": 4,
                "day": 18,
                "hour": 21,
                "minute": 49,
                "seconds": 42,
                "milliSeconds": 625,
                "dateTime": "2026-04-18T21:49:42.625",
                "date": "04/18/2026",
                "time": "21:49",
                "timeZone": "America/New_York",
                "dayOfWeek": "Saturday",
                "dstActive": True,
            },
        )

    def test_zoneinfo(self) -> None:
        """
        In zones east and west, with and without daylight saving, and with
        offsets of odd minutes, every field is C{zoneinfo}'s.
        """
        for name in [
            "Europe/Amsterdam",
            "Asia/Kathmandu",
            "Australia/Lord_Howe",
            "America/St_Johns",
            "Pacific/Kiritimati",
            "UTC",
        ]:
            for seconds in (APRIL, JANUARY, JANUARY + 0.000001):
                self.assertEqual(
                    currentTime(seconds, ZoneInfo(name)),
                    expectedCurrentTime(seconds, name),
                    (name, seconds),
                )

    def test_dublin(self) -> None:
        """
        C{dstActive} is the time document's C{dst}: Irish summer time is
        daylight saving, though tzdata's main format records winter as a
        negative saving instead.
        """
        dublin = ZoneInfo("Europe/Dublin")
        self.assertTrue(currentTime(APRIL, dublin)["dstActive"])
        self.assertFalse(currentTime(JANUARY, dublin)["dstActive"])

    @given(
        st.integers(min_value=0, max_value=4_102_444_800_000_000),
        st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
    )
    def test_jsonAt(self, micros: int, name: str) -> None:
        """
        The JSON made from a second's pieces is the document's, whatever
        the microsecond: whole seconds, which have no fraction, included.
        """
        seconds = micros / 1_000_000
        zone = ZoneInfo(name)
        self.assertEqual(
            currentTimeJSONAt(seconds, zone), jsonBody(currentTime(seconds, zone))
        )
        whole = micros // 1_000_000
        self.assertEqual(
            currentTimeJSONAt(whole, zone), jsonBody(currentTime(whole, zone))
        )

    def test_netDateTime(self) -> None:
        """
        The fraction of a second is written as .NET writes a C{DateTime}'s:
        without trailing zeros, and not at all for a whole second.
        """
        for micro, text in [
            (0, "2021-03-14T17:45:00"),
            (250000, "2021-03-14T17:45:00.25"),
            (1, "2021-03-14T17:45:00.000001"),
            (999999, "2021-03-14T17:45:00.999999"),
        ]:
            local = datetime(2021, 3, 14, 17, 45, 0, micro)
            self.assertEqual(netDateTime(local), text)

    def test_fourDigitYears(self) -> None:
        """
        A year before 1000 has four digits, as .NET writes it, in
        C{dateTime} and C{date}: a conversion of 1000-01-01T00:00 in
        Amsterdam to Los Angeles lands in 999.
        """
        micros = int(datetime(1000, 1, 1, tzinfo=ZoneInfo("UTC")).timestamp()) * 10**6
        result = conversionResult(micros, ZoneInfo("America/Los_Angeles"))
        self.assertEqual(
            (result["year"], result["dateTime"], result["date"], result["time"]),
            (999, "0999-12-31T16:07:02", "12/31/0999", "16:07"),
        )

    def test_conversionResult(self) -> None:
        """
        A conversion's result is C{CurrentTime} without C{dayOfWeek}, as the
        Swagger document's C{ConversionResult} has it.
        """
        micros = int(APRIL * 1_000_000)
        result = conversionResult(micros, NEW_YORK)
        expected = expectedCurrentTime(APRIL, "America/New_York")
        del expected["dayOfWeek"]
        self.assertEqual(result, expected)
        self.assertEqual(list(result), list(expected))


class TimeZoneDataTests(SynchronousTestCase):
    """
    timeapi.io's C{TimeZoneData}: a zone's offsets, and its daylight saving.
    """

    def test_documentedExample(self) -> None:
        """
        The note's live answer for America/New_York on 2026-04-18: an offset
        of -14400 s now, -18000 s standard, EDT from 2026-03-08T07:00:00Z
        to 2026-11-01T06:00:00Z, 3600 s ahead of standard time.
        """
        data = timeZoneData(APRIL, NEW_YORK)
        self.assertEqual(data["timeZone"], "America/New_York")
        self.assertEqual(data["currentLocalTime"], "2026-04-18T21:49:42.625")
        self.assertEqual(
            data["currentUtcOffset"],
            {
                "seconds": -14400,
                "milliseconds": -14400000,
                "ticks": -144000000000,
                "nanoseconds": -14400000000000,
            },
        )
        self.assertEqual(data["standardUtcOffset"]["seconds"], -18000)  # type: ignore[index]
        self.assertIs(data["hasDayLightSaving"], True)
        self.assertIs(data["isDayLightSavingActive"], True)
        interval = data["dstInterval"]
        assert isinstance(interval, dict)
        self.assertEqual(interval["dstName"], "EDT")
        self.assertEqual(interval["dstStart"], "2026-03-08T07:00:00Z")
        self.assertEqual(interval["dstEnd"], "2026-11-01T06:00:00Z")
        self.assertEqual(interval["dstOffsetToUtc"]["seconds"], -14400)
        self.assertEqual(interval["dstOffsetToStandardTime"]["seconds"], 3600)
        # 237 days and 23 hours, from the second Sunday of March to the
        # first of November, an hour shorter for the hour skipped.
        duration = interval["dstDuration"]
        self.assertEqual(
            (duration["days"], duration["hours"], duration["totalSeconds"]),
            (237, 23, 237 * 86400 + 23 * 3600),
        )
        self.assertEqual(duration["totalHours"], 237 * 24 + 23)
        self.assertEqual(duration["totalDays"], (237 * 24 + 23) / 24)

    @given(
        st.integers(min_value=0, max_value=4_102_444_800_000_000),
        st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Tokyo"]),
    )
    def test_jsonAt(self, micros: int, name: str) -> None:
        """
        The JSON made from a second's pieces is the data's, whatever the
        microsecond.
        """
        zone = ZoneInfo(name)
        for seconds in (micros / 1_000_000, micros // 1_000_000):
            self.assertEqual(
                timeZoneDataJSONAt(seconds, zone),
                jsonBody(timeZoneData(seconds, zone)),
            )

    def test_noDaylightSaving(self) -> None:
        """
        "For a non-DST zone (Tokyo): hasDayLightSaving False,
        isDayLightSavingActive False, dstInterval None".
        """
        data = timeZoneData(APRIL, ZoneInfo("Asia/Tokyo"))
        self.assertEqual(
            (
                data["currentUtcOffset"]["seconds"],  # type: ignore[index]
                data["hasDayLightSaving"],
                data["isDayLightSavingActive"],
                data["dstInterval"],
            ),
            (32400, False, False, None),
        )

    def test_winter(self) -> None:
        """
        In standard time, a zone that keeps daylight saving has it, not
        active, and its interval is the coming summer's.
        """
        data = timeZoneData(JANUARY, NEW_YORK)
        self.assertEqual(data["currentUtcOffset"]["seconds"], -18000)  # type: ignore[index]
        self.assertIs(data["hasDayLightSaving"], True)
        self.assertIs(data["isDayLightSavingActive"], False)
        interval = data["dstInterval"]
        assert isinstance(interval, dict)
        self.assertEqual(
            (interval["dstStart"], interval["dstEnd"]),
            ("2026-03-08T07:00:00Z", "2026-11-01T06:00:00Z"),
        )

    def test_london(self) -> None:
        """
        "lon = get_utc_offset("Europe/London") → {'offset_hours': 1.0,
        'standard_hours': 0.0, 'dst_active': True, 'dst_name': 'BST'}".
        """
        data = timeZoneData(APRIL, ZoneInfo("Europe/London"))
        interval = data["dstInterval"]
        assert isinstance(interval, dict)
        self.assertEqual(
            (
                data["currentUtcOffset"]["seconds"],  # type: ignore[index]
                data["standardUtcOffset"]["seconds"],  # type: ignore[index]
                data["isDayLightSavingActive"],
                interval["dstName"],
            ),
            (3600, 0, True, "BST"),
        )

    def test_stopped(self) -> None:
        """
        A zone that kept daylight saving until recently, and no more, has
        its last summer as its interval: Mexico City's ended in 2022.
        """
        data = timeZoneData(JANUARY - 3 * 365 * 86400, ZoneInfo("America/Mexico_City"))
        interval = data["dstInterval"]
        assert isinstance(interval, dict)
        self.assertIs(data["isDayLightSavingActive"], False)
        self.assertEqual(interval["dstEnd"], "2022-10-30T07:00:00Z")

    def test_endOfTime(self) -> None:
        """
        A daylight-saving period that ends past the year 9999, where the
        zone's transitions are not looked for, has no end and no duration:
        Sydney's summer of 9999.
        """
        seconds = datetime(9999, 12, 29, tzinfo=ZoneInfo("UTC")).timestamp()
        data = timeZoneData(seconds, ZoneInfo("Australia/Sydney"))
        interval = data["dstInterval"]
        assert isinstance(interval, dict)
        self.assertEqual(
            (interval["dstStart"], interval["dstEnd"], interval["dstDuration"]),
            ("9999-10-02T16:00:00Z", None, None),
        )


class RouteTests(SynchronousTestCase):
    """
    Which path below C{/api} names which of timeapi.io's endpoints: in any
    letter case, as ASP.NET's routes match; and never a path of
    worldtimeapi's C{/api/timezone}.
    """

    def test_anyCase(self) -> None:
        """
        Every endpoint, as its Swagger document spells it, in lower case
        (as clients write C{/api/timezone/availabletimezones} and
        C{/api/conversion/converttimezone}), in upper case, and with a slash
        at the end.
        """
        for endpoint in ENDPOINTS:
            for path in (
                endpoint.path,
                endpoint.path.lower(),
                endpoint.path.upper(),
                endpoint.path + "/",
            ):
                segments = [part.encode() for part in path.split("/")[2:]]
                self.assertEqual(timeAPIEndpoint(segments), endpoint, path)

    def test_notTimeAPI(self) -> None:
        """
        worldtimeapi's paths, and others, name none of timeapi.io's.
        """
        for path in [
            "timezone",
            "timezone/Europe",
            "timezone/Europe/Berlin",
            "timezone/zone/Europe",
            "timezone/zone.txt",
            "time/current",
            "time/current/zone/more",
            "ip",
            "convert",
            "",
            "a/b/c/d/e",
        ]:
            segments = [part.encode() for part in path.split("/")] if path else []
            self.assertIsNone(timeAPIEndpoint(segments), path)

    def test_noZoneIsAnEndpoint(self) -> None:
        """
        The segments that tell C{/api/TimeZone/zone} from worldtimeapi's
        C{/api/timezone/AREA} name no zone and no area of the zone database,
        in any letter case: so no worldtimeapi path is taken from it.
        """
        below = [e.path.split("/")[3] for e in ENDPOINTS if "/TimeZone/" in e.path]
        self.assertEqual(
            sorted(below), ["AvailableTimeZones", "coordinate", "ip", "zone"]
        )
        for name in below:
            self.assertIsNone(defaultCatalogue.zone(name), name)
            self.assertEqual(defaultCatalogue.area(name), [], name)

    def test_labels(self) -> None:
        """
        C{/metrics} labels each endpoint by its documented path, whatever
        the letter case it was asked in; other paths below C{/api/Time} as
        that, and worldtimeapi's as before.
        """
        metrics = SiteMetrics(metricLabels(), metricLabellers())
        for target, label in [
            (b"/api/Time/current/zone?timeZone=UTC", "/api/Time/current/zone"),
            (b"/api/time/current/zone", "/api/Time/current/zone"),
            (b"/api/TIME/CURRENT/IP/", "/api/Time/current/ip"),
            (b"/api/timezone/availabletimezones", "/api/TimeZone/AvailableTimeZones"),
            (b"/api/timezone/zone?timeZone=UTC", "/api/TimeZone/zone"),
            (b"/api/conversion/converttimezone", "/api/Conversion/ConvertTimeZone"),
            (b"/api/Time/nowhere", "/api/Time"),
            (b"/api/timezone/Europe/Berlin", "/api/timezone"),
            (b"/api/coordinates?lat=0&lon=0", "/api/coordinates"),
            (b"/developer/api/timezone/UTC", "/developer/api/timezone"),
            (b"/developer/api/ip", "/developer/api/ip"),
            (b"/developer", "/developer/api"),
        ]:
            self.assertEqual(metrics.endpointOf(target), label, target)
        self.assertIsNone(timeAPILabel(b"now/time/current/zone"))


def noClockStatus(tail: Fields) -> Fields:
    """
    @return: C{tail} alone, for the time fields of an answer whose fields
        a test does not read.
    """
    return tail


class BoundsTests(SynchronousTestCase):
    """
    What the answers keep, no client can grow past its bound.
    """

    def test_zones(self) -> None:
        """
        The zone names looked up are kept, found or not, for no more names
        than the bound; the zones found are the catalogue's.
        """
        api = TimeAPI(defaultCatalogue)
        kept = api._zones
        for n in range(_ZONES_KEPT + 10):
            query = b"timeZone=Nowhere/%d" % (n,)
            answer = api.answer(
                b"Time",
                Ask(b"GET", (b"current", b"zone"), query, None, None),
                APRIL,
                noClockStatus,
            )
            self.assertEqual(answer.status, 400)
            self.assertLessEqual(len(kept), _ZONES_KEPT)
        self.assertEqual(api._namedZone("europe/berlin"), ZoneInfo("Europe/Berlin"))
        self.assertIs(kept["europe/berlin"], ZoneInfo("Europe/Berlin"))

    def test_paths(self) -> None:
        """
        Each path's endpoint (or its absence) is kept, as L{timeAPIEndpoint}
        decides it: for at most C{_PATHS_KEPT} paths, the next emptying
        them, and none longer than C{_LONGEST_PATH} bytes.
        """
        self.patch(_timeapi, "_PATHS_KEPT", 3)
        api = TimeAPI(defaultCatalogue)
        kept = api._endpoints

        def status(segment: bytes, *path: bytes) -> int:
            ask = Ask(b"GET", path, b"timeZone=UTC", None, None)
            return api.answer(segment, ask, APRIL, noClockStatus).status

        self.assertEqual(status(b"Time", b"current", b"zone"), 200)
        self.assertEqual(status(b"time", b"CURRENT", b"zone", b""), 200)
        self.assertEqual(status(b"Time", b"current", b"nowhere"), 404)
        self.assertEqual(
            kept,
            {
                (b"Time", b"current", b"zone"): ENDPOINTS[0],
                (b"time", b"CURRENT", b"zone", b""): ENDPOINTS[0],
                (b"Time", b"current", b"nowhere"): None,
            },
        )
        self.assertEqual(status(b"Time", b"current", b"zone"), 200)
        self.assertEqual(len(kept), 3)
        self.assertEqual(status(b"TimeZone", b"zone"), 200)
        self.assertEqual(kept, {(b"TimeZone", b"zone"): ENDPOINTS[4]})
        # 256 bytes with the slashes between and before the segments.
        longest = (b"Time", b"x" * (_timeapi._LONGEST_PATH - 6))
        self.assertEqual(status(*longest), 404)
        self.assertIn(longest, kept)
        tooLong = (b"Time", b"x" * (_timeapi._LONGEST_PATH - 5))
        self.assertEqual(status(*tooLong), 404)
        self.assertNotIn(tooLong, kept)

    def test_conversions(self) -> None:
        """
        A conversion's answer, and its 422, are kept by its body, for at
        most C{_CONVERSIONS_KEPT} bodies (the next empties them) of at most
        C{_LONGEST_BODY} bytes; the errors, whose C{Clock-Status} follows
        the clock, are made each time, and kept for no body.
        """
        self.patch(_timeapi, "_CONVERSIONS_KEPT", 2)
        api = TimeAPI(defaultCatalogue)
        kept = api._conversions

        def convert(body: bytes, status: bytes = b"synchronized") -> Answer:
            ask = Ask(b"POST", (b"ConvertTimeZone",), b"", None, None, body)

            def timeFields(tail: Fields) -> Fields:
                return ((b"Clock-Status", status), *tail)

            return api.answer(b"Conversion", ask, APRIL, timeFields)

        def body(dateTime: bytes, pad: int = 0) -> bytes:
            return (
                b'{"fromTimeZone":"Europe/Berlin","dateTime":"%s",'
                b'"toTimeZone":"Asia/Tokyo"%s}' % (dateTime, b" " * pad)
            )

        converted = convert(body(b"2024-03-31 12:00:00"))
        self.assertEqual(converted.status, 200)
        self.assertIs(convert(body(b"2024-03-31 12:00:00")), converted)
        gap = convert(body(b"2024-03-31 02:30:00"))
        self.assertEqual(gap.status, 422)
        self.assertIs(convert(body(b"2024-03-31 02:30:00")), gap)
        self.assertEqual(
            kept,
            {
                body(b"2024-03-31 12:00:00"): converted,
                body(b"2024-03-31 02:30:00"): gap,
            },
        )
        for error in [
            body(b"yesterday"),
            body(b"2024-03-31 12:00:00").replace(b"Asia/Tokyo", b"Nowhere/Atlantis"),
            b"{not json}",
            b'{"fromTimeZone":"UTC"}',
        ]:
            first, second = convert(error, b"one"), convert(error, b"two")
            self.assertEqual(first.status, 400, error)
            self.assertEqual(first.fields[0], (b"Clock-Status", b"one"))
            self.assertEqual(second.fields[0], (b"Clock-Status", b"two"))
            self.assertNotIn(error, kept)
        self.assertEqual(len(kept), 2)
        convert(body(b"2024-03-31 13:00:00"))
        self.assertEqual(list(kept), [body(b"2024-03-31 13:00:00")])
        # A body of 1 KiB is kept, and one a byte longer is not.
        longest = body(b"2024-03-31 14:00:00", 1024 - len(body(b"2024-03-31 14:00:00")))
        self.assertEqual(len(longest), 1024)
        self.assertEqual(convert(longest).status, 200)
        self.assertIn(longest, kept)
        tooLong = longest[:-1] + b" }"
        self.assertEqual(convert(tooLong).status, 200)
        self.assertNotIn(tooLong, kept)

    def test_queries(self) -> None:
        """
        The queries parsed are kept, for no more than the bound, and none
        longer than 1 KiB.
        """
        for n in range(_KEPT + 10):
            self.assertEqual(queryArgs(b"a=%d" % (n,)), {b"a": [b"%d" % (n,)]})
            self.assertLessEqual(len(_parsed), _KEPT)
        long = b"a=" + b"x" * 1024
        self.assertEqual(queryArgs(long), {b"a": [b"x" * 1024]})
        self.assertNotIn(long, _parsed)
        self.assertEqual(queryArgs(b""), {})

    def test_pieces(self) -> None:
        """
        Each second's pieces are kept for no more than the bound's seconds.
        """
        for n in range(_PIECES_KEPT + 10):
            currentTimeJSONAt(APRIL + n, NEW_YORK)
            self.assertLessEqual(len(_pieces), _PIECES_KEPT)


def geoip(testCase: SynchronousTestCase) -> GeoIP:
    """
    @return: the tests' IP geolocation database (81.2.69.0/24 is London's).
    """
    return GeoIP(writeDatabase(testCase.mktemp()))


class ClientTests(LiveSiteTestCase):
    """
    Code written for timeapi.io, against a live clocksvc at 2026-04-18.
    """

    def setUp(self) -> None:
        super().setUp()
        self.clock: Clock = clockAt(APRIL)
        self.serve(geoip(self))

    async def test_typescriptCurrentTime(self) -> None:
        """
        ShadowDrake21/weather-app's C{ITime} (src/app/shared/models/
        time.model.ts: C{year: number; ... dayOfWeek: string; dstActive:
        boolean}), fetched as Sebs5384/count-von-count fetches it
        (src/api/serverTime.js: C{const URL =
        'https://timeapi.io/api/Time/current'; ... fetch(`${URL}/zone?
        timeZone=${timeZone}`).then((response) => response.json())}): every
        field is C{zoneinfo}'s.
        """
        url = "/api/Time/current"
        for timeZone in ["Europe/Amsterdam", "America/New_York", "Asia/Kolkata"]:
            response = await self.fetch("GET", f"{url}/zone?timeZone={timeZone}")
            self.assertEqual(response.code, 200)
            self.assertEqual(
                response.headers["content-type"], "application/json; charset=utf-8"
            )
            self.assertEqual(response.headers["cache-control"], "no-store")
            self.assertIn("clock-status", response.headers)
            self.assertEqual(response.json(), expectedCurrentTime(APRIL, timeZone))

    async def test_lowerCaseTimeZone(self) -> None:
        """
        NicoToff/web-workers-demo (public/workers/fetch/helpers.js):
        C{const tz = encodeURIComponent(timeZone); return
        fetch(`https://timeapi.io/api/timezone/zone?timeZone=${tz}`)}: the
        path in lower case, which is also worldtimeapi's C{/api/timezone},
        and the zone's slash escaped. It is timeapi.io's zone data, with
        C{zoneinfo}'s offset.
        """
        tz = "Europe%2FAmsterdam"
        response = await self.fetch("GET", f"/api/timezone/zone?timeZone={tz}")
        self.assertEqual(response.code, 200)
        data = response.json()
        offset = datetime.fromtimestamp(APRIL, ZoneInfo("Europe/Amsterdam")).utcoffset()
        assert offset is not None
        self.assertEqual(data["timeZone"], "Europe/Amsterdam")
        self.assertEqual(data["currentUtcOffset"]["seconds"], offset.total_seconds())
        self.assertEqual(data["dstInterval"]["dstName"], "CEST")

    async def test_pythonZoneSnapshot(self) -> None:
        """
        The note's C{zone_snapshot} (two calls a zone): C{data =
        json.loads(http_get(f"https://timeapi.io/api/Time/current/zone?
        timeZone={zone}")); info = json.loads(http_get(f"https://timeapi.io/
        api/timezone/zone?timeZone={zone}")); offset_h =
        info["currentUtcOffset"]["seconds"] / 3600; return {"zone": zone,
        "datetime": data["dateTime"][:19], "weekday": data["dayOfWeek"],
        "utc_offset": f"UTC{offset_h:+.1f}".replace(".0", ""), "dst":
        data["dstActive"], "dst_name": info["dstInterval"]["dstName"] if
        data["dstActive"] else None}}: its output for each of its zones is
        what C{zoneinfo} says.
        """

        async def zoneSnapshot(zone: str) -> dict[str, object]:
            data = (
                await self.fetch("GET", f"/api/Time/current/zone?timeZone={zone}")
            ).json()
            info = (
                await self.fetch("GET", f"/api/timezone/zone?timeZone={zone}")
            ).json()
            offset_h = info["currentUtcOffset"]["seconds"] / 3600
            return {
                "zone": zone,
                "datetime": data["dateTime"][:19],
                "weekday": data["dayOfWeek"],
                "utc_offset": f"UTC{offset_h:+.1f}".replace(".0", ""),
                "dst": data["dstActive"],
                "dst_name": info["dstInterval"]["dstName"]
                if data["dstActive"]
                else None,
            }

        for zone in [
            "America/New_York",
            "Europe/London",
            "Europe/Paris",
            "Asia/Tokyo",
            "Australia/Sydney",
            "UTC",
        ]:
            local = datetime.fromtimestamp(APRIL, ZoneInfo(zone))
            offset = local.utcoffset()
            assert offset is not None
            hours = offset.total_seconds() / 3600
            dst = bool(local.dst())
            self.assertEqual(
                await zoneSnapshot(zone),
                {
                    "zone": zone,
                    "datetime": local.strftime("%Y-%m-%dT%H:%M:%S"),
                    "weekday": local.strftime("%A"),
                    "utc_offset": f"UTC{hours:+.1f}".replace(".0", ""),
                    "dst": dst,
                    "dst_name": local.tzname() if dst else None,
                },
            )

    async def test_goCoordinate(self) -> None:
        """
        A Go client's C{lookupTimezoneFromTimeAPI} (public code): C{Path:
        "/api/Time/current/coordinate"; q.Set("latitude",
        fmt.Sprintf("%f", lat)); q.Set("longitude", fmt.Sprintf("%f",
        lon)) ... var data struct { TimeZone string `json:"timeZone"` }}:
        Washington's coordinates, the Swagger document's example (38.9,
        -77.03), as %f writes them.
        """
        lat, lon = 38.9, -77.03
        response = await self.fetch(
            "GET",
            f"/api/Time/current/coordinate?latitude={lat:f}&longitude={lon:f}",
        )
        self.assertEqual(response.code, 200)
        self.assertEqual(response.json()["timeZone"], "America/New_York")
        self.assertEqual(
            response.json(), expectedCurrentTime(APRIL, "America/New_York")
        )
        zoneData = await self.fetch(
            "GET", f"/api/TimeZone/coordinate?latitude={lat}&longitude={lon}"
        )
        self.assertEqual(
            zoneData.json(), json.loads(jsonBody(timeZoneData(APRIL, NEW_YORK)))
        )

    async def test_availableTimeZones(self) -> None:
        """
        A search box's client (public code): C{const url =
        "https://timeapi.io/api/timezone/availabletimezones"; ...
        timezones.filter((zone) => zone.toLowerCase().includes(valorInput))}:
        the list is worldtimeapi's C{/api/timezone}'s.
        """
        url = "/api/timezone/availabletimezones"
        timezones = (await self.fetch("GET", url)).json()
        self.assertEqual(
            [zone for zone in timezones if "amsterdam" in zone.lower()],
            ["Europe/Amsterdam"],
        )
        self.assertEqual(timezones, (await self.fetch("GET", "/api/timezone")).json())
        canonical = await self.fetch("GET", "/api/TimeZone/AvailableTimeZones")
        self.assertEqual(canonical.json(), timezones)

    async def test_currentIP(self) -> None:
        """
        The note: C{data = json.loads(http_get("https://timeapi.io/api/Time/
        current/ip?ipAddress=8.8.8.8")) # Same response shape as
        /current/zone; print(data["timeZone"])}: here an address of the
        tests' database, London's.
        """
        response = await self.fetch("GET", "/api/Time/current/ip?ipAddress=81.2.69.142")
        self.assertEqual(response.json(), expectedCurrentTime(APRIL, "Europe/London"))
        data = await self.fetch("GET", "/api/TimeZone/ip?ipAddress=81.2.69.142")
        self.assertEqual(data.json()["timeZone"], "Europe/London")

    async def test_convertSampleRequest(self) -> None:
        """
        The Swagger document's sample request, C{POST
        /Conversion/ConvertTimeZone { "fromTimeZone": "Europe/Amsterdam",
        "dateTime": "2021-03-14 17:45:00", "toTimeZone":
        "America/Los_Angeles", "dstAmbiguity": "" }}, answered with its
        C{ConversionResult}'s examples: C{"dateTime": "2021-03-14T09:45:00"},
        C{"dstActive": true} (Los Angeles had sprung forward that morning).
        """
        response = await self.fetch(
            "POST",
            "/api/Conversion/ConvertTimeZone",
            json={
                "fromTimeZone": "Europe/Amsterdam",
                "dateTime": "2021-03-14 17:45:00",
                "toTimeZone": "America/Los_Angeles",
                "dstAmbiguity": "",
            },
        )
        self.assertEqual(response.code, 200)
        self.assertEqual(
            response.json(),
            {
                "fromTimezone": "Europe/Amsterdam",
                "fromDateTime": "2021-03-14T17:45:00",
                "toTimeZone": "America/Los_Angeles",
                "conversionResult": {
                    "year": 2021,
                    "month": 3,
                    "day": 14,
                    "hour": 9,
                    "minute": 45,
                    "seconds": 0,
                    "milliSeconds": 0,
                    "dateTime": "2021-03-14T09:45:00",
                    "date": "03/14/2021",
                    "time": "09:45",
                    "timeZone": "America/Los_Angeles",
                    "dstActive": True,
                },
            },
        )
        # As /api/convert's answers: about a given time, which any cache
        # may keep, with no Clock-Status.
        self.assertEqual(response.headers["cache-control"], "public, max-age=86400")
        self.assertNotIn("clock-status", response.headers)

    async def test_pythonConvert(self) -> None:
        """
        A Python client (public code): C{json_data = {"fromTimeZone":
        "Etc/UTC", "dateTime": time, "toTimeZone": "Asia/Dhaka",
        "dstAmbiguity": ""}; time_convert_response = requests.post(
        "https://timeapi.io/api/Conversion/ConvertTimeZone", json=json_data);
        converted_time = time_convert_response.json()["conversionResult"]
        ["dateTime"]; converted_time = converted_time.split("T")[1].split(
        ":")[0]; return int(converted_time)}: the hour in Dhaka; and the
        same in lower case, as a MicroPython client posts it
        (C{"https://timeapi.io/api/conversion/converttimezone"}).
        """
        for path in (
            "/api/Conversion/ConvertTimeZone",
            "/api/conversion/converttimezone",
        ):
            json_data = {
                "fromTimeZone": "Etc/UTC",
                "dateTime": "2026-04-18 21:49:42",
                "toTimeZone": "Asia/Dhaka",
                "dstAmbiguity": "",
            }
            time_convert_response = await self.fetch("POST", path, json=json_data)
            converted_time = time_convert_response.json()["conversionResult"][
                "dateTime"
            ]
            converted_time = converted_time.split("T")[1].split(":")[0]
            # 21:49 UTC is 03:49 in Dhaka (UTC+6), the next day.
            self.assertEqual(int(converted_time), 3)

    async def test_gapAndOverlap(self) -> None:
        """
        A local time that a transition skips or repeats is resolved as
        C{/api/convert} resolves it: without C{dstAmbiguity}, 422 naming
        the problem (and for an overlap both instants); with C{earlier} or
        C{later} (the Swagger document's "By using "earlier" it uses the
        earlier version of 01:30:00 where 01:59:59 hasn't been passed"), the
        instant C{/api/convert?disambiguate=} gives.
        """
        for local, problem in [
            ("2024-03-31 02:30:00", "gap"),
            ("2024-10-27 02:30:00", "overlap"),
        ]:
            request = {
                "fromTimeZone": "Europe/Berlin",
                "dateTime": local,
                "toTimeZone": "UTC",
                "dstAmbiguity": "",
            }
            refused = await self.fetch(
                "POST", "/api/Conversion/ConvertTimeZone", json=request
            )
            self.assertEqual(refused.code, 422)
            error = refused.json()
            self.assertEqual(
                (error["parameter"], error["problem"]), ("dateTime", problem)
            )
            self.assertIn("dstAmbiguity=earlier or later", error["error"])
            self.assertEqual("candidates" in error, problem == "overlap")
            for how in ("earlier", "later"):
                answer = await self.fetch(
                    "POST",
                    "/api/Conversion/ConvertTimeZone",
                    json={**request, "dstAmbiguity": how},
                )
                convert = await self.fetch(
                    "GET",
                    "/api/convert?from=Europe/Berlin&to=UTC"
                    f"&time={local.replace(' ', 'T')}&disambiguate={how}",
                )
                self.assertEqual(
                    answer.json()["conversionResult"]["dateTime"],
                    convert.json()["to"]["datetime"][:19],
                    (local, how),
                )

    async def test_invalidTimezone(self) -> None:
        """
        The note: "TimeAPI.io returns "Invalid Timezone" (a plain string,
        not JSON object) for unknown zone names. Wrap in a try/except:
        data = json.loads(http_get(...)); if isinstance(data, str): raise
        ValueError(f"Invalid timezone: {zone}")": 400, with that string as
        JSON, for an unknown zone, a malformed one, or none, at each
        endpoint that takes a zone.
        """
        for path in [
            "/api/Time/current/zone?timeZone=Mars/Olympus_Mons",
            "/api/Time/current/zone?timeZone=not%20a%20zone",
            "/api/Time/current/zone",
            "/api/TimeZone/zone?timeZone=Mars/Olympus_Mons",
            "/api/timezone/zone?timeZone=UTC&timeZone=UTC",
        ]:
            response = await self.fetch("GET", path)
            self.assertEqual(response.code, 400, path)
            data = response.json()
            self.assertIsInstance(data, str)
            self.assertEqual(data, INVALID_TIMEZONE)
        convert = await self.fetch(
            "POST",
            "/api/Conversion/ConvertTimeZone",
            json={
                "fromTimeZone": "Europe/Amsterdam",
                "dateTime": "2021-03-14 17:45:00",
                "toTimeZone": "Mars/Olympus_Mons",
            },
        )
        self.assertEqual((convert.code, convert.json()), (400, INVALID_TIMEZONE))

    async def test_badCoordinates(self) -> None:
        """
        The Swagger document's "Latitude ranging from -90 to 90",
        "Longitude ranging from -180 to 180": anything else, or nothing, is
        400, ASP.NET's problem details naming the parameter.
        """
        for query, parameter in [
            ("latitude=91&longitude=0", "latitude"),
            ("latitude=-90.5&longitude=0", "latitude"),
            ("latitude=abc&longitude=0", "latitude"),
            ("latitude=1,5&longitude=0", "latitude"),
            ("longitude=0", "latitude"),
            ("latitude=0&longitude=180.000001", "longitude"),
            ("latitude=0&longitude=NaN", "longitude"),
            ("latitude=0&longitude=1e999", "longitude"),
            ("latitude=0", "longitude"),
        ]:
            for path in ("/api/Time/current/coordinate", "/api/TimeZone/coordinate"):
                response = await self.fetch("GET", f"{path}?{query}")
                self.assertEqual(response.code, 400, query)
                self.assertEqual(
                    response.headers["content-type"],
                    "application/problem+json; charset=utf-8",
                )
                details = response.json()
                self.assertEqual(details["status"], 400)
                self.assertEqual(details["parameter"], parameter, query)
                self.assertEqual(list(details["errors"]), [parameter])

    async def test_badAddress(self) -> None:
        """
        An address that is none is 400 naming C{ipAddress}; one without a
        zone, 404 C{unknown location}, as C{/api/ip/ADDRESS}.
        """
        for query, code in [
            ("ipAddress=237.71.232.2033", 400),
            ("", 400),
            ("ipAddress=10.1.2.3", 404),
            ("ipAddress=89.160.20.1", 404),
        ]:
            response = await self.fetch("GET", f"/api/Time/current/ip?{query}")
            self.assertEqual(response.code, code, query)
            details = response.json()
            if code == 400:
                self.assertEqual(details["parameter"], "ipAddress")
            else:
                self.assertEqual(details["error"], "unknown location")

    async def test_badConversion(self) -> None:
        """
        A conversion request that is not one is 400, naming the field at
        fault: ASP.NET's problem details, as its model validation answers.
        The Swagger document's C{ConvertRequest}: C{fromTimeZone},
        C{dateTime}, C{toTimeZone} required, and C{dateTime} "DateTime in
        format: yyyy-MM-dd HH:mm:ss or in format: yyyy-MM-dd
        HH:mm:ss.ffffff"; C{dstAmbiguity} "earlier", "later" or C{""}.
        """
        sample = {
            "fromTimeZone": "Europe/Amsterdam",
            "dateTime": "2021-03-14 17:45:00",
            "toTimeZone": "America/Los_Angeles",
        }
        for body, field in [
            (b"not json", "$"),
            (b"[]", "$"),
            # Nested deeper than Python's parser goes, within the 64 KiB a
            # body may have.
            (b"[" * 20000, "$"),
            (
                json.dumps({**sample, "dateTime": "14/03/2021 17:45"}).encode(),
                "dateTime",
            ),
            (
                json.dumps({**sample, "dateTime": "2021-02-30 17:45:00"}).encode(),
                "dateTime",
            ),
            (json.dumps({**sample, "dateTime": 1615740300}).encode(), "dateTime"),
            (json.dumps({"dateTime": "2021-03-14 17:45:00"}).encode(), "fromTimeZone"),
            (json.dumps({**sample, "dstAmbiguity": "both"}).encode(), "dstAmbiguity"),
        ]:
            response = await self.fetch(
                "POST",
                "/api/Conversion/ConvertTimeZone",
                data=body,
                headers={"Content-Type": "application/json"},
            )
            self.assertEqual(response.code, 400, body[:40])
            self.assertEqual(response.json()["parameter"], field, body[:40])

    async def test_fieldNamesInAnyCase(self) -> None:
        """
        ASP.NET reads a request's JSON names in any letter case, and so are
        they read here; C{dstAmbiguity} may be null, or left out.
        """
        response = await self.fetch(
            "POST",
            "/api/conversion/ConvertTimeZone",
            json={
                "FromTimeZone": "UTC",
                "DATETIME": "2021-03-14T17:45:00.5",
                "totimezone": "asia/tokyo",
                "dstAmbiguity": None,
            },
        )
        self.assertEqual(response.code, 200)
        result = response.json()
        self.assertEqual(result["fromDateTime"], "2021-03-14T17:45:00.5")
        self.assertEqual(result["toTimeZone"], "Asia/Tokyo")
        self.assertEqual(
            result["conversionResult"]["dateTime"], "2021-03-15T02:45:00.5"
        )

    async def test_methods(self) -> None:
        """
        The conversion is C{POST}, and the rest C{GET} and C{HEAD}: another
        method is 405 with C{Allow}. C{HEAD} gives C{GET}'s headers.
        """
        wrong = await self.fetch("GET", "/api/Conversion/ConvertTimeZone")
        self.assertEqual(wrong.code, 405)
        self.assertEqual(wrong.headers["allow"], "POST, OPTIONS")
        posted = await self.fetch("POST", "/api/Time/current/zone?timeZone=UTC")
        self.assertEqual(posted.code, 405)
        self.assertEqual(posted.headers["allow"], "GET, HEAD, OPTIONS")
        get = await self.fetch("GET", "/api/time/current/zone?timeZone=UTC")
        head = await self.fetch("HEAD", "/api/time/current/zone?timeZone=UTC")
        self.assertEqual(head.code, 200)
        self.assertEqual(head.body, b"")
        self.assertEqual(head.headers["content-length"], str(len(get.body)))

    async def test_options(self) -> None:
        """
        C{OPTIONS} answers with the methods of the endpoint the path names,
        in any letter case; a path that names none is 404.
        """
        for path, allow in [
            ("/api/conversion/converttimezone", "POST, OPTIONS"),
            ("/api/TIMEZONE/ZONE", "GET, HEAD, OPTIONS"),
        ]:
            response = await self.fetch("OPTIONS", path)
            self.assertEqual((response.code, response.headers["allow"]), (204, allow))
        nowhere = await self.fetch("OPTIONS", "/api/Time/current/nowhere")
        self.assertEqual(nowhere.code, 404)

    async def test_notFound(self) -> None:
        """
        A path below C{/api/Time}, C{/api/TimeZone} or C{/api/Conversion}
        that names no endpoint is 404; and worldtimeapi's C{/api/timezone}
        paths are worldtimeapi's still, its zones and areas.
        """
        for path in [
            "/api/Time/current/nowhere",
            "/api/TimeZone/Europe/Berlin",
            "/api/Conversion",
        ]:
            self.assertEqual((await self.fetch("GET", path)).code, 404, path)
        berlin = await self.fetch("GET", "/api/timezone/Europe/Berlin")
        self.assertEqual(berlin.json()["timezone"], "Europe/Berlin")
        europe = await self.fetch("GET", "/api/timezone/Europe")
        self.assertIn("Europe/Berlin", europe.json())
        zone = await self.fetch("GET", "/api/timezone/zone")
        self.assertEqual(zone.code, 400)

    async def test_counted(self) -> None:
        """
        C{/metrics} counts each request by the endpoint's documented path,
        whatever the letter case it was asked in.
        """
        await self.fetch("GET", "/api/time/current/zone?timeZone=UTC")
        await self.fetch("GET", "/api/TIME/current/zone?timeZone=Nowhere")
        metrics = (await self.fetch("GET", "/metrics")).body.decode()
        endpoint = 'endpoint="/api/Time/current/zone"'
        for status in ("200", "400"):
            line = f'clocksvc_requests_total{{{endpoint},status="{status}"}} 1.0'
            self.assertIn(line, metrics.splitlines())


class NoDatabaseTests(LiveSiteTestCase):
    """
    Without C{--geoip-db}, the address endpoints are 501, as C{/api/ip}.
    """

    async def test_notImplemented(self) -> None:
        """
        Whatever the address, 501 C{no GeoIP database configured}.
        """
        self.clock = clockAt(APRIL)
        self.serve()
        for path in [
            "/api/Time/current/ip?ipAddress=81.2.69.142",
            "/api/TimeZone/ip?ipAddress=nonsense",
        ]:
            response = await self.fetch("GET", path)
            self.assertEqual(response.code, 501, path)
            self.assertEqual(response.json()["error"], "no GeoIP database configured")
