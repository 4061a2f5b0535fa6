"""The fuzz targets inside ``make test``: every committed corpus input (seeds and the
regression inputs of fixed bugs) replays through its target, then each target fuzzes for
a fixed number of inputs with a fixed seed (atheris, in a child process), so CI is
deterministic and bounded: about 2-4 s per target here. ``make fuzz`` fuzzes longer.

Without atheris (no wheel for this Python), the second part runs the same targets on
hypothesis-generated inputs (derandomized) instead: not coverage-guided, still every
target on a few hundred inputs each."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.registry import load
from tests.fuzz.run import run_target

TARGETS = load()
HAVE_ATHERIS = importlib.util.find_spec("atheris") is not None
INPUTS = [
    pytest.param(name, path, id=f"{name}/{path.name}")
    for name, t in TARGETS.items()
    for path in sorted(t.corpus.glob("*"))
]


def test_every_target_has_a_seed_corpus() -> None:
    for name, t in TARGETS.items():
        assert sorted(t.corpus.glob("seed-*")), f"{name}: no seeds (python -m tests.fuzz.seeds)"


@pytest.mark.parametrize(("name", "path"), INPUTS)
def test_corpus_input_passes(name: str, path: Path) -> None:
    TARGETS[name].fn(path.read_bytes())


@pytest.mark.skipif(not HAVE_ATHERIS, reason="atheris is not installed: hypothesis instead")
@pytest.mark.parametrize("name", list(TARGETS))
def test_fuzz_target(name: str, tmp_path: Path) -> None:
    t = TARGETS[name]
    result = run_target(name, runs=t.runs, seconds=t.max_seconds, seed=1, artifacts=tmp_path)
    assert result.ok, result.report()


@pytest.mark.skipif(HAVE_ATHERIS, reason="atheris fuzzes these targets")
@pytest.mark.parametrize("name", list(TARGETS))
def test_fuzz_target_without_atheris(name: str) -> None:
    fn = TARGETS[name].fn
    examples = 100 if name in ("host", "router") else 500

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(st.binary(max_size=512))
    def fuzz(data: bytes) -> None:
        fn(data)

    fuzz()
