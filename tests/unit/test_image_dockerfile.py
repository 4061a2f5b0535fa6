"""Node image recipe: the generated Dockerfile, the base's packages and the CLI's `tag`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.image.build import (
    BASE_PACKAGES,
    IDLE_CMD,
    TOOLS,
    VENV,
    ImageInputs,
    compute_inputs,
    import_changes,
    main,
    render_dockerfile,
)

INPUTS = ImageInputs(Path("/src"), "wirelab-base:0123456789ab", (), ("pyyaml==6.0.3",), "f" * 64)


def instructions(dockerfile: str) -> list[str]:
    return [line.split()[0] for line in dockerfile.splitlines() if line and line[0].isupper()]


def test_the_node_builds_from_the_base() -> None:
    text = render_dockerfile(INPUTS)
    assert text.splitlines()[0] == "FROM wirelab-base:0123456789ab"
    assert instructions(text) == ["FROM", "LABEL", "COPY", "RUN", "ENV", "WORKDIR", "CMD"]


def test_the_label_carries_the_inputs_digest() -> None:
    text = render_dockerfile(INPUTS)
    assert f'wirelab.inputs="{"f" * 64}"' in text
    assert 'wirelab.image="node"' in text


def test_the_project_installs_from_wheels_only() -> None:
    text = render_dockerfile(INPUTS)
    assert "COPY wheels/ /wheels/" in text
    assert f"python3 -m venv {VENV}" in text
    assert f"{VENV}/bin/pip install --no-index" in text
    assert "--find-links /wheels wirelab" in text
    for network in ("apt-get", "curl ", "wget", "pip download", "http://", "https://"):
        assert network not in text


def test_the_venv_comes_first_on_path() -> None:
    env = next(line for line in render_dockerfile(INPUTS).splitlines() if line.startswith("ENV"))
    assert env.split()[1].startswith(f"PATH={VENV}/bin:")


def test_the_default_command_is_a_json_array_that_stops_on_sigterm() -> None:
    cmd = render_dockerfile(INPUTS).splitlines()[-1]
    assert cmd.startswith("CMD [")
    assert json.loads(cmd[4:]) == IDLE_CMD
    assert "trap 'exit 0' TERM" in IDLE_CMD[-1]


def test_the_imported_rootfs_gets_a_config() -> None:
    changes = import_changes()
    assert any(c.startswith("ENV PATH=") and "/usr/sbin" in c for c in changes)
    assert 'CMD ["/bin/bash"]' in changes


def test_every_linux_kind_tool_has_a_package() -> None:
    wanted = {"ping", "ip", "curl", "iperf3", "traceroute", "tracepath", "tcpdump", "ethtool", "nc"}
    assert wanted <= set(TOOLS)
    assert set(TOOLS.values()) <= set(BASE_PACKAGES)
    assert {"python3", "python3-venv"} <= set(BASE_PACKAGES)
    assert len(set(BASE_PACKAGES)) == len(BASE_PACKAGES)


def test_the_tag_command_prints_the_tag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "wirelab"\ndependencies = []\n'
        "[project.optional-dependencies]\nnode = []\n"
    )
    (tmp_path / "nodes").mkdir()
    (tmp_path / "nodes/__init__.py").write_text("")
    assert main(["--root", str(tmp_path), "tag"]) == 0
    assert capsys.readouterr().out.strip() == compute_inputs(tmp_path).tag


def test_the_cli_reports_errors_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--root", str(tmp_path), "tag"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("wirelab image: error:")
    assert "Traceback" not in err


def test_the_cli_needs_a_command() -> None:
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
