"""The Docker bulk profile's pure parts (bench/nodeprofile.py): /proc stat parsing, the CPU
split, folding py-spy's raw stacks to the event loop's self time per function."""

from __future__ import annotations

import os

import pytest

from bench import nodeprofile

LOOP = "<module> (nodes/agent/launch.py:86);Runner.run (nodes/io/runner.py:161)"
FLUSH = LOOP + ";Runner._flush (nodes/io/runner.py:352)"
RAW = "\n".join([
    FLUSH + ";RawSocket.send (nodes/io/raw_socket.py:141) 30",
    FLUSH + ";RawSocket.send (nodes/io/raw_socket.py:155) 10",
    LOOP + ";EpollSelector.select (selectors.py:468) 60",
    "Thread._bootstrap (threading.py:995);_serve (grpc/_server.py:1314) 500",
    "garbage line",
])  # fmt: skip


def test_fold_keeps_the_loop_thread_and_folds_line_numbers() -> None:
    samples, own = nodeprofile.fold_loop_samples(RAW)
    assert samples == 100  # gRPC's idle thread is not the loop
    assert own["RawSocket.send (nodes/io/raw_socket.py)"] == 40
    assert own["EpollSelector.select (selectors.py)"] == 60
    assert len(own) == 2


def test_cpu_ticks_and_split() -> None:
    # the command name may contain spaces and parentheses
    line = "123 (python (x) y) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 9 0 100"
    assert nodeprofile.cpu_ticks(line) == (250, 50)
    hz = os.sysconf("SC_CLK_TCK")
    split = nodeprofile.cpu_split((0, 0), (hz // 2, hz // 4), 1.0)
    assert split.user_pct == pytest.approx(50.0, abs=1)
    assert split.total_pct == pytest.approx(75.0, abs=1.5)


def test_report_without_pyspy_still_gives_the_cpu_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nodeprofile, "pyspy", lambda: None)
    text = nodeprofile.profile_nodes({"self": os.getpid()}, 0.2, lambda: "nothing")
    assert "load: nothing" in text and "self" in text and "py-spy is not installed" in text
