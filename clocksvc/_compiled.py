# -*- test-case-name: tests.test_compiled -*-
"""
clocksvc's compiled core: which modules a build compiles, and whether this
process runs them compiled or pure.

The modules of L{COMPILED} are plain Python: the reference, and the only
code on PyPy. A wheel built where there is a C compiler (C{hatch_build.py})
also holds each of them compiled by mypyc, an extension module beside its
source, which Python's import system finds first. This module decides once,
as the package is imported and before any of them is, which this process
runs (L{CORE}): the compiled modules, on CPython, when every one of them is
there and C{CLOCKSVC_NO_EXTENSIONS} is not set; or else their sources, all
of them, never a mixture: where extension modules are there but not to be
used, an import hook (L{SourceFinder}) loads the sources in their place.

It sits at the bottom of the layers, beside C{_version}, and imports
nothing of clocksvc; the build reads L{COMPILED} and L{extensionsWanted}
from its source.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import EXTENSION_SUFFIXES, ModuleSpec, SourceFileLoader
from importlib.util import module_from_spec
from pathlib import Path
from types import ModuleType

__all__ = [
    "COMPILED",
    "CORE",
    "NO_EXTENSIONS",
    "PURE_NOTICE",
    "SourceFinder",
    "chooseCore",
    "extensionsWanted",
    "pureModule",
    "pureNotice",
]

#: The modules a build compiles: hot, pure, and stable. This tuple is the
#: one list: C{hatch_build.py} reads it (as a literal, without importing
#: clocksvc), and so do the import hook and the tests that compare each
#: module's two builds.
COMPILED = (
    "clocksvc._http._grammar",
    "clocksvc._time._document",
    "clocksvc._time._formats",
    "clocksvc._time._instants",
)

#: The environment variable that, set to anything but the empty string,
#: makes clocksvc run pure Python, and makes a build build no compiled
#: core: the ecosystem's convention (C{AIOHTTP_NO_EXTENSIONS},
#: C{YARL_NO_EXTENSIONS}).
NO_EXTENSIONS = "CLOCKSVC_NO_EXTENSIONS"

_PACKAGE = Path(__file__).parent


def extensionsWanted(environ: Mapping[str, str], implementation: str) -> bool:
    """
    @param environ: the environment.
    @param implementation: C{sys.implementation.name}.
    @return: whether compiled modules are to be built and used: on CPython
        (mypyc compiles for its C API alone; PyPy runs the sources, which
        its JIT compiles), unless L{NO_EXTENSIONS} is set.
    """
    return implementation == "cpython" and not environ.get(NO_EXTENSIONS)


def pureNotice(environ: Mapping[str, str], implementation: str, package: Path) -> str:
    """
    @param environ: the environment.
    @param implementation: C{sys.implementation.name}.
    @param package: the folder clocksvc was imported from.
    @return: what clocksvc says at start-up when it runs pure Python, with
        why: above all, that the sources of a checkout, which Python finds
        first when started from the checkout's folder, hide the compiled
        build that C{pip install .} put in C{site-packages}.
    """
    if implementation == "pypy":
        why = "PyPy's JIT compiles it"
    elif implementation != "cpython":
        why = f"no compiled core on {implementation}"
    elif environ.get(NO_EXTENSIONS):
        why = f"{NO_EXTENSIONS} is set"
    elif {"site-packages", "dist-packages"}.isdisjoint(package.parts):
        why = (
            f"no compiled core in the sources at {package}, which hide any "
            "installed build: start it from another folder"
        )
    else:
        why = "no compiled core: installed without a C compiler"
    return f"running pure Python ({why})"


def chooseCore(wanted: bool, present: Sequence[bool]) -> str:
    """
    @param wanted: L{extensionsWanted}.
    @param present: for each module of L{COMPILED}, whether its extension
        module is there.
    @return: C{"compiled"} if they are wanted and all there, else C{"pure"}.
    """
    return "compiled" if wanted and all(present) else "pure"


def _source(name: str) -> Path:
    """
    @param name: a module of L{COMPILED}.
    @return: its source file.
    """
    return _PACKAGE.joinpath(*name.split(".")[1:]).with_suffix(".py")


def _sourceSpec(loader: SourceFileLoader) -> ModuleSpec:
    """
    @param loader: the loader of a module's source.
    @return: the spec that loads it with C{loader} (its bytecode cached),
        as Python's own finder would were there no extension module.
    """
    spec = ModuleSpec(loader.name, loader, origin=loader.path)
    # So that the module has its __file__, and its bytecode is cached.
    spec.has_location = True
    return spec


def _extensionFound(name: str) -> bool:
    """
    @param name: a module of L{COMPILED}.
    @return: whether its extension module for this interpreter is beside
        its source.
    """
    source = _source(name)
    return any(
        source.with_name(source.stem + suffix).exists() for suffix in EXTENSION_SUFFIXES
    )


class SourceFinder(MetaPathFinder):
    """
    Finds the modules of L{COMPILED} as their sources, ahead of Python's own
    finder, which would take the extension module beside each.
    """

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        """
        @return: the spec of C{fullname}'s source, if it is one of
            L{COMPILED}; else L{None}, for the other finders.
        """
        if fullname not in COMPILED:
            return None
        return _sourceSpec(SourceFileLoader(fullname, str(_source(fullname))))


def pureModule(name: str) -> ModuleType:
    """
    Load a module of L{COMPILED} from its source, as a module of its own,
    which C{sys.modules} does not hold: what the pure build runs, to compare
    with the module this process imported.

    @param name: a module of L{COMPILED}.
    @return: the module.
    """
    loader = SourceFileLoader(name, str(_source(name)))
    module = module_from_spec(_sourceSpec(loader))
    loader.exec_module(module)
    return module


_found = [_extensionFound(name) for name in COMPILED]
#: What this process runs: C{"compiled"} or C{"pure"}.
CORE = chooseCore(extensionsWanted(os.environ, sys.implementation.name), _found)
#: What clocksvc says once at start-up, on standard error, when it runs
#: pure Python (L{pureNotice}).
PURE_NOTICE = pureNotice(os.environ, sys.implementation.name, _PACKAGE)
if CORE == "pure" and any(_found):
    # Opted out (or a build with some of them missing): the sources, every
    # one, whatever is beside them.
    sys.meta_path.insert(0, SourceFinder())
