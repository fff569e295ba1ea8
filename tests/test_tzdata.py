"""
Tests for L{clocksvc._time._tzdata}: which zone database clocksvc answers
from, the system's or the C{tzdata} package's, and C{--tzdata}.

A fake system database stands in for a stale one: a directory with a few
real TZif files and a C{tzdata.zi} that says which release it is. Its
C{Europe/Berlin} holds Tokyo's rules, so that an answer says at once which
database it came from: +02:00 on 2001-09-09 from the package's Berlin,
+09:00 from the fake's.
"""

from __future__ import annotations

import importlib
import json
import sys
import zoneinfo
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import treq
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.client import HTTPConnectionPool

from clocksvc._time import (
    ZoneCatalogue,
    ZoneDatabase,
    chooseZoneDatabase,
    tzifBytes,
    useZoneDatabase,
    zoneDatabase,
    zoneDatabases,
)
from clocksvc._time._tzdata import tzVersionKey
from clocksvc._web._api import zoneListBody

from ._helpers import BILLENNIUM, keepZoneDatabase
from ._process import ClocksvcProcess, spawnClocksvc

#: The tzdata package's release, which the fake system's is older or newer
#: than.
PACKAGE = ZoneDatabase("package", importlib.import_module("tzdata").IANA_VERSION)

#: 2001-09-09T01:46:40Z: summer time in Berlin (+02:00); +09:00 in Tokyo.
INSTANT = datetime.fromtimestamp(BILLENNIUM, timezone.utc)


def packageTZif(key: str) -> bytes:
    """
    @return: the C{tzdata} package's TZif file of zone C{key}.
    """
    *package, name = key.split("/")
    found = resources.files(".".join(["tzdata.zoneinfo", *package])) / name
    return found.read_bytes()


def fakeSystem(
    testCase: SynchronousTestCase,
    version: str | None,
    versionFile: str = "tzdata.zi",
) -> str:
    """
    Make a system zone database in a temporary directory: C{UTC},
    C{Europe/Berlin} with Tokyo's rules, and C{Mars/Olympus_Mons}, a zone no
    real database has.

    @param version: the release it says it is, in C{versionFile}; L{None}
        for a database that does not say.
    @param versionFile: C{tzdata.zi} (C{# version 2025b}) or C{+VERSION}
        (C{2025b}).
    @return: its directory.
    """
    directory = Path(testCase.mktemp()).resolve()
    (directory / "Europe").mkdir(parents=True)
    (directory / "Mars").mkdir()
    (directory / "UTC").write_bytes(packageTZif("UTC"))
    (directory / "Europe" / "Berlin").write_bytes(packageTZif("Asia/Tokyo"))
    (directory / "Mars" / "Olympus_Mons").write_bytes(packageTZif("UTC"))
    if version is not None:
        prefix = "# version " if versionFile == "tzdata.zi" else ""
        (directory / versionFile).write_text(f"{prefix}{version}\n# more\n")
    return str(directory)


def berlinOffset() -> timedelta | None:
    """
    @return: Berlin's offset at L{INSTANT}, as C{zoneinfo} reads it now.
    """
    return INSTANT.astimezone(zoneinfo.ZoneInfo("Europe/Berlin")).utcoffset()


class VersionTests(SynchronousTestCase):
    """
    L{tzVersionKey} orders tz releases as they came out.
    """

    def test_order(self) -> None:
        """
        By year, then letter; C{z} before C{za}; anything that is not a
        release before every release.
        """
        versions = ["2026f", "2025za", "unknown", "2025b", "1996l", "2025z", ""]
        self.assertEqual(
            sorted(versions, key=tzVersionKey),
            ["unknown", "", "1996l", "2025b", "2025z", "2025za", "2026f"],
        )


