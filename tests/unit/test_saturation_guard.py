"""The saturation guard above the nodes: the loads of a transfer from snapshots of the
nodes' loop counters, carried through protobuf, printed by the CLI, raised as a warning
by the Python client (which the pytest plugin shows every time)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import pytest
from rich.console import Console
from wirelab.v1 import lab_pb2

from orchestrator.cli import render
from orchestrator.client.lab import CpuBoundWarning, Lab
from orchestrator.domain.results import NodeLoad, TransferReport
from orchestrator.lab import load
from orchestrator.wire.generic import from_message, to_message


def io(busy_us: int, wall_us: int, wakeups: int = 0, late: int = 0) -> dict[str, int]:
    return {"io_busy_us": busy_us, "io_wall_us": wall_us, "io_wakeups": wakeups,
            "io_late_wakeups": late, "io_late_us": late * 2000, "io_turns": 1}  # fmt: skip


def test_the_loads_of_a_transfer_name_the_cpu_bound_nodes() -> None:
    before = {"h1": io(0, 0), "r1": io(0, 0), "h2": io(0, 0)}
    after = {
        "h1": io(1_960_000, 2_000_000),  # 98% busy: the sender was the limit
        "r1": io(600_000, 2_000_000, wakeups=100, late=50),  # idle-ish, its timers late
        "h2": io(400_000, 2_000_000, wakeups=100, late=1),
        "gone": io(5, 10),  # no snapshot before: unknown, left out
    }
    found = load.loads(before, after)
    assert [x.node for x in found] == ["h1", "r1", "h2"]
    h1 = found[0]
    assert h1.busy_fraction == 0.98 and h1.wall_s == 2.0 and h1.saturated
    assert found[1].late_fraction == 0.5 and found[1].saturated
    assert not found[2].saturated
    assert load.saturated(found) == ("h1", "r1")


def test_a_node_that_does_not_answer_is_left_out() -> None:
    from orchestrator.domain.errors import Unavailable

    def read(node: str) -> dict[str, int]:
        if node == "r1":
            raise Unavailable("down")
        return io(1, 2)

    assert list(load.snapshot(["h1", "r1"], read)) == ["h1"]


REPORT = TransferReport(
    size_bytes=1000, bytes=1000, bytes_received=1000, seconds=1.0, goodput_bps=8000.0,
    sender_sha256="ab", receiver_sha256="ab", sha256_match=True,
    loads=(NodeLoad("h1", 0.97, 0.01, 40, 1.0, True), NodeLoad("h2", 0.3, 0.0, 30, 1.0, False)),
    cpu_bound_nodes=("h1",),
)  # fmt: skip


def test_the_loads_cross_protobuf_unchanged() -> None:
    msg = to_message(REPORT, lab_pb2.TransferResponse())
    assert from_message(TransferReport, msg) == REPORT


def text_of(report: TransferReport) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(render.transfer(report, "h1"))
    return console.export_text()


def test_the_cli_says_when_a_node_was_cpu_bound() -> None:
    out = text_of(REPORT)
    assert "warning: CPU-bound: h1 (loop busy 97%, 1% of timer wake-ups late)" in out
    assert "not the lab's links" in out
    calm = TransferReport(**{**_fields(REPORT), "loads": REPORT.loads[1:], "cpu_bound_nodes": ()})
    assert "CPU-bound" not in text_of(calm) and "sha256 match" in text_of(calm)


def _fields(report: TransferReport) -> dict[str, Any]:
    return {name: getattr(report, name) for name in report.__dataclass_fields__}


@dataclass
class FakeWire:
    report: TransferReport

    def transfer(self, lab: str, req: object) -> TransferReport:
        return self.report


@dataclass
class FakeClient:
    wire: FakeWire


def test_the_client_warns_of_a_cpu_bound_transfer_and_only_then() -> None:
    from orchestrator.domain.lab import LabInfo

    info = LabInfo.__new__(LabInfo)
    object.__setattr__(info, "name", "lab1")
    lab = Lab(FakeClient(FakeWire(REPORT)), info)  # type: ignore[arg-type]
    with pytest.warns(CpuBoundWarning, match=r"lab lab1: transfer h1 -> h2: CPU-bound: h1"):
        report = lab.transfer("h1", "h2", size="1kB")
    assert report is REPORT
    calm = TransferReport(**{**_fields(REPORT), "cpu_bound_nodes": ()})
    lab = Lab(FakeClient(FakeWire(calm)), info)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lab.transfer("h1", "h2", size="1kB")


def test_the_plugin_shows_every_cpu_bound_warning(pytestconfig: pytest.Config) -> None:
    assert "always::orchestrator.client.lab.CpuBoundWarning" in pytestconfig.getini(
        "filterwarnings"
    )
