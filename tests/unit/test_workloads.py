"""A linux node running the user's own container (``image``, ``cmd``, ``env``, ``binds``,
``exec``): the topology's notation and its errors, the plan, a deploy on the fake backend
(interfaces configured from the host, exec: commands in the container), and the Docker
backend's calls (Docker's default capabilities, env, binds, a missing image never pulled)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docker.errors
import docker.types
import pytest

from orchestrator.lab import labels as L
from orchestrator.lab.backends.base import BackendError
from orchestrator.lab.backends.docker import DockerBackend
from orchestrator.lab.backends.fake import FakeBackend
from orchestrator.lab.deploy import deploy
from orchestrator.lab.plan import IDLE_COMMAND, make_plan
from orchestrator.lab.progress import DeployError
from orchestrator.lab.remove import destroy
from topology import Lab, TopologyError, load_text
from topology.model import Bind

SERVICE = """\
name: usvc
nodes:
  h1: {kind: host}
  r1: {kind: router}
  web:
    kind: linux
    image: registry.lan/team/web:1.2
    env: {GREETING: hello, PORT: 8080, DEBUG: true}
    binds: [/srv/site:/site:ro, /tmp/out:/out]
    exec: ["touch /tmp/ready", "sh -c 'echo up > /tmp/state'"]
  lx:
    kind: linux
    cmd: python3 -m http.server 8081
links:
  - endpoints: [h1:eth0, r1:eth0]
  - endpoints: [r1:eth1, web:eth0]
  - endpoints: [r1:eth2, lx:eth0]
