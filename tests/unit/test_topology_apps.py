"""User apps in a topology: ``apps:`` takes built-ins and ``module:factory`` (with a port,
with ``args``), ``forward`` with its target, and ``code:`` folders; every mistake is a
diagnostic at its line with a message that says what to write instead."""

from __future__ import annotations

import textwrap

import pytest

from topology import Diagnostic, TopologyError, load_text
from topology.export import lab_to_dict
from topology.model import AppKind, AppSpec


def load(text: str):  # type: ignore[no-untyped-def]
    return load_text(textwrap.dedent(text), file="t.yaml")


def diagnostics(text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(TopologyError) as info:
        load(text)
    found: tuple[Diagnostic, ...] = info.value.diagnostics
    return [(d.line, d.path, d.message) for d in found]


def test_module_factory_apps_in_every_form() -> None:
    lab = load(
        """\
        name: t
        code: ./code
        nodes:
          h1:
            kind: host
            apps:
              - kvstore:serve:7000
              - kvstore.client:load
              - {app: "pkg.mod:make", port: 9, args: {size: 100, fast: true, name: x}}
              - {app: forward, port: 8080, args: {to: "h2:80"}}
              - echo
          h2: {kind: host, apps: {"kvstore:serve": [7000, 7001]}, code: other}
          lx: {kind: linux}
        links:
          - endpoints: [h1, h2]
          - endpoints: [h2, lx]
        """
    )
    h1 = lab.node("h1")
    assert [str(a) for a in h1.apps] == [
        "kvstore:serve:7000", "kvstore.client:load", "pkg.mod:make:9", "forward:8080", "echo:7",
    ]  # fmt: skip
    user = h1.apps[2]
    assert user == AppSpec("pkg.mod:make", 9, (("fast", "true"), ("name", "x"), ("size", "100")))
    assert not user.builtin and user.name == "pkg.mod:make" and user.transport == "tcp"
    assert h1.apps[3] == AppSpec(AppKind.FORWARD, 8080, (("to", "h2:80"),))
    assert h1.apps[1].port == 0  # a user app without a port
    assert [str(a) for a in lab.node("h2").apps] == ["kvstore:serve:7000", "kvstore:serve:7001"]
    # code: the lab's for h1, its own for h2, none for a linux node (no agent runs apps)
    assert [n.code for n in lab.nodes] == ["./code", "other", None]
    exported = lab_to_dict(lab)["nodes"]
    assert exported[0]["apps"][2]["args"] == {"fast": "true", "name": "x", "size": "100"}
    assert exported[0]["code"] == "./code" and "code" not in exported[2]


def test_a_lab_without_user_code_exports_as_before() -> None:
    lab = load("name: t\nnodes:\n  h1: {kind: host, apps: [echo]}\n")
    node = lab_to_dict(lab)["nodes"][0]
    assert "code" not in node and node["apps"] == [{"app": "echo", "port": 7, "transport": "tcp"}]


def test_unknown_and_malformed_app_names() -> None:
    found = diagnostics(
        """\
        name: t
        nodes:
          h1: {kind: host, apps: [ftp, "kvstore:", "a b:c"]}
        """
    )
    assert found == [
        (3, "nodes.h1.apps[0]",
         "unknown app 'ftp' (or your own app as module:factory, like kvstore.server:make)"),
        (3, "nodes.h1.apps[1]",
         "bad app 'kvstore:': expected app[:port] or module:factory[:port]"),
        (3, "nodes.h1.apps[2]",
         "unknown app 'a b:c' (or your own app as module:factory, like kvstore.server:make)"),
    ]  # fmt: skip


def test_forward_args_ports_and_linux_nodes_are_checked_at_their_lines() -> None:
    found = diagnostics(
        """\
        name: t
        nodes:
          h1:
            kind: host
            apps:
              - {app: forward, args: {to: "h2:80"}}
              - {app: forward, port: 80, args: {to: nowhere}}
              - {app: forward, port: 81, args: {to: "hh2:80"}}
              - {app: echo, args: {x: 1}}
              - kvstore:serve:7000
              - kvstore:serve:7000
              - {app: forward, port: 82, args: {to: "10.0.0.9:80"}}
          h2: {kind: host}
          lx: {kind: linux, apps: ["mod:make"], code: ./code}
        links:
          - endpoints: [h1, h2]
          - endpoints: [h2, lx]
        """
    )
    assert found == [
        (6, "nodes.h1.apps[0]", "forward needs port: the loopback port it listens on"),
        (7, "nodes.h1.apps[1]", "forward needs args {to: HOST:PORT}, got {'to': 'nowhere'}"),
        (8, "nodes.h1.apps[2]",
         "forward to hh2:80: 'hh2' is neither a node of the lab nor an address (did you mean h2?)"),
        (9, "nodes.h1.apps[3]", "echo takes no args (forward and your own apps do)"),
        (11, "nodes.h1.apps[5]", "kvstore:serve:7000 is listed twice"),
        (14, "nodes.lx.apps[0]",
         "mod:make runs in our nodes' agent; lx is a linux node (it has none)"),
        (14, "nodes.lx.code",
         "code applies to host and router nodes (their agent runs your apps); lx is a linux node"),
    ]  # fmt: skip


def test_yaml_booleans_as_argument_names_say_to_quote_them() -> None:
    found = diagnostics(
        'name: t\nnodes:\n  h1: {kind: host, apps: [{app: "m:f", args: {on: 1}}]}\n'
    )
    assert len(found) == 1 and "quote it" in found[0][2]
