"""`make bench` stays runnable: the harness with tiny sizes and one repeat on a subset
(TCP goodput ours and linux, deploy of 3 nodes, the sim ratio) into a temporary results
file, whose schema is checked. Labs are always destroyed (checked by label)."""

from __future__ import annotations

import json
from pathlib import Path

import docker
import pytest

from bench.results import validate
from bench.run import main
from orchestrator.image.build import BuildResult
from orchestrator.lab import labels as L

pytestmark = pytest.mark.docker

FIGURES = ("tcp_goodput_1500", "deploy_3_s", "sim_virtual_per_wall")


def bench_objects() -> list[str]:
    client = docker.from_env()
    try:
        filters = {"label": L.LAB}
        objects = [*client.containers.list(all=True, filters=filters)]
        objects += client.networks.list(filters=filters)
        return [
            str(o.name)
            for o in objects
            if str((o.attrs.get("Labels") or o.labels).get(L.LAB, "")).startswith("wb")
        ]
    finally:
        client.close()


@pytest.mark.timeout(300)
def test_bench_smoke_writes_valid_results(
    node_image: BuildResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = set(bench_objects())
    out = tmp_path / "results.json"
    argv = ["--quick", "--only", ",".join(FIGURES), "-o", str(out), "--image", node_image.tag,
            "--bulk-mb", "1", "--sim-mb", "1", "--no-profile"]  # fmt: skip
    assert main(argv) == 0
    doc = json.loads(out.read_text())
    assert validate(doc) == []
    figs = {f["name"]: f for f in doc["figures"]}
    assert set(figs) == set(FIGURES)
    for name, fig in figs.items():
        assert fig["error"] is None, f"{name}: {fig['error']}"
        assert len(fig["samples"]) == 1 and fig["median"] > 0, name
    goodput = figs["tcp_goodput_1500"]
    # the Linux reference path (lxr: a linux node with `forward: true`) always works
    assert goodput["linux"] is not None, goodput["notes"]
    assert goodput["linux"]["median"] > 0 and goodput["ratio"] > 0
    assert figs["deploy_3_s"]["median"] < 120
    assert "tcp_goodput_1500" in capsys.readouterr().out
    assert set(bench_objects()) <= before, "the bench left containers or networks behind"
