"""The package root: lazy public names, and what ``import seqforecast`` costs."""

from __future__ import annotations

import inspect
import pkgutil
import subprocess
import sys

import pytest

import seqforecast


def test_every_public_name_loads_from_the_module_that_defines_it() -> None:
    exports = seqforecast._exports()
    assert sorted([*exports, "__version__"]) == sorted(seqforecast.__all__)
    for name in seqforecast.__all__:
        assert getattr(seqforecast, name) is not None
    assert set(seqforecast.__all__) <= set(dir(seqforecast))


def test_an_unknown_name_is_an_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="'Forecasterr'"):
        _ = seqforecast.Forecasterr


def test_importing_the_package_imports_neither_torch_nor_numpy() -> None:
    code = "import sys, seqforecast; print(sorted({'torch', 'numpy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_no_public_name_is_shadowed_by_a_submodule_of_the_same_name() -> None:
    # importing seqforecast.x sets the package's attribute x to that module, hiding a public name x
    submodules = {info.name for info in pkgutil.iter_modules(seqforecast.__path__)}
    modules = {name for name in seqforecast.__all__ if inspect.ismodule(getattr(seqforecast, name))}
    assert (set(seqforecast.__all__) - modules) & submodules == set()
