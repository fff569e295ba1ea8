"""
The in-memory benchmark: what each endpoint costs in clocksvc's own Python,
without sockets, wrk or a second process. For each request it times two
things, in CPU time (so that a busy machine's other processes count less):

  - C{quick}: the site's quick answer alone (C{site.quickAnswer(head,
    client)}), the call the HTTP/1.1 channel makes for a plain head; a dash
    where the quick path declines the request;
  - C{channel}: the whole request through a connection in memory (a
    C{StringTransport}): the channel's parsing, the quick answer or else
    Twisted's request and the resource tree, and the reporters (metrics,
    the access log off).

Each figure is the best of C{--rounds} runs of C{--requests} requests, in
microseconds a request, at one instant (so the per-second pieces are
kept, as they are within a second of real traffic). The table of
docs/explanation/performance.md is the best of two runs of this, before
and after a change, interleaved. Run it from the checkout: C{python
bench/inmemory.py [--requests 20000] [--rounds 5]}; C{--json FILE} keeps
the figures. It needs nothing but clocksvc's own dependencies (and
mmdb-writer, from the C{fuzz} or C{tests} group, for C{/api/ip}).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from twisted.internet.address import IPv4Address  # noqa: E402
from twisted.internet.task import Clock  # noqa: E402
from twisted.internet.testing import StringTransport  # noqa: E402

from clocksvc._http import Limits, parseQuickHead  # noqa: E402
from clocksvc._web._geoip import GeoIP  # noqa: E402
from clocksvc._web._site import buildSite  # noqa: E402

TIMESYNC = b'{"jsonrpc":"2.0","id":1,"method":"timesync"}'
_T1 = b"1700000000000"
_CONVERSION = (
    b'{"fromTimeZone":"Europe/Berlin","dateTime":"2024-03-31 12:00:00",'
    b'"toTimeZone":"Asia/Tokyo","dstAmbiguity":""}'
)


def _conversion(body: bytes) -> bytes:
    return (
        b"POST /api/Conversion/ConvertTimeZone HTTP/1.1\r\nHost: a\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
        % (len(body), body)
    )


#: Conversions of as many local times as there are seconds in an hour and a
#: half, each body its own: more than the answers kept, so that each is
#: converted again (the uncached cost).
_CONVERSIONS = tuple(
    _conversion(
        _CONVERSION.replace(
            b"12:00:00", b"%02d:%02d:%02d" % (12 + n // 3600, n // 60 % 60, n % 60)
        )
    )
    for n in range(5400)
)
#: Each request measured: its name, and its bytes (or the requests made in
#: turn, each once in so many). The first ones are those of bench/run.py;
#: then the ones the quick path takes since issue 24.
REQUESTS: list[tuple[str, bytes | tuple[bytes, ...]]] = (
    [
        (name, b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n" + extra + b"\r\n")
        for name, target, extra in [
            ("/", b"/", b""),
            ("/now", b"/now", b""),
            ("/now.json", b"/now.json", b""),
            ("/now.txt", b"/now.txt", b""),
            ("/now?tz=Europe/Berlin", b"/now?tz=Europe/Berlin", b""),
            ("/api/timezone/Europe/Berlin", b"/api/timezone/Europe/Berlin", b""),
            (
                "/api/timezone/Europe/Berlin.txt",
                b"/api/timezone/Europe/Berlin.txt",
                b"",
            ),
            ("/?iso", b"/?iso", b""),
            ("/?ms", b"/?ms", b""),
            ("/?iso&ms", b"/?iso&ms", b""),
            ("/now?t1=...", b"/now?t1=" + _T1, b""),
            ("/.well-known/time", b"/.well-known/time", b""),
            ("/ Accept: application/json", b"/", b"Accept: application/json\r\n"),
            ("/ Accept: text/plain", b"/", b"Accept: text/plain\r\n"),
            ("/now?at=...", b"/now?at=2024-03-31T01:30:00Z", b""),
            (
                "/api/convert",
                b"/api/convert?from=Europe/Berlin&to=Asia/Tokyo&time=2024-03-31T12:00:00",
                b"",
            ),
            ("/transitions", b"/api/timezone/Europe/Berlin/transitions", b""),
            ("/api/ip", b"/api/ip", b""),
            ("/api/timezone/Europe", b"/api/timezone/Europe", b""),
            ("/api/timezone", b"/api/timezone", b""),
            ("404 /nowhere", b"/nowhere", b""),
            ("404 /now?tz=Nowhere/Atlantis", b"/now?tz=Nowhere/Atlantis", b""),
            ("400 /now?t1=abc", b"/now?t1=abc", b""),
            ("/openapi.json", b"/openapi.json", b""),
            ("/healthz", b"/healthz", b""),
        ]
    ]
    + [
        (
            "POST /timesync",
            b"POST /timesync HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(TIMESYNC), TIMESYNC),
        ),
        (
            "405 POST /now",
            b"POST /now HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
        ),
    ]
    + [
        # timeapi.io's API and /api/coordinates, on the quick path since issue 28.
        (name, b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n\r\n")
        for name, target in [
            (
                "/api/Time/current/zone",
                b"/api/Time/current/zone?timeZone=Europe/Berlin",
            ),
            (
                "/api/time/current/zone",
                b"/api/time/current/zone?timeZone=europe/berlin",
            ),
            ("/api/TimeZone/zone", b"/api/TimeZone/zone?timeZone=Europe/Berlin"),
            (
                "/api/Time/current/coordinate",
                b"/api/Time/current/coordinate?latitude=52.52&longitude=13.405",
            ),
            ("/api/Time/current/ip", b"/api/Time/current/ip?ipAddress=81.2.69.142"),
            ("/api/TimeZone/ip", b"/api/TimeZone/ip?ipAddress=81.2.69.142"),
            ("/developer/api/ip/ADDRESS", b"/developer/api/ip/81.2.69.142"),
            ("/api/TimeZone/AvailableTimeZones", b"/api/TimeZone/AvailableTimeZones"),
            ("/api/coordinates", b"/api/coordinates?lat=52.52&lon=13.405"),
            (
                "400 /api/Time/current/zone",
                b"/api/Time/current/zone?timeZone=Nowhere/Atlantis",
            ),
        ]
    ]
    + [
        # One body again and again, as bench/run.py sends it: the answer
        # kept for it; then a new body each time, converted each time.
        ("POST /api/Conversion/ConvertTimeZone", _conversion(_CONVERSION)),
        ("POST /api/Conversion/ConvertTimeZone, new bodies", _CONVERSIONS),
    ]
)

#: A client whose address the GeoIP database places.
CLIENT = IPv4Address("TCP", "81.2.69.142", 4711)


def site(directory: str) -> object:
    """
    @return: a site on a clock that moves a microsecond a call, with a small
        GeoIP database, as a server started with --geoip-db.
    """
    clock = Clock()
    clock.advance(1_700_000_000)
    try:
        sys.path.insert(0, str(HERE.parent))
        from tests._geoip import writeDatabase

        geoip: GeoIP | None = GeoIP(writeDatabase(str(Path(directory, "g.mmdb"))))
    except ImportError:
        geoip = None
    return buildSite(clock, "Europe/Berlin", geoip=geoip)


def _inTurn(request: bytes | tuple[bytes, ...]) -> tuple[bytes, ...]:
    return (request,) if isinstance(request, bytes) else request


def quick(
    built: object, request: bytes | tuple[bytes, ...], count: int
) -> float | None:
    """
    @return: microseconds a call of the site's quick answer takes for
        C{request}, or L{None} if it declines it.
    """
    answer = built.quickAnswer  # type: ignore[attr-defined]
    heads = []
    for one in _inTurn(request):
        head, _, body = one.partition(b"\r\n\r\n")
        parsed = parseQuickHead(head, Limits())
        if parsed is None or answer is None:
            return None
        heads.append(parsed._replace(body=body) if body else parsed)
    if answer(heads[0], CLIENT) is None:
        return None
    turns = len(heads)
    start = time.process_time()
    for n in range(count):
        answer(heads[n % turns], CLIENT)
    return (time.process_time() - start) / count * 1e6


def channel(built: object, request: bytes | tuple[bytes, ...], count: int) -> float:
    """
    @return: microseconds the whole request takes on a connection in
        memory, from its bytes to the answer's.
    """
    requests = _inTurn(request)
    turns = len(requests)
    protocol = built.buildProtocol(CLIENT)  # type: ignore[attr-defined]
    transport = StringTransport(peerAddress=CLIENT)
    protocol.makeConnection(transport)
    protocol.dataReceived(requests[0])
    if not transport.value().startswith(b"HTTP/1.1 "):
        raise RuntimeError(f"no answer to {request!r}: {transport.value()!r}")
    start = time.process_time()
    for n in range(count):
        transport.clear()
        protocol.dataReceived(requests[n % turns])
    return (time.process_time() - start) / count * 1e6


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="a file to write the figures to")
    parser.add_argument("--only", help="measure the requests whose name has this")
    options = parser.parse_args(argv)
    figures: dict[str, dict[str, float | None]] = {}
    with tempfile.TemporaryDirectory() as directory:
        built = site(directory)
        print("| request | quick µs | channel µs |\n| --- | ---: | ---: |")
        for name, request in REQUESTS:
            if options.only and options.only not in name:
                continue
            rounds = [
                (
                    quick(built, request, options.requests),
                    channel(built, request, options.requests),
                )
                for _ in range(options.rounds)
            ]
            fast = [r[0] for r in rounds if r[0] is not None]
            best = (min(fast) if fast else None, min(r[1] for r in rounds))
            figures[name] = {"quick": best[0], "channel": best[1]}
            shown = "-" if best[0] is None else f"{best[0]:.2f}"
            print(f"| `{name}` | {shown} | {best[1]:.2f} |", flush=True)
    if options.json:
        Path(options.json).write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
