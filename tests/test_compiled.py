"""
Tests for L{clocksvc._compiled}: which core runs, the choice forced pure by
C{CLOCKSVC_NO_EXTENSIONS}, and the compiled modules against their sources,
byte for byte, on generated input.

The comparisons run where the suite runs against a compiled build (C{nox
-s tests}); against pure Python (C{nox -s tests-pure}, PyPy) there is
nothing compiled to compare, and they skip.
"""

from __future__ import annotations

import ast
import json
import os
import re
import sys
import zoneinfo
from collections.abc import Callable
from datetime import timedelta
from fractions import Fraction
from functools import partial
from importlib.machinery import EXTENSION_SUFFIXES, SourceFileLoader
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import treq
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.client import HTTPConnectionPool

from clocksvc import _compiled
from clocksvc._compiled import (
    COMPILED,
    CORE,
    NO_EXTENSIONS,
    SourceFinder,
    chooseCore,
    extensionsWanted,
    pureModule,
    pureNotice,
)
from clocksvc._http import Limits
from clocksvc._time._instants import INSTANT, LOCAL_TIME

from ._helpers import within
from ._process import _IMPORT_ROOT, spawnClocksvc
from .test_hardening import rawRequests

#: Why the comparisons skip, where they do.
_NOTHING_COMPILED = (
    None
    if CORE == "compiled"
    else "this run is pure Python: no compiled module to compare with its source"
)


class ChoiceTests(SynchronousTestCase):
    """
    Which core runs, as L{clocksvc._compiled} decides it.
    """

    def test_wanted(self) -> None:
        """
        Compiled modules are wanted on CPython unless C{CLOCKSVC_NO_EXTENSIONS}
        is set to anything but the empty string; never on PyPy.
        """
        self.assertTrue(extensionsWanted({}, "cpython"))
        self.assertTrue(extensionsWanted({NO_EXTENSIONS: ""}, "cpython"))
        self.assertFalse(extensionsWanted({NO_EXTENSIONS: "1"}, "cpython"))
        self.assertFalse(extensionsWanted({NO_EXTENSIONS: "0"}, "cpython"))
        self.assertFalse(extensionsWanted({}, "pypy"))

    def test_allOrNothing(self) -> None:
        """
        The compiled core runs only when wanted and every module of it is
        there: a build missing one runs pure, never a mixture.
        """
        self.assertEqual(chooseCore(True, [True] * 4), "compiled")
        self.assertEqual(chooseCore(True, [True, False, True, True]), "pure")
        self.assertEqual(chooseCore(False, [True] * 4), "pure")
        self.assertEqual(chooseCore(True, []), "compiled")

    def test_pureNotice(self) -> None:
        """
        The start-up line of a pure clocksvc says why it is pure; above all
        that a checkout's sources, found first from its folder, hide the
        installed build.
        """
        installed = Path("/venv/lib/python3.11/site-packages/clocksvc")
        checkout = Path("/home/me/clocksvc/clocksvc")
        self.assertEqual(
            pureNotice({}, "cpython", checkout),
            "running pure Python (no compiled core in the sources at "
            f"{checkout}, which hide any installed build: start it from "
            "another folder)",
        )
        self.assertEqual(
            pureNotice({}, "cpython", installed),
            "running pure Python (no compiled core: installed without a C compiler)",
        )
        self.assertEqual(
            pureNotice({}, "cpython", Path("/usr/lib/python3/dist-packages/clocksvc")),
            "running pure Python (no compiled core: installed without a C compiler)",
        )
        self.assertEqual(
            pureNotice({NO_EXTENSIONS: "1"}, "cpython", checkout),
            f"running pure Python ({NO_EXTENSIONS} is set)",
        )
        self.assertEqual(
            pureNotice({}, "pypy", installed),
            "running pure Python (PyPy's JIT compiles it)",
        )
        self.assertEqual(
            pureNotice({}, "graalpy", installed),
            "running pure Python (no compiled core on graalpy)",
        )

    def test_running(self) -> None:
        """
        Every module of L{COMPILED} this process runs is what L{CORE} says:
        an extension module when compiled, its source when pure.
        """
        for name in COMPILED:
            __import__(name)
            path = sys.modules[name].__file__
            assert path is not None
            if CORE == "compiled":
                self.assertTrue(path.endswith(tuple(EXTENSION_SUFFIXES)), path)
            else:
                self.assertTrue(path.endswith(".py"), path)

    def test_finder(self) -> None:
        """
        L{SourceFinder} finds each module of L{COMPILED} as its source, and
        leaves every other module to the other finders.
        """
        finder = SourceFinder()
        for name in COMPILED:
            spec = finder.find_spec(name, None)
            assert spec is not None and spec.origin is not None
            self.assertIsInstance(spec.loader, SourceFileLoader)
            self.assertEqual(Path(spec.origin).suffix, ".py")
            self.assertTrue(Path(spec.origin).exists(), spec.origin)
            self.assertTrue(spec.has_location)
        self.assertIsNone(finder.find_spec("clocksvc._http._limits", None))

    def test_pureModule(self) -> None:
        """
        L{pureModule} runs a module's source as a module of its own, which
        C{sys.modules} does not hold.
        """
        before = dict(sys.modules)
        grammar = pureModule("clocksvc._http._grammar")
        self.assertEqual(dict(sys.modules), before)
        self.assertIsNot(grammar, sys.modules["clocksvc._http._grammar"])
        assert grammar.__file__ is not None
        self.assertTrue(grammar.__file__.endswith("_grammar.py"), grammar.__file__)
        self.assertEqual(grammar.frameChunk(b"abc"), b"3\r\nabc\r\n")

    def test_oneList(self) -> None:
        """
        L{COMPILED} is a literal tuple of module names, as the build hook
        reads it (without importing clocksvc), and each names a module.
        """
        source = Path(_compiled.__file__).read_text(encoding="utf-8")
        found = re.search(r"^COMPILED = (\(.*?\n\))$", source, re.S | re.M)
        assert found is not None
        self.assertEqual(ast.literal_eval(found.group(1)), COMPILED)
        for name in COMPILED:
            self.assertTrue(name.startswith("clocksvc."), name)
            __import__(name)


