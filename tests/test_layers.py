"""
clocksvc's architecture, checked: its layers import only downwards (time,
then http, ntp, roughtime and the server's clock side by side, then web,
then run; see ARCHITECTURE.md), the time layer imports nothing of Twisted,
the three protocol layers nothing of clocksvc outside themselves (what they
need is handed to them), and no module imports another that imports it back,
counting imports inside functions and under C{TYPE_CHECKING}.
"""

from __future__ import annotations

import ast
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

import clocksvc

#: The package's directory.
PACKAGE = Path(clocksvc.__file__).parent

#: Each layer's rank: a module may import from its own layer and those of
#: lower rank, but not from another layer of its own rank. _version and
#: _compiled (which modules run compiled) are below everything; the
#: package's own __init__ and __main__ are the entry points, above
#: everything. The HTTP, SNTP and Roughtime protocols are layers side by
#: side, and beside them the server's clock (_clock), which may import the
#: time layer and nothing above it.
RANKS = {
    "_version": 0,
    "_compiled": 0,
    "_time": 1,
    "_http": 2,
    "_ntp": 2,
    "_roughtime": 2,
    "_clock": 2,
    "_web": 3,
    "_run": 4,
}
TOP = 5


def moduleName(path: Path) -> str:
    """
    @return: the dotted name of the module at C{path}, under the package.
    """
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def rankOf(module: str) -> int:
    """
    @return: the layer rank of C{module}, a name under C{clocksvc}.
    """
    parts = module.split(".")
    if len(parts) == 1:
        return TOP
    return RANKS.get(parts[1], TOP)


def layerOf(module: str) -> str:
    """
    @return: the layer of C{module}, a name under C{clocksvc}: its first
        part below the package, or C{""} for the package itself.
    """
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imports(path: Path) -> set[str]:
    """
    @return: the clocksvc modules that the module at C{path} imports,
        anywhere in it.
    """
    return importsOf(moduleName(path), path.name == "__init__.py", path.read_text())


def importsOf(module: str, isPackage: bool, source: str) -> set[str]:
    """
    @return: the clocksvc modules that C{source}, the module C{module} (a
        package's C{__init__} if C{isPackage}), imports anywhere in it.
    """
    package = module if isPackage else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                if _exists(candidate):
                    found.add(candidate)
                elif target.startswith("clocksvc"):
                    found.add(target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("clocksvc"))
    found.discard(module)
    return found


def _exists(module: str) -> bool:
    # Only clocksvc's: beside an installed clocksvc (nox -s tests) are the
    # packages it imports, Twisted's among them.
    if module.split(".")[0] != "clocksvc":
        return False
    relative = Path(*module.split("."))
    return (PACKAGE.parent / relative).with_suffix(".py").exists() or (
        PACKAGE.parent / relative / "__init__.py"
    ).exists()


def graph() -> dict[str, set[str]]:
    """
    @return: each clocksvc module with the clocksvc modules it imports.
    """
    return {moduleName(path): imports(path) for path in PACKAGE.rglob("*.py")}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """
    @return: the strongly connected components of more than one module.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def outsiders(edges: dict[str, set[str]], layer: str) -> set[str]:
    """
    @param edges: each clocksvc module with the clocksvc modules it imports.
    @param layer: a layer, such as C{"_http"}.
    @return: the imports, as C{"module -> target"}, by a module of C{layer}
        of a clocksvc module outside it.
    """
    return {
        f"{module} -> {target}"
        for module, targets in edges.items()
        if layerOf(module) == layer
        for target in targets
        if layerOf(target) != layer
    }


class LayerTests(SynchronousTestCase):
    """
    The import graph of the package keeps to the layers.
    """

    def test_layersExist(self) -> None:
        """
        Each layer is a package of its own.
        """
        for layer in ["_time", "_clock", "_http", "_ntp", "_roughtime", "_web", "_run"]:
            self.assertTrue((PACKAGE / layer / "__init__.py").exists(), layer)

    def test_downwardsOnly(self) -> None:
        """
        No module imports one of a higher layer.
        """
        upward = [
            f"{module} -> {target}"
            for module, targets in graph().items()
            for target in targets
            if rankOf(target) > rankOf(module)
        ]
        self.assertEqual(upward, [])

    def test_siblingsApart(self) -> None:
        """
        No module of a layer imports one of another layer of the same rank:
        the HTTP and SNTP layers know nothing of each other.
        """
        across = [
            f"{module} -> {target}"
            for module, targets in graph().items()
            for target in targets
            if rankOf(target) == rankOf(module) < TOP
            and layerOf(target) != layerOf(module)
        ]
        self.assertEqual(across, [])

    def test_noCycles(self) -> None:
        """
        No module imports, however indirectly, one that imports it.
        """
        self.assertEqual(cycles(graph()), [])

    def test_timeWithoutTwisted(self) -> None:
        """
        The time layer is pure: nothing of Twisted.
        """
        for path in (PACKAGE / "_time").rglob("*.py"):
            tree = ast.parse(path.read_text())
            names = [
                alias.name
                for node in ast.walk(tree)
                if isinstance(node, ast.Import)
                for alias in node.names
            ] + [
                node.module or ""
                for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom)
            ]
            self.assertEqual(
                [name for name in names if name.split(".")[0] == "twisted"],
                [],
                path.name,
            )

    def test_httpAlone(self) -> None:
        """
        The HTTP layer imports nothing of clocksvc, not even the time layer
        below it: what it needs is handed to its site.
        """
        self.assertEqual(outsiders(graph(), "_http"), set())

    def test_ntpAlone(self) -> None:
        """
        The SNTP server imports nothing of clocksvc: what it needs is handed
        to it.
        """
        self.assertEqual(outsiders(graph(), "_ntp"), set())

    def test_roughtimeAlone(self) -> None:
        """
        The Roughtime server imports nothing of clocksvc: what it needs is
        handed to it.
        """
        self.assertEqual(outsiders(graph(), "_roughtime"), set())

    def test_checksCatch(self) -> None:
        """
        The checks see an upward import and a cycle, even a lazy one, and
        an import out of a layer that is to import nothing of clocksvc.
        """
        edges = {
            "clocksvc._http._a": {"clocksvc._web._b"},
            "clocksvc._web._b": {"clocksvc._http._a"},
        }
        self.assertEqual(cycles(edges), [["clocksvc._http._a", "clocksvc._web._b"]])
        self.assertGreater(rankOf("clocksvc._web._b"), rankOf("clocksvc._http._a"))
        self.assertEqual(rankOf("clocksvc._ntp._c"), rankOf("clocksvc._http._a"))
        self.assertNotEqual(layerOf("clocksvc._ntp._c"), layerOf("clocksvc._http._a"))
        source = "def f():\n    if x:\n        from .._web import _site\n"
        self.assertEqual(
            importsOf("clocksvc._http._a", False, source), {"clocksvc._web._site"}
        )
        # A downward import out of a protocol layer is still one too many.
        downward = {
            "clocksvc._http._a": {"clocksvc._http._c", "clocksvc._time._d"},
            "clocksvc._http._c": {"clocksvc._version"},
        }
        self.assertEqual(
            outsiders(downward, "_http"),
            {
                "clocksvc._http._a -> clocksvc._time._d",
                "clocksvc._http._c -> clocksvc._version",
            },
        )
