# -*- test-case-name: tests.test_workers -*-
"""
The private entry point of a worker of C{--workers}, which the supervisor
runs as::

    python -m clocksvc._run._workermain FDS LINK OPTIONS...

FDS is the descriptor of each C{--listen}, then each C{--admin-listen}, that
the worker inherited, comma-separated, C{-} for one it does not serve; LINK
is the descriptor of its link to the supervisor; OPTIONS are the command
line's. Keeping these out of the public options keeps C{--help} what a
person can use.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import react

from .._clock import useMonotonicTime
from ._cli import run
from ._endpoints import Problem
from ._logging import say
from ._worker import Worker, dieWithParent, hungUp

__all__ = ["main", "parseWorkerArguments"]


def parseWorkerArguments(
    argv: Sequence[str],
) -> tuple[list[int | None], int, list[str]]:
    """
    @param argv: FDS LINK OPTIONS..., as the supervisor gives them.
    @return: the descriptors, the link's, and the options.
    @raise Problem: if they are not that.
    """
    if len(argv) < 2 or not argv[1].isdigit():
        raise Problem("a worker needs FDS LINK OPTIONS...")
    try:
        fds = [None if fd == "-" else int(fd) for fd in argv[0].split(",")]
    except ValueError:
        raise Problem(f"bad worker descriptors {argv[0]!r}") from None
    return fds, int(argv[1]), list(argv[2:])


def _serve(
    reactor: Any,
    fds: list[int | None],
    link: int,
    options: list[str],
    diesWithParent: bool,
) -> Any:
    # Timers on the monotonic clock, as a single clocksvc's (_cli.main).
    useMonotonicTime(reactor)
    worker = Worker(reactor, fds, link, diesWithParent)
    worker.watch()
    return Deferred.fromCoroutine(
        run(reactor, options, sys.stdout, sys.stderr, handleSignals=True, worker=worker)
    )


def main() -> None:
    """
    Serve as a worker, until the supervisor stops it.
    """
    try:
        fds, link, options = parseWorkerArguments(sys.argv[1:])
    except Problem as e:
        say(sys.stderr, f"clocksvc: {e}")
        raise SystemExit(2) from None
    # Until it serves, a worker dies with its supervisor, whatever it is
    # doing; on Linux, that is, and as soon as it gets here, its imports
    # done. If the supervisor died before, no signal will come: its end of
    # the link is closed already.
    diesWithParent = dieWithParent(signal.SIGKILL)
    try:
        gone = hungUp(link)
    except OSError as e:
        why = (e.strerror or str(e)).lower()
        say(sys.stderr, f"clocksvc: no link to the supervisor on {link}: {why}")
        raise SystemExit(2) from None
    if gone:
        raise SystemExit(1)
    # Ctrl-C sends SIGINT to every process of the terminal's foreground
    # group, and the supervisor forwards it as SIGTERM, so workers ignore
    # it; from before the reactor runs, which then leaves it ignored.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGHUP, which the supervisor passes on to reopen the log, must not end
    # a worker that has not yet set its handler: until then, it is ignored
    # (the worker then opens the log by its path, the new file's).
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    react(_serve, (fds, link, options, diesWithParent))


if __name__ == "__main__":
    main()
