"""
Tests for clocksvc's public names.
"""

from importlib import metadata

from twisted.trial.unittest import SynchronousTestCase

import clocksvc
from clocksvc import _version
from clocksvc._web import _ntplisten, _page, _site


class ExportsTests(SynchronousTestCase):
    """
    C{clocksvc} re-exports its private modules' objects, and only those.
    """

    def test_publicNames(self) -> None:
        """
        Each public name is the object defined in its private module.
        """
        self.assertIs(clocksvc.ClockPage, _page.ClockPage)
        self.assertIs(clocksvc.listen, _site.listen)
        self.assertIs(clocksvc.listenNTP, _ntplisten.listenNTP)
        self.assertIs(clocksvc.__version__, _version.__version__)

    def test_all(self) -> None:
        """
        C{__all__} lists exactly the public names, each of which exists.
        """
        self.assertEqual(
            sorted(clocksvc.__all__),
            ["ClockPage", "__version__", "listen", "listenNTP"],
        )
        for name in clocksvc.__all__:
            self.assertTrue(hasattr(clocksvc, name), name)

    def test_version(self) -> None:
        """
        The version is three dotted numbers, and a development release's
        C{.devN} after them (PEP 440), and the installed distribution's.
        """
        self.assertRegex(
            clocksvc.__version__, r"\A[0-9]+\.[0-9]+\.[0-9]+(\.dev[0-9]+)?\Z"
        )
        self.assertEqual(metadata.version("clocksvc"), clocksvc.__version__)