class ChooseTests(SynchronousTestCase):
    """
    L{chooseZoneDatabase} chooses as C{--tzdata} asks: the newer under
    C{newest}, or the one pinned.
    """

    def test_olderSystem(self) -> None:
        """
        A system database older than the package: both are found, and the
        package is the newest.
        """
        system = fakeSystem(self, "2000a")
        found = zoneDatabases([system])
        self.assertEqual(found, [ZoneDatabase("system", "2000a", system), PACKAGE])
        self.assertEqual(chooseZoneDatabase("newest", [system]), PACKAGE)

    def test_newerSystem(self) -> None:
        """
        A system database newer than the package is the newest.
        """
        system = fakeSystem(self, "2099z")
        self.assertEqual(
            chooseZoneDatabase("newest", [system]),
            ZoneDatabase("system", "2099z", system),
        )

    def test_tie(self) -> None:
        """
        The same release in both: the system's, which zoneinfo prefers.
        """
        system = fakeSystem(self, PACKAGE.version)
        self.assertEqual(chooseZoneDatabase("newest", [system]).source, "system")

    def test_pinned(self) -> None:
        """
        C{system} and C{package} choose their database, whichever is newer.
        """
        older, newer = fakeSystem(self, "2000a"), fakeSystem(self, "2099z")
        self.assertEqual(
            chooseZoneDatabase("system", [older]),
            ZoneDatabase("system", "2000a", older),
        )
        self.assertEqual(chooseZoneDatabase("package", [newer]), PACKAGE)

    def test_versionFiles(self) -> None:
        """
        The system's release is read from C{tzdata.zi}'s first line, or from
        C{+VERSION}; a database that says neither is C{unknown}, and loses
        to one that says, however new it may be.
        """
        plus = fakeSystem(self, "2099z", "+VERSION")
        self.assertEqual(zoneDatabases([plus])[0].version, "2099z")
        silent = fakeSystem(self, None)
        self.assertEqual(
            zoneDatabases([silent])[0], ZoneDatabase("system", "unknown", silent)
        )
        self.assertEqual(chooseZoneDatabase("newest", [silent]), PACKAGE)
        # A development build's version is not a release either.
        odd = fakeSystem(self, "2099z-12-gabcdef")
        self.assertEqual(zoneDatabases([odd])[0].version, "unknown")

    def test_firstDirectory(self) -> None:
        """
        The system's database is the first directory that has zone files,
        as zoneinfo searches them.
        """
        empty = Path(self.mktemp())
        empty.mkdir()
        system = fakeSystem(self, "2000a")
        self.assertEqual(
            zoneDatabases([str(empty), system, fakeSystem(self, "2099z")])[0],
            ZoneDatabase("system", "2000a", system),
        )

    def test_noSystem(self) -> None:
        """
        Without system zone files, C{newest} is the package, and C{system}
        is refused in one line naming the directories looked in.
        """
        empty = Path(self.mktemp()).resolve()
        empty.mkdir()
        self.assertEqual(zoneDatabases([str(empty)]), [PACKAGE])
        self.assertEqual(chooseZoneDatabase("newest", [str(empty)]), PACKAGE)
        with self.assertRaises(ValueError) as raised:
            chooseZoneDatabase("system", [str(empty), "/nowhere"])
        self.assertEqual(
            str(raised.exception),
            f"--tzdata system: no zone files in {empty}, /nowhere",
        )

    def test_noPackage(self) -> None:
        """
        Without the tzdata package, C{newest} is the system's, C{package} is
        refused; and with neither, every choice is.
        """
        # None in sys.modules makes the import fail, as if not installed.
        self.addCleanup(sys.modules.__setitem__, "tzdata", sys.modules["tzdata"])
        sys.modules["tzdata"] = None  # type: ignore[assignment]
        system = fakeSystem(self, "2000a")
        self.assertEqual(chooseZoneDatabase("newest", [system]).source, "system")
        with self.assertRaises(ValueError) as raised:
            chooseZoneDatabase("package", [system])
        self.assertEqual(
            str(raised.exception),
            "--tzdata package: the tzdata package is not installed",
        )
        with self.assertRaises(ValueError) as raised:
            chooseZoneDatabase("newest", [])
        self.assertEqual(
            str(raised.exception),
            "no zone database: no system zone files and no tzdata package",
        )

    def test_badChoice(self) -> None:
        """
        Anything but the three choices is refused, naming them.
        """
        with self.assertRaises(ValueError) as raised:
            chooseZoneDatabase("latest")
        self.assertEqual(
            str(raised.exception),
            "--tzdata needs one of newest, system, package, not 'latest'",
        )

    def test_describe(self) -> None:
        """
        Each says in a few words what it is, for the start-up log.
        """
        self.assertEqual(
            ZoneDatabase("system", "2025b", "/usr/share/zoneinfo").describe(),
            "the system's 2025b (in /usr/share/zoneinfo)",
        )
        self.assertEqual(
            ZoneDatabase("package", "2026f").describe(), "the tzdata package's 2026f"
        )


