"""The lab commands of ``wirelab``: main(argv) against a LabService started here (sim labs
in this process); --json outputs parsed and checked for jq users; exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import topology
from orchestrator.cli import EXIT_AUTH, EXIT_NOT_FOUND, EXIT_UNAVAILABLE, EXIT_USAGE, main
from orchestrator.client import Lab
from orchestrator.service.server import LabServer
from tests.clilab import Runner, deploy, serving

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server() -> Iterator[LabServer]:
    with serving() as srv:
        yield srv


@pytest.fixture(scope="module")
def lab(server: LabServer) -> Lab:
    return deploy(server, "clilab")


@pytest.fixture
def wl(
    server: LabServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Runner:
    monkeypatch.setenv("WIRELAB_SERVER", server.address)
    monkeypatch.setenv("WIRELAB_HOME", str(tmp_path))
    monkeypatch.delenv("WIRELAB_TOKEN", raising=False)
    return Runner(server, capsys)


def test_deploy_inspect_destroy(wl: Runner) -> None:
    r = wl.lab("deploy", "quickstart", "--name", "cli1", "--backend", "sim", "--json")
    assert r.code == 0, r.err
    info = r.json()
    assert info["name"] == "cli1" and info["backend"] == "sim" and info["state"] == "running"
    r1 = next(n for n in info["nodes"] if n["name"] == "r1")
    eth1 = next(i for i in r1["interfaces"] if i["name"] == "eth1")
    assert eth1["mtu"] == eth1["planned_mtu"] == 1500 and eth1["up"] is True
    assert eth1["prefix_len"] == 24
    assert "backend: sim (asked for)" in r.err and "ready" in r.err  # progress on stderr
    r = wl("inspect", "--json")
    assert r.code == 0 and "cli1" in {lab["name"] for lab in r.json()}
    assert {"name", "backend", "nodes", "running", "faults", "age_s"} <= set(r.json()[0])
    r = wl("inspect", "cli1")
    assert r.code == 0 and "NODE" in r.out and "r1" in r.out and "LINK STATE" in r.out
    r = wl("destroy", "cli1", "--json")
    assert r.code == 0 and r.json() == ["cli1"]
    r = wl("inspect", "cli1")
    assert r.code == EXIT_NOT_FOUND and r.err.startswith("wirelab: ") and "'cli1'" in r.err
    assert "Traceback" not in r.err and len(r.err.splitlines()) == 1


def test_deploy_without_backend_lets_the_server_choose(
    wl: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a new server in this process that finds no Docker engine
    monkeypatch.setattr("orchestrator.image.engine.docker_answers", lambda timeout=5.0: False)
    with serving() as fresh:
        monkeypatch.setenv("WIRELAB_SERVER", fresh.address)
        r = wl("deploy", "quickstart", "--name", "cli0")
        assert r.code == 0, r.err
        first = r.err.splitlines()[0]
        assert first.startswith("backend: sim (no Docker engine answers")
        assert "lab cli0 (sim, running)" in r.out
        r = wl("deploy", "quickstart", "--name", "cli0")  # again: the running lab
        assert r.code == 0 and "already deployed" in r.err
        assert wl("destroy", "cli0").code == 0
        assert wl("destroy").code == EXIT_USAGE  # LAB or --all


def test_ping_json_and_exit_codes(wl: Runner, lab: Lab) -> None:
    r = wl("ping", lab.name, "h1", "h2", "-c", "2", "-i", "10ms", "--json")
    assert r.code == 0
    report = r.json()
    assert report["received"] == 2 and report["transmitted"] == 2 and report["loss"] == 0
    assert report["results"][0]["ttl"] == 63 and report["results"][0]["replied"] is True
    r = wl("ping", lab.name, "h1", "h2", "-c", "1")
    assert r.code == 0 and "1 received" in r.out
    r = wl("ping", lab.name, "h9", "h2")
    assert r.code == EXIT_NOT_FOUND and "node: " in r.err and "'h9'" in r.err
    r = wl("ping", lab.name, "h1", "h2", "-i", "soon")
    assert r.code == EXIT_USAGE and r.err.startswith("wirelab: --interval: ")
    r = wl("ping", "nolab", "h1", "h2")
    assert r.code == EXIT_NOT_FOUND and "nolab" in r.err


def test_traceroute(wl: Runner, lab: Lab) -> None:
    r = wl("traceroute", lab.name, "h1", "h2", "-q", "1", "-w", "300ms", "--json")
    assert r.code == 0, r.err
    trace = r.json()
    assert trace["reached"] is True
    assert [h["responder"] for h in trace["hops"]] == [lab.address("r1"), lab.address("h2")]
    r = wl("traceroute", lab.name, "h1", "h2", "-q", "1", "-I")
    assert r.code == 0 and r.out.splitlines()[0] == "traceroute to h2"


def test_transfer_with_plot(wl: Runner, lab: Lab, tmp_path: Path) -> None:
    plot = tmp_path / "cwnd.svg"
    r = wl("transfer", lab.name, "h1", "h2", "--bytes", "200k", "--plot", str(plot), "--json")
    assert r.code == 0, r.err
    data = r.json()
    assert data["sha256_match"] is True and data["bytes"] == data["size_bytes"] == 200_000
    assert data["samples"] and data["final"]["mss"] > 0
    # the saturation guard: every node of ours with its loop's load during the transfer
    loads = data["loads"]
    assert {x["node"] for x in loads} == {"h1", "r1", "h2"}
    assert all(0.0 <= x.get("busy_fraction", 0.0) <= 1.0 and x["wall_s"] > 0 for x in loads)
    saturated = {x["node"] for x in loads if x.get("saturated")}
    assert set(data.get("cpu_bound_nodes", [])) == saturated
    assert plot.read_text().startswith("<?xml")
    r = wl("transfer", lab.name, "h1", "h2", "--size", "100k")
    assert r.code == 0 and "sha256 match" in r.out and "97.7 KiB" in r.out


def test_a_transfer_that_times_out_says_what_arrived(wl: Runner, lab: Lab) -> None:
    r = wl("transfer", lab.name, "h1", "h2", "--bytes", "20MB", "--timeout", "50ms")
    assert r.code == 1
    line = r.out.splitlines()[0]
    assert "incomplete: " in line and " of 19.1 MiB after 50ms" in line
    assert "MISMATCH" not in r.out and "0bit/s" not in r.out and "0 bit/s" not in r.out
    r = wl("transfer", lab.name, "h1", "h2", "--bytes", "20MB", "--timeout", "50ms", "--json")
    data = r.json()
    assert r.code == 1 and data["error"] and data["timeout_s"] == 0.05
    assert data["bytes_received"] < data["size_bytes"] == 20_000_000


def test_http(wl: Runner, lab: Lab) -> None:
    r = wl("http", lab.name, "h1", "http://h2/", "--json")
    assert r.code == 0 and r.json()["status"] == 200
    r = wl("http", lab.name, "h1", "ftp://h2/")
    assert r.code == EXIT_USAGE and "URL: " in r.err


def test_show_app_capture_exec(wl: Runner, lab: Lab, tmp_path: Path) -> None:
    for what in ("interfaces", "routes", "arp", "tcp", "counters"):
        r = wl("show", lab.name, "r1", what, "--json")
        assert r.code == 0, (what, r.err)
        r.json()
        assert wl("show", lab.name, "r1", what).code == 0
    assert wl("show", lab.name, "r1", "everything").code == EXIT_USAGE
    r = wl("app", "start", lab.name, "h1", "echo", "--port", "7007", "--json")
    assert r.code == 0 and r.json()["app_id"] == "echo:7007" and r.json()["port"] == 7007
    r = wl("app", "list", lab.name, "h1", "--json")
    assert "echo:7007" in {a["app_id"] for a in r.json()["h1"]}
    r = wl("app", "list", lab.name)
    assert r.code == 0 and "echo:7007" in r.out and "sink:5001" in r.out
    assert wl("app", "stop", lab.name, "h1", "echo:7007").code == 0
    assert wl("app", "stop", lab.name, "h1", "echo:7007").code == EXIT_NOT_FOUND
    pcap = tmp_path / "h2.pcap"
    r = wl("capture", lab.name, "h2", "eth0", "-w", str(pcap), "--duration", "200ms")
    assert r.code == 0, r.err
    assert pcap.read_bytes()[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4")
    r = wl("exec", lab.name, "h1", "--", "ip", "-4", "addr")
    assert r.code == 1 and "shell" in r.err  # sim nodes have none


def test_forward_and_user_apps_from_the_command_line(wl: Runner, lab: Lab) -> None:
    import socket

    with socket.socket() as probe:  # a free port on this machine's loopback (sim)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    r = wl("forward", lab.name, "h1", f"{port}:h2:80", "--json")
    assert r.code == 0, r.err
    assert r.json()["app_id"] == f"forward:{port}" and r.json()["state"] == "running"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"GET /bytes/5 HTTP/1.0\r\n\r\n")  # h2's http-server, over our TCP
        reply = b""
        while chunk := conn.recv(4096):
            reply += chunk
    assert reply.startswith(b"HTTP/1.") and b" 200 " in reply.split(b"\r\n")[0]
    r = wl("app", "list", lab.name, "h1")
    assert r.code == 0 and f"forward:{port}" in r.out and "connections=1" in r.out
    assert wl("app", "stop", lab.name, "h1", f"forward:{port}").code == 0
    r = wl("forward", lab.name, "h1", "h2")
    assert r.code == EXIT_USAGE and "[LOCAL_PORT:]HOST:PORT" in r.err
    r = wl("app", "start", lab.name, "h1", "nosuch.mod:make", "-a", "size=1")
    assert r.code == 1 and "cannot import nosuch.mod" in r.err
    r = wl("app", "start", lab.name, "h1", "nosuch.mod:make", "-a", "size")
    assert r.code == EXIT_USAGE and "--arg" in r.err and "NAME=VALUE" in r.err
    r = wl("app", "start", lab.name, "h1", "ftp")
    assert r.code == EXIT_USAGE and "module:factory" in r.err
    r = wl("exec", "-it", lab.name, "h1")
    assert r.code == 1 and "sim backend" in r.err  # no containers, no shell


def test_events_stream_as_json_lines_until_ctrl_c(wl: Runner, lab: Lab, server: LabServer) -> None:
    argv = ["events", lab.name, "--node", "r1", "--kind", "link", "--json"]
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator.cli", *argv, "--server",
                             server.address], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert first["kind"] == "subscribed" and first["lab"] == lab.name  # nothing missed now
        lab.set_interface("r1", "eth1", mtu=1400)
        seen: list[dict[str, Any]] = []
        while not any(e.get("link", {}).get("mtu") == 1400 for e in seen):
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            seen.append(json.loads(line))
        change = next(e for e in seen if e.get("link", {}).get("mtu") == 1400)
        assert change["kind"] == "link" and change["node"] == "r1"
        assert change["link"]["iface"] == "eth1" and isinstance(change["unix_time_s"], float)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130 and "Traceback" not in err
    finally:
        proc.kill()
        lab.set_interface("r1", "eth1", mtu=1500)
    r = wl("events", lab.name, "--for", "200ms")
    assert r.code == 0 and "subscribed" in r.out
    r = wl("events", lab.name, "--count", "1", "--for", "300ms", "--json")
    assert r.code == 0
    assert wl("events", lab.name, "--kind", "fault").code == EXIT_USAGE


def test_graph_and_validate_need_no_server(wl: Runner, tmp_path: Path) -> None:
    out_file = tmp_path / "lan.svg"
    r = wl("graph", topology.example_path("lan"), "-o", str(out_file))
    assert r.code == 0 and out_file.stat().st_size > 1000
    assert wl("graph", "diamond", "-o", str(tmp_path / "d.png")).code == 0


def test_no_server_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("WIRELAB_SERVER", "127.0.0.1:1")
    monkeypatch.setenv("WIRELAB_HOME", str(tmp_path))
    assert main(["inspect"]) == EXIT_UNAVAILABLE
    assert capsys.readouterr().err == "wirelab: no wirelab server answers at 127.0.0.1:1\n"
    monkeypatch.delenv("WIRELAB_SERVER")
    assert main(["ping", "lab", "h1", "h2", "--server", "127.0.0.1:1"]) == EXIT_UNAVAILABLE


def test_a_server_with_a_token_wants_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("WIRELAB_TOKEN", raising=False)
    with serving(token="s3cret") as srv:
        assert main(["inspect", "--server", srv.address]) == EXIT_AUTH
        assert "wirelab: " in capsys.readouterr().err
        assert main(["inspect", "--server", srv.address, "--token", "s3cret"]) == 0
        assert "no labs deployed" in capsys.readouterr().out


def _serve_file(home: Path, timeout: float = 30.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data: dict[str, object] = json.loads((home / "serve.json").read_text())
            return data
        except (OSError, ValueError):
            time.sleep(0.1)
    raise AssertionError(f"no serve.json in {home}")


def test_serve_records_its_address_for_the_other_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIRELAB_")}
    env["WIRELAB_HOME"] = str(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator.cli", "serve", "--address",
                             "127.0.0.1:0"], cwd=ROOT, env=env, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    try:
        saved = _serve_file(tmp_path)
        assert saved["pid"] == proc.pid and saved["auth"] is False
        monkeypatch.delenv("WIRELAB_SERVER", raising=False)
        monkeypatch.setenv("WIRELAB_HOME", str(tmp_path))
        assert main(["deploy", "quickstart", "--name", "served", "--backend", "sim"]) == 0
        assert main(["inspect", "--json"]) == 0
        assert "served" in capsys.readouterr().out
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0 and f"listening on {saved['address']}" in err
        assert not (tmp_path / "serve.json").exists()  # gone with the server
    finally:
        proc.kill()


def test_a_lab_command_starts_a_server_when_none_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestrator.client import LabClient
    from orchestrator.client.connect import DEFAULT_ADDRESS

    with LabClient(DEFAULT_ADDRESS) as probe:
        if probe.healthy(0.5):
            pytest.skip(f"a wirelab server already answers at {DEFAULT_ADDRESS}")
    monkeypatch.delenv("WIRELAB_SERVER", raising=False)
    monkeypatch.setenv("WIRELAB_HOME", str(tmp_path))
    try:
        assert main(["inspect"]) == 0  # wirelab serve, started in the background
        assert "no labs deployed" in capsys.readouterr().out
    finally:
        saved = json.loads((tmp_path / "serve.json").read_text())
        os.kill(int(str(saved["pid"])), signal.SIGTERM)
