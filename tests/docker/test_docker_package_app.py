"""A user app from a package installed into the node image (the README's second way, beside
a code folder): a wheel built on the host, an image derived from the node image with it
pip-installed (offline), a lab whose docker backend uses that image, the app named by
module:factory in the topology and reached over our stack by h1's HTTP client."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.client import Lab, LabClient
from orchestrator.image.build import BuildResult
from orchestrator.lab.backends.docker import DockerBackend
from orchestrator.service.server import start_server

pytestmark = pytest.mark.docker

PACKAGE = Path(__file__).parent / "pkgapp"
TOPOLOGY = """\
name: {name}
nodes:
  h1: {{kind: host}}
  r1: {{kind: router}}
  h2: {{kind: host, apps: ["wlhello.app:serve:8000"]}}
links:
  - endpoints: [h1, r1]
  - endpoints: [r1, h2]
"""


@pytest.fixture(scope="module")
def derived_image(
    node_image: BuildResult, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    work = tmp_path_factory.mktemp("pkgimage")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(work / "dist"), str(PACKAGE)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    (work / "Dockerfile").write_text(
        f"FROM {node_image.tag}\nCOPY dist/ /tmp/dist/\n"
        "RUN pip install --no-index --no-deps --disable-pip-version-check /tmp/dist/*.whl\n"
    )
    tag = f"wirelab-node:appstest-{uuid.uuid4().hex[:8]}"
    done = subprocess.run(["docker", "build", "--network", "none", "-q", "-t", tag, str(work)],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    try:
        yield tag
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def lab(derived_image: str) -> Iterator[Lab]:
    server = start_server("127.0.0.1:0", backends={"docker": DockerBackend(image=derived_image)})
    client = LabClient(server.address)
    name = f"appstest-pkg-{uuid.uuid4().hex[:6]}"
    lab = client.deploy(yaml=TOPOLOGY.format(name=name), backend="docker")
    try:
        yield lab
    finally:
        lab.destroy()
        client.close()
        server.stop(grace=0.5)


def test_an_app_from_an_installed_package_serves_over_our_stack(lab: Lab) -> None:
    report = lab.http_get("h1", "http://h2:8000/")
    assert report.ok, report.error
    assert report.status == 200 and report.bytes == len(b"hello from h2\n")
    served = {a.app_id: a for a in lab.apps("h2")["h2"]}["wlhello.app:serve:8000"]
    assert served.running and served.stats["served"] == 1
    assert lab.exec("h2", ["ls", "/wirelab/code"]).exit_code != 0  # no code folder mounted
