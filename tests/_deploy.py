"""
The deployment files under C{deploy/}, read as their tools read them: a
systemd unit's sections, and the command line it starts clocksvc with.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from twisted.internet.endpoints import serverFromString
from twisted.internet.protocol import Factory
from twisted.internet.testing import MemoryReactor

from clocksvc._run._options import Options

__all__ = ["DEPLOY", "only", "parseArguments", "unitSections", "unixSocketPath"]

#: The deployment files.
DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def parseArguments(arguments: list[str]) -> Options:
    """
    @return: C{python -m clocksvc}'s options for C{arguments}, parsed as the
        command line parses them.
    """
    options = Options()
    options.parseOptions(arguments)
    return options


def unitSections(text: str) -> dict[str, dict[str, list[str]]]:
    """
    Read a systemd unit file: C{[Section]} headers and C{Key=value} lines,
    where a key may repeat, a trailing backslash continues a line, and lines
    starting with C{#} or C{;} are comments.

    @return: each section's keys, each with its values in order.
    """
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped[0] in "#;"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical, pending = pending + stripped, ""
        if logical.startswith("[") and logical.endswith("]"):
            current = sections.setdefault(logical[1:-1], {})
            continue
        key, equals, value = logical.partition("=")
        if current is None or not equals:
            raise ValueError(f"not in a section, or not Key=value: {logical!r}")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def only(values: list[str]) -> str:
    """
    @return: the single value of a key that must appear once.
    """
    [value] = values
    return value


def unixSocketPath(service: dict[str, dict[str, list[str]]]) -> str:
    """
    @return: the path of the UNIX socket that a unit's C{--listen} names.
    """
    argv = shlex.split(only(service["Service"]["ExecStart"]))
    [description] = parseArguments(argv[3:])["listen"]
    reactor = MemoryReactor()
    serverFromString(reactor, description).listen(Factory())
    [(path, _, _, _, _)] = reactor.unixServers
    return str(path)
