# -*- test-case-name: tests.test_tzdata -*-
"""
Which zone database clocksvc answers from: the system's zone files or the
C{tzdata} package's, whichever is newer unless the operator pins one
(C{--tzdata system|package|newest}).

C{zoneinfo} looks a zone up in the system's directories (C{zoneinfo.TZPATH})
first and in the C{tzdata} package only for a zone they lack, so that a
machine whose system files are older than the package answers every zone
changed since from the old rules. L{useZoneDatabase} makes C{zoneinfo}
read the chosen one, process-wide, before any zone is made; from then on
every C{ZoneInfo(key)} (the catalogue's, the documents', the conversions')
and every L{tzifBytes} comes from it, so that nothing decides twice.
"""

from __future__ import annotations

import importlib
import os
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = [
    "TZDATA_CHOICES",
    "ZoneDatabase",
    "chooseZoneDatabase",
    "tzVersionKey",
    "tzifBytes",
    "useZoneDatabase",
    "zoneDatabase",
    "zoneDatabases",
]

#: The values of C{--tzdata}.
TZDATA_CHOICES = ("newest", "system", "package")

#: The directories C{zoneinfo} was configured with (C{PYTHONTZPATH}, or
#: Python's build), before L{useZoneDatabase} narrows them: where the
#: system's database is looked for, whatever was chosen since.
_CONFIGURED: tuple[str, ...] = zoneinfo.TZPATH

# A tz release: the year and one or more letters, as 2025b. The letters
# run a..z and then, should a year ever need more, za, zb, ...
_VERSION = re.compile(r"(\d{4})([a-z]+)")


@dataclass(frozen=True)
class ZoneDatabase:
    """
    A zone database clocksvc can answer from.

    @ivar source: C{"system"} (zone files in a directory of the system's)
        or C{"package"} (the C{tzdata} Python package).
    @ivar version: its tz release, as C{"2026f"}; C{"unknown"} where it
        does not say.
    @ivar directory: the system's directory; L{None} for the package.
    """

    source: str
    version: str
    directory: str | None = None

    def describe(self) -> str:
        """
        @return: it in a few words, for the log: C{the system's 2025b (in
            /usr/share/zoneinfo)} or C{the tzdata package's 2026f}.
        """
        if self.directory is None:
            return f"the tzdata package's {self.version}"
        return f"the system's {self.version} (in {self.directory})"


def tzVersionKey(version: str) -> tuple[int, int, str]:
    """
    Order tz releases: by year, then by letters (C{2026f} after C{2025z},
    C{2025z} before C{2025za}). A version that is not one sorts first.

    @param version: a tz release, such as C{"2025b"}, or anything else.
    @return: a key that sorts releases in the order they came out.
    """
    found = _VERSION.fullmatch(version)
    if found is None:
        return (-1, 0, "")
    year, letters = found.groups()
    return (int(year), len(letters), letters)


def _systemVersion(directory: Path) -> str:
    """
    @return: the tz release of the zone files in C{directory}, from the
        first line of C{tzdata.zi} (C{# version 2025b}) or from C{+VERSION};
        C{"unknown"} if neither says.
    """
    for name in ("tzdata.zi", "+VERSION"):
        try:
            with (directory / name).open(encoding="utf-8") as f:
                first = f.readline(200)
        except (OSError, UnicodeDecodeError):
            continue
        version = first.removeprefix("# version").strip()
        if _VERSION.fullmatch(version):
            return version
    return "unknown"


def _systemDatabase(tzpath: Sequence[str]) -> ZoneDatabase | None:
    """
    @return: the first directory of C{tzpath} that holds zone files (it has
        C{UTC}), as C{zoneinfo} would read it; L{None} if none does.
    """
    for directory in map(Path, tzpath):
        if (directory / "UTC").is_file():
            return ZoneDatabase("system", _systemVersion(directory), str(directory))
    return None


def _packageDatabase() -> ZoneDatabase | None:
    """
    @return: the C{tzdata} package, if it is installed.
    """
    try:
        # The tzdata package has no type information; import it by name.
        package = importlib.import_module("tzdata")
    except ImportError:
        return None
    version = str(getattr(package, "IANA_VERSION", ""))
    return ZoneDatabase(
        "package", version if _VERSION.fullmatch(version) else "unknown"
    )


