"""``python -m orchestrator.demo --backend sim``: the demo of `make demo` without Docker,
small sizes, checked through its --json output; and that it destroys the lab when it is
interrupted."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orchestrator import demo
from orchestrator.client import LabClient

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_on_sim_shows_loss_and_pmtud_and_cleans_up(tmp_path: Path) -> None:
    argv = ["--backend", "sim", "--size", "400000", "--json", "--out", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator.demo", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] and result["destroyed"] and result["backend"] == "sim"
    clean, loss, mtu = result["phases"]
    assert [p["phase"] for p in result["phases"]] == ["clean", "loss", "mtu"]
    for phase in (clean, loss, mtu):
        assert phase["sha256_match"] and phase["bytes_received"] == 400000
        assert phase["goodput_bps"] > 0 and phase["samples"] > 0
        svg = Path(phase["plot"])
        assert svg.parent == tmp_path and svg.read_text().lstrip().startswith("<?xml")
    assert clean["retransmits"] == 0 and clean["pmtu"] == 1500
    # 5% loss on r1's egress: the fault dropped segments, TCP resent them and cut cwnd
    assert loss["fault"]["dropped"] > 0 and loss["retransmits"] > 0
    assert loss["cwnd_reductions"] > 0 and loss["ssthresh_min"] is not None
    # the MTU drop: r1 answers a DF probe with frag-needed, PMTUD shrinks the segments
    assert mtu["frag_needed"]["icmp_type"] == 3 and mtu["frag_needed"]["icmp_code"] == 4
    assert mtu["frag_needed"]["next_hop_mtu"] == 1000
    assert mtu["pmtu"] == 1000 and mtu["mss"] <= 960


def test_an_interrupted_demo_still_destroys_its_lab(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, Any] = {}

    def interrupt(self: demo.Demo, client: LabClient, phase: str, fault: str = "") -> None:
        seen["labs"] = [lab.name for lab in client.list_labs()]
        raise KeyboardInterrupt

    monkeypatch.setattr(demo.Demo, "transfer", interrupt)
    out = io.StringIO()
    status = demo.main(["--backend", "sim", "--json", "--out", str(tmp_path)], out=out)
    result = json.loads(out.getvalue())
    assert status == 130 and result["error"] == "interrupted"
    assert "wirelab-demo" in seen["labs"]  # it was deployed when Ctrl-C came
    assert result["destroyed"] and not result["ok"]


def test_bad_arguments_are_refused_before_anything_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        demo.main(["--backend", "sim", "--loss", "5"])
    assert info.value.code == 2
    assert "--loss must be between 0 and 1" in capsys.readouterr().err
