"""A lab's journal through the LabService, ``wirelab journal`` / ``wirelab replay``, and the
pytest plugin's journal of a failed test: sim labs in this process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import orchestrator.client.pytest_plugin as plugin
import topology
from orchestrator.cli import EXIT_FAILED, EXIT_USAGE
from orchestrator.client import LabClient, NotFound
from orchestrator.client.replay import read_journal, replay
from orchestrator.service.server import LabServer
from tests.clilab import Runner, serving

pytest_plugins = ["pytester"]


@pytest.fixture(scope="module")
def server() -> Iterator[LabServer]:
    with serving() as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server: LabServer) -> Iterator[LabClient]:
    with LabClient(server.address) as c:
        yield c


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


def test_the_journal_records_each_operation_with_its_lab_time_and_result(
    client: LabClient,
) -> None:
    lab = client.deploy("quickstart", backend="sim", name="jr1", seed=5)
    try:
        fault = lab.add_fault(endpoint="r1:eth1", loss="10%", seed=2)
        lab.ping("h1", "h2", count=2, interval="10ms")
        with pytest.raises(NotFound):
            lab.routes("h9")
        lab.node_action("h2", "restart")
        lab.clear_fault(fault.fault_id)
        lab.journal()  # reading it is not an operation
        header, *entries = (json.loads(line) for line in lab.journal())
    finally:
        lab.destroy()
    assert header["lab"] == "jr1" and header["seed"] == 5 and header["backend"] == "sim"
    assert header["topology"] == Path(topology.example_path("quickstart")).read_text()
    assert [e["op"] for e in entries] == ["AddFault", "Ping", "GetRoutes", "NodeAction",
                                          "ClearFault"]  # fmt: skip
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    times = [e["t"] for e in entries]
    assert times == sorted(times) and 0 <= times[0] < times[-1] < 60
    add, ping, routes, action, _ = entries
    assert add["request"]["fault"]["effects"]["loss"] == pytest.approx(0.1)
    assert add["result"]["fault_id"] == fault.fault_id
    assert ping["request"]["ping"] == {"destination": "h2", "count": 2, "interval_ms": 10}
    assert len(ping["result"]["results"]) == 2
    assert routes["error"]["code"] == "not_found" and "h9" in routes["error"]["message"]
    assert action["request"]["action"] == "restart"


def test_a_replay_on_sim_gives_the_same_state_and_marks_what_differs(
    client: LabClient,
) -> None:
    lab = client.deploy("quickstart", backend="sim", name="jr2", seed=3)
    try:
        lab.set_interface("r1", "eth1", mtu=1200)
        lab.routes("r1")
        with pytest.raises(NotFound):
            lab.counters("h9")
        lines = lab.journal()
    finally:
        lab.destroy()
    header, entries = read_journal(lines)
    run = replay(client, header, entries)
    assert run.lab == "jr2"  # the name is free again: the same subnets
    assert [s.op for s in run.steps] == ["SetInterface", "GetRoutes", "GetCounters"]
    assert run.steps[2].replayed["error"]["code"] == "not_found"
    assert [s.same for s in run.steps] == [True, True, True], run.differing
    # a journal whose recorded route differs from what the lab does
    routes = entries[1]["result"]["routes"]
    routes[0]["prefix"] = "192.0.2.0/24"
    run = replay(client, header, entries)
    (step,) = run.differing
    assert step.op == "GetRoutes" and step.differences[0].path == "result.routes[0].prefix"
    assert step.differences[0].original == "192.0.2.0/24"
    assert "jr2" not in {s.name for s in client.labs()}  # destroyed after the replay
    # under another name the planner gives the lab other subnets: addresses differ
    run = replay(client, header, entries[:2], name="jr2-other")
    assert any(d.path.endswith("prefix") for d in run.steps[1].differences)


def test_the_cli_writes_a_journal_and_replays_it(wl: Runner, tmp_path: Path) -> None:
    r = wl.lab("deploy", "quickstart", "--name", "jr3", "--backend", "sim", "--seed", "9")
    assert r.code == 0, r.err
    r = wl("show", "jr3", "h1", "routes", "--json")
    assert r.code == 0, r.err
    out = tmp_path / "run.jsonl"
    r = wl("journal", "jr3", "-o", str(out))
    assert r.code == 0 and "written to" in r.err
    r = wl("journal", "jr3")
    assert r.code == 0 and json.loads(r.out.splitlines()[0])["seed"] == 9
    assert wl("destroy", "jr3").code == 0
    r = wl("replay", str(out), "--json")
    assert r.code == 0, r.err
    data = r.json()
    assert data["lab"] == data["replayed_lab"] == "jr3" and data["differ"] == 0
    assert "GetRoutes" in [s["op"] for s in data["steps"]]
    assert all(s["same"] for s in data["steps"])
    # tampered: exit 1, the difference on stdout
    lines = out.read_text().splitlines()
    entry = json.loads(lines[-1])
    entry["result"]["routes"][0]["prefix"] = "192.0.2.0/24"
    out.write_text("\n".join([*lines[:-1], json.dumps(entry)]) + "\n")
    r = wl("replay", str(out))
    assert r.code == EXIT_FAILED, r.err
    assert "DIFFERS result.routes[0].prefix: 192.0.2.0/24 ->" in r.out
    assert "differ" in r.err and "replaying" in r.err
    r = wl("replay", str(tmp_path / "missing.jsonl"))
    assert r.code == EXIT_USAGE and "journal: cannot read" in r.err


USER_TESTS = """
import pytest

pytestmark = pytest.mark.wirelab_topology({path!r}, backend="sim", seed=4)


def test_passes(wirelab_lab):
    assert wirelab_lab.routes("h1")


def test_fails_after_some_operations(wirelab_lab):
    wirelab_lab.add_fault(endpoint="r1:eth1", loss="50%", seed=1)
    report = wirelab_lab.ping("h1", "h2", count=4, interval="10ms")
    assert report.received == 99
"""


def _run_user_tests(
    pytester: pytest.Pytester, request: pytest.FixtureRequest, *extra: str
) -> pytest.RunResult:
    pytester.makepyfile(test_user=USER_TESTS.format(path=topology.example_path("quickstart")))
    args = ["-p", "no:cacheprovider", *extra]
    if not request.config.pluginmanager.is_registered(plugin):
        args += ["-p", "orchestrator.client.pytest_plugin"]
    return pytester.runpytest_inprocess(*args)


def test_a_failed_test_leaves_its_labs_journal_to_replay(
    pytester: pytest.Pytester, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    folder = tmp_path / "journals"
    result = _run_user_tests(pytester, request, f"--wirelab-journals={folder}")
    result.assert_outcomes(passed=1, failed=1)
    (written,) = folder.iterdir()  # the failed test's only
    assert written.name.startswith("test_user.py_test_fails_after_some_operations.")
    result.stdout.fnmatch_lines(["*wirelab journals*", f"*{written} (replay: wirelab replay*"])
    header, entries = read_journal(written)
    assert header["seed"] == 4
    ops = [e["op"] for e in entries]  # the plugin's own ListFaults after each test among them
    assert [op for op in ops if op != "ListFaults"][:3] == ["GetRoutes", "AddFault", "Ping"]


def test_the_journals_go_beside_the_junit_report(
    pytester: pytest.Pytester, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    report = tmp_path / "ci" / "junit.xml"
    result = _run_user_tests(pytester, request, f"--junitxml={report}")
    result.assert_outcomes(passed=1, failed=1)
    assert [p.suffix for p in (tmp_path / "ci").iterdir() if p.name != "junit.xml"] == [".jsonl"]
