"""The fuzz targets by name. A target is a function of one ``bytes`` input that returns
normally when the code under test behaved, and raises (any exception, usually an
AssertionError naming the broken invariant) when it did not. Expected rejections
(our typed :class:`~nodes.wire.errors.WireError`) are caught inside the target.

To add targets, write a module with functions decorated by :func:`target` and list it
in ``MODULES``; give each a seed corpus under ``tests/fuzz/corpus/<name>/`` (see
tests/fuzz/README.md).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Fn = Callable[[bytes], None]

# modules that define targets (imported by load(); a fuzzing run imports them under
# atheris's instrumentation)
MODULES = ("tests.fuzz.wire_targets", "tests.fuzz.node_targets", "tests.fuzz.control_targets")
CORPUS = Path(__file__).parent / "corpus"


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    fn: Fn
    doc: str
    # what a pytest run (make test) spends on it: libFuzzer iterations with a fixed seed
    # (deterministic), and a time cap in case a slow machine cannot do them in time
    runs: int
    max_seconds: float

    @property
    def corpus(self) -> Path:
        return CORPUS / self.name


_TARGETS: dict[str, Target] = {}


def target(name: str, *, runs: int, max_seconds: float = 10.0) -> Callable[[Fn], Fn]:
    """Register ``fn`` as the target ``name``."""

    def register(fn: Fn) -> Fn:
        if name in _TARGETS and _TARGETS[name].fn is not fn:
            raise ValueError(f"fuzz target {name!r} is defined twice")
        _TARGETS[name] = Target(name, fn, (fn.__doc__ or "").strip(), runs, max_seconds)
        return fn

    return register


def load() -> dict[str, Target]:
    """Every target, by name (importing the target modules on first use)."""
    for module in MODULES:
        importlib.import_module(module)
    return dict(sorted(_TARGETS.items()))
