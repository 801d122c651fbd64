"""A Sphinx-Gallery image scraper for figures made without pyplot."""

from __future__ import annotations

import weakref
from typing import Any

_scraped: weakref.WeakSet[Any] = weakref.WeakSet()


def figure_scraper(block: Any, block_vars: dict[str, Any], gallery_conf: dict[str, Any]) -> str:
    """Embed the matplotlib figures an example holds in its variables.

    ``seqforecast.plotting`` builds figures without pyplot, so that it never
    changes a program's backend, and Sphinx-Gallery's own scraper only sees
    pyplot's figures. This one saves every new ``matplotlib.figure.Figure``
    found in the example's globals after each code block, in the order the
    variables were first assigned.
    """
    from matplotlib.figure import Figure
    from sphinx_gallery.scrapers import figure_rst

    figures = [
        value
        for value in block_vars["example_globals"].values()
        if isinstance(value, Figure) and value.canvas.manager is None and value not in _scraped
    ]
    paths = []
    for figure, path in zip(figures, block_vars["image_path_iterator"], strict=False):
        figure.savefig(path, dpi=100)
        _scraped.add(figure)
        paths.append(path)
    rst: str = figure_rst(paths, gallery_conf["src_dir"])
    return rst


class ExampleOrder:
    """Sphinx-Gallery sort key: the examples in teaching order, any others after them by name."""

    ORDER = ("why_memory.py", "priming.py", "truncated_bptt.py", "sunspots.py")

    def __init__(self, src_dir: str) -> None:
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple[int, str]:
        rank = self.ORDER.index(filename) if filename in self.ORDER else len(self.ORDER)
        return rank, filename

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {', '.join(self.ORDER)}>"
