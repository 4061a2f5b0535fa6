"""Protobuf stays at the gRPC edges (issue 10): the servicers, their converters and the
clients' wire layers import the generated ``wirelab.v1`` modules; everything else works on
the domain's records."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EDGES = {
    "nodes/agent/servicer.py",  # the NodeAgent servicer
    "nodes/agent/convert.py",  # node.proto -> the node's domain
    "nodes/agent/topb.py",  # the node's domain -> node.proto
    "orchestrator/service/servicer.py",  # the LabService servicer
    "orchestrator/wire/lab.py",  # lab.proto <-> domain, and the Python client's stub
    "orchestrator/wire/agent.py",  # the lab's client of the node agents
}
LIMIT = 8


def generated_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{a.name}" for a in node.names]
            if node.module.startswith("wirelab.v1") or any("_pb2" in n for n in names):
                found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("wirelab.v1")]
    return [m for m in found if m.startswith("wirelab")]


def test_only_the_grpc_edges_import_generated_code() -> None:
    importers = {
        str(path.relative_to(ROOT))
        for folder in ("nodes", "topology", "orchestrator", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if generated_imports(path)
    }
    assert importers <= EDGES, sorted(importers - EDGES)
    assert len(importers) <= LIMIT
