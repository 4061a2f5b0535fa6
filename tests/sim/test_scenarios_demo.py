"""``python -m orchestrator.demo --backend sim``: the demo of `make demo` without Docker,
small sizes, checked through its --json output; that it destroys the lab when it is
interrupted; and that it ends by telling how to run ``wirelab``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orchestrator import demo
from orchestrator.client import Lab
from tests.clilab import MTU_FAULTS_MISSING

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_on_sim_shows_loss_and_pmtud_and_cleans_up(tmp_path: Path) -> None:
    argv = ["--backend", "sim", "--local", "--size", "400000", "--json", "--out", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator.demo", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    result = json.loads(done.stdout)
    assert result["destroyed"] and result["backend"] == "sim"
    assert result["server"] == "in-process" and result["wirelab"].endswith("wirelab")
    phases = {p["phase"]: p for p in result["phases"]}
    assert list(phases)[:2] == ["clean", "loss"]
    clean, loss = phases["clean"], phases["loss"]
    assert clean["retransmits"] == 0 and clean["pmtu"] == 1500
    # 5% loss on r1's egress: the fault dropped segments, TCP resent them and cut cwnd
    assert loss["fault"]["dropped"] > 0 and loss["retransmits"] > 0
    assert loss["cwnd_reductions"] > 0 and loss["ssthresh_min"] is not None
    if done.returncode == 1 and MTU_FAULTS_MISSING in result.get("error", ""):
        pytest.skip(f"the node has no MTU faults yet ({result['error']})")
    assert done.returncode == 0, done.stdout + done.stderr
    assert result["ok"]
    mtu = phases["mtu"]
    assert [p["phase"] for p in result["phases"]] == ["clean", "loss", "mtu"]
    for phase in (clean, loss, mtu):
        assert phase["sha256_match"] and phase["bytes_received"] == 400000
        assert phase["goodput_bps"] > 0 and phase["samples"] > 0
        svg = Path(phase["plot"])
        assert svg.parent == tmp_path and svg.read_text().lstrip().startswith("<?xml")
    # the MTU fault: r1 answers a DF probe with frag-needed, PMTUD shrinks the segments
    assert mtu["frag_needed"]["icmp_type"] == 3 and mtu["frag_needed"]["icmp_code"] == 4
    assert mtu["frag_needed"]["next_hop_mtu"] == 1000
    assert mtu["pmtu"] == 1000 and mtu["mss"] <= 960
    assert "dropped" in mtu["fault"]  # the MTU fault's counters are reported


def test_an_interrupted_demo_still_destroys_its_lab(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, Any] = {}

    def interrupt(self: demo.Demo, lab: Lab, phase: str, fault: str = "") -> None:
        seen["labs"] = [s.name for s in lab.client.labs()]
        raise KeyboardInterrupt

    monkeypatch.setattr(demo.Demo, "transfer", interrupt)
    out = io.StringIO()
    argv = ["--backend", "sim", "--local", "--out", str(tmp_path)]
    status = demo.main([*argv, "--json"], out=out)
    result = json.loads(out.getvalue())
    assert status == 130 and result["error"] == "interrupted"
    assert "wirelab-demo" in seen["labs"]  # it was deployed when Ctrl-C came
    assert result["destroyed"] and not result["ok"]
    # for people: it says how to go on with the wirelab command (not on PATH: the venv's)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    out = io.StringIO()
    assert demo.main(argv, out=out) == 130
    text = out.getvalue()
    assert "interrupted: cleaning up" in text and "Next: drive a lab yourself" in text
    assert "wirelab deploy quickstart --backend sim" in text and "activate" in text


def test_bad_arguments_are_refused_before_anything_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        demo.main(["--backend", "sim", "--loss", "5"])
    assert info.value.code == 2
    assert "--loss must be between 0 and 1" in capsys.readouterr().err
