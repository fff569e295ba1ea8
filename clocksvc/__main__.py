"""
C{python -m clocksvc}: serve the time over HTTP.
"""

import sys

from twisted.internet.task import react

from clocksvc._run import main

react(main, sys.argv[1:])