class UseTests(SynchronousTestCase):
    """
    L{useZoneDatabase} makes every zone come from the chosen database, and
    L{zoneDatabase} and L{tzifBytes} say the same.
    """

    def setUp(self) -> None:
        keepZoneDatabase(self)

    def test_staleSystemShadows(self) -> None:
        """
        The fake is what a stale system database does to zoneinfo: it
        answers from it, though the package is newer.
        """
        zoneinfo.reset_tzpath(to=[fakeSystem(self, "2000a")])
        zoneinfo.ZoneInfo.clear_cache()
        self.assertEqual(berlinOffset(), timedelta(hours=9))

    def test_packageWins(self) -> None:
        """
        With the newest chosen over an older system database, every zone
        comes from the package: Berlin is +02:00, its TZif bytes are the
        package's, and the database in use says so.
        """
        system = fakeSystem(self, "2000a")
        zoneinfo.reset_tzpath(to=[system])
        # A zone made before the choice, which the choice forgets.
        zoneinfo.ZoneInfo("Europe/Berlin")
        useZoneDatabase(chooseZoneDatabase("newest", [system]))
        self.assertEqual(berlinOffset(), timedelta(hours=2))
        self.assertEqual(tzifBytes("Europe/Berlin"), packageTZif("Europe/Berlin"))
        self.assertEqual(zoneDatabase(), PACKAGE)
        self.assertIs(zoneDatabase(), zoneDatabase())

    def test_systemWins(self) -> None:
        """
        With a newer system database, every zone comes from it.
        """
        system = fakeSystem(self, "2099z")
        useZoneDatabase(chooseZoneDatabase("newest", [system]))
        self.assertEqual(berlinOffset(), timedelta(hours=9))
        self.assertEqual(tzifBytes("Europe/Berlin"), packageTZif("Asia/Tokyo"))
        self.assertEqual(zoneDatabase(), ZoneDatabase("system", "2099z", system))

    def test_systemPinned(self) -> None:
        """
        C{--tzdata system} answers from the system's, older as it is; a zone
        it lacks is still found in the package, as zoneinfo finds it.
        """
        system = fakeSystem(self, "2000a")
        useZoneDatabase(chooseZoneDatabase("system", [system]))
        self.assertEqual(berlinOffset(), timedelta(hours=9))
        self.assertEqual(tzifBytes("Asia/Tokyo"), packageTZif("Asia/Tokyo"))
        self.assertEqual(zoneDatabase().source, "system")

    def test_catalogueFollows(self) -> None:
        """
        The catalogue lists the zones of the database in use, listing them
        again when another is chosen.
        """
        system = fakeSystem(self, "2099z")
        catalogue = ZoneCatalogue()
        useZoneDatabase(chooseZoneDatabase("system", [system]))
        self.assertEqual(catalogue.canonical("mars/olympus_mons"), "Mars/Olympus_Mons")
        self.assertIn(b'"Mars/Olympus_Mons"', zoneListBody(catalogue))
        useZoneDatabase(PACKAGE)
        self.assertIsNone(catalogue.canonical("mars/olympus_mons"))
        self.assertEqual(catalogue.canonical("europe/berlin"), "Europe/Berlin")
        # The kept body of the whole list follows the catalogue's list.
        self.assertNotIn(b"Mars", zoneListBody(catalogue))

    def test_tzifKeys(self) -> None:
        """
        L{tzifBytes} reads no file outside the database, and says so of a
        zone that no database has.
        """
        useZoneDatabase(chooseZoneDatabase("system", [fakeSystem(self, "2000a")]))
        for key in ["/etc/passwd", "../UTC", "Europe/../UTC", "Europe/Berlin/"]:
            self.assertRaises(ValueError, tzifBytes, key)
        for key in ["Mars/Phobos", "Nowhere"]:
            self.assertRaises(zoneinfo.ZoneInfoNotFoundError, tzifBytes, key)
        useZoneDatabase(PACKAGE)
        self.assertRaises(zoneinfo.ZoneInfoNotFoundError, tzifBytes, "Mars/Phobos")
        self.assertEqual(tzifBytes("UTC"), packageTZif("UTC"))


