"""
clocksvc's run layer: the options, the one assembly of the service
(L{ClockService}) that C{python -m clocksvc} and C{twist clocksvc} both run,
the signal policy, the log, and the supervisor and workers of C{--workers}.

It imports every layer below it; nothing imports it but the entry points.
"""

from ._cli import main, run
from ._options import Options
from ._service import ClockService

__all__ = ["ClockService", "Options", "main", "run"]
