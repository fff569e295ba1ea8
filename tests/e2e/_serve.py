"""
C{python -m tests.e2e._serve [OPTIONS...] --clock-state STATE}: clocksvc's
one assembly (L{ClockService}), listening and draining as C{python -m
clocksvc} does, but with the server clock's state given rather than read
from the kernel: for end-to-end tests of what pages show of it, whatever
the state of the machine they run on.

It says where it serves as C{python -m clocksvc} does (C{clocksvc: serving
URL}, on standard error), and stops on SIGTERM.
"""

from __future__ import annotations

import sys
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IListeningPort
from twisted.internet.task import react

from clocksvc._clock import useMonotonicTime
from clocksvc._run._endpoints import describeAddress, parseEndpoints
from clocksvc._run._options import Options
from clocksvc._run._service import ClockService

from .._helpers import SYNCHRONIZED, UNSYNCHRONIZED

#: The states C{--clock-state} names.
STATES = {"synchronized": SYNCHRONIZED, "unsynchronized": UNSYNCHRONIZED}


async def serve(reactor: Any, argv: list[str]) -> None:
    """
    Serve until SIGTERM, with the clock's state that C{argv} names.

    @param argv: C{python -m clocksvc}'s options, and C{--clock-state
        STATE} among them.
    """
    try:
        at = argv.index("--clock-state")
        state = STATES[argv[at + 1]]
    except (ValueError, IndexError, KeyError):
        raise SystemExit(f"needs --clock-state {{{','.join(STATES)}}}") from None
    options = Options()
    options.parseOptions(argv[:at] + argv[at + 2 :])
    service = ClockService(
        reactor,
        options,
        parseEndpoints(reactor, options["listen"]),
        readClock=lambda: state,
    )

    def listening(description: str, port: IListeningPort, admin: bool) -> None:
        where = describeAddress(port.getHost())
        print(f"clocksvc: serving {where}", file=sys.stderr, flush=True)

    await service.listen(listening)
    service.startService()
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    await service.stopped


def main(reactor: Any, *argv: str) -> Deferred[None]:
    useMonotonicTime(reactor)
    return Deferred.fromCoroutine(serve(reactor, list(argv)))


if __name__ == "__main__":
    react(main, sys.argv[1:])
