"""
Tests for L{clocksvc._time._zones}: the catalogue of zone names.
"""

from __future__ import annotations

import zoneinfo
from zoneinfo import ZoneInfo

from twisted.trial.unittest import SynchronousTestCase

from clocksvc._time import _zones
from clocksvc._time._zones import ZoneCatalogue

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
            [
                "America/Argentina/Salta",
                "America/New_York",
                "Europe/Berlin",
                "Europe/Paris",
                "UTC",
            ],
        )

    def test_namesIsACopy(self) -> None:
        """
        Changing the list returned does not change the catalogue.
        """
        self.catalogue.names().clear()
        self.assertEqual(len(self.catalogue.names()), 5)

    def test_duplicates(self) -> None:
        """
        A name given twice is listed once.
        """
        self.assertEqual(ZoneCatalogue(["UTC", "UTC"]).names(), ["UTC"])

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
        self.assertEqual(catalogue.names(), ["Europe/Berlin", "UTC"])
        self.assertEqual(catalogue.area("europe"), ["Europe/Berlin"])
        self.assertEqual(len(calls), 1)
