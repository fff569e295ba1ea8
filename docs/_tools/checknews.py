"""
Check the built news page against NEWS.rst: every entry of the changelog is
a list item there, its ``literals`` are code, and nothing of the
reStructuredText source shows through (a C{..} comment, a heading's
underline, a bullet read as preformatted text), as it did when the page
included NEWS.rst as Markdown.

    python docs/_tools/checknews.py NEWS.rst docs/_build/html/news.html

Exits 1, saying what is wrong, when the page is broken.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path


class _Page(HTMLParser):
    """
    The text of a page's main article: its list items, its code, and
    whether any of it is preformatted.
    """

    def __init__(self) -> None:
        super().__init__()
        self.items = 0
        self.code = 0
        self.preformatted = 0
        self.text: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article":
            self._depth += 1
        elif self._depth:
            self.items += tag == "li"
            self.code += tag == "code"
            self.preformatted += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.text.append(data)


def problems(news: str, page: str) -> list[str]:
    """
    @param news: NEWS.rst.
    @param page: the built news page's HTML.
    @return: what is wrong with the page; empty if nothing.
    """
    parsed = _Page()
    parsed.feed(page)
    text = "".join(parsed.text)
    found = []
    entries = len(re.findall(r"^\s*- ", news, re.M))
    if parsed.items < entries:
        found.append(f"{entries} entries in NEWS.rst, {parsed.items} list items")
    literals = len(re.findall(r"``[^`]+``", news))
    if parsed.code < literals:
        found.append(f"{literals} ``literals`` in NEWS.rst, {parsed.code} code")
    if parsed.preformatted:
        found.append(f"{parsed.preformatted} preformatted block(s)")
    for source in (".. towncrier", "~~~~", "----", "``"):
        if source in text:
            found.append(f"reStructuredText shows through: {source!r}")
    return found


def main(argv: list[str]) -> int:
    news, page = (Path(name).read_text(encoding="utf-8") for name in argv[1:3])
    found = problems(news, page)
    for problem in found:
        print(f"{argv[2]}: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
