"""Sphinx configuration for the seqforecast documentation.

Build with ``nox -s docs`` (HTML with warnings as errors, nitpicky, the
example gallery executed, then the pages' doctests and a check of every
local link). See the README's *Development* section.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import seqforecast

ROOT = Path(__file__).resolve().parent.parent

project = "seqforecast"
author = "seqforecast developers"
copyright = "seqforecast developers"
release = seqforecast.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.doctest",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"seqforecast {release}"

# -- autodoc and napoleon: Google docstrings, types from the annotations ----------------
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_member_order = "bysource"
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_custom_sections = [("State", "notes_style")]
python_use_unqualified_type_names = True

# -- doctests: the pages' {doctest} and {testcode} blocks ------------------------------
# The docstrings' examples run under pytest (--doctest-modules, with its NUMBER flag);
# here only the blocks written in the pages are tested.
doctest_test_doctest_blocks = ""


# -- intersphinx ------------------------------------------------------------------------
# The inventories of Python, NumPy, PyTorch and Matplotlib are fetched from the network,
# which a build cannot count on (CI and many machines are offline). So they are used
# only when SEQFORECAST_DOCS_INTERSPHINX=1 says the network is there; otherwise the
# external names below are left unlinked, listed one by one in nitpick_ignore so that
# nitpicky mode still catches every broken reference to this library.
INTERSPHINX = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "torch": ("https://docs.pytorch.org/docs/stable", None),
    "matplotlib": ("https://matplotlib.org/stable", None),
}
intersphinx_mapping = INTERSPHINX if os.environ.get("SEQFORECAST_DOCS_INTERSPHINX") == "1" else {}
intersphinx_timeout = 10

nitpicky = True
EXTERNAL_CLASSES = [
    # Python
    "collections.abc.Callable",
    "collections.abc.Iterable",
    "collections.abc.Iterator",
    "collections.abc.Mapping",
    "collections.abc.Sequence",
    "os.PathLike",
    # NumPy ("np.ndarray" where an annotation spells it so)
    "numpy.ndarray",
    "np.ndarray",
    "numpy.timedelta64",
    "np.timedelta64",
    # PyTorch
    "torch.Tensor",
    "torch.device",
    "torch.dtype",
    "torch.nn.Module",
    "nn.Module",  # where an annotation spells it so
    "torch.nn.modules.module.Module",
    "torch.nn.parallel.DistributedDataParallel",
    "torch.optim.Optimizer",
    "torch.optim.optimizer.Optimizer",
    "torch.Size",
    "torch.Generator",
    "torch.distributions.Normal",
    "torch.distributions.normal.Normal",
    "Tensor",  # where an annotation spells it so
    # Matplotlib ("Figure": seqforecast.plotting imports it for type checking only)
    "matplotlib.figure.Figure",
    "Figure",
]
# Private helpers that appear in signatures; their docstrings say what they accept.
PRIVATE_CLASSES = [
    "seqforecast.transforms.ArrayT",  # TypeVar: a NumPy array or a tensor, the same kind out as in
    "seqforecast.checkpoint.SupportsTrainerState",  # Protocol that Trainer satisfies
    "Cell",  # Literal["rnn", "lstm", "gru"], RecurrentForecaster's cell
    "LossFunction",  # Callable[[Tensor, Tensor], Tensor]: loss(outputs, targets) -> 0-d tensor
    "Likelihood",  # Literal["gaussian", "student_t", "negative_binomial"], the forecasters' likelihood
]
nitpick_ignore = [("py:class", name) for name in EXTERNAL_CLASSES + PRIVATE_CLASSES]

# -- the example gallery ---------------------------------------------------------------
# Every script in examples/ runs at build time; the figures it leaves in its
# variables (seqforecast.plotting's, or any matplotlib Figure) are embedded.
sys.path.insert(0, str(Path(__file__).parent / "_ext"))
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"\.py$",  # execute every example
    "ignore_pattern": r"__init__\.py|/data/",
    "image_scrapers": ("matplotlib", "gallery_figures.figure_scraper"),
    "abort_on_example_error": True,
    "within_subsection_order": "gallery_figures.ExampleOrder",
    "download_all_examples": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
    "show_signature": False,
    "capture_repr": (),  # examples print what they mean to show
}


# -- public names are documented at the top level --------------------------------------
def _public_alias(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve ``seqforecast.module.Name`` to its documented top-level ``seqforecast.Name``.

    Annotations name the module that defines an object (``seqforecast.data.Window``);
    the reference documents it where users import it from (``seqforecast.Window``).
    """
    if node.get("refdomain") != "py":
        return None
    target = str(node.get("reftarget", ""))
    parts = target.split(".")
    if len(parts) < 3 or parts[0] != "seqforecast":
        return None
    for start in range(2, len(parts)):
        if parts[start] in seqforecast.__all__:
            alias = "seqforecast." + ".".join(parts[start:])
            domain = env.domains["py"]
            return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], alias, node, contnode)
    return None


def _public_bases(app: Any, name: str, obj: Any, options: Any, bases: list[type]) -> None:
    """Show the public base class instead of a private one."""
    bases[:] = [seqforecast.BaseForecaster if base.__name__.startswith("_") else base for base in bases]


def setup(app: Any) -> None:
    app.connect("missing-reference", _public_alias)
    app.connect("autodoc-process-bases", _public_bases)
