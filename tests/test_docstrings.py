"""
Every public name of clocksvc has a docstring: those of the package, which
the API reference documents, and those each layer's package exports to the
layers above it, which the architecture page names.
"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType

from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementedBy

#: The packages whose C{__all__} is public: the package, and its layers.
PACKAGES = (
    "clocksvc",
    "clocksvc._time",
    "clocksvc._http",
    "clocksvc._web",
    "clocksvc._run",
)


def undocumented(package: ModuleType) -> list[str]:
    """
    @return: the names in C{package.__all__} that are modules, classes or
        functions without a docstring of their own (constants and aliases
        of types cannot have one), and the public methods of those classes
        without one (unless an interface they implement documents them),
        defined in clocksvc.
    """
    missing = []
    for name in package.__all__:
        value = getattr(package, name)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        if not (value.__module__ or "").startswith("clocksvc"):
            continue
        if value.__name__ != name:
            # A function bound to another name (readKernelClock) is
            # documented where it is bound, with #:.
            continue
        if not inspect.getdoc(value):
            missing.append(f"{package.__name__}.{name}")
        if inspect.isclass(value):
            # What an interface it implements documents, pydoctor shows.
            declared = {n for i in implementedBy(value) for n in i.names(all=True)}
            for attribute, member in vars(value).items():
                if (
                    inspect.isfunction(member)
                    and not attribute.startswith("_")
                    and attribute not in declared
                    and not inspect.getdoc(member)
                ):
                    missing.append(f"{package.__name__}.{name}.{attribute}")
    return missing


class DocstringTests(SynchronousTestCase):
    """
    The public names are documented.
    """

    def test_everyPublicName(self) -> None:
        """
        Each package's exported classes and functions, and their public
        methods, have docstrings (inherited ones count, as pydoctor shows
        them).
        """
        missing = []
        for name in PACKAGES:
            package = importlib.import_module(name)
            self.assertTrue(inspect.getdoc(package), name)
            missing += undocumented(package)
        self.assertEqual(missing, [])
