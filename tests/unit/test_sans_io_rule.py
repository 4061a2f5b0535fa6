"""DESIGN.md rule 1: the protocol core and the topology model never do I/O or read the
clock. This walks every module's AST, so a lazy import inside a function is caught too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE_DIRS = ["nodes/wire", "nodes/stack", "nodes/router", "nodes/faults", "topology"]
FORBIDDEN = {
    "socket",
    "select",
    "selectors",
    "asyncio",
    "threading",
    "time",
    "grpc",
    "docker",
    "subprocess",
}


def forbidden_imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [n for n in names if n.split(".")[0] in FORBIDDEN]
    return found


def pure_modules() -> list[Path]:
    """The pure tree's modules; ``topology/examples/code`` is a user's app code (asyncio on
    the app API, run by a node's agent), not the topology model."""
    found = (p for d in PURE_DIRS for p in (ROOT / d).rglob("*.py"))
    return sorted(p for p in found if not p.is_relative_to(ROOT / "topology/examples"))


def test_the_pure_tree_is_not_empty() -> None:
    assert len(pure_modules()) > 5


@pytest.mark.parametrize("path", pure_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_does_no_io(path: Path) -> None:
    assert forbidden_imports(path.read_text()) == []


@pytest.mark.parametrize(
    "source",
    [
        "import socket",
        "import time as t",
        "from asyncio import sleep",
        "from grpc.aio import server",
        "def f():\n    import subprocess\n",
        "import os, threading",
        "from docker import from_env",
        "import selectors",
    ],
)
def test_checker_catches_io_imports(source: str) -> None:
    assert forbidden_imports(source) != []


def test_checker_allows_pure_imports() -> None:
    assert forbidden_imports("import struct\nfrom dataclasses import dataclass\n") == []
    assert forbidden_imports("from .time_wait import x\nimport timeit_like") == []
