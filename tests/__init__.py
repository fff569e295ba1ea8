"""
Tests for clocksvc.

Hypothesis runs derandomized (the same examples every run) under CI, so a CI
failure always reproduces; locally it explores new examples each run. Set
C{HYPOTHESIS_PROFILE} to choose either explicitly.
"""

import os

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
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)
