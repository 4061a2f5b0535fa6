"""`wirelab validate` and `wirelab schema`: output, --json shape and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE, main
from topology import example_path

BAD = (
    "name: t\nnodes:\n  h1:\n    kind: hots\n  r1: {kind: router}\n"
    "links:\n  - endpoints: [h1, r9]\n"
)


def write(tmp_path: Path, text: str, name: str = "lab.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_validate_prints_the_plan(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", example_path("quickstart")]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("lab quickstart (")
    for heading in ("NODE  KIND    IFACE", "NETWORK  TYPE", "DESTINATION", "APP"):
        assert heading in out
    assert "0.0.0.0/0" in out
    assert "valid" in out.splitlines()[-1]


def test_validate_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--json", example_path("diamond")]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is True
    lab = data["lab"]
    assert set(lab) >= {"name", "pool", "nodes", "links", "lans", "faults", "defaults"}
    node = lab["nodes"][0]
    assert set(node) >= {"name", "kind", "interfaces", "routes", "apps", "stack"}
    iface = node["interfaces"][0]
    assert set(iface) == {"name", "address", "prefixlen", "network", "mac", "mtu", "segment"}
    assert node["routes"][0] == {"dst": "0.0.0.0/0", "via": "10.60.1.3", "dev": "eth0",
                                 "origin": "auto"}  # fmt: skip
    assert lab["faults"][0]["effects"] == {"loss": 0.05}


def test_validate_invalid_prints_every_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, BAD)
    assert main(["validate", path]) == EXIT_INVALID
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"{path}:4:11: nodes.h1.kind: unknown kind 'hots'; allowed: host, router, linux "
        "(did you mean 'host'?)",
        f"{path}:7:21: links[0].endpoints[1]: unknown node 'r9' in link h1-r9; allowed: h1, r1",
    ]


def test_validate_invalid_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BAD)
    assert main(["validate", path, "--json"]) == EXIT_INVALID
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["valid"] is False
    assert [(e["line"], e["column"], e["path"]) for e in data["errors"]] == [
        (4, 11, "nodes.h1.kind"),
        (7, 21, "links[0].endpoints[1]"),
    ]
    assert data["errors"][0]["allowed"] == ["host", "router", "linux"]
    assert data["errors"][0]["suggestion"] == "host"
    assert len(captured.err.splitlines()) == 2


def test_validate_file_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "missing.yaml")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("wirelab: ") and "missing.yaml: No such file or directory" in err
    assert main(["validate", str(tmp_path)]) == EXIT_USAGE
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    assert main(["validate", str(binary)]) == EXIT_USAGE


def test_yaml_syntax_error_is_invalid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "name: t\nnodes: {h1: [kind\n")
    assert main(["validate", path]) == EXIT_INVALID
    assert "invalid YAML" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == EXIT_USAGE  # the help, and 2
    assert "validate" in capsys.readouterr().out
    assert main(["frobnicate"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("wirelab: ") and "frobnicate" in err and "usage: wirelab" in err
    assert len(err.splitlines()) == 1
    assert main(["validate"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "TOPOLOGY" in err and "usage: wirelab validate" in err
    assert main(["ping", "lab", "h1", "h2", "--count", "many"]) == EXIT_USAGE
    assert "--count" in capsys.readouterr().err
    assert main(["--help"]) == EXIT_OK
    assert "validate" in capsys.readouterr().out


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    commands = [
        ["validate"], ["schema"], ["graph"], ["serve"], ["deploy"], ["destroy"], ["inspect"],
        ["events"], ["image", "build"], ["ping"], ["traceroute"], ["transfer"], ["http"],
        ["fault", "add"], ["fault", "list"], ["fault", "clear"], ["fault", "node"],
        ["fault", "partition"], ["iface", "set"], ["route", "add"], ["route", "del"],
        ["route", "list"], ["show"], ["capture"], ["exec"], ["app", "start"], ["app", "list"],
        ["app", "stop"],
    ]  # fmt: skip
    for argv in commands:
        assert main([*argv, "--help"]) == EXIT_OK, argv
        out = capsys.readouterr().out
        assert f"wirelab {' '.join(argv)}" in out, argv
        if argv[0] not in ("validate", "schema", "graph", "serve", "image", "exec", "capture"):
            assert "--server" in out, argv
    assert main(["fault", "add", "--help"]) == EXIT_OK
    help_text = capsys.readouterr().out
    for option in ("--loss", "--ge", "--delay", "--jitter", "--distribution", "--duplicate",
                   "--corrupt", "--reorder", "--rate", "--mtu", "--blackhole-mtu", "--down",
                   "--direction", "--match", "--seed", "--duration", "--id", "--link", "--node",
                   "--json"):  # fmt: skip
        assert option in help_text, option


def test_version_and_shell_completion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == EXIT_OK
    assert capsys.readouterr().out.startswith("wirelab ")
    assert main(["--show-completion", "bash"]) == EXIT_OK
    assert "_wirelab_completion" in capsys.readouterr().out


def test_schema_to_stdout_and_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == EXIT_OK
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "wirelab topology"
    target = tmp_path / "schema.json"
    assert main(["schema", "-o", str(target)]) == EXIT_OK
    assert json.loads(target.read_text()) == schema
    assert main(["schema", "-o", str(tmp_path / "no" / "such" / "dir.json")]) == EXIT_USAGE


def test_validate_takes_a_bundled_example_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "diamond", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["lab"]["name"] == "diamond"
