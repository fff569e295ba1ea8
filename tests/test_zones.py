"""
Tests for L{clocksvc._time._zones}: the catalogue of zone names.
"""

from __future__ import annotations

import zoneinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from twisted.trial.unittest import SynchronousTestCase

from clocksvc._time import _zones
from clocksvc._time._zones import ZoneCatalogue, localZoneName, serverZoneName

from ._helpers import useTimezone

#: A few names in no particular order, with the three that are not places.
NAMES = [
    "Europe/Berlin",
    "Europe/Paris",
    "America/Argentina/Salta",
    "America/New_York",
    "UTC",
    "localtime",
    "Factory",
    "posixrules",
]


class ZoneCatalogueTests(SynchronousTestCase):
    """
    L{ZoneCatalogue} lists the names it is given and looks them up in any
    letter case.
    """

    def setUp(self) -> None:
        self.catalogue = ZoneCatalogue(NAMES)

    def test_names(self) -> None:
        """
        The names are sorted, without those that name no place.
        """
        self.assertEqual(
            self.catalogue.names(),
            (
                "America/Argentina/Salta",
                "America/New_York",
                "Europe/Berlin",
                "Europe/Paris",
                "UTC",
            ),
        )

    def test_namesKept(self) -> None:
        """
        The names are the same tuple each time, which no caller can change,
        so that what is made from them can be kept while they are.
        """
        self.assertIs(self.catalogue.names(), self.catalogue.names())
        self.assertIsInstance(self.catalogue.names(), tuple)

    def test_duplicates(self) -> None:
        """
        A name given twice is listed once.
        """
        self.assertEqual(ZoneCatalogue(["UTC", "UTC"]).names(), ("UTC",))

    def test_canonical(self) -> None:
        """
        A name in any letter case is answered in its canonical spelling.
        """
        for name in [
            "Europe/Berlin",
            "europe/berlin",
            "EUROPE/BERLIN",
            "eUrOpE/bErLiN",
        ]:
            self.assertEqual(self.catalogue.canonical(name), "Europe/Berlin", name)
        self.assertEqual(self.catalogue.canonical("utc"), "UTC")

    def test_canonicalUnknown(self) -> None:
        """
        An unknown name, a prefix of a known one, or a name that is not a
        place has no canonical spelling.
        """
        for name in ["Europe/Nowhere", "Europe", "Europe/Berli", "", "localtime"]:
            self.assertIsNone(self.catalogue.canonical(name), name)

    def test_area(self) -> None:
        """
        An area, in any letter case, lists the zones below it at any depth.
        """
        self.assertEqual(
            self.catalogue.area("america"),
            ["America/Argentina/Salta", "America/New_York"],
        )
        self.assertEqual(
            self.catalogue.area("America/Argentina"), ["America/Argentina/Salta"]
        )
        self.assertEqual(
            self.catalogue.area("EUROPE/"), ["Europe/Berlin", "Europe/Paris"]
        )

    def test_areaWholeSegment(self) -> None:
        """
        An area must be whole path segments: C{"Eur"} is not C{"Europe"}.
        """
        self.assertEqual(self.catalogue.area("Eur"), [])

    def test_notAnArea(self) -> None:
        """
        A name that is no area, or that is a zone rather than an area, lists
        nothing.
        """
        for name in ["nope", "Europe/Berlin", "UTC", ""]:
            self.assertEqual(self.catalogue.area(name), [], name)

    def test_zone(self) -> None:
        """
        A zone is loaded under its canonical name, whatever case it is asked
        for in.
        """
        zone = self.catalogue.zone("america/new_york")
        if zone is None:
            self.fail("no zone for america/new_york")
        self.assertEqual(zone.key, "America/New_York")
        # ZoneInfo caches by key, so this is the very zone a ZoneInfo call
        # with the canonical name makes.
        self.assertIs(zone, ZoneInfo("America/New_York"))

    def test_zoneUnknown(self) -> None:
        """
        An unknown name, or one that is not a place, has no zone.
        """
        self.assertIsNone(self.catalogue.zone("Mars/Olympus_Mons"))
        self.assertIsNone(self.catalogue.zone("Factory"))


class DefaultCatalogueTests(SynchronousTestCase):
    """
    Without names, L{ZoneCatalogue} lists the zone database, once, when
    first asked.
    """

    def test_database(self) -> None:
        """
        The database's zones are listed, and there are hundreds of them.
        """
        names = ZoneCatalogue().names()
        self.assertIn("Europe/Berlin", names)
        self.assertNotIn("localtime", names)
        self.assertGreaterEqual(len(names), 400)

    def test_defaultCatalogue(self) -> None:
        """
        The shared catalogue reads the zone database.
        """
        self.assertEqual(
            _zones.defaultCatalogue.canonical("america/sao_paulo"),
            "America/Sao_Paulo",
        )

    def test_lazy(self) -> None:
        """
        The database is read on first use, not when the catalogue is made,
        and only once.
        """
        calls: list[None] = []

        def availableTimezones() -> set[str]:
            calls.append(None)
            return {"Europe/Berlin", "UTC", "posixrules"}

        # clocksvc._zones calls it through the module, so patch it there.
        self.patch(zoneinfo, "available_timezones", availableTimezones)
        catalogue = ZoneCatalogue()
        self.assertEqual(calls, [])
        self.assertEqual(catalogue.canonical("utc"), "UTC")
        self.assertEqual(catalogue.names(), ("Europe/Berlin", "UTC"))
        self.assertEqual(catalogue.area("europe"), ["Europe/Berlin"])
        self.assertEqual(len(calls), 1)


