# -*- test-case-name: tests.test_zones -*-
"""
The time zones clocksvc knows: every IANA name that C{zoneinfo} can load,
looked up case-insensitively and answered in the canonical spelling.
"""

from __future__ import annotations

import os
import zoneinfo
from bisect import bisect_left
from collections.abc import Iterable, Mapping

from ._formats import isZoneName

__all__ = ["ZoneCatalogue", "defaultCatalogue", "localZoneName", "serverZoneName"]

# Names that zoneinfo.available_timezones() can list but that name no place:
# the system's own link to its configured zone, zic's rule template, and the
# tzdata zone for machines whose zone was never set.
_NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})


class ZoneCatalogue:
    """
    A sorted list of zone names, with case-insensitive lookup.

    Listing the zones reads the whole zone database (tens of milliseconds),
    so it happens on first use, not when the catalogue is made; and again
    if C{zoneinfo} is made to read another database
    (L{useZoneDatabase<clocksvc._time._tzdata.useZoneDatabase>}).
    """

    def __init__(self, names: Iterable[str] | None = None) -> None:
        """
        @param names: the zone names; by default every one C{zoneinfo} finds,
            on the system or in the C{tzdata} package.
        """
        self._given = None if names is None else list(names)
        self._names: tuple[str, ...] | None = None
        self._listedFrom: tuple[str, ...] | None = None
        self._folded: dict[str, str] = {}
        self._foldedNames: list[str] = []

    def _load(self) -> tuple[str, ...]:
        given = self._given
        # zoneinfo's search path: the database the names were listed from.
        # Reading it costs 0.3 us (a module __getattr__), measured here,
        # against tens of microseconds for the request that asks.
        tzpath = zoneinfo.TZPATH if given is None else None
        if self._names is None or tzpath is not self._listedFrom:
            self._listedFrom = tzpath
            if given is None:
                given = list(zoneinfo.available_timezones())
            self._names = tuple(sorted(set(given) - _NOT_PLACES))
            self._folded = {name.casefold(): name for name in self._names}
            self._foldedNames = sorted(self._folded)
        return self._names

    def names(self) -> tuple[str, ...]:
        """
        @return: every zone name, sorted: the same tuple until the zone
            database changes, so that what is made from it, such as the
            10 KB body that lists them, can be kept and checked for being
            current by identity rather than by comparing some 600 names.
        """
        return self._load()

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


def localZoneName(
    environ: Mapping[str, str] = os.environ,
    localtime: str = "/etc/localtime",
    timezoneFile: str = "/etc/timezone",
    catalogue: ZoneCatalogue = defaultCatalogue,
) -> str | None:
    """
    Name the process's local time zone, the one C{time.ctime} shows, as the
    C library finds it: C{TZ} if it is set (empty is UTC), else the zone
    file that C{/etc/localtime} links to (none at all is UTC), else the
    name in C{/etc/timezone}.

    @param environ: the process's environment.
    @param localtime: the system's local zone file.
    @param timezoneFile: the file that names it, on Debian and its kin.
    @param catalogue: the zones the name must be one of.
    @return: the zone's canonical name; L{None} if the local zone has no
        name clocksvc knows: C{TZ} is a POSIX rule such as C{JST-9}, or
        C{/etc/localtime} is a copy that nothing names.
    """
    tz = environ.get("TZ")
    if tz is not None:
        name = tz.removeprefix(":")
        if not name:
            return "UTC"
        if name.startswith("/"):
            return _nameInPath(name, catalogue)
        return _exactly(name, catalogue)
    try:
        target = os.readlink(localtime)
    except FileNotFoundError:
        return "UTC"
    except OSError:
        pass  # Not a link: a copy of a zone's file, which /etc/timezone names.
    else:
        found = _nameInPath(target, catalogue)
        if found is not None:
            return found
    try:
        with open(timezoneFile, encoding="utf-8") as f:
            name = f.readline(200).strip()
    except (OSError, UnicodeDecodeError):
        return None
    return _exactly(name, catalogue)


def _exactly(name: str, catalogue: ZoneCatalogue) -> str | None:
    """
    @return: C{name}, if a zone has it, spelt as the zone files are: the C
        library finds C{Asia/Tokyo} but not C{asia/tokyo}.
    """
    return name if isZoneName(name) and catalogue.canonical(name) == name else None


def _nameInPath(path: str, catalogue: ZoneCatalogue) -> str | None:
    """
    @return: the zone whose file C{path} is, by the part after its last
        C{zoneinfo/} (C{/usr/share/zoneinfo/Europe/Berlin}, or the
        C{posix/} copy of it); L{None} if it is not one.
    """
    _, marker, name = path.rpartition("zoneinfo/")
    name = name.removeprefix("posix/")
    return _exactly(name, catalogue) if marker else None


def serverZoneName(
    given: str | None, catalogue: ZoneCatalogue = defaultCatalogue
) -> tuple[str, str]:
    """
    Decide the server's one zone: that of its page, of C{/now} and
    C{/stream} without C{?tz=}, and of C{/live}.

    @param given: the zone the operator named (C{--timezone}), in any
        letter case; L{None} for the process's local zone.
    @return: the zone's canonical name, and why it is that one:
        C{"given"}, C{"local"}, or C{"fallback"} (UTC, because the local
        zone has no name that L{localZoneName} can find).
    @raise ValueError: if C{given} names no zone.
    """
    if given is not None:
        name = catalogue.canonical(given)
        if name is None:
            raise ValueError(f"unknown time zone {given!r}")
        return name, "given"
    local = localZoneName(catalogue=catalogue)
    return ("UTC", "fallback") if local is None else (local, "local")