"""


@pytest.fixture
def service() -> Lab:
    return load_text(SERVICE, file="usvc.yaml")


def errors_of(text: str) -> list[str]:
    with pytest.raises(TopologyError) as caught:
        load_text(text, file="t.yaml")
    return [d.format() for d in caught.value.diagnostics]


def test_the_workload_is_read_from_the_file(service: Lab) -> None:
    web = service.node("web").workload
    assert web.image == "registry.lan/team/web:1.2" and web.own_image and web.cmd is None
    assert dict(web.env) == {"GREETING": "hello", "PORT": "8080", "DEBUG": "true"}
    assert web.binds == (Bind("/srv/site", "/site", read_only=True), Bind("/tmp/out", "/out"))
    assert web.exec == ("touch /tmp/ready", "sh -c 'echo up > /tmp/state'")
    lx = service.node("lx").workload
    assert not lx.own_image and lx.cmd == ("python3", "-m", "http.server", "8081")


def test_only_linux_nodes_take_a_workload_and_each_error_has_its_line() -> None:
    text = SERVICE.replace("h1: {kind: host}", "h1: {kind: host, image: web}")
    (error,) = errors_of(text)
    assert error.startswith("t.yaml:3:") and "nodes.h1.image: image applies to linux nodes only"
    bad = SERVICE.replace("registry.lan/team/web:1.2", "Web Server").replace(
        "/srv/site:/site:ro", "site:/site"
    )
    found = errors_of(bad.replace("GREETING", "1GREETING"))
    assert any("t.yaml:7:" in e and "'Web Server' is not a Docker image reference" in e
               for e in found)  # fmt: skip
    assert any("nodes.web.env.1GREETING" in e and "environment variable name" in e for e in found)
    assert any("nodes.web.binds[0]" in e and "must be absolute" in e for e in found)
    (split,) = errors_of(SERVICE.replace('"touch /tmp/ready"', '"echo \'open"'))
    assert "t.yaml:10:" in split and "nodes.web.exec[0]: cannot split" in split


def test_the_topology_hash_follows_the_image(service: Lab) -> None:
    other = load_text(SERVICE.replace("web:1.2", "web:1.3"), file="usvc.yaml")
    assert L.topology_hash(other) != L.topology_hash(service)


def test_the_plan_runs_the_users_image_with_its_own_command(service: Lab) -> None:
    plan = make_plan(service, FakeBackend(), "wirelab-node:abc")
    specs = {s.node: s for s in plan.nodes}
    web, lx = specs["web"], specs["lx"]
    assert web.image == "registry.lan/team/web:1.2" and web.command == () and web.own_image
    assert dict(web.env)["PORT"] == "8080" and len(web.binds) == 2
    assert web.labels[L.OWN_IMAGE] == "true" and web.mounts == ()
    assert lx.image == "wirelab-node:abc" and lx.command == ("python3", "-m", "http.server", "8081")
    assert not lx.own_image and L.OWN_IMAGE not in lx.labels
    plain = load_text(SERVICE.replace("    cmd: python3 -m http.server 8081\n", ""), file="u.yaml")
    assert {s.node: s for s in make_plan(plain, FakeBackend(), "x").nodes}["lx"].command == (
        IDLE_COMMAND
    )


def test_a_users_image_is_configured_from_the_host_then_its_exec_commands_run(
    service: Lab,
) -> None:
    backend = FakeBackend()
    deploy(service, backend)
    web = [(how, argv) for how, node, argv in backend.commands if node == "web"]
    kernel = [argv for how, argv in web if how == "netns_exec"]
    inside = [argv for how, argv in web if how == "exec"]
    assert kernel and all(a[0] in ("ip", "sh") for a in kernel)  # ip/ethtool from the host
    assert inside == [("touch", "/tmp/ready"), ("sh", "-c", "echo up > /tmp/state")]
    lx = {how for how, node, _ in backend.commands if node == "lx"}
    assert lx == {"exec"}  # the lab's image carries the tools
    destroy("usvc", backend)


def test_a_failing_exec_command_fails_the_deploy_naming_it_and_leaves_nothing(
    service: Lab,
) -> None:
    text = SERVICE.replace('"touch /tmp/ready"', '"false --now"')
    backend = FakeBackend()
    with pytest.raises(DeployError) as caught:
        deploy(load_text(text, file="usvc.yaml"), backend)
    message = str(caught.value)
    assert "web" in message and "'false --now' exited with status 1" in message
    assert backend.engine.nodes == {} and backend.engine.networks == {}


class RecordingApi:
    """The docker.APIClient calls of check, create_node and exec."""

    def __init__(self, images: set[str]) -> None:
        self.images = images
        self.created: dict[str, dict[str, Any]] = {}
        self.execs: list[list[str]] = []

    def ping(self) -> bool:
        return True

    def networks(self, **_: Any) -> list[Any]:
        return []

    def inspect_image(self, image: str) -> dict[str, Any]:
        if image not in self.images:
            raise docker.errors.ImageNotFound(f"no such image: {image}")
        return {"Id": image}

    def create_host_config(self, **kwargs: Any) -> dict[str, Any]:
        return dict(docker.types.HostConfig(version="1.41", **kwargs))

    def create_endpoint_config(self, **kwargs: Any) -> dict[str, Any]:
        return dict(docker.types.EndpointConfig("1.41", **kwargs))

    def create_networking_config(self, endpoints: dict[str, Any]) -> dict[str, Any]:
        return {"EndpointsConfig": endpoints}

    def create_container(self, image: str, **kwargs: Any) -> dict[str, str]:
        self.created[kwargs["name"]] = {"Image": image, **kwargs}
        return {"Id": kwargs["name"]}

    def connect_container_to_network(self, *_: Any, **__: Any) -> None:
        pass

    def inspect_container(self, name: str) -> dict[str, Any]:
        return {"Config": {"Labels": self.created[name]["labels"]}}

    def exec_create(self, name: str, argv: list[str], **_: Any) -> dict[str, str]:
        self.execs.append(argv)
        return {"Id": "e1"}

    def exec_start(self, _: str) -> bytes:
        return b"ok\n"

    def exec_inspect(self, _: str) -> dict[str, int]:
        return {"ExitCode": 0}


class Client:
    def __init__(self, api: RecordingApi) -> None:
        self.api = api


def test_docker_runs_the_users_image_with_dockers_defaults_env_and_binds(
    service: Lab, tmp_path: Path
) -> None:
    api = RecordingApi({"registry.lan/team/web:1.2"})
    backend = DockerBackend(client=Client(api), run_dir=tmp_path)
    backend.check(service)
    specs = {s.node: s for s in make_plan(service, backend, "wirelab-node:abc").nodes}
    backend.create_node(specs["web"])
    backend.create_node(specs["lx"])
    web, lx = api.created["wl.usvc.web"], api.created["wl.usvc.lx"]
    assert web["Image"] == "registry.lan/team/web:1.2" and web["command"] is None
    assert web["environment"] == {"GREETING": "hello", "PORT": "8080", "DEBUG": "true"}
    assert web["host_config"]["Binds"] == ["/srv/site:/site:ro", "/tmp/out:/out:rw"]
    assert "CapDrop" not in web["host_config"]  # Docker's default capabilities
    assert lx["host_config"]["CapDrop"] == ["ALL"] and lx["environment"] is None
    backend.exec("usvc", "web", ["cat", "/etc/hostname"], timeout=5)
    backend.exec("usvc", "lx", ["cat", "/etc/hostname"], timeout=5)
    assert api.execs == [["cat", "/etc/hostname"],  # a user's image need have no `timeout`
                         ["timeout", "-s", "KILL", "5", "cat", "/etc/hostname"]]  # fmt: skip


def test_a_missing_image_is_named_with_how_to_make_it_and_never_pulled(
    service: Lab, tmp_path: Path
) -> None:
    backend = DockerBackend(client=Client(RecordingApi(set())), run_dir=tmp_path)
    with pytest.raises(BackendError) as caught:
        backend.check(service)
    message = str(caught.value)
    assert "image registry.lan/team/web:1.2 (node web) is not in this Docker engine" in message
    assert "never pulls" in message and "docker build -t registry.lan/team/web:1.2" in message
    assert "docker load -i" in message
