"""The control plane's side of user apps and the forward relay: arguments from people's
values (client, CLI), the agent's checks of AppConfig, code folders resolved where the
server runs, the deploy plan's read-only mount, ``wirelab app start``/``forward``
arguments and the ``docker exec`` line of ``wirelab exec -it``."""

from __future__ import annotations

from pathlib import Path

import pytest
from wirelab.v1 import node_pb2

import topology
from nodes.agent.convert import app as app_config
from nodes.agent.errors import ArgumentError
from orchestrator.cli.nodes import split_app, split_forward
from orchestrator.cli.shell import DEFAULT_SHELL, docker_exec, server_is_local
from orchestrator.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from orchestrator.domain.lab import LabInfo, NodeInfo
from orchestrator.domain.requests import app_args
from orchestrator.lab.backends.base import Mount
from orchestrator.lab.backends.fake import FakeBackend
from orchestrator.lab.code import code_folders
from orchestrator.lab.plan import make_plan

KV = "name: kv\ncode: ./code\nnodes:\n  h1: {kind: host}\n  lx: {kind: linux}\n" \
     "links:\n  - endpoints: [h1, lx]\n"  # fmt: skip


def test_app_args_from_mappings_and_name_value_items() -> None:
    assert app_args(None) == {}
    assert app_args({"size": 100, "fast": True, "ratio": 0.5, "name": "x"}) == {
        "size": "100", "fast": "true", "ratio": "0.5", "name": "x",
    }  # fmt: skip
    assert app_args(["to=h2:80", "empty=", "eq=a=b"]) == {"to": "h2:80", "empty": "", "eq": "a=b"}
    for bad, message in (
        (["novalue"], "expected NAME=VALUE, got 'novalue'"),
        (["=v"], "an argument needs a name"),
        (["a=1", "a=2"], "a is given twice"),
        ({"a": [1]}, "a: expected a string, number or boolean, got [1]"),
        ("a=1", "expected NAME=VALUE items or a mapping"),
        ({f"k{i}": i for i in range(65)}, "at most 64 arguments, got 65"),
    ):
        with pytest.raises(InvalidArgument, match=message.replace("[", r"\[").replace("]", r"\]")):
            app_args(bad)


def config(kind: str, port: int = 0, **kwargs: object) -> node_pb2.AppConfig:
    return node_pb2.AppConfig(kind=kind, port=port, **kwargs)  # type: ignore[arg-type]


def test_the_agent_takes_user_apps_and_forward_with_their_arguments() -> None:
    user = app_config("apps[0]", config("kvstore:serve", 7000, args={"b": "2", "a": "1"}))
    assert (user.kind, user.port, user.args) == ("kvstore:serve", 7000, (("a", "1"), ("b", "2")))
    assert user.app_id == "kvstore:serve:7000"
    assert app_config("apps[0]", config("kvstore:load")).app_id == "kvstore:load"
    relay = app_config("apps[0]", config("forward", 8080, args={"to": "10.0.1.2:80"}))
    assert relay.app_id == "forward:8080" and relay.args == (("to", "10.0.1.2:80"),)


@pytest.mark.parametrize(
    ("msg", "field", "message"),
    [
        (config("ftp"), "apps[0].kind", "or your own app as module:factory"),
        (config("echo", 7, args={"x": "1"}), "apps[0].args", "apply to forward and your own apps"),
        (config("forward", args={"to": "h2:80"}), "apps[0].port", "the loopback port"),
        (config("forward", 80, args={"to": "h2"}), "apps[0].args[to]", "to=HOST:PORT"),
        (config("forward", 80, args={"to": "h2:80", "x": "1"}), "apps[0].args[to]", "HOST:PORT"),
        (config("m:f", seed=3), "apps[0].seed", "applies to a built-in, not your own app"),
        (config("m:f", 70000), "apps[0].port", ""),
    ],
)  # fmt: skip
def test_the_agent_refuses_what_cannot_run(
    msg: node_pb2.AppConfig, field: str, message: str
) -> None:
    with pytest.raises(ArgumentError) as info:
        app_config("apps[0]", msg)
    assert info.value.field == field and message in str(info.value)


def test_code_folders_are_resolved_next_to_the_topology(tmp_path: Path) -> None:
    lab = topology.load_text(KV)
    (tmp_path / "code").mkdir()
    assert code_folders(lab, str(tmp_path)) == {"h1": str(tmp_path / "code")}  # lx: no agent
    with pytest.raises(InvalidArgument, match="relative and no base_dir"):
        code_folders(lab)
    with pytest.raises(InvalidArgument, match=r"'./code' is not a folder on the server's machine"):
        code_folders(lab, str(tmp_path / "elsewhere"))
    absolute = topology.load_text(KV.replace("./code", str(tmp_path / "code")))
    assert code_folders(absolute) == {"h1": str(tmp_path / "code")}


def test_the_plan_mounts_code_read_only_where_agents_load_it() -> None:
    lab = topology.load_text(KV)
    plan = make_plan(lab, FakeBackend(), "img", {"h1": "/src/code"})
    h1 = next(s for s in plan.nodes if s.node == "h1")
    assert Mount("/src/code", "/wirelab/code", read_only=True) in h1.mounts
    assert all(not m.read_only for m in h1.mounts if m.target != "/wirelab/code")
    assert make_plan(lab, FakeBackend(), "img").nodes[0].mounts == tuple(
        m for m in h1.mounts if not m.read_only
    )


