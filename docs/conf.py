"""
Sphinx's configuration for clocksvc's documentation: the prose in MyST
Markdown with the furo theme, and the Python API by pydoctor, linked both
ways through intersphinx, as Twisted builds its own.

C{nox -s docs} builds it, warnings as errors, into docs/_build/.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(ROOT))

from clocksvc import __version__  # noqa: E402

project = "clocksvc"
author = "The clocksvc developers"
copyright = "the clocksvc developers; MIT licence"
release = version = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.intersphinx",
    "pydoctor.sphinx_ext.build_apidocs",
    "clocksvc_reference",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "_tools", "Thumbs.db", ".DS_Store"]
# Every reference must resolve: a broken one is a warning, so an error.
nitpicky = True
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]
# Console examples are tested, not highlighted as code.
highlight_language = "text"

html_theme = "furo"
html_title = f"clocksvc {release}"
html_static_path = ["_static"]

# The Python API, by pydoctor, into api/ of the built site. Its links to
# Twisted's names go through an inventory of the installed Twisted that
# nox -s docs makes (CLOCKSVC_TWISTED_INVENTORY), as no network is needed
# then; without one, they are looked up on docs.twisted.org.
_twisted = os.environ.get("CLOCKSVC_TWISTED_INVENTORY")
_twistedAPI = "https://docs.twisted.org/en/stable/api/"
pydoctor_args = [
    "--project-name=clocksvc",
    f"--project-version={release}",
    "--project-url=https://github.com/clocksvc/clocksvc",
    f"--project-base-dir={ROOT}",
    "--docformat=epytext",
    "--html-viewsource-base=https://github.com/clocksvc/clocksvc/tree/main",
    # The public API: what clocksvc/__init__.py exports, where it is
    # defined; the private layers (_time, _clock, _http, _web, _run) are explained
    # in explanation/architecture.md. (Later patterns take precedence.)
    "--privacy=HIDDEN:clocksvc._*",
    "--privacy=PRIVATE:clocksvc._web",
    "--privacy=HIDDEN:clocksvc._web.*",
    "--privacy=PRIVATE:clocksvc._web._page",
    "--privacy=PUBLIC:clocksvc._web._page.ClockPage",
    "--privacy=PRIVATE:clocksvc._web._site",
    "--privacy=HIDDEN:clocksvc._web._site.*",
    "--privacy=PUBLIC:clocksvc._web._site.listen",
    "--privacy=PRIVATE:clocksvc._version",
    "--privacy=PUBLIC:clocksvc._version.__version__",
    "--warnings-as-errors",
    (
        f"--intersphinx-file={_twisted}::{_twistedAPI}"
        if _twisted
        else f"--intersphinx={_twistedAPI}objects.inv"
    ),
    "--html-output={outdir}/api",
    str(ROOT / "clocksvc"),
]
pydoctor_url_path = "api/"
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
