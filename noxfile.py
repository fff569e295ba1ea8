"""
clocksvc's development tasks. C{nox} runs tests, lint and typecheck;
C{nox -s NAME} runs one.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import nox

nox.options.sessions = ["tests", "tests-pure", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False

PYPROJECT = nox.project.load_toml("pyproject.toml")

#: The environment of an install that is to build pure Python: the sessions
#: that run the checkout's sources, which shadow the installed package,
#: would compile it for nothing (hatch_build.py).
PURE_BUILD = {"CLOCKSVC_NO_EXTENSIONS": "1"}


def _suites() -> list[str]:
    """
    @return: the unit and integration test modules: every C{tests/test_*.py},
        and not C{tests.e2e}, which C{nox -s e2e} runs once, with its
        browser and its npm install.
    """
    return sorted(f"tests.{path.stem}" for path in Path("tests").glob("test_*.py"))


@nox.session
def tests(session: nox.Session) -> None:
    """
    Run the unit and integration suites against the compiled build; the
    end-to-end tests are C{nox -s e2e}'s, coverage C{nox -s tests-pure}'s.

    clocksvc is built into a wheel as C{pip install .} builds it, with its
    core compiled by mypyc where there is a C compiler (hatch_build.py),
    and installed; trial then runs from a folder that has the checkout's
    files but not its C{clocksvc/} (L{_withoutSources}), so that the tests
    and the child processes they start import the installed package.
    Where there is a C compiler and Python's headers (L{_canCompile}), a
    pure build fails the session, which would otherwise test pure Python
    twice. No coverage: compiled
    code has no lines for it to trace. Hypothesis replays its fixed
    examples (the C{ci} profile, tests/__init__.py).
    """
    suites = session.posargs or _suites()
    wheel = _buildWheel(session)
    if wheel.name.endswith("-none-any.whl") and _canCompile(session):
        session.error(
            f"{wheel.name} is pure Python though there are a C compiler and "
            "Python's headers: pip install -v . says why (is "
            "CLOCKSVC_NO_EXTENSIONS set?)"
        )
    _installWheel(session, wheel, "tests")
    expected = "pure" if wheel.name.endswith("-none-any.whl") else "compiled"
    with session.chdir(_withoutSources(session)):
        _checkCore(session, expected)
        session.run(
            "python",
            "-m",
            "twisted.trial",
            *suites,
            env={"CI": "1"} if "CI" not in session.env else {},
        )


@nox.session(name="tests-pure")
def testsPure(session: nox.Session) -> None:
    """
    Run the unit and integration suites on pure Python, under coverage,
    and fail below 95 %.

    First, the two ways to a pure build: C{CLOCKSVC_NO_EXTENSIONS=1}, and
    a machine without a C compiler (C{CC} names none); each must give a
    C{py3-none-any} wheel. The second is installed, and imported from
    outside the checkout it must run pure. The suites then run against the
    working copy (trial is started from the checkout), as do the child
    processes the CLI tests start, with C{CLOCKSVC_NO_EXTENSIONS=1}.
    """
    for why, env in [
        ("CLOCKSVC_NO_EXTENSIONS=1", PURE_BUILD),
        ("no C compiler", {"CC": "/nonexistent/cc"}),
    ]:
        wheel = _buildWheel(session, env)
        if not wheel.name.endswith("-py3-none-any.whl"):
            session.error(f"with {why}, the build is not pure Python: {wheel.name}")
    _installWheel(session, wheel, "tests")
    with session.chdir(_withoutSources(session)):
        _checkCore(session, "pure")
    _runSuites(
        session,
        {**PURE_BUILD, **({"CI": "1"} if "CI" not in session.env else {})},
    )


@nox.session(name="tests-random")
def testsRandom(session: nox.Session) -> None:
    """
    The same suites with hypothesis drawing new random examples (its C{dev}
    profile), as a nightly run would: an expectation that holds only for
    the fixed examples of C{nox -s tests} fails here; pure Python, from the
    checkout, as C{nox -s tests-pure} runs them. Not in the default
    sessions; a failure prints the example to replay.
    """
    _installWheel(session, _buildWheel(session, PURE_BUILD), "tests")
    _runSuites(session, {**PURE_BUILD, "HYPOTHESIS_PROFILE": "dev"})


def _buildWheel(session: nox.Session, env: dict[str, str] | None = None) -> Path:
    """
    Build clocksvc's wheel from the checkout, as C{pip install .} builds
    it, in a fresh folder.

    @param env: the build's environment, beside the session's.
    @return: the wheel: compiled (tagged for this Python and platform) or
        pure Python (C{py3-none-any}).
    """
    out = Path(session.create_tmp()) / "wheel"
    shutil.rmtree(out, ignore_errors=True)
    session.run(
        *("python", "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), "."),
        env=env or {},
    )
    (wheel,) = out.glob("clocksvc-*.whl")
    session.log(f"built {wheel.name}")
    return wheel


def _canCompile(session: nox.Session) -> bool:
    """
    @return: whether the session's Python could build a compiled core: a C
        compiler on the PATH (C{cc}), and Python's headers (Debian's
        python3-dev, for its python3).
    """
    if shutil.which("cc") is None:
        return False
    found = session.run(
        "python",
        "-c",
        "import os, sysconfig; "
        "print(os.path.exists(sysconfig.get_path('include') + '/Python.h'))",
        silent=True,
    )
    return isinstance(found, str) and found.strip() == "True"


def _installWheel(session: nox.Session, wheel: Path, *groups: str) -> None:
    """
    Install C{wheel} and the dependency C{groups}.
    """
    session.install(str(wheel), *nox.project.dependency_groups(PYPROJECT, *groups))
    # Again, over an installed clocksvc of the same version, which pip would
    # keep: the twist plugin's test runs the installed one.
    session.install("--force-reinstall", "--no-deps", str(wheel))


def _withoutSources(session: nox.Session) -> Path:
    """
    Make a folder of links to the checkout's files and folders but its
    C{clocksvc/} (and nox's): run from there, Python imports the installed
    clocksvc, whose sources in the checkout would otherwise come first on
    C{sys.path}, while the tests still find the docs, the deployments and
    the benchmarks, through their own links.

    @return: the folder.
    """
    folder = Path(session.create_tmp()) / "installed"
    # The links go, not what they point to.
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for entry in Path.cwd().iterdir():
        if entry.name not in ("clocksvc", ".nox") and not entry.name.startswith(
            "_trial_temp"
        ):
            (folder / entry.name).symlink_to(entry)
    return folder


def _checkCore(session: nox.Session, expected: str) -> None:
    """
    Fail unless the clocksvc this folder imports, the installed one, runs
    the C{expected} core, C{"compiled"} or C{"pure"}.
    """
    said = session.run(
        "python",
        "-c",
        "from clocksvc import _compiled; print(_compiled.CORE, _compiled.__file__)",
        silent=True,
    )
    assert isinstance(said, str)
    core, where = said.split()
    session.log(f"clocksvc's core: {core}, from {where}")
    if core != expected or "site-packages" not in where:
        session.error(f"expected the installed clocksvc, {expected}: {said}")


def _runSuites(session: nox.Session, env: dict[str, str]) -> None:
    """
    Run trial under coverage on the session's arguments, or on L{_suites},
    from the checkout, once clocksvc and the tests' dependencies are
    installed.
    """
    session.run("coverage", "erase")
    session.run(
        "coverage",
        "run",
        "-m",
        "twisted.trial",
        *(session.posargs or _suites()),
        env=env,
    )
    session.run("coverage", "combine", "--quiet")
    session.run("coverage", "report")


@nox.session(python="pypy3" if shutil.which("pypy3") else False)
def pypy(session: nox.Session) -> None:
    """
    Run the test suite on PyPy, without coverage; not in the default
    sessions. Needs pypy3 (apt-get install pypy3).

    Debian's pypy3 is Python 3.9, so Twisted is 26.4, the newest for 3.9.
    Its tls extra cannot install there (see pyproject.toml's tests group):
    the TLS tests skip, and treq, which requires it, is installed without
    its dependencies.
    """
    if session.python is False:
        session.error("pypy needs pypy3 on the PATH: apt-get install pypy3")
    tests = nox.project.dependency_groups(PYPROJECT, "tests")
    session.install(".", *tests)
    session.install("--force-reinstall", "--no-deps", ".")
    # treq's own dependencies are Twisted's, and multipart.
    treq = [r.split(";")[0] for r in tests if r.startswith("treq")]
    session.install("--no-deps", *treq, "multipart")
    session.run(
        "python",
        "-m",
        "twisted.trial",
        *(session.posargs or _suites()),
        env={"CI": "1"} if "CI" not in session.env else {},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """
    Check style with ruff: lint rules, then formatting.
    """
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    _checkConflictMarkers(session)
    _checkNews(session)


#: A line that a merge left unresolved: git's markers, each at a line's start.
_CONFLICT_MARKER = re.compile(r"^(<{7} |={7}$|>{7} )", re.MULTILINE)


def _checkConflictMarkers(session: nox.Session) -> None:
    """
    Fail if a tracked file still holds the markers of a merge conflict: a
    merge once left three of them in ARCHITECTURE.md and the docs, which
    no test reads as text and Sphinx rendered without complaint.
    """
    tracked = (_git("ls-files") or "").split("\n")
    found = []
    for name in tracked:
        path = Path(name)
        if not path.is_file() or path.suffix in (".png", ".mmdb", ".gz"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        found += [
            f"{name}:{text.count(chr(10), 0, m.start()) + 1}"
            for m in _CONFLICT_MARKER.finditer(text)
        ]
    if found:
        session.error("unresolved merge conflict markers: " + ", ".join(found))
    session.log(f"conflict markers: none in {len(tracked)} tracked files")


def _git(*args: str) -> str | None:
    """
    @return: what C{git ARGS} prints, or L{None} if it fails.
    """
    result = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def _newsBase() -> str | None:
    """
    The commit that this checkout's change is to be compared with, for the
    news fragment check: HEAD's first parent when HEAD is a merge (as on
    main after a branch is merged); else, on a branch, where it left main
    (or origin/main); else none.
    """
    parents = (_git("rev-list", "--parents", "-n", "1", "HEAD") or "").split()
    if len(parents) > 2:
        return parents[1]
    branch = _git("rev-parse", "--abbrev-ref", "HEAD")
    for main in ("main", "origin/main"):
        if branch not in (None, "HEAD", "main") and _git("rev-parse", "--verify", main):
            return _git("merge-base", "HEAD", main)
    return None


def _checkNews(session: nox.Session) -> None:
    """
    Fail if this change touches clocksvc/ without adding a news fragment
    (newsfragments/README.md), then check that the fragments make a NEWS
    entry. The change is the diff of the working tree from L{_newsBase}.
    """
    base = _newsBase()
    if base is None:
        session.log("news: nothing to compare with (not a merge, not a branch)")
    else:
        changed = (_git("diff", "--name-only", base) or "").split()
        added = (_git("diff", "--name-only", "--diff-filter=AR", base) or "").split()
        untracked = (
            _git("ls-files", "--others", "--exclude-standard", "newsfragments") or ""
        ).split()
        fragments = [
            f
            for f in [*added, *untracked]
            if f.startswith("newsfragments/") and f != "newsfragments/README.md"
        ]
        code = [f for f in changed if f.startswith("clocksvc/")]
        if code and not fragments:
            session.error(
                f"news: {len(code)} file(s) of clocksvc/ changed since {base[:10]} "
                "and no news fragment added: see newsfragments/README.md"
            )
        session.log(
            f"news: since {base[:10]}: {len(code)} file(s) of clocksvc/ changed, "
            f"{len(fragments)} fragment(s)"
        )
    # The fragments render: the version given, so that towncrier need not
    # import clocksvc (and Twisted) here.
    version = re.search(
        r'__version__ = "([^"]+)"', Path("clocksvc/_version.py").read_text()
    )
    assert version is not None
    session.run("towncrier", "build", "--draft", "--version", version.group(1))


@nox.session
def docs(session: nox.Session) -> None:
    """
    Build the documentation into docs/_build/html with Sphinx (MyST
    Markdown, the furo theme) and the API reference into its api/ with
    pydoctor, as Twisted does; any warning fails the build, broken
    references and pydoctor's included.

    pydoctor links to Twisted's API through an inventory of the installed
    Twisted, made once and kept in the session's folder: the build needs no
    network. Arguments go to sphinx-build.
    """
    session.install(
        ".", *nox.project.dependency_groups(PYPROJECT, "docs"), env=PURE_BUILD
    )
    inventory = Path(session.virtualenv.location) / "twisted-inventory"
    if not (inventory / "objects.inv").exists():
        twisted = session.run(
            "python",
            "-c",
            "import os, twisted; print(os.path.dirname(twisted.__file__))",
            silent=True,
        )
        assert isinstance(twisted, str)
        session.run(
            "pydoctor",
            "--quiet",
            "--quiet",
            "--make-intersphinx",
            "--project-name=Twisted",
            f"--html-output={inventory}",
            twisted.strip(),
        )
    shutil.rmtree("docs/_build", ignore_errors=True)
    session.run(
        "sphinx-build",
        "-W",
        "--keep-going",
        "-n",
        "-E",
        "-b",
        "html",
        "docs",
        "docs/_build/html",
        *session.posargs,
        env={"CLOCKSVC_TWISTED_INVENTORY": str(inventory / "objects.inv")},
    )
    # Sphinx's -W does not see a page that renders wrong without a warning,
    # as the news page did when it read NEWS.rst as Markdown.
    session.run(
        "python", "docs/_tools/checknews.py", "NEWS.rst", "docs/_build/html/news.html"
    )


@nox.session
def typecheck(session: nox.Session) -> None:
    """
    Check types with mypy in strict mode, with the zope.interface plugin.
    """
    session.install(
        ".", *nox.project.dependency_groups(PYPROJECT, "typecheck"), env=PURE_BUILD
    )
    session.run("mypy")


#: The seeds nox -s fuzz runs schemathesis at, each a run of its own: three,
#: so that what one seed's examples miss another's may find.
FUZZ_SEEDS = ["20261130", "24", "7919"]


@nox.session
def fuzz(session: nox.Session) -> None:
    """
    Fuzz a live clocksvc against its own OpenAPI description with
    schemathesis: every check, at three fixed seeds (L{FUZZ_SEEDS}) and a
    bounded number of examples each, so that a run is repeatable and takes
    two to three minutes; not in the default sessions. Any failure fails
    the session, and so does an error, or a traceback, in the server's log.

    It reads /openapi-3.2.json, whose itemSchema describes each of
    /stream's events (in /openapi.json, 3.1, the stream is one string,
    which a fuzzer would read until it timed out).

    The server is the working copy (started from the checkout), a child
    process on 127.0.0.1 at a port the system picks; SIGTERM stops it at
    the end, pass or fail. Its log is .nox/fuzz/tmp/access.log. Arguments
    go to C{st run}, after the defaults: C{--max-examples 200}, say; a
    C{--seed} runs that seed alone.
    """
    # The roughtime extra: the server it fuzzes runs Roughtime too.
    session.install(
        ".[roughtime]",
        *nox.project.dependency_groups(PYPROJECT, "fuzz"),
        env=PURE_BUILD,
    )
    tmp = Path(session.create_tmp())
    serverLog, accessLog = tmp / "server.log", tmp / "access.log"
    accessLog.unlink(missing_ok=True)
    # A small IP geolocation database, written as the tests write theirs,
    # so that /api/ip answers 200 for public addresses, not only 404s.
    geoip = tmp / "geoip.mmdb"
    session.run(
        "python",
        "-c",
        "import sys; from tests._geoip import writeDatabase; writeDatabase("
        "sys.argv[1], {'0.0.0.0/0': {'location': {'time_zone': 'Europe/Berlin'}},"
        " '2000::/3': {'location': {'time_zone': 'America/Sao_Paulo'}}})",
        str(geoip),
    )
    # A Roughtime key, so that /roughtime.json describes a server rather
    # than answering that none is configured (501, which schemathesis
    # counts as a server error).
    roughtimeKey = tmp / "roughtime.key"
    roughtimeKey.unlink(missing_ok=True)
    session.run(
        "python", "-m", "clocksvc", "roughtime-keygen", str(roughtimeKey), silent=True
    )
    config = tmp / "schemathesis.toml"
    config.write_text(
        # Each GET /stream is read until this many events have come (one a
        # second) or the request times out: the default of 20 would spend
        # 10 s on each, and one tick is enough to check an event's schema.
        "max-stream-events = 1\n"
        # No cache of past runs' requests, replayed at the start of the
        # next run, in .schemathesis/ in the checkout: a seed alone decides
        # what is sent.
        "[cache]\n"
        "enabled = false\n"
        # Rules across parameters that OpenAPI cannot state, so that some
        # values valid one by one are refused together: a transitions range
        # backwards or over 100 years (400), and a local time that a
        # transition skips or repeats (422). (?at= with ?t1=, and a range
        # from an instant to itself, are answered.)
        "[[operations]]\n"
        'include-path-regex = "/transitions$"\n'
        'checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "404"]\n'
        "[[operations]]\n"
        'include-path = "/api/convert"\n'
        'checks.positive_data_acceptance.expected-statuses = ["2xx", "404", "422"]\n'
        # timeapi.io's endpoints answer a zone that no zone has the name of
        # with 400, as timeapi.io does, and refuse a local time in a gap or
        # an overlap without dstAmbiguity (422), as /api/convert does.
        "[[operations]]\n"
        'include-path-regex = "^/api/(Time/current|TimeZone)/zone$"\n'
        'checks.positive_data_acceptance.expected-statuses = ["2xx", "400"]\n'
        "[[operations]]\n"
        'include-path = "/api/Conversion/ConvertTimeZone"\n'
        'checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "422"]\n'
    )
    with serverLog.open("w") as out:
        server = subprocess.Popen(
            [
                str(Path(session.bin) / "python"),
                "-m",
                "clocksvc",
                "--listen",
                "tcp:0:interface=127.0.0.1",
                "--access-log",
                str(accessLog),
                "--geoip-db",
                str(geoip),
                # schemathesis, at 127.0.0.1, is a proxy for a public client
                # (its -H below), so that /api/ip has a location.
                "--trusted-proxy",
                "127.0.0.1",
                "--roughtime-listen",
                "127.0.0.1:0",
                "--roughtime-key",
                str(roughtimeKey),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = _serving(session, server, serverLog)
        # A --seed given runs that seed alone.
        seeds: list[str | None] = (
            [None] if "--seed" in session.posargs else list(FUZZ_SEEDS)
        )
        for seed in seeds:
            session.run(
                "st",
                "--config-file",
                str(config),
                "run",
                url + "openapi-3.2.json",
                "--checks",
                "all",
                *([] if seed is None else ["--seed", seed]),
                # Per operation (about 130 of them) and seed: some 3,000
                # requests a seed, about a minute on 2 cores.
                "--max-examples",
                "25",
                # One worker: more would not be much faster against a
                # single-threaded server, and on Python 3.11 hypothesis's
                # ast.parse in several threads at once can crash
                # (SystemError: AST constructor recursion depth mismatch).
                "--workers",
                "1",
                # No database of examples from past runs either.
                "--generation-database",
                "none",
                # Hypothesis's health check of how fast it generates data
                # times this machine, not the server: on a busy one it would
                # fail the run with nothing wrong.
                "--suppress-health-check",
                "too_slow",
                "--header",
                "X-Forwarded-For: 81.2.69.142",
                *session.posargs,
                # Straight to the server, whatever proxy the environment
                # names.
                env={"no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1"},
            )
    finally:
        _stop(session, server)
    errors = re.findall(
        r'^.*(?:"level":"(?:error|critical)"|"traceback":).*$',
        accessLog.read_text(),
        re.M,
    )
    if errors:
        session.error("the server logged errors:\n" + "\n".join(errors))


def _spawnClocksvc(python: str, log: Path, *args: str) -> subprocess.Popen[bytes]:
    """
    Start the working copy's clocksvc on a free port of 127.0.0.1.

    @param python: the interpreter to run it with.
    @param log: where its standard output and error go.
    @param args: its other options.
    @return: its process; the caller stops it (L{_stop}).
    """
    with log.open("w") as out:
        return subprocess.Popen(
            [python, "-m", "clocksvc", "--listen", "tcp:0:interface=127.0.0.1", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _serving(session: nox.Session, server: subprocess.Popen[bytes], log: Path) -> str:
    """
    Wait for a clocksvc just started to say where it serves, then for it to
    answer there.

    @param session: the session, to fail.
    @param server: the server's process.
    @param log: where its standard output goes.
    @return: its URL, such as C{http://127.0.0.1:40123/}.
    """
    # Generous: a busy 2-core machine can take many seconds to import
    # Twisted and start; polled, so a quick start costs nothing.
    deadline = time.monotonic() + 120
    url = None
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline:
        if server.poll() is not None:
            session.error(
                f"clocksvc exited with {server.returncode}:\n{log.read_text()}"
            )
        if url is None:
            found = re.search(
                r"^clocksvc: serving (http://\S+/)$", log.read_text(), re.M
            )
            url = found.group(1) if found else None
        if url is not None:
            try:
                with direct.open(url + "healthz", timeout=10) as response:
                    if response.status == 200:
                        return url
            except OSError:
                pass
        time.sleep(0.1)
    session.error(f"clocksvc did not answer in 120 s:\n{log.read_text()}")


def _stop(session: nox.Session, server: subprocess.Popen[bytes]) -> None:
    """
    Stop a clocksvc with SIGTERM, as a supervisor would; kill it if it is
    still there after its drain (10 s) and then some.
    """
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        session.warn("clocksvc did not stop on SIGTERM in 60 s: killed")


@nox.session
def screenshot(session: nox.Session) -> None:
    """
    Remake docs/_static/live.png, the README's and the docs' picture of
    /live: a clocksvc started from the checkout, and headless Chromium
    (Debian's chromium and chromium-driver) driven by Selenium, which waits
    for the page's script to measure the offset (docs/_tools/screenshot.py).
    Not in the default sessions.
    """
    missing = [
        p
        for p in ("/usr/bin/chromium", "/usr/bin/chromedriver")
        if not Path(p).exists()
    ]
    if missing:
        session.error("screenshot needs apt-get install chromium chromium-driver")
    session.install(
        ".", *nox.project.dependency_groups(PYPROJECT, "e2e"), env=PURE_BUILD
    )
    log = Path(session.create_tmp()) / "server.log"
    server = _spawnClocksvc(
        str(Path(session.bin) / "python"), log, "--access-log", "off"
    )
    try:
        url = _serving(session, server, log)
        session.run(
            "python", "docs/_tools/screenshot.py", url + "live", "docs/_static/live.png"
        )
    finally:
        _stop(session, server)


@nox.session
def e2e(session: nox.Session) -> None:
    """
    End-to-end tests with real third-party clients: headless Chromium on
    /live and the npm timesync client. Needs Debian's chromium and
    chromium-driver, and node with npm; not in the default sessions.

    CLOCKSVC_E2E=1 makes a missing tool fail the tests rather than skip them,
    and npm's installs are kept in nox's cache between runs.
    """
    missing = [
        name
        for name in ("/usr/bin/chromium", "/usr/bin/chromedriver", "node", "npm")
        if shutil.which(name) is None
    ]
    if missing:
        session.error(
            f"e2e needs {', '.join(missing)}: apt-get install chromium "
            "chromium-driver, and node with npm"
        )
    session.install(
        ".", *nox.project.dependency_groups(PYPROJECT, "tests", "e2e"), env=PURE_BUILD
    )
    session.run(
        "python",
        "-m",
        "twisted.trial",
        *(session.posargs or ["tests.e2e"]),
        env={
            "CLOCKSVC_E2E": "1",
            "CLOCKSVC_E2E_NODE": str(Path(session.cache_dir) / "e2e-node"),
        },
    )


@nox.session
def bench(session: nox.Session) -> None:
    """
    The benchmarks; not in the default sessions. Needs wrk (apt-get install
    wrk), measures PyPy rows too where pypy3 is on the PATH (apt-get
    install pypy3), and the SNTP server against chrony where chronyd is
    (apt-get install chrony). About 40 minutes on 2 cores, the first
    PyPy virtualenv aside:

    1. The comparison (bench/run.py, about 32 minutes): every time endpoint
       of clocksvc, the package installed here, on CPython compiled (the
       access log off, to a file and to a pipe) and pure (log off), and on
       PyPy (log off), against the bare pages of the Twisted Web lesson,
       aiohttp, uvicorn and granian, in 3 rounds, written to
       bench/results.json and bench/results.png; it reports the
       performance targets, met or missed and by how much, and fails only
       if it cannot measure. C{python bench/report.py} prints its table.
    2. The soak (bench/soak.py, 3 minutes): a million requests mixed
       across the endpoints, with zero errors and flat memory.
    3. --workers (bench/workers.py, 3 minutes): 1 process against 2, for
       the CPU time per request summed over every process: unpinned, then
       with every clocksvc process on one core and wrk on the other.
    4. The /stream scale test (bench/stream.py, 1 minute): 10,000
       clients, every tick within 100 ms of its second; it reports a miss,
       and by how much, and how close the fan-out comes to the floor of
       one send() here.
    5. The compiled core (bench/core.py): microseconds per call of the
       compiled modules' hot functions, compiled (the build installed
       here, where there is a C compiler) and pure, in a few seconds.
    6. SNTP (bench/ntp.py, under 2 minutes): replies a second on one core,
       clocksvc on CPython and on PyPy against chrony, written to
       bench/ntp.json; left out, with a note, where chronyd is missing.

    Arguments: C{--quick} runs one short round of the comparison (2 s an
    endpoint, some 6 minutes) and the compiled core, nothing else;
    C{--no-soak}, C{--no-workers}, C{--no-stream} and C{--no-ntp} leave
    those out; C{--no-pypy} leaves PyPy out of the comparison and SNTP; a
    number is the soak's count of requests; any other option goes to
    bench/run.py (see C{python bench/run.py --help}), such as C{--baseline
    REV}, which measures an earlier commit beside the rest (from its
    sources, pure, log off) so that each endpoint's "before" is taken in the
    same run.
    """
    if shutil.which("wrk") is None:
        session.error("bench needs wrk: apt-get install wrk")
    session.install(".", *nox.project.dependency_groups(PYPROJECT, "bench"))
    # A number is the soak's, unless it is the value of run.py's option
    # before it (--rounds 5).
    skips = ("--no-soak", "--no-workers", "--no-stream", "--no-ntp")
    flags = ("--quick", "--no-pypy", *skips)
    soakArgs, runArgs = [], []
    for i, arg in enumerate(session.posargs):
        previous = session.posargs[i - 1] if i else ""
        optionValue = previous.startswith("--") and "=" not in previous
        if arg.isdigit() and not (optionValue and previous not in flags):
            soakArgs.append(arg)
        elif arg not in skips:
            runArgs.append(arg)
    quick = "--quick" in session.posargs
    # The comparison and SNTP run the package installed above, from bench/,
    # where the checkout's clocksvc/ does not shadow it: compiled, and pure
    # by CLOCKSVC_NO_EXTENSIONS. The soak, --workers and /stream run the
    # working copy, from the checkout, as the tests do.
    session.run("python", "bench/run.py", *runArgs)
    if not quick and "--no-soak" not in session.posargs:
        session.run("python", "bench/soak.py", *soakArgs)
    if not quick and "--no-workers" not in session.posargs:
        session.run("python", "bench/workers.py")
        session.run("python", "bench/workers.py", "--pin")
    if not quick and "--no-stream" not in session.posargs:
        session.run("python", "bench/stream.py")
    # The installed build, not the checkout's sources: a script's folder,
    # bench/, is what Python puts on sys.path.
    session.run("python", "bench/core.py")
    if not quick and "--no-ntp" not in session.posargs:
        if shutil.which("chronyd") is None:
            session.log("bench: no SNTP: chronyd is missing (apt-get install chrony)")
        else:
            pypy = ["--no-pypy"] if "--no-pypy" in session.posargs else []
            session.run("python", "bench/ntp.py", *pypy)
