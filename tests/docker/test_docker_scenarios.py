"""The end-to-end scenarios of tests/e2e_scenarios.py on Docker: the quickstart lab as
containers on bridge networks, deployed by the pytest plugin (``wirelab_lab``) through a
LabService in this process whose docker backend uses the session's node image.
tests/sim/test_scenarios_quickstart.py runs the very same functions on the sim backend.
The session janitor (conftest.py) asserts that no container or network is left."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from orchestrator.client import LabClient
from orchestrator.image.build import BuildResult
from orchestrator.lab.backends.docker import DockerBackend
from orchestrator.service.server import start_server
from tests import e2e_scenarios as S

LAB = f"scen{uuid.uuid4().hex[:6]}"
pytestmark = [
    pytest.mark.docker,
    pytest.mark.wirelab_topology(S.QUICKSTART, backend="docker", name=LAB),
]
globals().update({f.__name__: f for f in S.SCENARIOS})


@pytest.fixture(scope="module")
def wirelab_client(node_image: BuildResult) -> Iterator[LabClient]:
    """Overrides the plugin's: a server whose docker backend is pinned to the session's
    node image (the tree may change while the tests run; the image must not be rebuilt
    for it)."""
    server = start_server("127.0.0.1:0", backends={"docker": DockerBackend(image=node_image.tag)})
    try:
        with LabClient(server.address) as client:
            yield client
    finally:
        server.stop(grace=0.5)
