"""The generated code under proto/wirelab/v1 is committed: it must be exactly what
`make proto` (proto/gen.py) produces from the .proto files, and importable as wirelab.v1."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "proto" / "wirelab" / "v1"


def _gen_module() -> object:
    spec = importlib.util.spec_from_file_location("wirelab_proto_gen", ROOT / "proto" / "gen.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_code_is_up_to_date(tmp_path: Path) -> None:
    gen = _gen_module()
    fresh = gen.generate(tmp_path)  # type: ignore[attr-defined]
    assert fresh, "nothing generated"
    fresh_names = {p.name for p in fresh}
    committed = {p.name for p in PACKAGE.glob("*_pb2*.py*")}
    assert committed == fresh_names, "generated files added or removed: run `make proto`"
    stale = [p.name for p in fresh if p.read_bytes() != (PACKAGE / p.name).read_bytes()]
    assert not stale, f"stale generated code {stale}: run `make proto`"


@pytest.mark.parametrize("name", ["common", "node"])
def test_every_proto_has_its_python_and_type_stubs(name: str) -> None:
    assert (PACKAGE / f"{name}.proto").is_file()
    assert (PACKAGE / f"{name}_pb2.py").is_file() and (PACKAGE / f"{name}_pb2.pyi").is_file()


def test_the_package_imports_as_wirelab_v1() -> None:
    from wirelab.v1 import common_pb2, node_pb2, node_pb2_grpc

    assert node_pb2.DESCRIPTOR.package == "wirelab.v1"
    service = node_pb2.DESCRIPTOR.services_by_name["NodeAgent"]
    assert {"Configure", "AddFault", "Capture", "WatchEvents"} <= set(service.methods_by_name)
    assert service.methods_by_name["Capture"].server_streaming
    assert hasattr(node_pb2_grpc, "add_NodeAgentServicer_to_server")
    spec = common_pb2.FaultSpec(iface="eth0", loss=0.1, seed=3)
    assert common_pb2.FaultSpec.FromString(spec.SerializeToString()) == spec
    assert not spec.HasField("duration_ms") and spec.HasField("seed")
