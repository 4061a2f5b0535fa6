"""The docker backend's agent directories on the host (orchestrator/lab/backends/agentdirs.py):
where they go, what a new node finds in its own, and that removal takes exactly them."""

from __future__ import annotations

import os
import socket
import stat
import tempfile
from pathlib import Path

import pytest

from orchestrator.lab.backends import agentdirs
from orchestrator.lab.backends.base import BackendError, Mount


def test_the_root_is_the_env_then_run_as_root_then_the_runtime_dir_then_tmp(
    tmp_path: Path,
) -> None:
    assert agentdirs.default_root({"WIRELAB_RUN_DIR": "/srv/wl"}, 0) == Path("/srv/wl")
    assert agentdirs.default_root({}, 0) == Path("/run/wirelab")
    runtime = {"XDG_RUNTIME_DIR": str(tmp_path)}
    assert agentdirs.default_root(runtime, 1000) == tmp_path / "wirelab"
    gone = {"XDG_RUNTIME_DIR": str(tmp_path / "gone")}
    tmp = Path(tempfile.gettempdir())
    assert agentdirs.default_root(gone, 1000) == tmp / "wirelab-1000"
    assert agentdirs.default_root({}, 1000) == tmp / "wirelab-1000"


def test_a_nodes_socket_as_the_agent_and_the_host_see_it(tmp_path: Path) -> None:
    sock = agentdirs.agent_socket(tmp_path, "lab", "h1")
    assert sock.listen == "unix:///run/wirelab/agent.sock"
    assert sock.address == f"unix://{tmp_path}/lab/h1/agent.sock"
    assert sock.mount == Mount(f"{tmp_path}/lab/h1", "/run/wirelab")
    assert agentdirs.socket_path(sock.address) == tmp_path / "lab" / "h1" / "agent.sock"
    assert agentdirs.socket_path("172.30.0.2:50051") is None


def test_the_longest_names_fit_under_run_wirelab() -> None:
    name = "n" * 32  # topology names are at most 32 characters
    sock = agentdirs.agent_socket(Path("/run/wirelab"), name, name)
    assert len(sock.address.removeprefix("unix://")) <= agentdirs.MAX_SOCKET_PATH
    with pytest.raises(BackendError, match="longer than 107 bytes"):
        agentdirs.agent_socket(Path("/" + "r" * 40), name, name)


def test_a_new_node_gets_an_empty_directory_inside_a_private_lab_directory(
    tmp_path: Path,
) -> None:
    root = tmp_path / "run"
    node = root / "lab" / "h1"
    made = agentdirs.fresh_node_dir(node, uid=os.geteuid())
    assert made == node and node.is_dir() and list(node.iterdir()) == []
    assert stat.S_IMODE((root / "lab").stat().st_mode) == 0o700  # who may reach the agents
    # what an earlier node of that name left (a dead agent's socket, its take-over state)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(node / "agent.sock"))
    stale.close()
    (node / "takeover.json").write_text("{}")
    agentdirs.fresh_node_dir(node, uid=os.geteuid())
    assert list(node.iterdir()) == []


def test_for_another_user_the_node_directory_is_open_to_the_containers_root(
    tmp_path: Path,
) -> None:
    assert agentdirs.node_dir_mode(0) == 0o755  # root's: the container's root is its owner
    assert agentdirs.node_dir_mode(1000) == 0o777  # inside the user's 0700 lab directory
    node = agentdirs.fresh_node_dir(tmp_path / "lab" / "h1", uid=os.geteuid())
    assert stat.S_IMODE(node.stat().st_mode) == agentdirs.node_dir_mode(os.geteuid())


def test_a_root_of_another_user_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "theirs"
    root.mkdir()
    owner = root.stat().st_uid
    with pytest.raises(BackendError, match="belongs to another user"):
        agentdirs.fresh_node_dir(root / "lab" / "h1", uid=owner + 1)


def test_removing_a_node_directory_follows_its_label_and_nothing_else(tmp_path: Path) -> None:
    for node in ("h1", "h2"):
        agentdirs.fresh_node_dir(tmp_path / "lab" / node, uid=os.geteuid())
        (tmp_path / "lab" / node / "takeover.json").write_text("{}")
    h1 = agentdirs.agent_socket(tmp_path, "lab", "h1").address
    agentdirs.remove_node_dir(h1, "lab", "h1")
    assert not (tmp_path / "lab" / "h1").exists() and (tmp_path / "lab" / "h2").exists()
    h2 = agentdirs.agent_socket(tmp_path, "lab", "h2").address
    # a label that does not name this node's directory removes nothing
    for address, lab, node in ((h2, "lab", "h1"), (h2, "other", "h2"),
                               ("172.30.0.2:50051", "lab", "h2"),
                               (f"unix://{tmp_path}/lab/h2/other.sock", "lab", "h2")):  # fmt: skip
        agentdirs.remove_node_dir(address, lab, node)
        assert (tmp_path / "lab" / "h2" / "takeover.json").exists()
    agentdirs.remove_node_dir(h2, "lab", "h2")  # the last node: the lab's directory goes too
    assert not (tmp_path / "lab").exists() and tmp_path.exists()
    agentdirs.remove_node_dir(h2, "lab", "h2")  # nothing there: not an error


def test_removing_a_labs_files_takes_its_directory_only(tmp_path: Path) -> None:
    agentdirs.fresh_node_dir(tmp_path / "a" / "h1", uid=os.geteuid())
    agentdirs.fresh_node_dir(tmp_path / "b" / "h1", uid=os.geteuid())
    agentdirs.remove_lab_dir(tmp_path, "a")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]
    agentdirs.remove_lab_dir(tmp_path, "a")  # nothing there: not an error
