"""
Tests for C{?at=} on the time documents, and for L{clocksvc._web._conversions}:
C{/api/convert} and a zone's C{/transitions}, in memory through L{StubTreq}.
Every answer is checked against C{zoneinfo} read directly, and against
C{/openapi.json}.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st
from treq.response import _Response
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._time._periods import searchedSpan
from clocksvc._time._transitions import transitionsBetween
from clocksvc._time._zones import defaultCatalogue
from clocksvc._web._site import buildRoot

from ._helpers import BILLENNIUM, clockAt, stubTreq, synchronized, useTimezone
from ._openapi import validateResponse
from ._zones import ZONES

_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=_UTC).timestamp())


#: Instants at the issue's edges: each transition, with a second either side.
EDGES = [
    ("Europe/Berlin", _utc(2024, 3, 31, 1)),
    ("Europe/Berlin", _utc(2024, 10, 27, 1)),
    ("America/Sao_Paulo", _utc(2018, 11, 4, 3)),
    ("America/Sao_Paulo", _utc(2019, 2, 17, 2)),
    ("Australia/Lord_Howe", _utc(2024, 4, 6, 15)),
    ("Australia/Lord_Howe", _utc(2024, 10, 5, 15, 30)),
    ("Europe/Dublin", _utc(2024, 3, 31, 1)),
    ("Europe/Dublin", _utc(2024, 10, 27, 1)),
    ("Pacific/Apia", _utc(2011, 12, 30, 10)),
]

#: A range of instants a document or a conversion may describe: the 20th
#: and 21st centuries' ordinary history, and far beyond.
instants = st.integers(min_value=_utc(1000, 1, 2), max_value=_utc(9998, 12, 30))


class Client(SynchronousTestCase):
    """
    Requests to a site whose clock says the billennium, each checked against
    C{/openapi.json}.
    """

    def setUp(self) -> None:
        useTimezone(self, "UTC")
        self.treq = stubTreq(
            buildRoot(clockAt(BILLENNIUM), "UTC", readClock=synchronized)
        )

    def get(self, path: str) -> tuple[_Response, bytes]:
        """
        @return: the response to C{GET path} and its body.
        """
        response = self.successResultOf(self.treq.get("http://clock.example" + path))
        body = self.successResultOf(response.content())
        [contentType] = response.headers.getRawHeaders(b"content-type", [b""])
        validateResponse(
            "GET", urlsplit(path).path, response.code, contentType.decode(), body
        )
        return response, body

    def getJSON(self, path: str, code: int = 200) -> object:
        """
        @return: the JSON that C{GET path} answers with C{code}.
        """
        response, body = self.get(path)
        self.assertEqual(response.code, code, body)
        return json.loads(body)

    def assertFixed(self, response: _Response, cacheControl: bytes) -> None:
        """
        Assert that C{response} is about a given time: cacheable as
        C{cacheControl} says, without C{Clock-Status}.
        """
        self.assertEqual(
            response.headers.getRawHeaders(b"cache-control"), [cacheControl]
        )
        self.assertIsNone(response.headers.getRawHeaders(b"clock-status"))
        self.assertEqual(
            response.headers.getRawHeaders(b"access-control-allow-origin"), [b"*"]
        )

    def assertNow(self, response: _Response) -> None:
        """
        Assert that C{response} is about now: not cached, with C{Clock-Status}.
        """
        self.assertEqual(
            response.headers.getRawHeaders(b"cache-control"), [b"no-store"]
        )
        self.assertIsNotNone(response.headers.getRawHeaders(b"clock-status"))


def offsetText(offset: timedelta) -> str:
    """
    @return: C{offset} as C{±HH:MM}, with C{:SS} where it has seconds (the
        local mean times of the 19th century).
    """
    total = int(offset.total_seconds())
    sign = "-" if total < 0 else "+"
    minutes, seconds = divmod(abs(total), 60)
    text = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return text + f":{seconds:02d}" if seconds else text


def expectedDocument(name: str, seconds: int) -> dict[str, object]:
    """
    The fields of the time document for C{seconds} in zone C{name} that
    C{zoneinfo} gives directly, computed without clocksvc.
    """
    utc = datetime.fromtimestamp(seconds, _UTC)
    local = utc.astimezone(ZoneInfo(name))
    offset = local.utcoffset()
    assert offset is not None
    return {
        "abbreviation": local.tzname(),
        "client_ip": "127.0.0.1",
        "datetime": local.isoformat(timespec="microseconds"),
        "day_of_week": int(local.strftime("%w")),
        "day_of_year": int(local.strftime("%j")),
        "timezone": name,
        "unixtime": seconds,
        "unixtime_ms": seconds * 1000,
        "utc_datetime": utc.isoformat(timespec="microseconds"),
        "utc_offset": offsetText(offset),
        "week_number": int(local.strftime("%V")),
    }


def _offsetAt(zone: ZoneInfo, seconds: int) -> timedelta | None:
    return datetime.fromtimestamp(seconds, _UTC).astimezone(zone).utcoffset()


def _stateAt(zone: ZoneInfo, seconds: int) -> tuple[object, ...]:
    local = datetime.fromtimestamp(seconds, _UTC).astimezone(zone)
    return (local.utcoffset(), local.dst())


def _instantOrNone(text: object) -> int | None:
    if text is None:
        return None
    assert isinstance(text, str)
    return int(datetime.fromisoformat(text).timestamp())


class AtTests(Client):
    """
    C{?at=INSTANT} on C{/now} and C{/api/timezone/AREA/LOCATION}: the
    document for that instant, every field of it.
    """

    def assertDocument(self, name: str, seconds: int, document: object) -> None:
        """
        Assert that C{document} describes C{seconds} in zone C{name} as
        C{zoneinfo} does, and that its daylight-saving period, if any, is
        one of constant offset around the instant.
        """
        assert isinstance(document, dict)
        expected = expectedDocument(name, seconds)
        self.assertEqual({k: document[k] for k in expected}, expected, (name, seconds))
        zone = ZoneInfo(name)
        offset = _offsetAt(zone, seconds)
        assert offset is not None
        self.assertEqual(
            document["raw_offset"] + document["dst_offset"], offset.total_seconds()
        )
        if document["dst"]:
            # The period is one of constant state (offset and saving), and
            # its edges are where the state changes, which need not move
            # the clocks: Ireland's summer time ended on 27 October 1968
            # into +01:00 kept as standard time, Turkey's on 7 September
            # 2016 into +03:00. An edge further than the search reaches is
            # null, and the state holds as far as it reaches.
            state = _stateAt(zone, seconds)
            earliest, latest = searchedSpan(seconds)
            began = _instantOrNone(document["dst_from"])
            ends = _instantOrNone(document["dst_until"])
            if began is None:
                self.assertEqual(_stateAt(zone, earliest), state)
            else:
                self.assertLessEqual(began, seconds)
                self.assertEqual(_stateAt(zone, began), state)
                self.assertNotEqual(_stateAt(zone, began - 1), state)
            if ends is None:
                self.assertEqual(_stateAt(zone, latest - 1), state)
            else:
                self.assertLess(seconds, ends)
                self.assertEqual(_stateAt(zone, ends - 1), state)
                self.assertNotEqual(_stateAt(zone, ends), state)
        else:
            self.assertEqual(document["dst_offset"], 0)
            self.assertIsNone(document["dst_from"])

    def test_edges(self) -> None:
        """
        A second before, at and after each transition at the issue's edges,
        both paths give the document for that instant.
        """
        for name, transition in EDGES:
            for seconds in (transition - 1, transition, transition + 1):
                for path in (
                    f"/api/timezone/{name}?at={seconds}",
                    f"/now?tz={name}&at={seconds}",
                    f"/now.json?tz={name}&at={seconds}",
                ):
                    self.assertDocument(name, seconds, self.getJSON(path))

    def test_summerAndWinter(self) -> None:
        """
        DST fields describe the period around the instant: Berlin's summer
        of 2024 from 31 March to 27 October, and none in winter; Dublin's
        summer too, though tzdata calls its winter the negative saving.
        """
        for name in ("Europe/Berlin", "Europe/Dublin"):
            summer = self.getJSON(f"/api/timezone/{name}?at=2024-07-01T12:00:00Z")
            assert isinstance(summer, dict)
            self.assertEqual(
                (summer["dst"], summer["dst_from"], summer["dst_until"]),
                (True, "2024-03-31T01:00:00+00:00", "2024-10-27T01:00:00+00:00"),
            )
            self.assertEqual(summer["dst_offset"], 3600)
            winter = self.getJSON(f"/api/timezone/{name}?at=2024-01-15T12:00:00Z")
            assert isinstance(winter, dict)
            self.assertEqual((winter["dst"], winter["dst_offset"]), (False, 0))

    @settings(max_examples=40, deadline=None)
    @given(st.sampled_from(ZONES), instants)
    # Found by random examples: Irish summer time in 1968, which ended into
    # +01:00 kept all year, with no change of clocks; others of the kind;
    # and summer times longer than the search for a period's edges reaches.
    @example("Europe/Dublin", _utc(1968, 7, 15))
    @example("Europe/Istanbul", _utc(2016, 7, 15))
    @example("America/Whitehorse", _utc(2020, 7, 15))
    @example("Europe/Dublin", _utc(1943, 7, 15))
    @example("America/Buenos_Aires", _utc(1955, 7, 15))
    def test_anyInstant(self, name: str, seconds: int) -> None:
        """
        Any instant in the bounds, in any of the zones, is described as
        C{zoneinfo} describes it.
        """
        self.assertDocument(name, seconds, self.getJSON(f"/now?tz={name}&at={seconds}"))

    def test_forms(self) -> None:
        """
        RFC 3339 with any offset, C{Z}, and Unix seconds with a fraction name
        the same instant; the fraction shows in the microsecond fields.
        """
        documents = [
            self.getJSON("/api/timezone/Asia/Tokyo?" + urlencode({"at": at}))
            for at in (
                "2024-03-31T01:30:00.25Z",
                "2024-03-31T03:30:00.250+02:00",
                "2024-03-30T20:30:00.25-05:00",
                "1711848600.25",
            )
        ]
        for document in documents:
            self.assertEqual(document, documents[0])
        assert isinstance(documents[0], dict)
        self.assertEqual(documents[0]["datetime"], "2024-03-31T10:30:00.250000+09:00")
        self.assertEqual(documents[0]["unixtime_ms"], 1711848600250)

    def test_farAway(self) -> None:
        """
        Centuries away, the document keeps its microseconds (the instant is
        read exactly, not through a float).
        """
        document = self.getJSON("/now?at=9998-12-31T23:59:59.999999Z")
        assert isinstance(document, dict)
        self.assertEqual(document["utc_datetime"], "9998-12-31T23:59:59.999999+00:00")
        document = self.getJSON("/now?at=-30610224000")
        assert isinstance(document, dict)
        self.assertEqual(document["utc_datetime"], "1000-01-01T00:00:00.000000+00:00")

    def test_text(self) -> None:
        """
        The C{.txt} paths answer the same document in text.
        """
        for path in (
            "/now.txt?tz=Europe/Berlin&at=2024-07-01T00:00:00Z",
            "/api/timezone/Europe/Berlin.txt?at=2024-07-01T00:00:00Z",
        ):
            response, body = self.get(path)
            self.assertEqual(response.code, 200)
            self.assertIn(b"datetime: 2024-07-01T02:00:00.000000+02:00\n", body)
            self.assertIn(b"dst_until: 2024-10-27T01:00:00+00:00\n", body)

    def test_headers(self) -> None:
        """
        A document for a given instant may be cached privately (it holds
        the client's address) and has no C{Clock-Status}; without C{?at=}
        the document is now's, uncached, with it.
        """
        for path in ("/now?at=0", "/now.txt?at=0", "/api/timezone/UTC?at=0"):
            response, _ = self.get(path)
            self.assertFixed(response, b"private, max-age=86400")
        for path in ("/now", "/api/timezone/UTC"):
            response, _ = self.get(path)
            self.assertNow(response)

    def test_withTimezoneParameter(self) -> None:
        """
        C{?at=} and C{?tz=} combine, in either order: the document for that
        instant in that zone.
        """
        first = self.getJSON("/now?tz=Asia/Kolkata&at=0")
        second = self.getJSON("/now?at=0&tz=asia/kolkata")
        self.assertEqual(first, second)
        assert isinstance(first, dict)
        self.assertEqual(first["datetime"], "1970-01-01T05:30:00.000000+05:30")

    def test_malformed(self) -> None:
        """
        Anything but an instant in the bounds is a 400 naming C{at}, in the
        answer's format, and not cached.
        """
        for at in [
            "",
            "now",
            "2024-02-30T00:00:00Z",
            "2024-03-31T02:30:00",
            "9999-06-01T00:00:00Z",
            "0999-12-31T00:00:00Z",
            "253370764800",
            "1e9",
            "2024-03-31T01:30:00Z&at=0",
        ]:
            query = urlencode({"at": at})
            for path in (
                "/now?",
                "/api/timezone/Europe/Berlin?",
                "/api/timezone/Europe?",
            ):
                response, body = self.get(path + query)
                self.assertEqual(response.code, 400, (path, at))
                self.assertEqual(json.loads(body)["parameter"], "at")
                self.assertNow(response)
            response, body = self.get("/now.txt?" + query)
            self.assertEqual(response.code, 400)
            self.assertTrue(body.startswith(b"error: invalid query parameter at: "))

    def test_twice(self) -> None:
        """
        C{at} given twice is a 400.
        """
        self.assertEqual(
            self.getJSON("/now?at=0&at=1", 400),
            {"error": "invalid query parameter at: give it once", "parameter": "at"},
        )

    def test_t1Ignored(self) -> None:
        """
        An NTP-style exchange is about now: with C{at}, C{t1} is ignored, and
        the answer is C{at}'s document, cacheable, with no exchange in it;
        though a malformed C{t1} is still a 400.
        """
        for query in ["at=0&t1=1000000000000", "t1=1000000000000.5&at=0"]:
            response, body = self.get("/now?" + query)
            self.assertEqual(response.code, 200, query)
            self.assertEqual(json.loads(body), json.loads(self.get("/now?at=0")[1]))
            self.assertFixed(response, b"private, max-age=86400")
            self.assertIsNone(response.headers.getRawHeaders(b"server-timing"))
        self.assertEqual(
            self.getJSON("/now?at=0&t1=soon", 400)["parameter"],  # type: ignore[index]
            "t1",
        )

    def test_areaIgnoresIt(self) -> None:
        """
        An area's list of zones is the same whatever the instant.
        """
        self.assertEqual(
            self.getJSON("/api/timezone/Antarctica?at=0"),
            self.getJSON("/api/timezone/Antarctica"),
        )

    def test_unknownZone(self) -> None:
        """
        An unknown zone is 404, as without C{?at=}.
        """
        self.assertEqual(
            self.getJSON("/api/timezone/Europe/Atlantis?at=0", 404),
            {"error": "unknown location"},
        )
        self.assertEqual(
            self.getJSON("/now?tz=Europe/Atlantis&at=0", 404),
            {"error": "unknown location"},
        )


def _convert(**query: str) -> str:
    return "/api/convert?" + urlencode(query)


class ConvertTests(Client):
    """
    C{/api/convert}: a local date-time in one zone, in another.
    """

    def assertSide(self, side: object, name: str, micros: int) -> None:
        """
        Assert that C{side} describes the instant C{micros} in C{name} as
        C{zoneinfo} does.
        """
        local = (_EPOCH + timedelta(microseconds=micros)).astimezone(ZoneInfo(name))
        assert isinstance(side, dict)
        self.assertEqual(side["timezone"], name)
        self.assertEqual(side["datetime"], local.isoformat(timespec="microseconds"))
        self.assertEqual(side["abbreviation"], local.tzname())
        offset = local.utcoffset()
        assert offset is not None
        self.assertEqual(side["utc_offset"], offsetText(offset))

    def test_unique(self) -> None:
        """
        A date-time that exists once: both sides, the UTC instant, cacheable
        by anyone and without C{Clock-Status}.
        """
        response, body = self.get(
            _convert(
                **{"from": "Europe/Berlin", "to": "America/New_York"},
                time="2024-07-01T12:00:00",
            )
        )
        self.assertEqual(response.code, 200)
        self.assertFixed(response, b"public, max-age=86400")
        self.assertEqual(
            json.loads(body),
            {
                "from": {
                    "timezone": "Europe/Berlin",
                    "datetime": "2024-07-01T12:00:00.000000+02:00",
                    "utc_offset": "+02:00",
                    "abbreviation": "CEST",
                    "dst": True,
                },
                "to": {
                    "timezone": "America/New_York",
                    "datetime": "2024-07-01T06:00:00.000000-04:00",
                    "utc_offset": "-04:00",
                    "abbreviation": "EDT",
                    "dst": True,
                },
                "local_time": "unique",
                "utc_datetime": "2024-07-01T10:00:00.000000+00:00",
                "unixtime": 1719828000,
                "unixtime_ms": 1719828000000,
            },
        )

    def test_gap(self) -> None:
        """
        A date-time that the clocks skipped: by default 422 naming the
        problem; C{earlier} is it read with the offset after the jump (an
        hour earlier on the wall), C{later} with the one before.
        """
        query = {"from": "Europe/Berlin", "to": "UTC", "time": "2024-03-31T02:30:00"}
        response, body = self.get(_convert(**query))
        self.assertEqual(response.code, 422)
        self.assertEqual(response.phrase, b"Unprocessable Content")
        answer = json.loads(body)
        self.assertEqual((answer["parameter"], answer["problem"]), ("time", "gap"))
        self.assertIn("does not exist in Europe/Berlin", answer["error"])
        self.assertNotIn("candidates", answer)
        self.assertEqual(
            self.getJSON(_convert(**query, disambiguate="reject"), 422), answer
        )
        earlier = self.getJSON(_convert(**query, disambiguate="earlier"))
        later = self.getJSON(_convert(**query, disambiguate="later"))
        assert isinstance(earlier, dict) and isinstance(later, dict)
        self.assertEqual(earlier["utc_datetime"], "2024-03-31T00:30:00.000000+00:00")
        self.assertEqual(
            earlier["from"]["datetime"], "2024-03-31T01:30:00.000000+01:00"
        )
        self.assertEqual(later["utc_datetime"], "2024-03-31T01:30:00.000000+00:00")
        self.assertEqual(later["from"]["datetime"], "2024-03-31T03:30:00.000000+02:00")
        self.assertEqual((earlier["local_time"], later["local_time"]), ("gap", "gap"))

    def test_overlap(self) -> None:
        """
        A date-time that happened twice: by default 422 with both
        candidates; C{earlier} and C{later} choose one.
        """
        query = {
            "from": "America/New_York",
            "to": "Asia/Tokyo",
            "time": "2024-11-03T01:30:00",
        }
        answer = self.getJSON(_convert(**query), 422)
        assert isinstance(answer, dict)
        self.assertEqual(answer["problem"], "overlap")
        self.assertIn("happens twice in America/New_York", answer["error"])
        first, second = answer["candidates"]
        self.assertSide(first, "America/New_York", _utc(2024, 11, 3, 5, 30) * 10**6)
        self.assertSide(second, "America/New_York", _utc(2024, 11, 3, 6, 30) * 10**6)
        self.assertEqual(
            (first["abbreviation"], second["abbreviation"]), ("EDT", "EST")
        )
        for how, hour in (("earlier", 5), ("later", 6)):
            result = self.getJSON(_convert(**query, disambiguate=how))
            assert isinstance(result, dict)
            self.assertEqual(result["local_time"], "overlap")
            self.assertSide(
                result["to"], "Asia/Tokyo", _utc(2024, 11, 3, hour, 30) * 10**6
            )

    def test_edges(self) -> None:
        """
        Lord Howe's half-hour gap, Dublin's overlap, São Paulo's midnight
        gap and Samoa's skipped day are each found.
        """
        for name, time, problem in [
            ("Australia/Lord_Howe", "2024-10-06T02:15:00", "gap"),
            ("Australia/Lord_Howe", "2024-04-07T01:45:00", "overlap"),
            ("Europe/Dublin", "2024-10-27T01:30:00", "overlap"),
            ("Europe/Dublin", "2024-03-31T01:30:00", "gap"),
            ("America/Sao_Paulo", "2018-11-04T00:30:00", "gap"),
            ("Pacific/Apia", "2011-12-30T12:00:00", "gap"),
        ]:
            answer = self.getJSON(
                _convert(**{"from": name, "to": "UTC"}, time=time), 422
            )
            assert isinstance(answer, dict)
            self.assertEqual(answer["problem"], problem, (name, time))
        apia = self.getJSON(
            _convert(
                **{"from": "Pacific/Apia", "to": "UTC"},
                time="2011-12-30T12:00:00",
                disambiguate="later",
            )
        )
        assert isinstance(apia, dict)
        self.assertEqual(apia["from"]["datetime"], "2011-12-31T12:00:00.000000+14:00")

    @settings(max_examples=40, deadline=None)
    @given(
        st.sampled_from(ZONES),
        st.sampled_from(ZONES),
        st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
    )
    def test_roundTrip(self, source: str, target: str, local: datetime) -> None:
        """
        A local time not in a gap, converted and converted back, is itself;
        and its UTC instant is one C{zoneinfo} reads it as.
        """
        time = local.isoformat(timespec="microseconds")
        _, body = self.get(
            _convert(
                **{"from": source, "to": target}, time=time, disambiguate="earlier"
            )
        )
        there = json.loads(body)
        if there["local_time"] == "gap":
            return
        instant = datetime.fromisoformat(there["utc_datetime"])
        self.assertEqual(
            instant.astimezone(ZoneInfo(source)).replace(tzinfo=None), local
        )
        # Whole microseconds since the epoch, exactly: timestamp() is a
        # float, and int() of it rounds toward zero, the wrong way before 1970.
        self.assertSide(
            there["to"], target, (instant - _EPOCH) // timedelta(microseconds=1)
        )
        back = self.getJSON(
            _convert(
                **{"from": target, "to": source},
                time=there["to"]["datetime"][:26],
                disambiguate="earlier",
            ),
        )
        assert isinstance(back, dict)
        # Back in an overlap of the target, the earlier may be the other
        # reading: the later then gives it.
        if back["utc_datetime"] != there["utc_datetime"]:
            back = self.getJSON(
                _convert(
                    **{"from": target, "to": source},
                    time=there["to"]["datetime"][:26],
                    disambiguate="later",
                ),
            )
            assert isinstance(back, dict)
        self.assertEqual(back["to"]["datetime"][:26], time)

    def test_badParameters(self) -> None:
        """
        A missing or malformed parameter is a 400 naming it; not cached.
        """
        good = {"from": "Europe/Berlin", "to": "UTC", "time": "2024-07-01T12:00:00"}
        for name, value in [
            ("from", None),
            ("to", None),
            ("time", None),
            ("from", "not a zone!"),
            ("to", ""),
            ("time", "2024-07-01T12:00:00Z"),
            ("time", "2024-07-01T12:00:00+02:00"),
            ("time", "2024-02-30T12:00:00"),
            ("time", "1711848600"),
            ("time", "0999-07-01T12:00:00"),
            ("disambiguate", "compatible"),
            ("disambiguate", ""),
        ]:
            query = dict(good)
            if value is None:
                del query[name]
            else:
                query[name] = value
            response, body = self.get(_convert(**query))
            self.assertEqual(response.code, 400, (name, value, body))
            self.assertEqual(json.loads(body)["parameter"], name)
            self.assertNow(response)

    def test_unknownZone(self) -> None:
        """
        A zone no one has: 404 C{unknown location}, as elsewhere, naming
        the parameter.
        """
        for name in ("from", "to"):
            query = {
                "from": "Europe/Berlin",
                "to": "UTC",
                "time": "2024-07-01T12:00:00",
            }
            query[name] = "Europe/Atlantis"
            self.assertEqual(
                self.getJSON(_convert(**query), 404),
                {"error": "unknown location", "parameter": name},
            )

    def test_caseAndLinks(self) -> None:
        """
        Zone names in any letter case are answered in their canonical
        spelling.
        """
        answer = self.getJSON(
            _convert(
                **{"from": "europe/berlin", "to": "utc"}, time="2024-07-01T12:00:00"
            )
        )
        assert isinstance(answer, dict)
        self.assertEqual(
            (answer["from"]["timezone"], answer["to"]["timezone"]),
            ("Europe/Berlin", "UTC"),
        )


class TransitionsTests(Client):
    """
    C{/api/timezone/AREA/LOCATION[/REGION]/transitions}: a zone's
    transitions in a range.
    """

    def test_defaultRange(self) -> None:
        """
        Without a range: from now, for 365 days; about now, so uncached and
        with C{Clock-Status}.
        """
        response, body = self.get("/api/timezone/Europe/Berlin/transitions")
        self.assertEqual(response.code, 200)
        self.assertNow(response)
        answer = json.loads(body)
        self.assertEqual(answer["timezone"], "Europe/Berlin")
        self.assertEqual(answer["from"], "2001-09-09T01:46:40+00:00")
        self.assertEqual(answer["to"], "2002-09-09T01:46:40+00:00")
        self.assertEqual(
            [t["utc_datetime"] for t in answer["transitions"]],
            ["2001-10-28T01:00:00+00:00", "2002-03-31T01:00:00+00:00"],
        )

    def test_givenRange(self) -> None:
        """
        A range that starts at a given instant is cacheable by anyone; its
        transitions are those the time layer finds, each checked against
        zoneinfo in L{tests.test_transitions}.
        """
        response, body = self.get(
            "/api/timezone/America/Argentina/Buenos_Aires/transitions"
            "?from=1999-01-01T00:00:00Z&to=2010-01-01T00:00:00-03:00"
        )
        self.assertEqual(response.code, 200)
        self.assertFixed(response, b"public, max-age=86400")
        answer = json.loads(body)
        expected = transitionsBetween(
            ZoneInfo("America/Argentina/Buenos_Aires"),
            _utc(1999, 1, 1),
            _utc(2010, 1, 1, 3),
        )
        self.assertEqual(answer["transitions"], expected)
        self.assertEqual(len(expected), 6)
        self.assertEqual(answer["to"], "2010-01-01T03:00:00+00:00")

    def test_fromOnly(self) -> None:
        """
        C{from} alone: a year of 365 days from it.
        """
        answer = self.getJSON(
            "/api/timezone/Europe/Dublin/transitions?from=2024-01-01T00:00:00Z"
        )
        assert isinstance(answer, dict)
        self.assertEqual(answer["to"], "2024-12-31T00:00:00+00:00")
        self.assertEqual(
            [(t["after"]["abbreviation"], t["dst"]) for t in answer["transitions"]],
            [("IST", True), ("GMT", False)],
        )

    def test_fractionalEnds(self) -> None:
        """
        The range holds the transitions at or after C{from} and before
        C{to}, fractions and all.
        """
        spring = _utc(2024, 3, 31, 1)
        for start, end, count in [
            (f"{spring}", f"{spring}.000001", 1),
            (f"{spring - 1}.5", f"{spring}.5", 1),
            (f"{spring}.5", f"{spring + 1}", 0),
            (f"{spring - 1}", f"{spring}", 0),
        ]:
            answer = self.getJSON(
                f"/api/timezone/Europe/Berlin/transitions?from={start}&to={end}"
            )
            assert isinstance(answer, dict)
            self.assertEqual(len(answer["transitions"]), count, (start, end))

    def test_emptyRange(self) -> None:
        """
        C{from} equal to C{to} is the empty range, from C{from} on and before
        C{to}: no transitions, even at an instant that is one, cacheable.
        """
        path = "/api/timezone/Europe/Berlin/transitions?"
        # 2024-03-31T01:00:00Z: Berlin's clocks went forward.
        for instant in ["0", "1711846800", "2024-03-31T03:00:00%2B02:00"]:
            response, body = self.get(path + f"from={instant}&to={instant}")
            self.assertEqual(response.code, 200, instant)
            answer = json.loads(body)
            self.assertEqual(answer["transitions"], [], instant)
            self.assertEqual(answer["from"], answer["to"], instant)
            self.assertFixed(response, b"public, max-age=86400")

    def test_bounds(self) -> None:
        """
        The range must not be backwards nor longer than 100 years of 365.25
        days: 400 naming C{to}, uncached.
        """
        path = "/api/timezone/Europe/Berlin/transitions?"
        century = self.getJSON(path + "from=0&to=3155760000")
        assert isinstance(century, dict)
        self.assertGreater(len(century["transitions"]), 100)
        for query, reason in [
            ("from=0&to=3155760000.000001", "at most 100 years after from"),
            ("from=10&to=0", "not before from"),
            ("from=0.000001&to=0", "not before from"),
            ("to=0", "not before from"),
        ]:
            response, body = self.get(path + query)
            self.assertEqual(response.code, 400, query)
            self.assertEqual(
                json.loads(body),
                {"error": "invalid query parameter to: " + reason, "parameter": "to"},
            )
            self.assertNow(response)
        for query, name in [
            ("from=yesterday", "from"),
            ("to=2024-02-30T00:00:00Z", "to"),
        ]:
            answer = self.getJSON(path + query, 400)
            assert isinstance(answer, dict)
            self.assertEqual(answer["parameter"], name)

    def test_notAZone(self) -> None:
        """
        C{transitions} is a last segment after a zone's name only: after an
        area, an unknown zone, or with C{.txt}, it is 404; and no zone's name
        ends in it, so no path is both.
        """
        for path in [
            "/api/timezone/America/Argentina/transitions",
            "/api/timezone/Europe/Atlantis/transitions",
            "/api/timezone/Europe/Berlin/transitions.txt",
            "/api/timezone/Europe/Berlin/Transitions",
            "/api/timezone/America/Argentina/Salta/Extra/transitions",
            "/api/timezone/%FF/Berlin/transitions",
        ]:
            response, _ = self.get(path)
            self.assertEqual(response.code, 404, path)
        for name in defaultCatalogue.names():
            self.assertNotIn("transitions", name.casefold().split("/"), name)

    def test_anyCase(self) -> None:
        """
        The zone's name is read in any letter case, and answered canonical.
        """
        answer = self.getJSON("/api/timezone/europe/berlin/transitions?from=0")
        assert isinstance(answer, dict)
        self.assertEqual(answer["timezone"], "Europe/Berlin")
