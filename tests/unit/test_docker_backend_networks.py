"""DockerBackend.remove_network against a fake Docker API: Docker 20.10's stale endpoint
count (moby #42119) is retried, then named; a real attachment is named at once."""

from __future__ import annotations

from typing import Any

import docker.errors
import pytest

from orchestrator.lab.backends import docker as backend_docker
from orchestrator.lab.backends.base import BackendError
from orchestrator.lab.backends.docker import DockerBackend


class FakeApi:
    def __init__(self, refusals: int, containers: dict[str, Any] | None = None) -> None:
        self.refusals = refusals
        self.containers = containers or {}
        self.calls = 0

    def remove_network(self, name: str) -> None:
        self.calls += 1
        if self.calls <= self.refusals:
            raise docker.errors.APIError(
                f"error while removing network: network {name} id x has active endpoints"
            )

    def inspect_network(self, name: str) -> dict[str, Any]:
        return {"Name": name, "Containers": self.containers}


class FakeClient:
    def __init__(self, api: FakeApi) -> None:
        self.api = api


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend_docker, "STALE_ENDPOINT_RETRIES", (0.0, 0.0, 0.0, 0.0))


def test_a_stale_endpoint_count_that_clears_is_retried() -> None:
    api = FakeApi(refusals=2)
    DockerBackend(client=FakeClient(api)).remove_network("lab", "wl.lab.x")
    assert api.calls == 3


def test_a_stale_endpoint_count_that_stays_is_named() -> None:
    api = FakeApi(refusals=100)
    with pytest.raises(BackendError, match=r"moby #42119.*restarting dockerd"):
        DockerBackend(client=FakeClient(api)).remove_network("lab", "wl.lab.x")
    assert api.calls == 1 + len(backend_docker.STALE_ENDPOINT_RETRIES)


def test_a_container_still_attached_is_named_at_once() -> None:
    api = FakeApi(refusals=100, containers={"abc": {"Name": "somebody-else"}})
    with pytest.raises(BackendError, match="still attached: somebody-else"):
        DockerBackend(client=FakeClient(api)).remove_network("lab", "wl.lab.x")
    assert api.calls == 1
