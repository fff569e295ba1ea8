"""
A temporary alias of L{clocksvc._clock._health}, where the server's clock
state now lives, for the modules still being edited elsewhere that import
it from here. Remove it once nothing imports C{clocksvc._web._clockhealth}.
"""

from .._clock._health import UNKNOWN, ClockHealth, ClockState

__all__ = ["UNKNOWN", "ClockHealth", "ClockState"]
