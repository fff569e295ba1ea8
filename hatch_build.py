"""
clocksvc's build hook: the wheel's compiled core.

Where it can, it compiles the modules that C{clocksvc/_compiled.py} lists
(C{COMPILED}) with mypyc, each into an extension module the wheel carries
beside its source, with the shared library of the group
(C{clocksvc__mypyc}); the wheel is then tagged for this interpreter and
platform. It builds pure Python, a C{py3-none-any} wheel, on PyPy, for an
editable install, when C{CLOCKSVC_NO_EXTENSIONS} is set, and when the
compilation fails for want of a C compiler or Python's headers, which it
says in a warning. A type error in a compiled module is no such failure:
it fails the build, as it fails C{nox -s typecheck}.

mypyc comes with mypy, at the version the C{typecheck} group pins, and is
asked for only when a build would compile (L{CompiledCore.dependencies}).
"""

from __future__ import annotations

import ast
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.config import BuilderConfig
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

_RULES = Path("clocksvc") / "_compiled.py"


def _rules(path: Path) -> dict[str, Any]:
    """
    Read the rules of C{clocksvc/_compiled.py} without importing clocksvc,
    whose package imports Twisted, which a build's environment does not
    have, and without running the rest of that module, which chooses the
    core of the process that imports it.

    @param path: C{clocksvc/_compiled.py}.
    @return: its module-level constants that are literals (C{COMPILED},
        C{NO_EXTENSIONS}) and its function C{extensionsWanted}, the one
        rule of whether to compile and use compiled modules.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    kept: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "extensionsWanted":
            kept.append(node)
        elif isinstance(node, ast.ImportFrom) and node.module == "__future__":
            # Its annotations then name types that are not imported here.
            kept.append(node)
        elif isinstance(node, ast.Assign):
            try:
                ast.literal_eval(node.value)
            except ValueError:
                continue
            kept.append(node)
    namespace: dict[str, Any] = {}
    code = compile(ast.Module(body=kept, type_ignores=[]), str(path), "exec")
    exec(code, namespace)  # noqa: S102 (the project's own source)
    return namespace


class CompiledCore(BuildHookInterface[BuilderConfig]):
    """
    Compiles clocksvc's core for the wheel, or leaves the wheel pure.
    """

    PLUGIN_NAME = "custom"

    def _rules(self) -> dict[str, Any]:
        return _rules(Path(self.root) / _RULES)

    def _wanted(self) -> bool:
        """
        @return: whether to compile, as C{clocksvc._compiled.extensionsWanted}
            decides whether to use compiled modules: on CPython, unless
            C{CLOCKSVC_NO_EXTENSIONS} is set.
        """
        wanted: bool = self._rules()["extensionsWanted"](
            os.environ, sys.implementation.name
        )
        return wanted

    def dependencies(self) -> list[str]:
        """
        @return: mypy, with mypyc's own dependencies, at the version the
            C{typecheck} group pins, when the build would compile; nothing
            otherwise, so that a pure build downloads nothing more.
        """
        if not self._wanted():
            return []
        groups = self.metadata.config["dependency-groups"]
        (pin,) = [r for r in groups["typecheck"] if str(r).startswith("mypy==")]
        # That mypy needs Python 3.10; on 3.9 the build is pure.
        return [pin.replace("mypy==", "mypy[mypyc]==") + "; python_version >= '3.10'"]

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """
        Compile, unless the build is to be pure; add the extension modules
        to the wheel, and tag it for this interpreter and platform.
        """
        if version == "editable" or not self._wanted():
            return
        self._work = Path(tempfile.mkdtemp(prefix="clocksvc-mypyc-"))
        try:
            built = self._compile(self._rules()["COMPILED"], self._work)
        except Exception as e:
            # No C compiler, no Python headers, or no mypyc: pure Python,
            # which runs the same, only slower.
            self.app.display_warning(
                f"clocksvc: no compiled core ({type(e).__name__}: {e}); "
                "the wheel is pure Python"
            )
            return
        for path, name in built.items():
            build_data["force_include"][str(path)] = name
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(
        self, version: str, build_data: dict[str, Any], artifact_path: str
    ) -> None:
        """
        Remove what the compilation left, once the wheel holds it.
        """
        work = getattr(self, "_work", None)
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)

    def _compile(self, modules: list[str], work: Path) -> dict[Path, str]:
        """
        Compile C{modules} with mypyc into one group.

        @param modules: the modules' dotted names.
        @param work: a folder for the C sources, objects and libraries.
        @return: each extension module built, and its path in the wheel.
        """
        from mypyc.build import mypycify
        from setuptools import Distribution

        # mypy's options for the compilation alone, not the project's
        # [tool.mypy], whose plugin (mypy-zope) the build does not install:
        # Twisted is not installed either, and its names are Any to mypyc;
        # the modules they import are read for their types, their errors
        # left to nox -s typecheck.
        config = work / "mypy.ini"
        config.write_text(
            "[mypy]\nignore_missing_imports = True\nfollow_imports = silent\n"
        )
        # Paths relative to the project, so that a traceback through a
        # compiled module names clocksvc/..., not the build's folder.
        sources = [str(Path(*name.split(".")).with_suffix(".py")) for name in modules]
        here = os.getcwd()
        os.chdir(self.root)
        try:
            extensions = mypycify(
                [f"--config-file={config}", f"--cache-dir={work / 'cache'}", *sources],
                opt_level="3",
                # The shared library's name: clocksvc__mypyc, not a hash.
                group_name="clocksvc",
                target_dir=str(work / "c"),
            )
        finally:
            os.chdir(here)
        distribution = Distribution({"name": "clocksvc", "ext_modules": extensions})
        command = distribution.get_command_obj("build_ext")
        command.build_lib = str(work / "lib")
        command.build_temp = str(work / "temp")
        command.ensure_finalized()
        command.run()
        lib = work / "lib"
        return {
            Path(out): Path(out).relative_to(lib).as_posix()
            for out in command.get_outputs()
        }
