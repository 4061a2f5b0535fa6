"""bench.run (selection, sizes, a sim-only run end to end) and labbench's pure helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import topology
from bench.labbench import BenchError, _iface_toward, _json_in
from bench.results import validate
from bench.run import BY_NAME, FULL, QUICK, SPECS, main, parse_args, select, sizes_from
from bench.topologies import path_lab


def test_every_issue_figure_is_there_with_its_target() -> None:
    targets = {s.name: (s.target.op, s.target.value) for s in SPECS if s.target is not None}
    assert targets["tcp_goodput_1500"] == (">=", 100)
    assert targets["tcp_goodput_9000"] == (">=", 400)
    assert targets["tcp_loss_ratio"] == (">=", 0.5)
    assert targets["tcp_rr_p50_us"] == ("<=", 150)
    assert targets["tcp_rr_p99_us"] == ("<=", 1000)
    assert targets["udp_forward_pps"] == (">=", 150_000)
    assert targets["deploy_3_s"] == ("<=", 3)
    assert targets["deploy_line10_s"] == ("<=", 10)
    assert targets["deploy_50_s"] == ("<=", 30)
    assert targets["destroy_50_s"] == ("<=", 10)
    assert targets["addfault_first_packet_p99_ms"] == ("<=", 5)
    assert targets["idle_rss_mb"] == ("<=", 40)
    assert targets["idle_cpu_pct"] == ("<=", 1)
    assert targets["sim_virtual_per_wall"] == (">=", 1)
    assert targets["virtual_per_wall"] == (">=", 5)


SWARM_FIGURES = ("swarm_deploy_50_s", "swarm_destroy_50_s", "swarm_goodput_1500")


def test_the_swarm_figures_run_on_the_swarm_beside_the_single_host_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in SWARM_FIGURES:
        assert BY_NAME[name].swarm and not BY_NAME[name].docker
    single = ("deploy_50_s", "destroy_50_s", "tcp_goodput_1500")
    assert all(BY_NAME[n].docker and not BY_NAME[n].swarm for n in single)
    assert (BY_NAME["swarm_goodput_1500"].unit, BY_NAME["swarm_deploy_50_s"].unit) == ("MB/s", "s")
    assert main(["--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert set(SWARM_FIGURES) <= set(listed)


def test_swarm_figures_are_skipped_with_the_reason_when_no_swarm_can_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import bench.swarmbench

    monkeypatch.setattr(bench.swarmbench, "unavailable", lambda: "the swarm lab needs root")
    out = tmp_path / "r.json"
    assert main(["--only", ",".join(SWARM_FIGURES), "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert validate(doc) == []
    figs = {f["name"]: f for f in doc["figures"]}
    assert set(figs) == set(SWARM_FIGURES)
    for fig in figs.values():
        assert fig["skipped"] == "the swarm lab needs root"
        assert fig["samples"] == [] and fig["error"] is None
    captured = capsys.readouterr()
    assert "swarm: skipped: the swarm lab needs root" in captured.err
    assert captured.out.count("skipped") == 3


def test_select_only_and_skip() -> None:
    assert [s.name for s in select("deploy_3_s, tcp_rr_p50_us", "")] == [
        "deploy_3_s",
        "tcp_rr_p50_us",
    ]
    assert "deploy_50_s" not in [s.name for s in select("", "deploy_50_s")]
    with pytest.raises(SystemExit, match="nope"):
        select("nope", "")


def test_sizes_quick_full_and_overrides() -> None:
    assert sizes_from(parse_args([])) == FULL
    assert sizes_from(parse_args(["--quick"])) == QUICK
    s = sizes_from(parse_args(["--repeat", "5", "--bulk-mb", "1.5", "--sim-mb", "2"]))
    assert (s.repeat, s.bulk, s.sim_bytes) == (5, 1_500_000, 2_000_000)
    assert FULL.repeat >= 3 and FULL.sim_bytes == 100_000_000


def test_sim_only_run_writes_valid_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.json"
    profile = tmp_path / "p.txt"
    args = ["--only", "sim_virtual_per_wall,sim_wall_goodput", "--sim-mb", "0.3", "-o", str(out)]
    assert main([*args, "--repeat", "2", "--profile", str(profile)]) == 0
    doc = json.loads(out.read_text())
    assert validate(doc) == []
    fig = doc["figures"][0]
    assert fig["name"] == "sim_virtual_per_wall" and len(fig["samples"]) == 2
    assert fig["median"] > 0 and fig["met"] in (True, False) and fig["error"] is None
    assert "tottime" in profile.read_text()
    table = capsys.readouterr().out
    assert "sim_virtual_per_wall" in table and "sim_wall_goodput" in table


def test_virtual_only_run_writes_its_figure_and_profile(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    profile = tmp_path / "p.txt"
    args = ["--only", "virtual_per_wall", "--virtual-mb", "0.2", "-o", str(out)]
    assert main([*args, "--repeat", "1", "--profile", str(profile)]) == 0
    doc = json.loads(out.read_text())
    assert validate(doc) == []
    fig = doc["figures"][0]
    assert fig["name"] == "virtual_per_wall" and len(fig["samples"]) == 1
    assert fig["median"] > 0 and fig["error"] is None and fig["target"]
    text = (tmp_path / "profile-virtual-bulk.txt").read_text()
    assert "tottime" in text and "nodes/io/world.py itself" in text
    assert FULL.virtual_bytes == 100_000_000 and QUICK.virtual_bytes == 5_000_000


def test_json_in_finds_the_object_in_noisy_output() -> None:
    assert _json_in('warning: x\n{"rtts": [1, 2]}\ntrailer') == {"rtts": [1, 2]}
    with pytest.raises(BenchError, match="no JSON"):
        _json_in("nothing here")
    with pytest.raises(BenchError, match="iperf3: unable to connect"):
        _json_in('{"start": {}, "error": "unable to connect"}')


def test_iface_toward() -> None:
    lab = topology.load_text(path_lab("bt-if"))
    assert _iface_toward(lab, "r1", "h2") == "eth1"
    assert _iface_toward(lab, "r1", "kb") == "eth3"
    with pytest.raises(BenchError):
        _iface_toward(lab, "h1", "h2")
