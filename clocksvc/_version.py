"""
The version of clocksvc, read by the build backend and by C{--version}.
"""

__all__ = ["__version__"]

__version__ = "0.2.0.dev0"