async def _run(*code: str, environment: dict[str, str]) -> list[str]:
    """
    Run Python code in a child process that imports the clocksvc the tests
    do.

    @return: the lines it prints.
    """
    out, err, status = await getProcessOutputAndValue(
        sys.executable,
        ["-c", "\n".join(code)],
        env={**os.environ, **environment, "PYTHONPATH": _IMPORT_ROOT},
        reactor=reactor,
    )
    if status != 0:
        raise AssertionError(err.decode())
    lines: list[str] = out.decode().splitlines()
    return lines


class OptOutTests(TestCase):
    """
    C{CLOCKSVC_NO_EXTENSIONS=1} runs pure Python, whatever the build, and
    clocksvc says so.
    """

    async def test_sources(self) -> None:
        """
        With it set, every module of L{COMPILED} is run from its source,
        even where its extension module is beside it.
        """
        lines = await _run(
            "import sys",
            "from clocksvc import _compiled",
            "print(_compiled.CORE)",
            "for name in _compiled.COMPILED:",
            "    __import__(name)",
            "    print(sys.modules[name].__file__)",
            environment={NO_EXTENSIONS: "1"},
        )
        self.assertEqual(lines[0], "pure")
        self.assertEqual(len(lines), 1 + len(COMPILED))
        for path in lines[1:]:
            self.assertTrue(path.endswith(".py"), path)

    async def test_saysSo(self) -> None:
        """
        A pure clocksvc says so once, after where it serves, and in
        C{/healthz} and C{clocksvc_build_info}.
        """
        # The log on standard output, and so on standard error the lines
        # for people alone.
        process = spawnClocksvc(
            "--listen", "tcp:0:interface=127.0.0.1", environment={NO_EXTENSIONS: "1"}
        )
        self.addCleanup(lambda: Deferred.fromCoroutine(_kill(process)))
        found = await within(
            process.printed(rb"clocksvc: serving (\S+)\n(.*)\n"), 60, "serving"
        )
        url = found.group(1).decode()
        said = pureNotice({NO_EXTENSIONS: "1"}, sys.implementation.name, Path())
        self.assertEqual(found.group(2).decode(), f"clocksvc: {said}")
        pool = HTTPConnectionPool(reactor, persistent=False)
        health = json.loads(await (await treq.get(url + "healthz", pool=pool)).text())
        self.assertEqual(health["core"], "pure")
        metrics = await (await treq.get(url + "metrics", pool=pool)).text()
        self.assertRegex(metrics, r'clocksvc_build_info\{[^}]*core="pure"')
        process.signal("TERM")
        self.assertEqual(await within(process.exited, 60, "exit"), 0)
        self.assertEqual(process.stderr.decode().count(said), 1)


