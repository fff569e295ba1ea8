# -*- test-case-name: tests.test_exports -*-
"""
clocksvc: a self-hostable HTTP time service on Twisted Web.

Embed it in a Twisted application with L{listen}, which returns the
L{IListeningPort<twisted.internet.interfaces.IListeningPort>}, or mount
L{ClockPage} in a resource tree of your own; serve the same clock over SNTP
with L{listenNTP}.
"""

# First, before any module it may compile is imported: whether this process
# runs the compiled core or pure Python (see _compiled).
from . import _compiled  # noqa: F401
from ._version import __version__
from ._web import ClockPage, listen, listenNTP

__all__ = ["ClockPage", "__version__", "listen", "listenNTP"]
