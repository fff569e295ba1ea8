"""
Small IP geolocation databases for the tests of C{/api/ip}, written as
MaxMind DB files with C{mmdb-writer}: no vendor's database is shipped.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from mmdb_writer import MMDBWriter
from netaddr import IPSet

__all__ = ["NETWORKS", "writeDatabase"]

#: The test database: networks in the shape of GeoLite2-City's records.
NETWORKS: dict[str, dict[str, Any]] = {
    # As MaxMind's own test data has them: London and Changchun, whose zone
    # is the link Asia/Harbin.
    "81.2.69.0/24": {
        "country": {"iso_code": "GB"},
        "location": {"time_zone": "Europe/London", "accuracy_radius": 100},
    },
    "175.16.199.0/24": {"location": {"time_zone": "Asia/Harbin"}},
    "2001:4860::/32": {"location": {"time_zone": "America/Sao_Paulo"}},
    "2a02:8100::/28": {"location": {"time_zone": "Pacific/Apia"}},
    # Known, but without a zone; with a zone name that is no zone; and a
    # private network, which is answered as unknown all the same.
    "89.160.20.0/24": {"country": {"iso_code": "SE"}},
    "1.1.1.0/24": {"location": {"time_zone": "Mars/Olympus_Mons"}},
    "10.0.0.0/8": {"location": {"time_zone": "Europe/Berlin"}},
}


def writeDatabase(
    path: str,
    networks: Mapping[str, dict[str, Any]] = NETWORKS,
    ipVersion: int = 6,
) -> str:
    """
    Write a MaxMind DB file of C{networks}, as geoipupdate does: to a file
    beside C{path}, renamed over it.

    @param path: where.
    @param networks: each network's record, by its CIDR.
    @param ipVersion: 6 for a database of both kinds of address, as
        GeoLite2's are; 4 for IPv4 only (its IPv6 networks are left out).
    @return: C{path}.
    """
    writer = MMDBWriter(
        ip_version=ipVersion,
        ipv4_compatible=ipVersion == 6,
        database_type="clocksvc-test-City",
        description="clocksvc's tests",
    )
    for network, record in networks.items():
        if ipVersion == 4 and ":" in network:
            continue
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(path + ".new")
    os.replace(path + ".new", path)
    return path