async def _kill(process: Any) -> None:
    process.signal("KILL")
    await process.exited


class _Comparison(SynchronousTestCase):
    """
    Compares a compiled module with its source, loaded apart.

    @cvar module: the module's name.
    """

    skip: str | None = _NOTHING_COMPILED
    module: ClassVar[str]

    def setUp(self) -> None:
        __import__(self.module)
        self.compiled = sys.modules[self.module]
        self.pure = pureModule(self.module)
        # What is compared is what it seems: an extension module, and a
        # source.
        assert self.compiled.__file__ is not None and self.pure.__file__ is not None
        self.assertFalse(self.compiled.__file__.endswith(".py"))
        self.assertTrue(self.pure.__file__.endswith(".py"))

    def same(self, call: Callable[[ModuleType], object]) -> None:
        """
        Assert that C{call} gives the same of each module: its value, or
        the exception it raised, by name and arguments.
        """
        self.assertEqual(_outcome(call, self.compiled), _outcome(call, self.pure))


def _outcome(call: Callable[[ModuleType], object], module: ModuleType) -> object:
    """
    @return: what C{call(module)} returns (a named tuple as a plain one), or
        the exception it raises, as its name and arguments.
    """
    try:
        value = call(module)
    except Exception as e:
        return ("raised", type(e).__name__, e.args, getattr(e, "bodyless", None))
    return _plain(value)


def _plain(value: object) -> object:
    """
    @return: C{value}, with named tuples (each module has its own class of
        each) as plain tuples, within lists and tuples too, so that a
        difference shows as one of values.
    """
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


#: Limits small enough for generated requests to reach them.
_LIMITS = Limits(maxRequestLine=200, maxHeaderSize=400, maxHeaders=8, maxBodySize=100)