class ProcessTests(TestCase):
    """
    C{python -m clocksvc} on a machine whose system zone database is the
    fake (C{PYTHONTZPATH}), as a real process.
    """

    timeout = 120

    async def serve(
        self, system: str, *args: str
    ) -> tuple[str, ClocksvcProcess, HTTPConnectionPool]:
        """
        Start clocksvc with C{system} as the system's zone database.

        @return: its URL, the process, and a pool to ask it with.
        """
        process = spawnClocksvc(
            "--listen",
            "tcp:0:interface=127.0.0.1",
            "--access-log",
            "off",
            *args,
            environment={"PYTHONTZPATH": system},
        )

        async def kill() -> None:
            process.signal("KILL")
            await process.exited

        self.addCleanup(lambda: Deferred.fromCoroutine(kill()))
        line = (await process.firstLine).decode()
        prefix = "clocksvc: serving "
        self.assertTrue(line.startswith(prefix), (line, process.stderr))
        return line[len(prefix) :], process, HTTPConnectionPool(reactor, False)

    async def answers(
        self, system: str, *args: str
    ) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
        """
        Ask a clocksvc whose system database is C{system} for Berlin's
        offset at L{INSTANT}, its C{/healthz} and its C{/metrics}, stop it,
        and read its start-up line about the zone database.

        @return: the offset, C{/healthz}'s C{tzdata}, the metric's line,
            and the start-up event.
        """
        url, process, pool = await self.serve(system, *args)
        response = await treq.get(
            url + "api/timezone/Europe/Berlin?at=1000000000", pool=pool
        )
        offset = json.loads(await response.content())["utc_offset"]
        response = await treq.get(url + "healthz", pool=pool)
        health = json.loads(await response.content())["tzdata"]
        response = await treq.get(url + "metrics", pool=pool)
        [metric] = [
            line
            for line in (await response.content()).decode().splitlines()
            if line.startswith("clocksvc_tzdata_info{")
        ]
        process.signal("TERM")
        self.assertEqual(await process.exited, 0)
        [started] = [
            event
            for event in map(json.loads, _logLines(process.stderr))
            if event.get("event") == "tzdata"
        ]
        return offset, health, metric, started

    async def test_packageWins(self) -> None:
        """
        Over an older system database, the package answers, and C{/healthz},
        C{/metrics} and the start-up log say so.
        """
        system = fakeSystem(self, "2000a")
        offset, health, metric, started = await self.answers(system)
        self.assertEqual(offset, "+02:00")
        self.assertEqual(health, {"source": "package", "version": PACKAGE.version})
        self.assertEqual(
            metric,
            f'clocksvc_tzdata_info{{source="package",version="{PACKAGE.version}"}} 1.0',
        )
        self.assertEqual(
            started["message"],
            f"zone database: the tzdata package's {PACKAGE.version}; also found "
            f"the system's 2000a (in {system})",
        )

    async def test_systemWins(self) -> None:
        """
        A newer system database answers, and they say so.
        """
        system = fakeSystem(self, "2099z")
        offset, health, metric, started = await self.answers(system)
        self.assertEqual(offset, "+09:00")
        self.assertEqual(health, {"source": "system", "version": "2099z"})
        self.assertEqual(
            metric, 'clocksvc_tzdata_info{source="system",version="2099z"} 1.0'
        )
        self.assertEqual((started["source"], started["version"]), ("system", "2099z"))

    async def test_systemPinned(self) -> None:
        """
        C{--tzdata system} pins the older system database.
        """
        system = fakeSystem(self, "2000a")
        offset, health, _, _ = await self.answers(system, "--tzdata", "system")
        self.assertEqual(offset, "+09:00")
        self.assertEqual(health, {"source": "system", "version": "2000a"})

    async def test_noSystem(self) -> None:
        """
        C{--tzdata system} where there is no system database: one line on
        stderr, exit status 2.
        """
        empty = Path(self.mktemp()).resolve()
        empty.mkdir()
        process = spawnClocksvc(
            "--tzdata", "system", environment={"PYTHONTZPATH": str(empty)}
        )
        self.assertEqual(await process.exited, 2)
        self.assertEqual(
            process.stderr.decode(),
            f"clocksvc: --tzdata system: no zone files in {empty} (see --help)\n",
        )
        self.assertEqual(process.stdout, b"")


def _logLines(stderr: bytes) -> list[str]:
    """
    @return: the log's lines in C{stderr} (C{--access-log off}), without
        those for people beside them.
    """
    return [line for line in stderr.decode().splitlines() if line.startswith("{")]
