"""Check every local link of the built documentation: files and anchors.

Usage: ``python docs/check_links.py docs/_build/html``. Every ``href`` and
``src`` of every HTML page that does not point to another site must name a
file of the build, and a ``#fragment`` on an HTML page must name an element
``id`` (or an anchor ``name``) of that page. Prints each broken link and
exits with status 1 if there is any, else prints a one-line summary.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

LINK_ATTRIBUTES = {"href", "src"}


class _Page(HTMLParser):
    """The links and anchor names of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.anchors: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in LINK_ATTRIBUTES:
                self.links.append(value)
            elif name == "id" or (tag == "a" and name == "name"):
                self.anchors.add(value)


def _parse(path: Path, cache: dict[Path, _Page]) -> _Page:
    if path not in cache:
        page = _Page()
        page.feed(path.read_text(encoding="utf-8"))
        cache[path] = page
    return cache[path]


def broken_links(root: Path) -> list[str]:
    """Return ``"page: link (why)"`` for every broken local link under ``root``."""
    root = root.resolve()
    cache: dict[Path, _Page] = {}
    problems: list[str] = []
    pages = sorted(root.rglob("*.html"))
    for page_path in pages:
        for link in _parse(page_path, cache).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith("//"):
                continue  # another site (or data:, mailto:): not checked here
            where = f"{page_path.relative_to(root)}: {link}"
            target = page_path if not parts.path else (page_path.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_relative_to(root):
                problems.append(f"{where} (points outside the site)")
                continue
            if not target.is_file():
                problems.append(f"{where} (no such file)")
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html" and fragment not in _parse(target, cache).anchors:
                problems.append(f"{where} (no anchor #{fragment} in {target.relative_to(root)})")
    return problems


def main(argv: list[str]) -> int:
    """Check the site in ``argv[0]``; return the exit status."""
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python docs/check_links.py BUILT_HTML_FOLDER", file=sys.stderr)
        return 2
    root = Path(argv[0])
    problems = broken_links(root)
    for problem in problems:
        print(problem)
    pages = sum(1 for _ in root.rglob("*.html"))
    print(f"{len(problems)} broken local links in {pages} pages under {root}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