def _readAll(grammar: Any, data: bytes, cuts: list[int]) -> list[object]:
    """
    Read C{data} with C{grammar} as the channel does: head after head,
    each parsed and its body decoded, until a refusal, the connection's
    end, or bytes that do not make a whole request.

    @param cuts: where the body's bytes are cut, to arrive in pieces.
    @return: what was found, step by step.
    """
    found: list[object] = []
    started = False
    while True:
        try:
            split = grammar.splitHead(data, _LIMITS, started)
            if split is None:
                found.append(("waiting", data))
                return found
            head, used = split
            data = data[used:]
            request = grammar.parseHead(head, _LIMITS)
        except grammar.Refusal as refusal:
            found.append(("refused", refusal.status, refusal.bodyless))
            return found
        found.append(
            (
                "head",
                _plain(request),
                _plain(grammar.quickHead(request)),
                _plain(grammar.parseQuickHead(head, _LIMITS)),
                grammar.originForm(request.target),
                grammar.visibleTarget(request.target),
            )
        )
        pieces: list[bytes] = []
        ended: list[bytes] = []
        refused: list[int] = []
        if request.length is None:
            decoder = grammar.ChunkedDecoder(
                pieces.append,
                ended.append,
                refused.append,
                _LIMITS.maxBodySize,
                _LIMITS.maxHeaderSize,
                _LIMITS.maxHeaders,
            )
        elif request.length:
            decoder = grammar.LengthDecoder(request.length, pieces.append, ended.append)
        else:
            decoder = None
            ended.append(data)
        at = len(data)
        if decoder is not None:
            at = 0
            for cut in [*sorted(c % (len(data) + 1) for c in cuts), len(data)]:
                decoder.dataReceived(data[at:cut])
                at = cut
                if ended or refused:
                    break
        found.append(("body", pieces, refused))
        if refused or not ended:
            return found
        # What came after the body: the rest of the piece it ended in, and
        # the pieces not yet given to the decoder.
        data = ended[0] + data[at:]
        if not request.persistent:
            return found


class GrammarTests(_Comparison):
    """
    The compiled grammar reads and writes what its source does: a parser
    of two builds that disagree is how a proxy and a server come to see
    different requests (aiohttp's C and Python parsers once did, on
    trailers).
    """

    module = "clocksvc._http._grammar"

    @settings(max_examples=300)
    @given(rawRequests(), st.lists(st.integers(0, 400), max_size=4))
    def test_requests(self, data: bytes, cuts: list[int]) -> None:
        """
        Generated requests, well formed or not, pipelined or cut short, with
        their bodies arriving in pieces, are read alike.
        """
        self.same(lambda grammar: _readAll(grammar, data, cuts))

    @given(st.binary(max_size=300), st.booleans())
    def test_bytes(self, data: bytes, started: bool) -> None:
        """
        Any bytes are split and parsed alike.
        """
        self.same(lambda grammar: grammar.splitHead(data, _LIMITS, started))
        self.same(lambda grammar: grammar.parseHead(data, _LIMITS))
        self.same(lambda grammar: grammar.parseQuickHead(data, _LIMITS))

    @given(
        st.binary(max_size=30),
        st.lists(st.binary(max_size=20), max_size=4),
        st.sampled_from([b"HTTP/1.0", b"HTTP/1.1"]),
        st.integers(0, 10**12),
    )
    def test_fields(
        self, value: bytes, values: list[bytes], version: bytes, most: int
    ) -> None:
        """
        Field values are read alike.
        """
        self.same(lambda grammar: grammar.contentLength(value, most))
        self.same(lambda grammar: sorted(grammar.connectionOptions(values)))
        self.same(lambda grammar: grammar.validHost(values, version))

    @given(
        st.integers(100, 599),
        st.lists(st.tuples(st.binary(max_size=10), st.binary(max_size=20))),
        st.one_of(st.none(), st.binary(max_size=10)),
        st.binary(max_size=40),
        st.floats(0, 2**33, allow_nan=False),
    )
    def test_responses(
        self,
        status: int,
        fields: list[tuple[bytes, bytes]],
        reason: bytes | None,
        data: bytes,
        seconds: float,
    ) -> None:
        """
        Responses are written alike.
        """
        self.same(lambda grammar: grammar.responseHead(status, fields, reason))
        self.same(lambda grammar: grammar.rawResponse(status))
        self.same(lambda grammar: grammar.rawResponse(status, bodyless=True))
        self.same(lambda grammar: grammar.frameChunk(data))
        self.same(lambda grammar: grammar.httpDate(seconds))


#: Every zone, in a fixed order, for hypothesis to draw from.
_ZONES = sorted(zoneinfo.available_timezones())

#: Seconds from 1000-01-01 to 9998-12-31, the years clocksvc takes, with
#: microseconds: as a float, or exactly.
_SECONDS = st.builds(
    lambda whole, micros: Fraction(whole * 1_000_000 + micros, 1_000_000),
    st.integers(-30610224000, 253402214399),
    st.integers(0, 999_999),
)


