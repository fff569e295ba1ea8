"""
Tests for L{clocksvc._time._formats}: time.akamai.com's answers, for
instants in a row.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from clocksvc._time._formats import akamaiTime


class AkamaiTimeTests(SynchronousTestCase):
    """
    L{akamaiTime} writes time.akamai.com's answers.
    """

    @given(
        st.floats(min_value=0, max_value=253402300780.0),
        st.lists(st.floats(min_value=0, max_value=1.5), max_size=10),
        st.sampled_from([{b"iso"}, {b"ms"}, {b"iso", b"ms"}]),
    )
    def test_inARow(self, start: float, steps: list[float], names: set[bytes]) -> None:
        """
        For instants in a row, as a polling player asks, each answer is the
        instant truncated to the millisecond: as epoch seconds, or in ISO
        8601 from C{datetime}, whether or not the last one fell in the same
        second.
        """
        seconds = start
        for step in [0.0, *steps]:
            seconds += step
            milliseconds = math.floor(seconds * 1000)
            whole, fraction = divmod(milliseconds, 1000)
            if names == {b"ms"}:
                expected = f"{whole}.{fraction:03d}"
            else:
                stamp = datetime.fromtimestamp(whole, timezone.utc)
                expected = stamp.strftime("%Y-%m-%dT%H:%M:%S")
                expected += f".{fraction:03d}Z" if b"ms" in names else "Z"
            self.assertEqual(akamaiTime(seconds, names), expected.encode())
