# -*- test-case-name: tests.test_zones -*-
"""
The time zones clocksvc knows: every IANA name that C{zoneinfo} can load,
looked up case-insensitively and answered in the canonical spelling.
"""

from __future__ import annotations

import importlib
import zoneinfo
from bisect import bisect_left
from collections.abc import Iterable
from pathlib import Path

__all__ = ["ZoneCatalogue", "defaultCatalogue", "tzdataVersion"]

# Names that zoneinfo.available_timezones() can list but that name no place:
# the system's own link to its configured zone, zic's rule template, and the
# tzdata zone for machines whose zone was never set.
_NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})


class ZoneCatalogue:
    """
    A sorted list of zone names, with case-insensitive lookup.

    Listing the zones reads the whole zone database (tens of milliseconds),
    so it happens on first use, not when the catalogue is made.
    """

    def __init__(self, names: Iterable[str] | None = None) -> None:
        """
        @param names: the zone names; by default every one C{zoneinfo} finds,
            on the system or in the C{tzdata} package.
        """
        self._given = None if names is None else list(names)
        self._names: list[str] | None = None
        self._folded: dict[str, str] = {}
        self._foldedNames: list[str] = []

    def _load(self) -> list[str]:
        if self._names is None:
            given = self._given
            if given is None:
                given = list(zoneinfo.available_timezones())
            self._names = sorted(set(given) - _NOT_PLACES)
            self._folded = {name.casefold(): name for name in self._names}
            self._foldedNames = sorted(self._folded)
        return self._names

    def names(self) -> list[str]:
        """
        @return: every zone name, sorted.
        """
        return list(self._load())

    def canonical(self, name: str) -> str | None:
        """
        @param name: a zone name in any letter case, such as
            C{"europe/berlin"}.
        @return: its canonical spelling, C{"Europe/Berlin"}, or L{None} if no
            zone has that name.
        """
        self._load()
        return self._folded.get(name.casefold())

    def area(self, name: str) -> list[str]:
        """
        @param name: an area in any letter case, such as C{"america"} or
            C{"America/Argentina"}.
        @return: the zones below it, sorted; empty if it is not an area.
        """
        self._load()
        prefix = name.casefold().rstrip("/") + "/"
        folded = self._foldedNames
        index = bisect_left(folded, prefix)
        found = []
        while index < len(folded) and folded[index].startswith(prefix):
            found.append(self._folded[folded[index]])
            index += 1
        return sorted(found)

    def zone(self, name: str) -> zoneinfo.ZoneInfo | None:
        """
        @param name: a zone name in any letter case.
        @return: the zone, or L{None} if no zone has that name.
        """
        canonical = self.canonical(name)
        return None if canonical is None else zoneinfo.ZoneInfo(canonical)


#: The catalogue shared by every site in the process: the zone database is
#: the same for all of them, so it is read once.
defaultCatalogue = ZoneCatalogue()


def tzdataVersion() -> tuple[str, str]:
    """
    Say which zone database C{zoneinfo} reads: the system's zone files where
    it finds them (it looks there first), else the C{tzdata} package.

    @return: C{("system", "2025b")} or C{("tzdata", "2026f")}; the version is
        C{"unknown"} where the files do not say.
    """
    for directory in map(Path, zoneinfo.TZPATH):
        if (directory / "UTC").is_file():
            for name in ("tzdata.zi", "+VERSION"):
                try:
                    first = (directory / name).read_text().splitlines()[0]
                except (OSError, IndexError, UnicodeDecodeError):
                    continue
                return ("system", first.removeprefix("# version").strip())
            return ("system", "unknown")
    # The tzdata package has no type information; import it by name.
    package = importlib.import_module("tzdata")
    return ("tzdata", str(package.IANA_VERSION))