def _documents(
    instant: float | Fraction, zone: zoneinfo.ZoneInfo, clientIP: str, document: Any
) -> tuple[bytes, bytes]:
    """
    @return: C{document}'s time document of C{instant} in C{zone} for
        C{clientIP}, in JSON and in text.
    """
    made = document.timeDocument(instant, zone, clientIP)
    return document.documentJSON(made), document.documentText(made)


class DocumentTests(_Comparison):
    """
    The compiled time document is its source's, byte for byte.
    """

    module = "clocksvc._time._document"

    @given(_SECONDS, st.sampled_from(_ZONES), st.text(max_size=40))
    def test_documents(self, seconds: Fraction, name: str, clientIP: str) -> None:
        """
        Any instant, in any zone, for any client: the document, its JSON and
        text forms, and those made from a second's pieces.
        """
        zone = zoneinfo.ZoneInfo(name)
        for instant in (seconds, float(seconds)):
            self.same(partial(_documents, instant, zone, clientIP))
        instant = float(seconds)
        self.same(lambda document: document.documentJSONAt(instant, zone, clientIP))
        self.same(lambda document: document.documentTextAt(instant, zone, clientIP))

    @given(
        st.timedeltas(timedelta(days=-1), timedelta(days=1)),
        st.one_of(st.none(), st.timedeltas(timedelta(hours=-3), timedelta(hours=3))),
        st.one_of(st.none(), st.timedeltas(timedelta(hours=-3), timedelta(hours=3))),
    )
    def test_offsets(
        self, saving: timedelta, before: timedelta | None, after: timedelta | None
    ) -> None:
        """
        Offsets are written, and daylight saving decided, alike.
        """
        self.same(lambda document: document.formatOffset(saving))
        self.same(lambda document: document.reportedSaving(saving, before, after))


class FormatsTests(_Comparison):
    """
    The compiled page and time.akamai.com answers are their source's.
    """

    module = "clocksvc._time._formats"

    @given(
        _SECONDS,
        st.one_of(st.none(), st.sampled_from(_ZONES)),
        st.sets(st.sampled_from([b"iso", b"ms", b"other"])),
    )
    def test_answers(
        self, seconds: Fraction, name: str | None, names: set[bytes]
    ) -> None:
        """
        The lesson's page in any zone (or the local one), and akamai's
        answers to any query, at any instant.
        """
        zone = None if name is None else zoneinfo.ZoneInfo(name)
        instant = float(seconds)
        self.same(lambda formats: formats.clockPageBody(instant, zone))
        self.same(lambda formats: formats.akamaiTime(instant, names))

    @given(
        st.one_of(st.from_regex(r"[A-Za-z0-9_+/\-]{0,50}", fullmatch=True), st.text())
    )
    def test_zoneNames(self, text: str) -> None:
        """
        Zone names are told from other text alike.
        """
        self.same(lambda formats: formats.isZoneName(text))


class InstantsTests(_Comparison):
    """
    The compiled reading of instants is its source's.
    """

    module = "clocksvc._time._instants"

    @given(
        st.one_of(
            st.from_regex(INSTANT, fullmatch=True),
            st.from_regex(LOCAL_TIME, fullmatch=True),
            st.text(alphabet="0123456789-+:.TtZz ", max_size=40),
            st.text(max_size=40),
        )
    )
    def test_instants(self, text: str) -> None:
        """
        Instants and local times, valid or not, are read alike.
        """
        self.same(lambda instants: instants.parseInstant(text))
        self.same(lambda instants: instants.localTime(text))

    @given(st.integers(0, 10**15))
    def test_bounds(self, bound: int) -> None:
        """
        The expressions for numbers up to a bound are written alike.
        """
        self.same(lambda instants: instants.notAbove(bound))
