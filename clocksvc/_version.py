"""
The version of clocksvc, read by the build backend and by C{--version}.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
