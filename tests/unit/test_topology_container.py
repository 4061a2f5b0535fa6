"""Any image as a linux node: ``image``, ``cmd``, ``env``, ``binds`` and ``exec`` in the
topology, in the lab model and its hash, in the deploy plan (the node's image, command,
environment and mounts) and in the Docker backend's container."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import topology
from orchestrator.domain.errors import InvalidArgument
from orchestrator.lab.backends.base import Mount
from orchestrator.lab.backends.fake import FakeBackend
from orchestrator.lab.code import user_mounts
from orchestrator.lab.labels import topology_hash
from orchestrator.lab.plan import IDLE_COMMAND, make_plan
from topology.model import Bind, Container

BASE = "name: t\nnodes:\n  h1: {kind: host}\n  web:\n    kind: linux\n"
LINKS = "links:\n  - endpoints: [h1, web]\n"


def lab_with(web: str) -> topology.Lab:
    return topology.load_text(BASE + web + LINKS)


def test_the_user_image_and_its_settings() -> None:
    lab = lab_with(
        "    image: myweb:1.0\n"
        "    cmd: python3 -m http.server 8000\n"
        "    env: {PORT: 8000, DEBUG: true, NAME: web}\n"
        "    binds: [./site:/srv:ro, /var/log/web:/logs]\n"
        "    exec: [echo ready > /tmp/ready]\n"
    )
    assert lab.node("web").container == Container(
        image="myweb:1.0",
        cmd=("/bin/sh", "-c", "python3 -m http.server 8000"),
        env=(("DEBUG", "true"), ("NAME", "web"), ("PORT", "8000")),
        binds=(Bind("./site", "/srv", True), Bind("/var/log/web", "/logs", False)),
        exec=("echo ready > /tmp/ready",),
    )
    assert lab.node("h1").container.empty
    listed = lab_with("    image: myweb:1.0\n    cmd: [python3, -m, http.server]\n")
    assert listed.node("web").container.cmd == ("python3", "-m", "http.server")
    # the hash covers them (a changed image is another topology), and is unchanged without
    assert topology_hash(lab) != topology_hash(listed)
    plain = topology.load_text(BASE + LINKS)
    assert "container" not in topology.lab_to_dict(plain)["nodes"][1]


def test_mistakes_are_reported_at_their_lines() -> None:
    with pytest.raises(topology.TopologyError) as info:
        topology.load_text(
            "name: t\nnodes:\n  h1: {kind: host, image: x}\n"
            "  web: {kind: linux, image: 'a b', binds: [site, './s:rel'], cmd: [], env: [A]}\n"
        )
    found = [(d.line, d.path, d.message) for d in info.value.diagnostics]
    assert (3, "nodes.h1.image", "image applies to linux nodes only (a container of your "
            "image); h1 is a host node: our stack runs in the node image") in found  # fmt: skip
    paths = {path for line, path, _ in found if line == 4}
    assert paths == {"nodes.web.image", "nodes.web.binds", "nodes.web.cmd", "nodes.web.env"}


def test_the_plan_runs_the_users_image_with_its_command_env_and_binds(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    lab = lab_with(
        "    image: myweb:1.0\n    env: {A: '1'}\n    binds: [./site:/srv:ro, ./site:/data]\n"
    )
    mounts = user_mounts(lab, str(tmp_path))
    site = str(tmp_path / "site")
    assert mounts == {"web": (Mount(site, "/srv", True, True), Mount(site, "/data", False, True))}
    web = next(s for s in make_plan(lab, FakeBackend(), "node:1", mounts).nodes if s.node == "web")
    assert (web.image, web.command, web.env) == ("myweb:1.0", (), (("A", "1"),))
    assert web.mounts == mounts["web"] and all(m.users for m in web.mounts)
    h1 = next(s for s in make_plan(lab, FakeBackend(), "node:1", mounts).nodes if s.node == "h1")
    assert h1.image == "node:1" and h1.env == ()
    idle = make_plan(lab_with("    env: {A: '1'}\n"), FakeBackend(), "node:1").nodes[1]
    assert idle.image == "node:1" and idle.command == IDLE_COMMAND  # the node image idles
    with pytest.raises(InvalidArgument, match=r"bind './gone:/x': .* does not exist"):
        user_mounts(lab_with("    binds: [./gone:/x]\n"), str(tmp_path))


def test_the_docker_container_gets_the_images_command_and_the_env(tmp_path: Path) -> None:
    from orchestrator.lab.backends.docker import DockerBackend
    from tests.unit.test_docker_backend_nodes import Client, RecordingApi

    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("hi")
    lab = lab_with("    image: myweb:1.0\n    env: {A: '1'}\n    binds: [./site:/srv]\n")
    api = RecordingApi()
    backend = DockerBackend(client=Client(api), run_dir=tmp_path / "run")
    plan = make_plan(lab, backend, "node:1", user_mounts(lab, str(tmp_path)))
    backend.create_node(next(s for s in plan.nodes if s.node == "web"))
    created: dict[str, Any] = api.containers["wl.t.web"]
    assert created["Image"] == "myweb:1.0" and created["command"] is None
    assert created["environment"] == {"A": "1"}
    assert created["host_config"]["Binds"] == [f"{tmp_path}/site:/srv:rw"]
    assert (tmp_path / "site" / "index.html").read_text() == "hi"  # never made fresh