class LocalZoneNameTests(SynchronousTestCase):
    """
    L{localZoneName} names the zone the C library shows local time in.
    """

    def setUp(self) -> None:
        self.directory = Path(self.mktemp())
        self.directory.mkdir()
        self.localtime = self.directory / "localtime"
        self.timezone = self.directory / "timezone"

    def name(self, environ: dict[str, str] | None = None) -> str | None:
        """
        @return: the local zone's name, with C{environ} and this test's
            C{/etc/localtime} and C{/etc/timezone}.
        """
        return localZoneName(
            {} if environ is None else environ,
            str(self.localtime),
            str(self.timezone),
        )

    def test_tz(self) -> None:
        """
        C{TZ} names the zone, with or without the C{:} POSIX allows, or as
        the path of its file; empty, it is UTC.
        """
        for tz, name in [
            ("Asia/Tokyo", "Asia/Tokyo"),
            (":America/New_York", "America/New_York"),
            ("/usr/share/zoneinfo/Europe/Berlin", "Europe/Berlin"),
            (":/usr/share/zoneinfo/posix/Europe/Paris", "Europe/Paris"),
            ("", "UTC"),
            ("UTC", "UTC"),
        ]:
            self.assertEqual(self.name({"TZ": tz}), name, tz)

    def test_tzWithoutName(self) -> None:
        """
        A C{TZ} that names no zone clocksvc knows has no name: a POSIX rule,
        a name spelt otherwise than its file (which the C library would not
        find), a file outside a zone database.
        """
        for tz in ["JST-9", "EST5EDT,M3.2.0,M11.1.0", "asia/tokyo", "/etc/nowhere"]:
            self.assertIsNone(self.name({"TZ": tz}), tz)

    def test_tzFirst(self) -> None:
        """
        C{TZ} wins over C{/etc/localtime}.
        """
        self.localtime.symlink_to("/usr/share/zoneinfo/Europe/Berlin")
        self.assertEqual(self.name({"TZ": "Asia/Tokyo"}), "Asia/Tokyo")

    def test_link(self) -> None:
        """
        Without C{TZ}, C{/etc/localtime}'s link names the zone, whether or
        not its target is there.
        """
        self.localtime.symlink_to("../usr/share/zoneinfo/America/Sao_Paulo")
        self.assertEqual(self.name(), "America/Sao_Paulo")

    def test_noLocaltime(self) -> None:
        """
        Without C{TZ} and C{/etc/localtime}, local time is UTC, as the C
        library has it.
        """
        self.assertEqual(self.name(), "UTC")

    def test_copy(self) -> None:
        """
        A copy of a zone's file at C{/etc/localtime}, or a link to a file
        that is not in a zone database, is named by C{/etc/timezone}; or
        not at all.
        """
        self.localtime.write_bytes(b"TZif")
        self.assertIsNone(self.name())
        self.timezone.write_text("Europe/Paris\n")
        self.assertEqual(self.name(), "Europe/Paris")
        self.localtime.unlink()
        self.localtime.symlink_to("/nix/store/abc-tzdata/share/zone")
        self.assertEqual(self.name(), "Europe/Paris")
        self.timezone.write_text("Mars/Olympus_Mons\n")
        self.assertIsNone(self.name())


class ServerZoneNameTests(SynchronousTestCase):
    """
    L{serverZoneName} decides the server's one zone: the one given, else
    the local one, else UTC.
    """

    def test_given(self) -> None:
        """
        A zone given in any letter case is the server's, spelt canonically.
        """
        useTimezone(self, "Asia/Kathmandu")
        self.assertEqual(serverZoneName("asia/tokyo"), ("Asia/Tokyo", "given"))

    def test_unknown(self) -> None:
        """
        A name that is no zone's is refused.
        """
        with self.assertRaises(ValueError) as raised:
            serverZoneName("Mars/Base")
        self.assertEqual(str(raised.exception), "unknown time zone 'Mars/Base'")

    def test_local(self) -> None:
        """
        Without one, the process's local zone.
        """
        useTimezone(self, "Asia/Kathmandu")
        self.assertEqual(serverZoneName(None), ("Asia/Kathmandu", "local"))

    def test_fallback(self) -> None:
        """
        A local zone without a name: UTC, saying so.
        """
        useTimezone(self, "JST-9")
        self.assertEqual(serverZoneName(None), ("UTC", "fallback"))
