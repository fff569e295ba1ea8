"""
The documentation's console examples are run, so that a changed option or
answer breaks the build rather than the reader.

Every C{```console} block of README.md and of docs/**/*.md is a list of
commands, each a line that starts with C{$ }, each followed by the output
it gives. The test starts C{python -m clocksvc} on a free port and runs every
command with C{/bin/sh}, its standard output and standard error together,
then compares the output with the documented one by these rules, which
docs/howto/develop.md states for writers:

  1. C{8880}, the default port, stands for the test server's port, in the
     commands and in their output.
  2. Times are not compared: in both outputs, every ISO 8601 date-time,
     every C{ctime} string (the lesson's page), every number of ten digits or
     more (Unix times, in seconds or milliseconds, with any decimals) and
     the values of C{day_of_week}, C{day_of_year} and C{week_number} are
     replaced by a placeholder before comparing.
  3. C{...} in the documented output stands for any text, line breaks
     included, as doctest's ELLIPSIS does.
  4. Spaces at the end of lines, and blank lines at the end, do not count.

Commands that cannot run here (installing, deploying, a server in the
foreground) belong in C{```sh} blocks, which are shown and not run.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import SynchronousTestCase, TestCase

from ._geoip import writeDatabase
from ._process import _IMPORT_ROOT, ClocksvcProcess, spawnClocksvc

ROOT = Path(__file__).resolve().parent.parent
#: The port the examples are written for.
DOCUMENTED_PORT = "8880"


@dataclass(frozen=True)
class Example:
    """
    One command of a console block, and the output it is documented to give.
    """

    path: Path
    line: int
    command: str
    output: str

    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def documents() -> list[Path]:
    """
    @return: README.md and every Markdown page of docs/.
    """
    docs = ROOT / "docs"
    pages = sorted(p for p in docs.rglob("*.md") if "_build" not in p.parts)
    return [ROOT / "README.md", *pages]


def examples(path: Path) -> list[Example]:
    """
    @return: every command of every C{```console} block of C{path}.
    """
    found: list[Example] = []
    block: str | None = None
    current: list[Any] | None = None
    fence = 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        stripped = line.strip()
        if block is None:
            if stripped.startswith("```"):
                block = stripped[3:].strip()
                fence = len(line) - len(line.lstrip(" "))
            continue
        if stripped.startswith("```"):
            block = None
            if current is not None:
                found.append(Example(path, *current))
            current = None
            continue
        if block != "console":
            continue
        # A block may be indented, inside a list item, as far as its fence.
        text = line[fence:] if line[:fence].strip() == "" else line
        if text.startswith("$ "):
            if current is not None:
                found.append(Example(path, *current))
            current = [number, text[2:], ""]
        elif current is not None:
            current[2] += text + "\n"
    return found


_NORMALISE = [
    (
        re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?"),
        "<datetime>",
    ),
    (
        re.compile(r"\b[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\b"),
        "<ctime>",
    ),
    (re.compile(r"\b\d{10,}(?:\.\d+)?"), "<number>"),
    (
        re.compile(r'("?(?:day_of_week|day_of_year|week_number)"?:\s?)\d+'),
        r"\1<number>",
    ),
]


def normalise(text: str) -> str:
    """
    @return: C{text} with its times replaced by placeholders (rule 2), and
        without spaces at line ends or blank lines at the end (rule 4).
    """
    for pattern, replacement in _NORMALISE:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


def matches(documented: str, actual: str, port: str = DOCUMENTED_PORT) -> bool:
    """
    @return: whether C{actual} is what C{documented} says, by the rules of
        this module.
    """
    documented = normalise(documented.replace(DOCUMENTED_PORT, port))
    pattern = ".*?".join(re.escape(part) for part in documented.split("..."))
    return re.fullmatch(pattern, normalise(actual), re.DOTALL) is not None


class MatchTests(SynchronousTestCase):
    """
    The rules by which a documented output matches an actual one.
    """

    def test_exact(self) -> None:
        """
        Output with no time in it must be the same, but for trailing spaces.
        """
        self.assertTrue(matches("a\nb\n", "a  \nb\n\n"))
        self.assertFalse(matches("a\nb\n", "a\nc\n"))

    def test_times(self) -> None:
        """
        Date-times, ctime strings, Unix times and the day and week numbers
        may differ; other numbers may not.
        """
        self.assertTrue(
            matches(
                '{"datetime":"2026-11-22T05:32:01.662520+01:00",'
                '"unixtime":1795321921,"day_of_year":326}\n'
                "<html><body>Sun Nov 22 04:09:17 2026</body></html>",
                '{"datetime":"2027-01-02T00:00:00.000001+01:00",'
                '"unixtime":1798848000,"day_of_year":2}\n'
                "<html><body>Sat Jan  2 00:00:00 2027</body></html>",
            )
        )
        self.assertFalse(matches('{"raw_offset":3600}', '{"raw_offset":0}'))

    def test_ellipsis(self) -> None:
        """
        C{...} stands for any text, across lines too.
        """
        self.assertTrue(matches('["Africa/Abidjan",...]', '["Africa/Abidjan","Z"]'))
        self.assertTrue(matches("a\n...\nz", "a\nb\nc\nz"))
        self.assertFalse(matches('["Africa/Abidjan",...]', '["Europe/Berlin"]'))

    def test_port(self) -> None:
        """
        The documented port stands for the test server's.
        """
        self.assertTrue(matches("http://0.0.0.0:8880/", "http://0.0.0.0:4711/", "4711"))
        self.assertFalse(
            matches("http://0.0.0.0:8880/", "http://0.0.0.0:8880/", "4711")
        )

    def test_blocks(self) -> None:
        """
        Only C{console} blocks are examples, indented ones too, and each
        command takes the lines after it up to the next.
        """
        path = Path(self.mktemp())
        path.write_text(
            "text\n```sh\n$ not run\n```\n- item\n\n  ```console\n"
            "  $ echo a\n    a\n  $ true\n  ```\n"
        )
        self.assertEqual(
            [(e.line, e.command, e.output) for e in examples(path)],
            [(8, "echo a", "  a\n"), (10, "true", "")],
        )


class ExampleTests(TestCase):
    """
    Every console example of the README and the docs, against a live server.
    """

    timeout = 300

    async def serve(self) -> tuple[str, ClocksvcProcess]:
        """
        Start clocksvc on a free port of every interface, with its access
        log to a file, trusting 127.0.0.1 as a proxy, and with the tests'
        geolocation database.

        @return: its port and the process, killed at cleanup.
        """
        folder = Path(self.mktemp())
        folder.mkdir()
        # As the docs' examples assume: the proxy how-to's trusted proxy, and
        # the geolocation how-to's database, the tests' own.
        process = spawnClocksvc(
            "--listen",
            "tcp:0",
            "--access-log",
            str(folder / "access.log"),
            "--trusted-proxy",
            "127.0.0.1",
            "--geoip-db",
            writeDatabase(str(folder / "demo.mmdb")),
        )

        async def kill() -> None:
            process.signal("KILL")
            await process.exited

        self.addCleanup(lambda: Deferred.fromCoroutine(kill()))
        line = (await process.firstLine).decode()
        found = re.fullmatch(r"clocksvc: serving http://0\.0\.0\.0:(\d+)/", line)
        self.assertIsNotNone(found, (line, process.stderr))
        assert found is not None
        return found.group(1), process

    async def execute(self, example: Example, port: str) -> str:
        """
        @return: what C{example}'s command writes, standard error included.
        """
        env = {
            **os.environ,
            "PATH": os.pathsep.join(
                [str(Path(sys.executable).parent), os.environ.get("PATH", "")]
            ),
            "PYTHONPATH": _IMPORT_ROOT,
            "no_proxy": "*",
            "NO_PROXY": "*",
        }
        command = example.command.replace(DOCUMENTED_PORT, port)
        # A command that hangs (a stream read to no end) fails the example,
        # with what it wrote so far, rather than the whole test by timing
        # out: a minute is far more than any example needs.
        out, err, _ = await getProcessOutputAndValue(
            "timeout",
            ("60", "/bin/sh", "-c", command + " 2>&1"),
            env=env,
            path=str(ROOT),
            reactor=reactor,
        )
        output: bytes = out + err
        return output.decode()

    async def test_examples(self) -> None:
        """
        Every command of every console block writes what the docs say.
        """
        found = [e for path in documents() for e in examples(path)]
        # There are examples: a parser that found none would pass.
        self.assertGreater(len(found), 10)
        port, _ = await self.serve()
        failures = []
        for example in found:
            actual = await self.execute(example, port)
            if not matches(example.output, actual, port):
                failures.append(
                    f"{example.where()}: $ {example.command}\n"
                    f"--- documented\n{example.output}--- actual\n{actual}"
                )
        if failures:
            self.fail(f"{len(failures)} example(s) differ:\n\n" + "\n".join(failures))


#: bench/report.py's headings of the ratios to uvicorn's and granian's pages.
UVICORN_RATIO = "\N{MULTIPLICATION SIGN} uvicorn `/`"
GRANIAN_RATIO = "\N{MULTIPLICATION SIGN} granian `/`"


def _benchReport() -> Any:
    spec = importlib.util.spec_from_file_location(
        "clocksvc_bench_report", ROOT / "bench" / "report.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class READMETests(SynchronousTestCase):
    """
    The README's figures and commands.
    """

    def test_performanceFigures(self) -> None:
        """
        The README's performance summary quotes the committed
        C{bench/results.json}: C{/}'s requests a second on CPython, with
        the compiled core (or in pure Python, for a run that measured no
        compiled core), its ratios to the lesson's and uvicorn's pages, and
        its requests a second on PyPy and ratio to granian's page, as
        C{bench/report.py --markdown} prints them; the whole table is the
        performance page's, which the docs build from the same file.
        """
        report = _benchReport()
        results = report.load(ROOT / "bench" / "results.json")
        table = report.markdown(results)
        readme = (ROOT / "README.md").read_text()
        self.assertNotIn(table, readme)
        lines = table.splitlines()
        [row] = [line for line in lines if line.startswith("| `/` |")]

        def cells(line: str) -> list[str]:
            return [cell.strip() for cell in line.strip("|").split("|")]

        # The header repeats a peer's ratio column once per build: the first
        # after the build's own column is that build's.
        header, values = cells(lines[0]), cells(row)

        def after(column: str, name: str) -> str:
            start = header.index(column)
            return values[header.index(name, start)]

        if values[header.index("compiled req/s")] != "\N{EN DASH}":
            column, build, name = "compiled req/s", "with its compiled core", "compiled"
        else:
            column, build, name = "pure req/s", "in pure Python", "pure"
        perSecond = values[header.index(column)]
        lesson = results["summary"][f"clocksvc ({name})"]["/"]["ratio_to"]["lesson"]
        rounded = f"{round(int(perSecond.replace(',', '')), -2):,}"
        self.assertIn(f"serves {rounded} requests a second on CPython {build}", readme)
        self.assertIn(f"{lesson:.1f}\N{MULTIPLICATION SIGN} the lesson's", readme)
        self.assertIn(f"{after(column, UVICORN_RATIO)} a bare uvicorn page", readme)
        pypy = values[header.index("PyPy req/s")]
        self.assertIn(f"{round(int(pypy.replace(',', '')), -2):,} on PyPy", readme)
        self.assertIn(
            f"{after('PyPy req/s', GRANIAN_RATIO)} a bare granian page", readme
        )

    def test_short(self) -> None:
        """
        The README stays short: a newcomer reads it in two minutes.
        """
        lines = (ROOT / "README.md").read_text().count("\n")
        self.assertLess(lines, 180)

    def test_commands(self) -> None:
        """
        The README gives the two commands a newcomer needs.
        """
        text = (ROOT / "README.md").read_text()
        self.assertIn("pip install . && python -m clocksvc", text)
        self.assertIn("pip install nox && nox -s tests", text)


class DocsTests(SynchronousTestCase):
    """
    The docs' own pages.
    """

    def test_linksResolve(self) -> None:
        """
        Every relative link of the README to a file of the repository
        names one that exists.
        """
        text = (ROOT / "README.md").read_text()
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            self.assertTrue((ROOT / target).exists(), target)
