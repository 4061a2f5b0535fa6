"""The lab commands of ``wirelab``: argv -> main() against a LabService started here (sim
lab in this process); JSON outputs parsed; exit codes checked."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import topology
from orchestrator.cli import main
from orchestrator.service import LabServer, start_server


@pytest.fixture(scope="module")
def server() -> Iterator[LabServer]:
    srv = start_server("127.0.0.1:0")
    try:
        yield srv
    finally:
        srv.stop(grace=0.2)


@pytest.fixture
def wl(
    server: LabServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[object]:
    monkeypatch.setenv("WIRELAB_SERVER", server.address)
    monkeypatch.setenv("WIRELAB_HOME", str(tmp_path))
    monkeypatch.delenv("WIRELAB_TOKEN", raising=False)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    yield run


@pytest.fixture(scope="module")
def deployed(server: LabServer) -> str:
    from orchestrator.client import LabClient

    with LabClient(server.address) as c:
        c.deploy(path=topology.example_path("quickstart"))
    return "quickstart"


def test_deploy_inspect_destroy(wl, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = wl("deploy", topology.example_path("quickstart"), "--name", "cli1", "--json")
    assert code == 0, err
    assert json.loads(out)["name"] == "cli1"
    assert "ready" in err  # progress on stderr
    code, out, _ = wl("inspect", "--json")
    assert code == 0 and "cli1" in {lab["name"] for lab in json.loads(out)}
    code, out, _ = wl("inspect", "cli1")
    assert code == 0 and "NODE" in out and "r1" in out
    assert wl("destroy", "cli1")[0] == 0
    code, _, err = wl("inspect", "cli1")
    assert code == 3 and "lab: no lab 'cli1'" in err


def test_ping_json_and_exit_codes(wl, deployed: str) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = wl("ping", deployed, "h1", "h2", "-c", "2", "-i", "10ms", "--json")
    assert code == 0 and json.loads(out)["received"] == 2
    code, out, _ = wl("ping", deployed, "h1", "h2", "-c", "1")
    assert code == 0 and "1 received" in out
    code, _, err = wl("ping", deployed, "h9", "h2")
    assert code == 3 and "node:" in err


def test_fault_add_list_clear(wl, deployed: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = wl(
        "fault",
        "add",
        deployed,
        "--link",
        "r1:eth1",
        "--loss",
        "20%",
        "--delay",
        "1ms",
        "--seed",
        "5",
        "--direction",
        "egress",
        "--json",
    )
    assert code == 0, err
    fault = json.loads(out)
    assert fault["effects"]["loss"] == pytest.approx(0.2)
    assert fault["effects"]["delay_ms"] == pytest.approx(1.0)
    wl("ping", deployed, "h1", "h2", "-c", "10", "-i", "5ms", "-W", "200ms")
    code, out, _ = wl("fault", "list", deployed, "--json")
    listed = {f["fault_id"]: f for f in json.loads(out)}
    assert int(listed[fault["fault_id"]]["counters"]["seen"]) >= 10
    assert listed[fault["fault_id"]]["parts"][0]["first_hit_ms"] >= 0
    code, out, _ = wl("fault", "list", deployed)
    assert code == 0 and "loss=20%" in out and "FIRST HIT" in out
    row = next(line for line in out.splitlines() if line.startswith(fault["fault_id"]))
    assert re.search(r" \d+\.\dms ", row)  # when it first acted on a frame
    assert wl("fault", "clear", deployed, fault["fault_id"])[0] == 0
    assert wl("fault", "clear", deployed, "nope")[0] == 3
    assert wl("fault", "clear", deployed)[0] == 2


def test_fault_units_are_checked(wl, deployed: str) -> None:  # type: ignore[no-untyped-def]
    code, _, err = wl("fault", "add", deployed, "--link", "r1:eth1", "--loss", "150%")
    assert code == 2 and "0%..100%" in err
    code, _, err = wl("fault", "add", deployed, "--link", "r1:eth1", "--delay", "10 parsecs")
    assert code == 2 and "bad duration" in err
    code, _, err = wl("fault", "add", deployed, "--link", "r1:eth1", "--rate", "fast")
    assert code == 2 and "bad rate" in err


def test_partition_and_node_commands(wl, deployed: str) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = wl("fault", "partition", deployed, "h1", "r1,h2", "--duration", "5s", "--json")
    assert code == 0 and json.loads(out)["origin"] == "partition"
    code, _, _ = wl("ping", deployed, "h1", "h2", "-c", "1", "-W", "200ms")
    assert code == 1  # no reply
    assert wl("fault", "clear", deployed, "--all")[0] == 0
    code, out, err = wl("fault", "node", deployed, "r1", "restart", "--json")
    if code == 0:
        assert json.loads(out)["state"] == "running"
    else:  # a backend without node actions says so
        assert code == 1 and "action" in err


def test_transfer_with_plot(wl, deployed: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plot = tmp_path / "cwnd.svg"
    code, out, err = wl(
        "transfer", deployed, "h1", "h2", "--bytes", "200k", "--plot", str(plot), "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["sha256_match"] is True and int(data["bytes"]) == 200_000
    assert plot.read_text().startswith("<?xml")


def test_show_app_http_capture(wl, deployed: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for what in ("interfaces", "routes", "arp", "tcp", "counters"):
        code, out, err = wl("show", deployed, "r1", what, "--json")
        assert code == 0, (what, err)
        json.loads(out)
    assert wl("app", "start", deployed, "h1", "echo", "--port", "7007")[0] == 0
    code, out, _ = wl("app", "list", deployed, "h1", "--json")
    assert "echo:7007" in {a["app_id"] for n in json.loads(out) for a in n["apps"]}
    assert wl("app", "stop", deployed, "h1", "echo:7007")[0] == 0
    code, out, _ = wl("http", deployed, "h1", "http://h2/", "--json")
    assert code == 0 and json.loads(out)["status"] == 200
    pcap = tmp_path / "h2.pcap"
    code, _, err = wl("capture", deployed, "h2", "eth0", "-w", str(pcap), "--duration", "200ms")
    assert code == 0, err
    assert pcap.read_bytes()[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4")
    code, _, err = wl("exec", deployed, "h1", "--", "ip", "addr")
    assert code == 1 and "shell" in err


def test_graph_needs_no_server(wl, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out_file = tmp_path / "lan.svg"
    code, _, _ = wl("graph", topology.example_path("lan"), "-o", str(out_file))
    assert code == 0 and out_file.stat().st_size > 1000


def test_no_server_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WIRELAB_SERVER", "127.0.0.1:1")
    assert main(["inspect"]) == 4
    assert "no wirelab server answers" in capsys.readouterr().err