def zoneDatabases(tzpath: Sequence[str] | None = None) -> list[ZoneDatabase]:
    """
    @param tzpath: the directories to look for the system's database in;
        by default those C{zoneinfo} was configured with.
    @return: the databases there are: the system's first, if there is one,
        then the package, if it is installed.
    """
    found = [
        _systemDatabase(_CONFIGURED if tzpath is None else tzpath),
        _packageDatabase(),
    ]
    return [database for database in found if database is not None]


def chooseZoneDatabase(
    choice: str, tzpath: Sequence[str] | None = None
) -> ZoneDatabase:
    """
    Choose the database to answer from, as C{--tzdata} asks.

    Under C{newest}, the newer release wins; one whose version cannot be
    read loses to one whose version can; and a tie goes to the system's,
    which C{zoneinfo} (and the C library) prefer.

    @param choice: one of L{TZDATA_CHOICES}.
    @param tzpath: the directories to look for the system's database in;
        by default those C{zoneinfo} was configured with.
    @return: the chosen one.
    @raise ValueError: if C{choice} is not one of L{TZDATA_CHOICES}, or
        names a database there is not, or there is none at all: one line
        for the operator.
    """
    if choice not in TZDATA_CHOICES:
        raise ValueError(
            f"--tzdata needs one of {', '.join(TZDATA_CHOICES)}, not {choice!r}"
        )
    tzpath = _CONFIGURED if tzpath is None else tuple(tzpath)
    found = zoneDatabases(tzpath)
    if choice != "newest":
        found = [database for database in found if database.source == choice]
        if not found:
            where = ", ".join(tzpath) or "no directory"
            raise ValueError(
                "--tzdata system: no zone files in " + where
                if choice == "system"
                else "--tzdata package: the tzdata package is not installed"
            )
    if not found:
        raise ValueError("no zone database: no system zone files and no tzdata package")
    # max() keeps the first of equals: the system's, listed first.
    return max(found, key=lambda database: tzVersionKey(database.version))


def useZoneDatabase(database: ZoneDatabase) -> None:
    """
    Make C{zoneinfo} read C{database}, for the whole process: call it before
    any zone is made (zones made before keep the rules they were read with;
    those C{zoneinfo} keeps are forgotten here).

    The system's is read from its directory alone, the package's with no
    directory; either way C{zoneinfo} still finds, in the package, a zone
    that the system's directory lacks.

    @param database: one of L{zoneDatabases}.
    """
    zoneinfo.reset_tzpath(to=[] if database.directory is None else [database.directory])
    zoneinfo.ZoneInfo.clear_cache()


#: The database L{zoneDatabase} last described, with the search path it
#: was found from.
_described: tuple[tuple[str, ...], ZoneDatabase] | None = None


def zoneDatabase() -> ZoneDatabase:
    """
    Say which database C{zoneinfo} reads now: the first of its directories
    with zone files, else the C{tzdata} package. Its version is read once
    for each search path.

    @return: the database in use.
    """
    global _described
    tzpath = zoneinfo.TZPATH
    if _described is None or _described[0] is not tzpath:
        database = _systemDatabase(tzpath) or _packageDatabase()
        _described = (tzpath, database or ZoneDatabase("package", "unknown"))
    return _described[1]


def tzifBytes(key: str) -> bytes:
    """
    Read a zone's TZif file from where C{zoneinfo.ZoneInfo(key)} reads it:
    the first of C{zoneinfo}'s directories that has it, else the C{tzdata}
    package; so the bytes are those of the database in use.

    @param key: a zone's canonical name, as C{"Europe/Berlin"}.
    @return: the file's bytes.
    @raise ValueError: if C{key} is not a relative, normalized path.
    @raise zoneinfo.ZoneInfoNotFoundError: if no database has the zone.
    """
    # zoneinfo's own rule for keys, so that no key reaches outside the
    # database's directory.
    if os.path.isabs(key) or os.path.normpath(key) != key or key.startswith(".."):
        raise ValueError(f"not a zone's name: {key!r}")
    for directory in zoneinfo.TZPATH:
        path = os.path.join(directory, key)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                return f.read()
    *package, name = key.split("/")
    try:
        found = resources.files(".".join(["tzdata.zoneinfo", *package])) / name
        return found.read_bytes()
    except (ImportError, OSError, UnicodeEncodeError):
        raise zoneinfo.ZoneInfoNotFoundError(f"no zone {key!r}") from None
