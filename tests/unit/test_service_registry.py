"""The lab registry of a server, on the fake backend: the default backend, saved docker
and swarm topologies (a new server attaches to them, on the backend that holds them), labs
it cannot open left out of the list but still destroyed by label, and topology errors as
one bounded message."""

from __future__ import annotations

from pathlib import Path

import pytest

import topology
from orchestrator.domain.errors import MAX_MESSAGE, InvalidArgument, NotFound
from orchestrator.domain.lab import DeployProgress
from orchestrator.lab import backends
from orchestrator.lab.backends import Backends
from orchestrator.lab.backends.fake import FakeBackend
from orchestrator.lab.deploy import deploy
from orchestrator.service.registry import LabRegistry

QUICKSTART = Path(topology.example_path("quickstart")).read_text()


@pytest.fixture
def fake() -> FakeBackend:
    return FakeBackend()


def registry(fake: FakeBackend, home: Path) -> LabRegistry:
    return LabRegistry(Backends({"docker": fake}), home=home)


def test_the_default_backend_is_docker_when_an_engine_answers_and_says_so(
    fake: FakeBackend, tmp_path: Path
) -> None:
    reg = registry(fake, tmp_path)
    events: list[DeployProgress] = []
    session = reg.deploy(QUICKSTART, progress=events.append)
    try:
        assert session.backend_name == "fake" and session.backend is fake
        assert events[0].step == "backend"
        assert events[0].message == "docker (a Docker engine answers)"
        assert (tmp_path / "labs" / "quickstart.yaml").read_text() == QUICKSTART
        assert [s.name for s in reg.summaries()] == ["quickstart"]
    finally:
        reg.close()


def test_a_new_server_attaches_to_the_docker_labs_it_saved(
    fake: FakeBackend, tmp_path: Path
) -> None:
    first = registry(fake, tmp_path)
    first.deploy(QUICKSTART, backend="docker")
    first.close()  # a docker lab outlives its server
    second = registry(fake, tmp_path)
    try:
        assert [s.name for s in second.summaries()] == ["quickstart"]
        assert second.session("quickstart").lab.name == "quickstart"
    finally:
        second.close()


def test_a_new_server_attaches_to_a_swarm_lab_on_the_swarm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docker, swarm = FakeBackend(), FakeBackend()
    first = LabRegistry(Backends({"docker": docker, "swarm": swarm}), home=tmp_path)
    first.deploy(QUICKSTART, backend="swarm", name="qs2")  # under another name than the YAML's
    first.close()  # a swarm lab outlives its server, like a docker one
    assert (tmp_path / "labs" / "qs2.backend").read_text() == "swarm\n"
    assert docker.lab_names() == [] and swarm.lab_names() == ["qs2"]
    # a new server that has not touched the swarm yet: the saved lab says where it runs
    monkeypatch.setattr(backends, "make_backend", {"swarm": swarm}.__getitem__)
    second = LabRegistry(Backends({"docker": docker}), home=tmp_path)
    try:
        assert not second.backends.made("swarm")
        assert [s.name for s in second.summaries()] == ["qs2"]
        assert second.session("qs2").backend is swarm
        assert second.destroy("qs2") == ["qs2"]
        assert swarm.lab_names() == []
        assert not list((tmp_path / "labs").iterdir())  # the topology and its marker
    finally:
        second.close()


def test_labs_it_cannot_open_are_not_listed_but_destroyed_by_label(
    fake: FakeBackend, tmp_path: Path
) -> None:
    deploy(topology.load_text(QUICKSTART), fake)  # labels, and no saved topology
    reg = registry(fake, tmp_path)
    try:
        assert reg.summaries() == []
        with pytest.raises(NotFound, match="no lab 'quickstart'"):
            reg.session("quickstart")
        assert reg.destroy("quickstart") == ["quickstart"]
        assert fake.lab_names() == []
        with pytest.raises(NotFound, match="lab: no lab 'quickstart'"):
            reg.destroy("quickstart")
    finally:
        reg.close()


def test_a_bad_topology_is_one_invalid_argument_of_bounded_size(
    fake: FakeBackend, tmp_path: Path
) -> None:
    reg = registry(fake, tmp_path)
    lines = "\n".join(f"  n{i}: {{kind: bogus{i}}}" for i in range(200))
    with pytest.raises(InvalidArgument) as err:
        reg.deploy(f"name: big\nnodes:\n{lines}\n", backend="docker")
    assert err.value.field == "topology" and len(err.value.message) <= MAX_MESSAGE
    assert "unknown kind 'bogus0'" in err.value.message and "more" in err.value.message
    reg.close()
