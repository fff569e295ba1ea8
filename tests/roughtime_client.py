"""
Query a Roughtime server with C{roughly}, a client no one here wrote, and
print what it verified as one JSON object: run by tests/test_roughtime.py
with a Python 3.12 that has C{roughly} (tests/_roughly.py makes it), never
imported by the suite.

Usage: python roughtime_client.py HOST PORT PUBLIC_KEY_BASE64 VERSION COUNT
[MODE [TIMEOUT]]

It sends COUNT requests at once, offering VERSION alone (1, or 0x8000000c),
naming the key by SRV (MODE C{srv}, the default) or not (C{nosrv}: the
server answers with its own key, which the client then checks against the
one it was given); it waits TIMEOUT seconds (60) for each answer, and
verifies each answer as RFC 10049 section 5.4 says: the delegation's
signature by the long-term key, MIDP within MINT and MAXT, the Merkle path
to ROOT, and the signature over SREP. It prints C{{"ok": true, "answers":
[...]}} with each answer's time, radius, version, window, index and path
length, and the host clock's time when it arrived; or C{{"ok": false,
"error": ..., "reason": ...}} for the first that fails.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time

from roughly.client import (
    send_request,
    very_dangerously_send_request_and_do_not_verify,
)
from roughly.errors import RoughtimeError, VerificationError


async def query(
    host: str, port: int, key: bytes, version: int, srv: bool, timeout: float
) -> dict[str, object]:
    if srv:
        asking = send_request(host, port, key, versions=[version])
        response = await asyncio.wait_for(asking, timeout)
    else:
        # Without SRV, then verified as send_request verifies.
        unverified = very_dangerously_send_request_and_do_not_verify(
            host, port, None, versions=[version]
        )
        response = await asyncio.wait_for(unverified, timeout)
        response.verify(key)
    signed = response.signed_response
    delegation = response.certificate.delegation
    return {
        "midpoint": signed.midpoint,
        "radius": signed.radius,
        "version": response.version,
        "versions": list(signed.versions),
        "mint": delegation.min_time,
        "maxt": delegation.max_time,
        "index": response.index,
        "path": len(response.path),
        "root": signed.root.hex(),
        "host_time": time.time(),
    }


async def main(
    host: str,
    port: str,
    key: str,
    version: str,
    count: str,
    mode: str = "srv",
    timeout: str = "60",
) -> None:
    public = base64.b64decode(key)
    asking = (
        query(host, int(port), public, int(version, 0), mode == "srv", float(timeout))
        for _ in range(int(count))
    )
    try:
        answers = await asyncio.gather(*asking)
    except VerificationError as e:
        print(json.dumps({"ok": False, "error": "verification", "reason": e.reason}))
        return
    except (RoughtimeError, TimeoutError) as e:
        print(json.dumps({"ok": False, "error": type(e).__name__, "reason": str(e)}))
        return
    print(json.dumps({"ok": True, "answers": answers}))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:8]))
