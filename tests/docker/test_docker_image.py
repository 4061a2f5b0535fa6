"""The node image: Python 3.11, the project importable from its venv, the linux-kind tools,
offline-built and cached by its inputs."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from orchestrator.image.build import TOOLS, VENV, BuildResult, build, compute_inputs
from orchestrator.image.engine import Progress

pytestmark = pytest.mark.docker


class Containers(Protocol):  # the node_containers fixture (tests/docker/conftest.py)
    def start(self) -> str: ...
    def remove(self, cid: str) -> None: ...
    def exists(self, cid: str) -> bool: ...
    def exec(self, cid: str, *command: str) -> subprocess.CompletedProcess[str]: ...


@dataclass
class Node:
    containers: Containers
    cid: str

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        return self.containers.exec(self.cid, *command)


@pytest.fixture(scope="module")
def node(node_containers: Containers) -> Iterator[Node]:
    """One idle node container to run checks in."""
    cid = node_containers.start()
    yield Node(node_containers, cid)
    node_containers.remove(cid)


def inspect(fmt: str, tag: str) -> str:
    done = subprocess.run(
        ["docker", "image", "inspect", "--format", fmt, tag],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_python_is_3_11(node: Node) -> None:
    for python in ("python3", "/usr/bin/python3", f"{VENV}/bin/python"):
        done = node.run(python, "-c", "import sys; print(sys.version_info[:2])")
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "(3, 11)", python


def test_the_node_code_imports_from_the_venv_and_the_control_plane_stays_out(node: Node) -> None:
    done = node.run(f"{VENV}/bin/python", "-c", "import nodes.wire.ipv4, nodes.agent.launch")
    assert done.returncode == 0, done.stderr
    for control in ("pydantic", "typer", "rich", "matplotlib", "yaml", "docker"):
        found = node.run(f"{VENV}/bin/python", "-c", f"import {control}")
        assert found.returncode != 0, f"{control} is in the node image"


def test_the_venv_is_first_on_path(node: Node) -> None:
    done = node.run("sh", "-c", "command -v python3")
    assert done.stdout.strip() == f"{VENV}/bin/python3"


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_the_linux_kind_tools_exist(node: Node, tool: str) -> None:
    done = node.run("sh", "-c", f"command -v {tool}")
    assert done.returncode == 0, f"{tool} (package {TOOLS[tool]}) is missing"


def test_net_raw_is_enough_to_ping(node: Node) -> None:
    done = node.run("ping", "-c", "1", "-W", "2", "127.0.0.1")
    assert done.returncode == 0, done.stdout + done.stderr


def test_net_admin_is_enough_to_set_an_mtu(node: Node) -> None:
    done = node.run("ip", "link", "set", "lo", "mtu", "1400")
    assert done.returncode == 0, done.stderr
    assert "mtu 1400" in node.run("ip", "link", "show", "lo").stdout


def test_the_image_is_labelled_with_its_inputs(node_image: BuildResult) -> None:
    labels = inspect("{{json .Config.Labels}}", node_image.tag)
    digest = node_image.tag.split(":")[1]
    assert f'"wirelab.inputs":"{digest}' in labels
    assert inspect("{{.Id}}", node_image.latest) == inspect("{{.Id}}", node_image.tag)


def test_a_second_build_is_a_cache_hit(node_image: BuildResult, image_sources: Path) -> None:
    began = time.monotonic()
    again = build(image_sources, progress=Progress(quiet=True))
    elapsed = time.monotonic() - began
    assert (again.tag, again.built, again.base_built) == (node_image.tag, False, False)
    assert elapsed < 10, f"a cached build took {elapsed:.1f} s"
    assert compute_inputs(image_sources).tag == node_image.tag


def test_a_node_stops_at_once_and_leaves_nothing(node_containers: Containers) -> None:
    cid = node_containers.start()
    try:
        began = time.monotonic()
        subprocess.run(["docker", "stop", "-t", "10", cid], capture_output=True, check=True)
        assert time.monotonic() - began < 5, "PID 1 ignored SIGTERM"
    finally:
        node_containers.remove(cid)
    assert not node_containers.exists(cid)