def test_cli_app_and_forward_arguments() -> None:
    assert split_app("echo", 0) == ("echo", 0)
    assert split_app("echo:7007", 0) == ("echo", 7007)
    assert split_app("kvstore.server:make", 0) == ("kvstore.server:make", 0)
    assert split_app("kvstore.server:make:7000", 0) == ("kvstore.server:make", 7000)
    assert split_app("kvstore:serve", 7000) == ("kvstore:serve", 7000)
    with pytest.raises(InvalidArgument, match="disagree"):
        split_app("echo:7", 8)
    with pytest.raises(InvalidArgument, match="unknown app 'ftp'"):
        split_app("ftp", 0)
    assert split_forward("h2:80") == (0, "h2:80")
    assert split_forward("8080:h2:80") == (8080, "h2:80")
    assert split_forward("h2:eth1:80") == (0, "h2:eth1:80")
    assert split_forward("8080:h2:eth1:80") == (8080, "h2:eth1:80")
    for bad in ("h2", "h2:http", "70000:h2:80"):
        with pytest.raises(InvalidArgument):
            split_forward(bad)


def lab_info(backend: str = "docker", engine: str = "") -> LabInfo:
    node = NodeInfo("h1", "host", "running", container="wl.kv.h1" if backend == "docker" else "")
    return LabInfo("kv", backend, "running", nodes=(node,), engine=engine)


def test_exec_it_is_docker_exec_on_the_nodes_container(tmp_path: Path) -> None:
    docker = tmp_path / "docker"
    docker.write_text("#!/bin/sh\n")
    docker.chmod(0o755)
    env = {"PATH": str(tmp_path)}

    def line(info: LabInfo, argv: list[str], tty: bool = True) -> list[str]:
        return docker_exec(info, "h1", argv, interactive=True, tty=tty, server="127.0.0.1:50050",
                           stdin_is_tty=True, env=env)  # fmt: skip

    assert line(lab_info(), []) == ["docker", "exec", "-it", "wl.kv.h1", *DEFAULT_SHELL]
    assert line(lab_info(), ["ip", "addr"], tty=False) == ["docker", "exec", "-i", "wl.kv.h1",
                                                            "ip", "addr"]  # fmt: skip
    engine = lab_info(engine="tcp://10.0.0.5:2375")
    assert line(engine, ["sh"])[:3] == ["docker", "-H", "tcp://10.0.0.5:2375"]
    with pytest.raises(FailedPrecondition, match="sim backend: its nodes live in the server"):
        line(lab_info("sim"), [])
    with pytest.raises(NotFound):
        docker_exec(lab_info(), "h9", [], interactive=True, tty=True, server="127.0.0.1:1",
                    stdin_is_tty=True, env=env)  # fmt: skip
    with pytest.raises(FailedPrecondition, match=r"ssh -t lab\.example docker exec -it wl\.kv"):
        docker_exec(lab_info(), "h1", [], interactive=True, tty=True,
                    server="lab.example:50050", stdin_is_tty=True, env=env)  # fmt: skip
    remote = docker_exec(lab_info(), "h1", [], interactive=True, tty=True,
                         server="lab.example:50050", stdin_is_tty=True,
                         env={**env, "DOCKER_HOST": "ssh://me@lab.example"})  # fmt: skip
    assert remote[:3] == ["docker", "exec", "-it"]  # DOCKER_HOST says where
    with pytest.raises(FailedPrecondition, match="no docker command here"):
        docker_exec(lab_info(), "h1", [], interactive=True, tty=True, server="127.0.0.1:1",
                    stdin_is_tty=True, env={"PATH": str(tmp_path / "none")})  # fmt: skip


def test_which_servers_are_on_this_machine() -> None:
    for local in ("127.0.0.1:50050", "localhost:1", "[::1]:50050", "unix:/run/w.sock"):
        assert server_is_local(local), local
    for remote in ("10.0.0.5:50050", "lab.example:50050"):
        assert not server_is_local(remote), remote


def test_only_a_caller_on_the_servers_machine_may_mount_its_folders(tmp_path: Path) -> None:
    from orchestrator.service.registry import LabRegistry
    from orchestrator.service.servicer import local_peer

    for peer in ("ipv4:127.0.0.1:5000", "ipv6:[::1]:5000", "unix:/run/w.sock",
                 "ipv6:[::ffff:127.0.0.1]:5000"):  # fmt: skip
        assert local_peer(peer), peer
    for peer in ("ipv4:10.0.0.5:5000", "ipv6:[2001:db8::1]:5000", "ipv4:128.0.0.1:1"):
        assert not local_peer(peer), peer
    registry = LabRegistry(home=tmp_path)
    (tmp_path / "code").mkdir()
    with pytest.raises(FailedPrecondition, match="only a client on that machine"):
        registry.deploy(KV, base_dir=str(tmp_path), host_paths=False)
    binds = "name: b\nnodes:\n  lx: {kind: linux, binds: ['/etc:/host-etc']}\n"
    with pytest.raises(FailedPrecondition, match="only a client on that machine"):
        registry.deploy(binds, host_paths=False)
