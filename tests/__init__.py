"""
Tests for clocksvc.

Hypothesis runs derandomized (the same examples every run) under CI, so a CI
failure always reproduces; locally it explores new examples each run. Set
C{HYPOTHESIS_PROFILE} to choose either explicitly, or C{thorough} for many
more examples where a test does not fix how many (as before a change to the
request-head parser: C{tests.test_grammardiff}).

The suite runs with the local time zone UTC, whatever the machine's: a
server's zone is the local one unless it is given (C{--timezone}), and the
tests' expectations should not depend on where they run. The tests that need
another use L{useTimezone<tests._helpers.useTimezone>}; the servers they
start as processes inherit it.
"""

import os
import time

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None)
settings.register_profile("thorough", deadline=None, max_examples=20_000)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)

os.environ["TZ"] = "UTC"
time.tzset()
