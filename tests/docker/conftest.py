"""Docker test fixtures: an engine, the node image, and containers that never outlive the run.

Every container a test starts carries the label ``wirelab.test=1`` and this run's
``wirelab.test.run=<id>`` (so parallel runs on one machine never touch each other's); the
session janitor removes this run's leftovers and fails the run if there were any.

Labs of the test modules: :func:`lab` (topologies/e2e.yaml, one per module that asks for
it; a module may define its own), :func:`renamed_lab` (a topology file under a name of this
run's own), :func:`deployed_lab` (deployed for a ``with`` block, then destroyed: nothing may
be left, per :func:`leftovers`); :func:`checksum_errors` checks a captured frame with scapy.

The janitor: :func:`lab_janitor` (autouse, session) records every container and network that a
:class:`~orchestrator.lab.backends.docker.DockerBackend` in this test process creates (its id,
so objects of other runs, even of labs with the same name, never count); at the end of the
session any of them that is still there (they all carry ``wirelab.lab``) is a leak: the
janitor destroys those labs by label and fails the run naming the objects. So is a node
agent's socket directory on the host (``<run_dir>/<lab>/<node>``, mounted into its
container) still there after its lab's objects are gone: the janitor removes it and fails
the run naming it. Objects made by other processes (a ``wirelab serve`` started by a CLI
test) are not tracked.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker as docker_sdk
import pytest
from scapy.layers.inet import IP, UDP, in4_chksum
from scapy.packet import Packet
from scapy.utils import checksum

import topology
from orchestrator.image.build import BuildResult, build, compute_inputs, project_root
from orchestrator.image.engine import Progress, docker_answers, ensure_docker, is_root
from orchestrator.lab import labels as L
from orchestrator.lab.backends import agentdirs
from orchestrator.lab.backends.base import NetworkSpec, NodeSpec
from orchestrator.lab.backends.docker import DockerBackend
from orchestrator.lab.deploy import deploy
from orchestrator.lab.remove import destroy
from orchestrator.lab.session import LabSession

TEST_LABEL = "wirelab.test=1"
RUN_LABEL = f"wirelab.test.run={uuid.uuid4().hex[:12]}"
E2E_TOPOLOGY = Path(__file__).parent / "topologies" / "e2e.yaml"
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


# ---- the lab janitor ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Created:
    kind: str  # container | network
    name: str
    id: str
    lab: str


def _real(backend: DockerBackend) -> bool:
    """Whether the backend talks to a Docker engine (unit tests give it a recording API)."""
    return isinstance(backend.api, docker_sdk.APIClient)


class LabJanitor:
    """Records what DockerBackends of this process create; finds and removes leftovers."""

    def __init__(self) -> None:
        self.created: list[Created] = []
        self.dirs: list[Created] = []  # host directories mounted into nodes
        self._lock = threading.Lock()

    def install(self, mp: pytest.MonkeyPatch) -> None:
        create_node, create_network = DockerBackend.create_node, DockerBackend.create_network

        def node(backend: DockerBackend, spec: NodeSpec) -> None:
            if not _real(backend):  # a unit test's recording API: nothing on this host
                return create_node(backend, spec)
            with self._lock:
                self.dirs += [  # the backend's own (a user's read-only code folder is not)
                    Created("directory", m.source, "", spec.lab)
                    for m in spec.mounts
                    if not m.read_only
                ]
            try:
                create_node(backend, spec)
            finally:  # also a half-made one (created, then a connect failed)
                self._record(backend, "container", spec.name, spec.lab)

        def network(backend: DockerBackend, spec: NetworkSpec) -> None:
            if not _real(backend):
                return create_network(backend, spec)
            try:
                create_network(backend, spec)
            finally:
                self._record(backend, "network", spec.name, spec.lab)

        mp.setattr(DockerBackend, "create_node", node)
        mp.setattr(DockerBackend, "create_network", network)

    @staticmethod
    def _inspect(backend: DockerBackend, kind: str) -> Callable[[str], dict[str, Any]]:
        api = backend.api
        return api.inspect_container if kind == "container" else api.inspect_network  # type: ignore[no-any-return]

    def _record(self, backend: DockerBackend, kind: str, name: str, lab: str) -> None:
        try:
            found = self._inspect(backend, kind)(name)
        except Exception:  # not created at all
            return
        with self._lock:
            self.created.append(Created(kind, name, str(found["Id"]), lab))

    def leftover_dirs(self) -> list[Created]:
        """Node directories still on the host whose lab has no container left."""
        labs = {c.lab for c in self.created if c.kind == "container"}
        alive = {lab for lab in labs if _containers_of(lab)}
        return [d for d in self.dirs if d.lab not in alive and Path(d.name).exists()]

    def leftovers(self, backend: DockerBackend) -> list[Created]:
        left = []
        for c in self.created:
            try:
                found = self._inspect(backend, c.kind)(c.id)
            except Exception:  # gone (docker.errors.NotFound)
                continue
            labels = (found.get("Config") or {}).get("Labels") or found.get("Labels") or {}
            if L.LAB in labels:
                left.append(c)
        return left


@pytest.fixture(scope="session", autouse=True)
def lab_janitor() -> Iterator[LabJanitor]:
    janitor = LabJanitor()
    mp = pytest.MonkeyPatch()
    janitor.install(mp)
    try:
        yield janitor
    finally:
        mp.undo()
    if not janitor.created:
        return
    backend = DockerBackend()
    left = janitor.leftovers(backend)
    for lab in sorted({c.lab for c in left}):
        try:
            destroy(lab, backend)
        except Exception as exc:
            print(f"janitor: destroying lab {lab}: {exc}")
    named = [f"{c.kind} {c.name} (lab {c.lab})" for c in left]
    assert not left, f"the Docker tests left lab objects behind: {', '.join(named)}"
    dirs = janitor.leftover_dirs()
    for d in dirs:
        shutil.rmtree(d.name, ignore_errors=True)
        with contextlib.suppress(OSError):
            Path(d.name).parent.rmdir()
    named = [f"{d.name} (lab {d.lab})" for d in dirs]
    assert not dirs, f"the Docker tests left agent directories behind: {', '.join(named)}"


# ---- labs of the test modules --------------------------------------------------------------


def _renamed(path: str | Path, name: str) -> topology.Lab:
    """The topology file's lab under ``name`` (labs of other runs stay untouched)."""
    text = Path(path).read_text()
    original = topology.load_text(text).name
    return topology.load_text(text.replace(f"name: {original}", f"name: {name}", 1))


