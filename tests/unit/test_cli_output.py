"""How ``wirelab`` writes: colour only on a terminal and never with NO_COLOR, a quiet exit
when the reader of stdout goes away (``wirelab inspect LAB | head -1``), errors as one
line, progress on stderr, and nothing of the CLI inside a node's imports."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.cli import EXIT_PIPE, main
from orchestrator.client import Lab
from orchestrator.service.server import LabServer
from tests.clilab import ESCAPE, deploy, serving

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server() -> Iterator[LabServer]:
    with serving() as srv:
        yield srv


@pytest.fixture(scope="module")
def lab(server: LabServer) -> Lab:
    return deploy(server, "clioutput")


def wirelab_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(TERM="xterm-256color", COLUMNS="160", PYTHONPATH=str(ROOT), **extra)
    return env


def on_a_terminal(argv: list[str], env: dict[str, str], timeout: float = 60.0) -> bytes:
    """``wirelab ARGV`` with stdout and stderr on a pseudo-terminal; what it wrote."""
    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator.cli", *argv], cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=child_fd, stderr=child_fd,
                            env=env)  # fmt: skip
    os.close(child_fd)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main_fd], [], [], 0.5)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            data = os.read(main_fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=10)
    os.close(main_fd)
    assert proc.returncode == 0, b"".join(chunks)
    return b"".join(chunks)


def test_colour_on_a_terminal_and_none_with_no_color(server: LabServer, lab: Lab) -> None:
    argv = ["inspect", lab.name, "--server", server.address]
    coloured = on_a_terminal(argv, wirelab_env())
    assert ESCAPE.encode() in coloured and b"r1" in coloured
    plain = on_a_terminal(argv, wirelab_env(NO_COLOR="1"))
    assert ESCAPE.encode() not in plain and b"r1" in plain and b"NODE" in plain


def test_no_escape_codes_when_stdout_is_not_a_terminal(
    server: LabServer, lab: Lab, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    for argv in (["inspect", lab.name], ["fault", "list", lab.name], ["show", lab.name, "r1",
                 "interfaces"], ["ping", lab.name, "h1", "h2", "-c", "1"]):  # fmt: skip
        assert main([*argv, "--server", server.address]) == 0, argv
        captured = capsys.readouterr()
        assert ESCAPE not in captured.out and ESCAPE not in captured.err, argv
    assert main(["deploy", "quickstart", "--name", lab.name, "--backend", "sim", "--server",
                 server.address]) == 0  # fmt: skip
    captured = capsys.readouterr()
    assert ESCAPE not in captured.err and "backend: sim" in captured.err


def test_progress_and_spinner_on_a_terminal(server: LabServer, lab: Lab) -> None:
    deployed = on_a_terminal(["deploy", "quickstart", "--name", "cliterm", "--backend", "sim",
                              "--server", server.address], wirelab_env())  # fmt: skip
    assert b"backend: sim (asked for)" in deployed and b"ready" in deployed
    assert b"lab cliterm (sim, running)" in deployed
    sent = on_a_terminal(["transfer", lab.name, "h1", "h2", "--bytes", "300k", "--server",
                          server.address], wirelab_env(NO_COLOR="1"))  # fmt: skip
    assert b"sha256 match" in sent and ESCAPE.encode() not in sent


def test_image_progress_lines() -> None:
    import io

    from orchestrator.cli.common import make_console
    from orchestrator.cli.progress import ImageProgress

    buffer = io.StringIO()
    progress = ImageProgress(make_console(file=buffer))
    progress.info("base wirelab-base:abc is cached")
    with progress.step("build the node image"):
        pass
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "[wirelab] base wirelab-base:abc is cached"
    assert lines[1] == "[wirelab] build the node image ..."
    assert lines[2].startswith("[wirelab] build the node image: done in ")
    quiet = io.StringIO()
    ImageProgress(make_console(file=quiet), quiet=True).info("nothing")
    assert quiet.getvalue() == ""


def test_help_without_colour_under_no_color() -> None:
    plain = on_a_terminal(["fault", "add", "--help"], wirelab_env(NO_COLOR="1"))
    assert b"--blackhole-mtu" in plain and ESCAPE.encode() not in plain


def closed_early(argv: list[str]) -> subprocess.CompletedProcess[bytes]:
    """``wirelab ARGV`` whose stdout reader is gone before it writes (| head -0)."""
    read_end, write_end = os.pipe()
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator.cli", *argv], cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=write_end, stderr=subprocess.PIPE,
                            env=wirelab_env())  # fmt: skip
    os.close(write_end)
    os.close(read_end)  # the reader went away before any output
    _, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, b"", err)


@pytest.mark.parametrize(
    "argv",
    [["inspect", "{lab}"], ["fault", "list", "{lab}", "--json"], ["validate", "quickstart"],
     ["--help"]],
)  # fmt: skip
def test_a_closed_pipe_exits_quietly(server: LabServer, lab: Lab, argv: list[str]) -> None:
    argv = [a.format(lab=lab.name) for a in argv]
    if argv[0] in ("inspect", "fault"):
        argv += ["--server", server.address]
    done = closed_early(argv)
    assert done.returncode == EXIT_PIPE, done.stderr
    assert b"Traceback" not in done.stderr and b"BrokenPipe" not in done.stderr
    assert b"Exception ignored" not in done.stderr and done.stderr == b""


def test_a_closed_pipe_with_head_in_a_shell(server: LabServer, lab: Lab) -> None:
    script = (f"{sys.executable} -m orchestrator.cli inspect {lab.name} --server "
              f"{server.address} | head -1; echo status ${{PIPESTATUS[0]}}")  # fmt: skip
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True,
                          env=wirelab_env(), timeout=60, check=False)  # fmt: skip
    out = done.stdout.decode()
    assert out.startswith(f"lab {lab.name} (sim, running)")
    assert out.splitlines()[-1] in ("status 0", f"status {EXIT_PIPE}")
    assert b"Traceback" not in done.stderr and b"Error" not in done.stderr


def test_nothing_of_the_cli_in_a_nodes_imports() -> None:
    code = (
        "import sys, nodes.agent.__main__, nodes.agent.server, nodes.io.runner\n"
        "cli = ('typer', 'rich', 'pydantic', 'matplotlib', 'click')\n"
        "bad = sorted(m for m in sys.modules\n"
        "             if m.split('.')[0] in cli or m.startswith('orchestrator.cli'))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env=wirelab_env(), timeout=60, check=True)  # fmt: skip
    assert done.stdout.strip() == ""
    for path in (ROOT / "nodes").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "orchestrator.cli" not in text and "import typer" not in text, path
