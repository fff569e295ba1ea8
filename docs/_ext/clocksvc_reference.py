"""
Reference pages that cannot drift: Sphinx directives that write, at build
time, what clocksvc itself says about its options, its endpoints, its
metrics and its benchmark figures.

Each directive builds Markdown from the code (or from
C{bench/results.json}) and parses it in place, as if it had been written in
the page:

  - C{clocksvc-options}: every option of L{clocksvc._run._options.Options},
    from its C{optFlags}, C{optParameters} and C{opt_*} docstrings, with
    the defaults it starts with;
  - C{clocksvc-endpoints}: every path and method of the OpenAPI document
    that the server serves at C{/openapi.json};
  - C{clocksvc-metrics}: every metric family of a site's C{/metrics};
  - C{clocksvc-log-fields}: the fields of an access-log line;
  - C{clocksvc-bench}: the table of C{bench/report.py}, from
    C{bench/results.json}.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]
logger = logging.getLogger(__name__)


def _cell(text: str) -> str:
    """
    @return: C{text} made safe for a cell of a Markdown table.
    """
    return " ".join(text.split()).replace("|", "\\|")


def optionsMarkdown() -> str:
    """
    @return: a table of every option of C{python -m clocksvc}, as its parser
        defines it.
    """
    from clocksvc._run._options import Options

    options = Options()
    rows = ["| option | what it does | default |", "| --- | --- | --- |"]
    for long in sorted(options.longOpt):
        name = long.rstrip("=")
        takesValue = long.endswith("=")
        doc = options.docs.get(name, "")
        # What the option is before the command line is read: the
        # parameters' defaults, and what __init__ sets.
        default = options.get(name) if takesValue else None
        shown = f"`--{name} VALUE`" if takesValue else f"`--{name}`"
        short = [s for s, n in options.synonyms.items() if n == name and s != name]
        if short:
            shown += ", " + ", ".join(f"`-{s}`" for s in short)
        rows.append(
            f"| {shown} | {_cell(doc)} | "
            f"{'' if default in (None, []) else f'`{default}`'} |"
        )
    return "\n".join(rows) + "\n\n" + _cell(options.longdesc) + "\n"


def endpointsMarkdown() -> str:
    """
    @return: a section for every path of C{/openapi.json}, a line for each
        of its operations, with their parameters and answers.
    """
    from clocksvc._web._routes import openAPIDocument

    document = openAPIDocument()
    out: list[str] = []
    for path, item in document["paths"].items():
        out.append(f"### `{path}`\n")
        for method, operation in item.items():
            if method in ("parameters", "summary", "description"):
                continue
            out.append(f"**{method.upper()}**: {_cell(operation.get('summary', ''))}\n")
            if operation.get("description"):
                out.append(operation["description"].strip() + "\n")
            params = operation.get("parameters", []) + item.get("parameters", [])
            for p in params:
                out.append(
                    f"- parameter `{p['name']}` ({p['in']}"
                    f"{', required' if p.get('required') else ''}): "
                    f"{_cell(p.get('description', ''))}"
                )
            for status, response in operation.get("responses", {}).items():
                types = ", ".join(f"`{t}`" for t in response.get("content", {}))
                out.append(
                    f"- `{status}`: {_cell(response.get('description', ''))}"
                    + (f" ({types})" if types else "")
                )
            out.append("")
    return "\n".join(out)


def metricsMarkdown() -> str:
    """
    @return: a table of every metric family that a site's C{/metrics}
        exposes.
    """
    from twisted.internet.task import Clock

    from clocksvc._web._site import buildSite, metricsOf

    metrics = metricsOf(buildSite(Clock()))
    if metrics is None:
        raise RuntimeError("a site built with its admin resources has metrics")
    rows = ["| metric | type | meaning |", "| --- | --- | --- |"]
    for family in metrics.registry.collect():
        name = family.name + ("_total" if family.type == "counter" else "")
        rows.append(f"| `{name}` | {family.type} | {_cell(family.documentation)} |")
    return "\n".join(rows) + "\n"


#: What each field of an access-log line means, beside C{time}; the
#: directive fails the build if the log's fields and these differ.
FIELD_MEANINGS = {
    "client": "the client's address (behind a trusted proxy, the one it names)",
    "method": "the request's method, as sent",
    "path": "the request's target, as sent, query included",
    "status": "the response's status code",
    "bytes": "the bytes of the response's body",
    "duration_ms": "milliseconds from the request's first byte to its answer",
    "user_agent": "the `User-Agent` field, empty if none",
    "scheme": "`http` or `https`, as a trusted proxy gives it",
}


def logFieldsMarkdown() -> str:
    """
    @return: a table of the fields of an access-log line, in the order the
        log writes them.
    @raise ValueError: if the log writes a field this module does not
        describe, or no longer writes one that it does.
    """
    from clocksvc._web import ACCESS_FIELDS

    if set(ACCESS_FIELDS) != set(FIELD_MEANINGS):
        raise ValueError(
            f"the access log's fields {ACCESS_FIELDS} differ from those "
            f"described in {__file__}: {tuple(FIELD_MEANINGS)}"
        )
    rows = ["| field | meaning |", "| --- | --- |"]
    rows.append(
        "| `time` | when the request was answered, ISO 8601 in UTC, to the "
        "millisecond |"
    )
    rows += [f"| `{name}` | {FIELD_MEANINGS[name]} |" for name in ACCESS_FIELDS]
    rows.append(
        "| `truncated` | only when a method, path or user agent was cut to 1024 "
        'characters: each cut field\'s full length, as `{"path":16384}` |'
    )
    return "\n".join(rows) + "\n"


def benchReport() -> Any:
    """
    @return: the module C{bench/report.py}.
    """
    spec = importlib.util.spec_from_file_location(
        "clocksvc_bench_report", ROOT / "bench" / "report.py"
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {ROOT / 'bench' / 'report.py'}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def benchMarkdown() -> str:
    """
    @return: the benchmark's tables, from C{bench/results.json}.
    """
    report = benchReport()
    return str(report.markdown(report.load(ROOT / "bench" / "results.json"), True))


class _Generated(SphinxDirective):
    """
    A directive whose content is Markdown that a function generates.
    """

    has_content = False
    generate: Any = None

    def run(self) -> list[nodes.Node]:
        try:
            text = type(self).generate()
        except Exception as e:
            # A warning, which fails the build (-W) and says why, where an
            # exception would be hidden behind pydoctor's extension failing
            # at the end of the build.
            logger.warning(
                "%s: cannot generate: %r", self.name, e, location=self.get_location()
            )
            return []
        container = nodes.container()
        self.state.nested_parse(
            StringList(text.splitlines(), source=self.get_source_info()[0]),
            self.content_offset,
            container,
        )
        return container.children


class OptionsDirective(_Generated):
    generate = staticmethod(optionsMarkdown)


class EndpointsDirective(_Generated):
    generate = staticmethod(endpointsMarkdown)


class MetricsDirective(_Generated):
    generate = staticmethod(metricsMarkdown)


class LogFieldsDirective(_Generated):
    generate = staticmethod(logFieldsMarkdown)


class BenchDirective(_Generated):
    generate = staticmethod(benchMarkdown)


def setup(app: Sphinx) -> dict[str, Any]:
    """
    Register the directives.
    """
    app.add_directive("clocksvc-options", OptionsDirective)
    app.add_directive("clocksvc-endpoints", EndpointsDirective)
    app.add_directive("clocksvc-metrics", MetricsDirective)
    app.add_directive("clocksvc-bench", BenchDirective)
    app.add_directive("clocksvc-log-fields", LogFieldsDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
