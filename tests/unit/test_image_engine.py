"""Docker engine bootstrap and the shared command helpers, without touching Docker."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from orchestrator.image import engine
from orchestrator.image.engine import CommandError, DockerEngineError, Progress, ensure_docker, run


def test_run_returns_the_output() -> None:
    assert run(["sh", "-c", "echo out; echo err >&2"], step="echo").split() == ["out", "err"]


def test_a_failed_command_names_the_step_the_command_and_the_tail() -> None:
    script = "for i in $(seq 1 100); do echo line$i; done; exit 3"
    with pytest.raises(CommandError) as exc:
        run(["sh", "-c", script], step="counting")
    text = str(exc.value)
    assert text.startswith("counting: exit status 3")
    assert "command: sh -c" in text
    assert "line100" in text and "line50" not in text  # only the tail
    assert exc.value.tail[-1] == "line100"


def test_a_missing_program_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="no-such-program-x is not installed"):
        run(["no-such-program-x"], step="x")


def test_a_timeout_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="timed out after 0 s"):
        run(["sleep", "5"], step="sleep", timeout=0.2)


def test_progress_shows_steps_with_elapsed_time() -> None:
    out = io.StringIO()
    progress = Progress(stream=out)
    with progress.step("debootstrap"):
        pass
    with pytest.raises(ValueError), progress.step("docker build"):
        raise ValueError
    lines = out.getvalue().splitlines()
    assert lines[0] == "[wirelab] debootstrap ..."
    assert lines[1].startswith("[wirelab] debootstrap: done in ") and lines[1].endswith(" s")
    assert lines[3].startswith("[wirelab] docker build: FAILED after ")


def test_quiet_progress_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    progress = Progress(quiet=True)
    with progress.step("x"):
        progress.info("y")
    assert capsys.readouterr() == ("", "")


class Calls:
    def __init__(self) -> None:
        self.log: list[str] = []


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    calls = Calls()

    def apt(packages: list[str], progress: Progress) -> None:
        calls.log.append("apt " + " ".join(packages))

    def start() -> Path:
        calls.log.append("start")
        return Path("/dev/null")

    def wait(log: Path, wait: float) -> None:
        calls.log.append("wait")

    monkeypatch.setattr(engine, "apt_install", apt)
    monkeypatch.setattr(engine, "_start_dockerd", start)
    monkeypatch.setattr(engine, "_wait_for_daemon", wait)
    monkeypatch.setattr(engine, "is_root", lambda: True)
    monkeypatch.setattr(engine, "_dockerd_running", lambda: False)
    return calls


def test_a_running_daemon_is_left_alone(calls: Calls, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "docker_answers", lambda timeout=10.0: True)
    ensure_docker(Progress(quiet=True))
    assert calls.log == []


def test_an_installed_engine_is_started(calls: Calls, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "docker_answers", lambda timeout=10.0: False)
    monkeypatch.setattr(engine, "which", lambda name: f"/usr/bin/{name}")
    ensure_docker(Progress(quiet=True))
    assert calls.log == ["start", "wait"]


def test_a_missing_engine_is_installed_then_started(
    calls: Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "docker_answers", lambda timeout=10.0: False)
    monkeypatch.setattr(engine, "which", lambda name: None)
    ensure_docker(Progress(quiet=True))
    assert calls.log == ["apt docker.io", "start", "wait"]


def test_only_root_starts_dockerd(calls: Calls, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "docker_answers", lambda timeout=10.0: False)
    monkeypatch.setattr(engine, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(engine, "is_root", lambda: False)
    with pytest.raises(DockerEngineError, match="only root"):
        ensure_docker(Progress(quiet=True))
    assert calls.log == []


def test_only_root_installs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "is_root", lambda: False)
    with pytest.raises(DockerEngineError, match=r"apt-get install -y docker\.io"):
        engine.apt_install(["docker.io"], Progress(quiet=True))


def test_a_daemon_that_never_answers_shows_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "dockerd.log"
    log.write_text("starting\nfailed to start daemon: iptables not found\n")
    monkeypatch.setattr(engine, "docker_answers", lambda timeout=10.0: False)
    with pytest.raises(DockerEngineError) as exc:
        engine._wait_for_daemon(log, 0.0)
    assert "did not answer" in str(exc.value)
    assert "iptables not found" in str(exc.value)


def test_a_starting_dockerd_is_waited_for_not_started_twice(
    calls: Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "docker_answers", lambda timeout=10.0: False)
    monkeypatch.setattr(engine, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(engine, "_dockerd_running", lambda: True)
    monkeypatch.setattr(engine, "_log_path", lambda: Path("/dev/null"))
    ensure_docker(Progress(quiet=True))
    assert calls.log == ["wait"]


def test_the_pidfile_tells_whether_dockerd_runs(tmp_path: Path) -> None:
    pidfile = tmp_path / "docker.pid"
    assert not engine._dockerd_running(pidfile)
    pidfile.write_text(f"{os.getpid()}\n")
    assert engine._dockerd_running(pidfile)
    pidfile.write_text("garbage")
    assert not engine._dockerd_running(pidfile)
