"""Docker test fixtures: an engine, the node image, and containers that never outlive the run.

Every container a test starts carries the label ``wirelab.test=1`` and this run's
``wirelab.test.run=<id>`` (so parallel runs on one machine never touch each other's); the
session janitor removes this run's leftovers and fails the run if there were any.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.engine import Progress, docker_answers, ensure_docker, is_root
from orchestrator.image import BuildResult, build, compute_inputs, project_root

TEST_LABEL = "wirelab.test=1"
RUN_LABEL = f"wirelab.test.run={uuid.uuid4().hex[:12]}"
CAPS = ("--cap-add", "NET_RAW", "--cap-add", "NET_ADMIN")  # never --privileged


def docker(*args: str, timeout: float = 120.0, check: bool = True) -> str:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def labelled_containers() -> list[str]:
    """This run's test containers, running or not."""
    return docker(
        "ps", "-aq", "--filter", f"label={TEST_LABEL}", "--filter", f"label={RUN_LABEL}"
    ).split()


def remove_test_containers() -> list[str]:
    left = labelled_containers()
    if left:
        docker("rm", "-f", *left, check=False)
    return left


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[None]:
    if not is_root() and not docker_answers():
        pytest.skip("Docker tests need root (to install/start dockerd and debootstrap the image)")
    ensure_docker(Progress())
    yield
    left = remove_test_containers()
    assert not left, f"the Docker tests left containers behind: {left}"


@pytest.fixture(scope="session")
def image_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot of the image's source files: edits to the tree during the run do not count."""
    inputs = compute_inputs(project_root())
    snapshot = tmp_path_factory.mktemp("image-src")
    for rel in inputs.files:
        (snapshot / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(inputs.root / rel, snapshot / rel)
    return snapshot


@pytest.fixture(scope="session")
def node_image(docker_engine: None, image_sources: Path) -> BuildResult:
    return build(image_sources)


class NodeContainers:
    """Starts labelled node containers (no network, only NET_RAW/NET_ADMIN); removes them."""

    def __init__(self, image: str) -> None:
        self.image = image
        self.started: list[str] = []

    def start(self) -> str:
        labels = ("--label", TEST_LABEL, "--label", RUN_LABEL)
        cid = docker("run", "-d", *labels, *CAPS, "--network", "none", self.image)
        self.started.append(cid)
        return cid

    def remove(self, cid: str) -> None:
        docker("rm", "-f", cid, check=False)

    def exists(self, cid: str) -> bool:
        return cid in labelled_containers()

    def exec(self, cid: str, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker", "exec", cid, *command],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def close(self) -> None:
        for cid in self.started:
            self.remove(cid)


@pytest.fixture(scope="session")
def node_containers(node_image: BuildResult) -> Iterator[NodeContainers]:
    containers = NodeContainers(node_image.tag)
    yield containers
    containers.close()
