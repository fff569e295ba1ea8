# -*- test-case-name: tests.test_geoip -*-
"""
C{/api/ip}: the time document for the zone that the operator's IP
geolocation database (C{--geoip-db}, a MaxMind DB file such as
GeoLite2-City or DB-IP City Lite) gives for the client's address, or for an
address in the path, as worldtimeapi.org's C{/api/ip} answers.

The database is read with MaxMind's C{maxminddb}, through its C extension
where it has one, which maps the file rather than reading it: a lookup is a
walk of a few dozen nodes, and every worker shares the file's pages. The
zone of each address asked about is kept (L{GeoIP.zoneOf}), a bounded
number of them, because a time service's clients ask again and again.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from zoneinfo import ZoneInfo

import maxminddb
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.web.http import BAD_REQUEST, NOT_FOUND, NOT_IMPLEMENTED

from .._clock import ClockHealth
from .._time import ZoneCatalogue, defaultCatalogue, isZoneName
from ._answer import Answer, Ask, queryArgs
from ._api import Format, QueryError, Timezones, clientIP, instantFromQuery
from ._openapi import AT, Fragment, error, jsonContent, operation, ref, text

__all__ = ["NO_DATABASE", "GeoIP", "GeoIPError", "IPZone", "parseAddress"]

#: The error of C{/api/ip} on a server without C{--geoip-db}, with 501 Not
#: Implemented: this server is not set up to answer it, which neither a
#: client nor the operator may take for an address without a location
#: (404), and which waiting will not change (unlike 503).
NO_DATABASE = "no GeoIP database configured"

_serviceLog = Logger(namespace="clocksvc.service")


class GeoIPError(Exception):
    """
    A geolocation database cannot be read: its one line, for the operator.
    """


def _open(path: str) -> maxminddb.Reader:
    """
    @return: a reader of the MaxMind DB file at C{path}.
    @raise GeoIPError: if there is no such file, or it is not one.
    """
    try:
        return maxminddb.open_database(path)
    except OSError as e:
        raise GeoIPError(f"cannot read {path!r}: {e.strerror or e}") from None
    except (maxminddb.InvalidDatabaseError, ValueError):
        # The reader's own message repeats the path, and says no more.
        raise GeoIPError(f"{path!r} is not a MaxMind DB file") from None


#: The addresses parsed, by the text a client wrote: a device asks about
#: the same address each time, and C{ipaddress} takes 1 to 4 µs to read one
#: and write it back. Emptied when full; only texts as long as an address
#: can be are kept, so the whole is bounded (1 MiB at most, measured).
_addresses: dict[str, str] = {}
_ADDRESSES_KEPT = 4096
#: The longest address text: an IPv6 address with an IPv4 tail (45
#: characters), with room for a short zone index (C{%eth0}).
_LONGEST_ADDRESS = 64


def parseAddress(text: str) -> str:
    """
    @param text: an IP address, as a client writes it in a path.
    @return: the address in the canonical text that L{clientIP} gives:
        IPv6 as RFC 5952 writes it, IPv4-mapped IPv6 addresses unmapped;
        kept, for the next request that writes it the same way.
    @raise ValueError: if C{text} is not an IPv4 or IPv6 address.
    """
    found = _addresses.get(text)
    if found is not None:
        return found
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        found = str(address.ipv4_mapped)
    else:
        found = str(address)
    if len(text) <= _LONGEST_ADDRESS:
        if len(_addresses) >= _ADDRESSES_KEPT:
            _addresses.clear()
        _addresses[text] = found
    return found


class GeoIP:
    """
    An IP geolocation database: the zone of an IP address.

    @ivar path: the database's file.
    """

    #: How many addresses' zones it keeps: no client can grow it past this.
    #: A few hundred kilobytes at most.
    _KEPT = 4096

    def __init__(self, path: str, catalogue: ZoneCatalogue = defaultCatalogue):
        """
        @param path: a MaxMind DB file whose records have
            C{location.time_zone}, as GeoLite2-City's and DB-IP City Lite's
            do.
        @param catalogue: the zones its zone names are looked up in, as
            C{/api/timezone/NAME} looks them up (so a link such as
            C{Asia/Harbin} answers as it does there).
        @raise GeoIPError: if the file cannot be read or is not a MaxMind DB
            file.
        """
        self.path = path
        self._catalogue = catalogue
        self._reader = _open(path)
        self._zones: dict[str, ZoneInfo | None] = {}

    def zoneOf(self, address: str) -> ZoneInfo | None:
        """
        @param address: an IP address in canonical text, as L{clientIP} or
            L{parseAddress} gives it; or anything else, such as the empty
            address of a client on a UNIX socket.
        @return: the zone the database gives for C{address}; L{None} for an
            address that is not public (private, loopback, link-local and
            the like), that it does not know or has no zone for, or whose
            zone is not in the zone database.
        """
        try:
            return self._zones[address]
        except KeyError:
            pass
        zone = self._lookUp(address)
        if len(self._zones) >= self._KEPT:
            self._zones.clear()
        self._zones[address] = zone
        return zone

    def _lookUp(self, address: str) -> ZoneInfo | None:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        if not ip.is_global:
            # Where a private network's clients are is the operator's to
            # know, not a database's; and no address of these is in one.
            return None
        try:
            record = self._reader.get(ip)
        except ValueError:
            # An IPv6 address, and the database is of IPv4 addresses only.
            return None
        except maxminddb.InvalidDatabaseError as e:
            # The file was damaged, or rewritten in place while mapped:
            # unknown, rather than a 500, until it is replaced and reread.
            _serviceLog.error(
                "--geoip-db: cannot look up {address}: {problem}",
                event="geoip_lookup_failed",
                address=address,
                problem=str(e),
            )
            return None
        location = record.get("location") if isinstance(record, dict) else None
        name = location.get("time_zone") if isinstance(location, dict) else None
        if not isinstance(name, str) or not isZoneName(name):
            return None
        return self._catalogue.zone(name)

    def reload(self) -> None:
        """
        Read the file again (on SIGHUP), for a database updated in place,
        as geoipupdate does each week, by renaming a new file over the old;
        and forget the zones kept. If the file cannot be read now, keep the
        database already read, and log why.
        """
        try:
            reader = _open(self.path)
        except GeoIPError as e:
            _serviceLog.error(
                "--geoip-db: {problem}; still using the database read before",
                event="geoip_reload_failed",
                problem=str(e),
            )
            return
        old, self._reader = self._reader, reader
        self._zones = {}
        old.close()
        _serviceLog.info(
            "--geoip-db: read {path} again", event="geoip_reloaded", path=self.path
        )


class IPZone(Timezones):
    """
    worldtimeapi.org's C{/api/ip}: the time document for the zone of the
    client's address (through trusted proxies, as the document's
    C{client_ip}), or of the address at C{/api/ip/ADDRESS}, which the
    document then names as C{client_ip}; C{.txt} on the last segment
    answers in text. It is rendered as C{/api/timezone/AREA/LOCATION}'s
    document is (L{Timezones.sendZone}).

    An address without a zone in the database, or one that is not public:
    404 C{unknown location}, as worldtimeapi answers. A segment that is not
    an IP address: 400. A server without a database: 501 L{NO_DATABASE},
    for every request.
    """

    def __init__(
        self,
        wallClock: IReactorTime,
        catalogue: ZoneCatalogue,
        geoip: GeoIP | None,
        forced: Format | None = None,
        *,
        health: ClockHealth | None = None,
    ) -> None:
        """
        @param wallClock: where the time comes from.
        @param catalogue: the zones, as L{Timezones} has them.
        @param geoip: the database; L{None} if the server has none.
        @param forced: C{"text"} for C{/api/ip.txt}.
        @param health: the server clock's state, for C{Clock-Status}.
        """
        super().__init__(wallClock, catalogue, forced, health=health)
        self._geoip = geoip

    def answerAllowed(self, ask: Ask) -> Answer:
        form = self.formOf(ask)
        if self._geoip is None:
            return self.error(form, NOT_IMPLEMENTED, NO_DATABASE)
        segments = list(ask.path)
        if segments and segments[-1].endswith(b".txt"):
            segments[-1] = segments[-1][: -len(b".txt")]
        if len(segments) > 1 or (segments and self._forced is not None):
            # /api/ip/A/B, /api/ip.txt/A: nothing is there.
            return self.error(form, NOT_FOUND, "not found")
        if segments:
            try:
                address = parseAddress(segments[0].decode("ascii"))
            except ValueError:  # UnicodeDecodeError too
                return self.error(form, BAD_REQUEST, "invalid IP address")
        else:
            address = clientIP(ask)
        try:
            # A malformed ?at= is refused whatever the address, as for the
            # zones' paths.
            instantFromQuery(queryArgs(ask))
        except QueryError as e:
            return self.queryError(form, e)
        zone = self._geoip.zoneOf(address)
        if zone is None:
            return self.error(form, NOT_FOUND, "unknown location")
        return self.zoneAnswer(ask, form, zone, address)


# The description of these resources' paths (/openapi.json).

#: An address in C{/api/ip/{address}}: what the server parses, so that a
#: fuzzer sends anything else as invalid (400).
_IP_ADDRESS = {
    "name": "address",
    "in": "path",
    "required": True,
    "description": "An IPv4 or IPv6 address; the document names it as client_ip.",
    "schema": {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
    "example": "81.2.69.142",
}


def _ipPath(address: bool, inText: bool) -> dict[str, Any]:
    """
    @param address: whether the path has the address (else it is the
        client's).
    @param inText: whether it answers in text.
    @return: the path item of C{/api/ip}, C{/api/ip/{address}}, or their
        C{.txt}.
    """
    whose = "that address" if address else "the client's address"
    body = text() if inText else jsonContent(ref("TimeDocument"))
    responses = {
        "200": {"description": "The document", "content": body},
        "404": error(
            f"The server's IP geolocation database (--geoip-db) has no zone "
            f"for {whose}, or the address is not public: unknown location",
            inText,
        ),
        "501": error(
            "The server has no IP geolocation database (it was started "
            "without --geoip-db), whatever the request: no GeoIP database "
            "configured",
            inText,
        ),
    }
    responses["400"] = error(
        "Not an IP address, or a malformed ?at=" if address else "A malformed ?at=",
        inText,
    )
    return operation(
        f"The time document for the zone of {whose} (now, or ?at=), from the "
        "server's IP geolocation database, as worldtimeapi.org's /api/ip",
        responses,
        [_IP_ADDRESS, AT] if address else [AT],
    )


def ipFragment(forced: Format | None) -> Fragment:
    """
    @param forced: C{"text"} for C{/api/ip.txt}.
    @return: the description of C{/api/ip} and an address's paths below
        it, or of C{/api/ip.txt} (L{IPZone}).
    """
    if forced is not None:
        return Fragment({"/api/ip.txt": _ipPath(False, True)})
    return Fragment(
        {
            "/api/ip": _ipPath(False, False),
            "/api/ip/{address}": _ipPath(True, False),
            "/api/ip/{address}.txt": _ipPath(True, True),
        }
    )
