"""Which build the tests run against. ``make test-compiled`` sets
WIRELAB_EXPECT_COMPILED=1: every module setup.py compiles with mypyc must then be imported
from a shared object in the venv's site-packages (the installed wheel, not the sources
beside the tests). ``make test`` sets it to 0: the editable install's pure-Python
sources, with no compiled module (a stale one in place) shadowing them. Unset: nothing is
expected."""

from __future__ import annotations

import importlib
import os
import sysconfig
from pathlib import Path

import pytest

from orchestrator.image.build import mypyc_modules

ROOT = Path(__file__).resolve().parents[2]
EXPECT = os.environ.get("WIRELAB_EXPECT_COMPILED", "")
# the per-packet heart of it, named so that a change of the list cannot drop them unseen
HOT = ("nodes/stack/tcp/engine", "nodes/stack/host", "nodes/wire/tcp", "nodes/router/router")


def _files() -> dict[str, Path]:
    out = {}
    for stem in mypyc_modules(ROOT):
        module = importlib.import_module(stem.replace("/", "."))
        assert module.__file__ is not None
        out[stem] = Path(module.__file__).resolve()
    return out


def test_the_hot_modules_are_on_the_list() -> None:
    assert set(HOT) <= set(mypyc_modules(ROOT))


@pytest.mark.skipif(EXPECT != "1", reason="not the compiled run (WIRELAB_EXPECT_COMPILED=1)")
def test_the_compiled_modules_are_imported() -> None:
    files = _files()
    pure = sorted(stem for stem, path in files.items() if path.suffix != ".so")
    assert not pure, f"imported from Python sources: {pure}"
    site = Path(sysconfig.get_paths()["platlib"]).resolve()
    outside = sorted(stem for stem, path in files.items() if not path.is_relative_to(site))
    assert not outside, f"imported from elsewhere than the installed wheel ({site}): {outside}"
    excluded = importlib.import_module("nodes.faults.model")  # kept pure on purpose
    assert excluded.__file__ is not None and excluded.__file__.endswith(".py")


@pytest.mark.skipif(EXPECT != "0", reason="not the pure run (WIRELAB_EXPECT_COMPILED=0)")
def test_the_pure_sources_are_imported() -> None:
    files = _files()
    compiled = sorted(stem for stem, path in files.items() if path.suffix != ".py")
    assert not compiled, f"compiled modules shadow the sources: {compiled}"
    assert all(path == ROOT / f"{stem}.py" for stem, path in files.items())
