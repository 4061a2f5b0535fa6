"""The end-to-end scenarios of tests/e2e_scenarios.py on Docker: the quickstart lab as
containers on bridge networks, deployed by the pytest plugin (``wirelab_lab``) through a
LabService in this process whose docker backend uses the session's node image.
tests/sim/test_scenarios_quickstart.py runs the very same functions on the sim backend.
The session janitor (conftest.py) asserts that no container or network is left."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator.lab.backends.docker import DockerBackend
from orchestrator.client import LabClient
from orchestrator.image.build import BuildResult
from orchestrator.service import Backends, backend_deploy, start_server
from tests import e2e_scenarios as S

LAB = f"scen{uuid.uuid4().hex[:6]}"
pytestmark = [
    pytest.mark.docker,
    pytest.mark.wirelab_topology(S.QUICKSTART, backend="docker", name=LAB),
]
globals().update({f.__name__: f for f in S.SCENARIOS})


class ImageBackends(Backends):
    """The service's backends, with Docker pinned to the session's node image (the tree
    may change while the tests run; the image must not be rebuilt for it)."""

    def __init__(self, image: str) -> None:
        super().__init__()
        self.docker = DockerBackend(image=image)

    def get(self, name: str) -> Any:
        return self.docker if name == "docker" else super().get(name)


@pytest.fixture(scope="module")
def wirelab_client(node_image: BuildResult) -> Iterator[LabClient]:
    """Overrides the plugin's: a server whose docker labs use the session's image."""
    server = start_server("127.0.0.1:0", deploy_fn=backend_deploy(ImageBackends(node_image.tag)))
    try:
        with LabClient(server.address) as client:
            yield client
    finally:
        server.stop(grace=0.5)
