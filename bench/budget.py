"""
A request's budget from a profile: py-spy's samples of the server's main
thread, grouped by the stage of a request each was taken in.

Record the profile with C{py-spy record --format raw} (docs/howto/profile.md
says how), then run C{python bench/budget.py PROFILE.txt [...]}: for each
file, the share of the samples in each stage, largest first. A sample
belongs to the stage of the frame nearest its leaf that names one, so that
the JSON encoder called by the time document counts as the answer, and the
timer a connection resets as the connection's.

The stages:

  - read: C{recv()} and handing the bytes to the channel;
  - parse: the request-head grammar (C{clocksvc/_http/_grammar.py});
  - route: which answer a target's route names;
  - answer: the answer's content (the time document, the page, the zone,
    the clock's state);
  - format: the response's head and its assembly;
  - write: C{send()}, and the transport's writes;
  - log: the access log and C{/metrics}' counts;
  - connection: the channel's own work for each request (its timers, the
    peer's address, the quick path's glue);
  - reactor: Twisted's loop, C{epoll_wait} and the rest of Twisted.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

#: Each stage and the frames that are its own, as C{function (file:line)};
#: the first that matches, from a sample's leaf up, names its stage.
STAGES = [
    ("write", r"writeNow|writeSomeData|doWrite|FileDescriptor\.write"),
    (
        "answer",
        r"_time/|documentJSONAt|documentTextAt|_piecesAt|_nowAnswer|_rootAnswer"
        r"|_document|_page|_exchange|_nowQuery|_zoneNamed|ClockHealth"
        r"|_clockStatus|addressIP|json/|_isText|\.choose",
    ),
    (
        "format",
        r"QuickAnswers\._answer|_head \(|responseHead|httpDate|datetimeToString"
        r"|QuickResponse",
    ),
    ("route", r"QuickAnswers\.answer|mounted \("),
    ("parse", r"_http/_grammar\.py"),
    ("log", r"answeredQuickly|ClockSite\._report|_web/_metrics|_web/_access|_logging"),
    ("read", r"doRead|_dataReceived|ClockChannel\.dataReceived|ClockChannel\._read "),
    (
        "connection",
        r"_answerQuickly|_readHead|_startIdle|_cancelDeadline|_cancelIdle|getPeer"
        r"|IPv4Address|attr/|DelayedCall|_forwarded",
    ),
    ("reactor", r"twisted/"),
]
_STAGES = [(name, re.compile(pattern)) for name, pattern in STAGES]


def stageOf(frames: list[str]) -> str:
    """
    @return: the stage of a sample whose stack is C{frames}, root first.
    """
    for frame in reversed(frames):
        for name, pattern in _STAGES:
            if pattern.search(frame):
                return name
    return "other"


def budget(profile: str) -> tuple[Counter[str], int]:
    """
    @param profile: py-spy's raw output: a stack and its count per line.
    @return: the samples of each stage, and of all, in the main thread only
        (the log's writer thread, idle, is not the request's).
    """
    stages: Counter[str] = Counter()
    total = 0
    for line in profile.splitlines():
        stack, count = line.rsplit(" ", 1)
        frames = stack.split(";")
        if not frames[0].startswith("_run_module_as_main"):
            continue
        stages[stageOf(frames)] += int(count)
        total += int(count)
    return stages, total


def main(argv: list[str]) -> int:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("profiles", nargs="+", type=Path)
    for path in arguments.parse_args(argv).profiles:
        stages, total = budget(path.read_text())
        print(f"{path}: {total} samples")
        for name, count in stages.most_common():
            print(f"  {name:<10} {100 * count / max(total, 1):5.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