def _containers_of(lab: str) -> list[str]:
    client = docker_sdk.from_env()
    try:
        filters = {"label": f"{L.LAB}={lab}"}
        return [c.name for c in client.containers.list(all=True, filters=filters)]
    finally:
        client.close()


def _leftovers(lab: str) -> list[str]:
    """The containers and networks (by name) still labelled as the lab's, and its agents'
    directory on the host (the default run directory's ``<lab>``) if it is still there."""
    client = docker_sdk.from_env()
    try:
        filters = {"label": f"{L.LAB}={lab}"}
        names = [c.name for c in client.containers.list(all=True, filters=filters)]
        names += [n.name for n in client.networks.list(filters=filters)]
    finally:
        client.close()
    directory = agentdirs.lab_dir(agentdirs.default_root(), lab)
    return names + ([f"directory {directory}"] if directory.exists() else [])


def _checksum_errors(packet: Packet) -> list[str]:
    """What scapy finds wrong with an Ethernet frame's IPv4 checksums (empty: all good).
    The sums are taken over the frame's own bytes: a correct checksum makes them zero."""
    ip = packet.getlayer(IP)
    if ip is None or type(ip) is not IP:
        return []
    raw = bytes(packet)
    start, hlen = 14, ip.ihl * 4
    errors = []
    if checksum(raw[start : start + hlen]) != 0:
        errors.append(f"IP header checksum {ip.chksum:#06x} of {packet.summary()}")
    if ip.frag or ip.flags.MF:
        return errors  # a fragment: the transport checksum spans the whole datagram
    l4 = raw[start + hlen : start + ip.len]
    if ip.proto == socket.IPPROTO_ICMP and checksum(l4) != 0:
        errors.append(f"ICMP checksum of {packet.summary()}")
    elif ip.proto == socket.IPPROTO_TCP and in4_chksum(ip.proto, ip, l4) != 0:
        errors.append(f"TCP checksum of {packet.summary()}")
    elif (
        ip.proto == socket.IPPROTO_UDP
        and packet[UDP].chksum != 0
        and in4_chksum(ip.proto, ip, l4) != 0
    ):
        errors.append(f"UDP checksum of {packet.summary()}")
    return errors


@pytest.fixture(scope="session")
def renamed_lab() -> Callable[[str | Path, str], topology.Lab]:
    """``renamed_lab(path, name)``: the topology file's lab under a name of this run's own."""
    return _renamed


@pytest.fixture(scope="session")
def leftovers() -> Callable[[str], list[str]]:
    """``leftovers(lab)``: the names of the containers and networks still labelled as the lab's."""
    return _leftovers


@pytest.fixture(scope="session")
def checksum_errors() -> Callable[[Packet], list[str]]:
    """``checksum_errors(frame)``: what scapy finds wrong with a decoded Ethernet frame's
    IP/ICMP/TCP/UDP checksums (empty: all good)."""
    return _checksum_errors


@pytest.fixture(scope="session")
def deployed_lab(
    node_image: BuildResult,
) -> Callable[[topology.Lab], AbstractContextManager[LabSession]]:
    """``with deployed_lab(planned) as session``: the lab deployed on the session's node
    image, as a :class:`~orchestrator.lab.session.LabSession` (the server-side running lab:
    ``agent(node)``, ``exec``, ``address``, ``faults`` ...); afterwards the session is
    closed, the lab destroyed by its labels, and nothing of it may be left."""

    @contextmanager
    def deployed(planned: topology.Lab) -> Iterator[LabSession]:
        backend = DockerBackend(image=node_image.tag)
        try:
            session = LabSession(deploy(planned, backend))
            try:
                yield session
            finally:
                session.close(destroy=False)
        finally:
            destroy(planned.name, backend)
        assert _leftovers(planned.name) == []

    return deployed


@pytest.fixture(scope="module")
def lab(
    request: pytest.FixtureRequest,
    deployed_lab: Callable[[topology.Lab], AbstractContextManager[LabSession]],
) -> Iterator[LabSession]:
    """The end-to-end lab (topologies/e2e.yaml) of a test module, named
    ``t<random>-<the module's name after test_docker_>``; destroyed after the module."""
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_docker_")
    with deployed_lab(_renamed(E2E_TOPOLOGY, f"t{uuid.uuid4().hex[:6]}-{module}")) as session:
        yield session
