"""Make sure a Docker engine answers, and the small process helpers the image build shares.

A fresh machine has neither Docker nor a running daemon (DESIGN.md §4). As root,
:func:`ensure_docker` installs Debian's ``docker.io`` with apt when ``dockerd`` is missing,
starts ``dockerd`` detached from us (its log goes to a file, never to our stdio) and waits
until it answers. When a daemon already answers it returns after one ``docker version``.

The Docker SDK is not a dependency (yet): everything here talks to the ``docker`` CLI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DOCKERD_LOGS = (Path("/var/log/wirelab-dockerd.log"), Path("/tmp/wirelab-dockerd.log"))
DOCKERD_PIDFILE = Path("/var/run/docker.pid")
TAIL_LINES = 25


class CommandError(RuntimeError):
    """A step's command failed: names the step, the command and the tail of its output."""

    def __init__(self, step: str, command: Sequence[str], detail: str, output: str = "") -> None:
        self.step = step
        self.command = list(command)
        self.detail = detail
        self.tail = tail(output)
        text = f"{step}: {detail}\n  command: {' '.join(self.command)}"
        if self.tail:
            text += "\n  last output:\n" + "\n".join("    " + line for line in self.tail)
        super().__init__(text)


class DockerEngineError(RuntimeError):
    """No Docker daemon could be reached, installed or started."""


def tail(output: str, lines: int = TAIL_LINES) -> list[str]:
    return [line for line in output.strip().splitlines() if line.strip()][-lines:]


class Progress:
    """Step names with elapsed times on a stream (stderr by default); silent when quiet."""

    def __init__(self, *, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.stream = stream
        self.started = time.monotonic()

    def info(self, message: str) -> None:
        if not self.quiet:
            out = self.stream if self.stream is not None else sys.stderr
            print(f"[wirelab] {message}", file=out, flush=True)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.info(f"{name} ...")
        began = time.monotonic()
        try:
            yield
        except BaseException:
            self.info(f"{name}: FAILED after {time.monotonic() - began:.1f} s")
            raise
        self.info(f"{name}: done in {time.monotonic() - began:.1f} s")

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def run(
    command: Sequence[str],
    *,
    step: str,
    timeout: float = 600.0,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run a command to completion; return its stdout+stderr or raise :class:`CommandError`."""
    full_env = {**os.environ, **(env or {})}
    try:
        done = subprocess.run(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=timeout,
            env=full_env,
            check=False,
        )
    except FileNotFoundError as exc:
        raise CommandError(step, command, f"{command[0]} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        out = exc.output if isinstance(exc.output, str) else ""
        raise CommandError(step, command, f"timed out after {timeout:.0f} s", out) from exc
    if done.returncode != 0:
        raise CommandError(step, command, f"exit status {done.returncode}", done.stdout)
    return done.stdout


def which(program: str) -> str | None:
    """Like shutil.which, but also looks in the sbin directories a user's PATH may lack."""
    return shutil.which(program) or shutil.which(program, path=SBIN_PATH)


def is_root() -> bool:
    return os.geteuid() == 0


def apt_install(packages: Sequence[str], progress: Progress) -> None:
    """``apt-get install`` as root; ``apt-get update`` only when the first try fails."""
    if not is_root():
        raise DockerEngineError(
            f"{' '.join(packages)} missing and we are not root: run "
            f"`sudo apt-get install -y {' '.join(packages)}` first"
        )
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": SBIN_PATH}
    install = ["apt-get", "install", "-y", "-q", *packages]
    with progress.step(f"apt-get install {' '.join(packages)}"):
        try:
            run(install, step="apt-get install", env=env, timeout=900)
        except CommandError:
            progress.info("install failed; running apt-get update and trying again")
            run(["apt-get", "update", "-q"], step="apt-get update", env=env, timeout=900)
            run(install, step="apt-get install", env=env, timeout=900)


def docker_answers(timeout: float = 10.0) -> bool:
    """True when the docker CLI exists and a daemon answers it."""
    docker = which("docker")
    if docker is None:
        return False
    try:
        done = subprocess.run(
            [docker, "version", "--format", "{{.Server.Version}}"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def ensure_docker(progress: Progress, *, wait: float = 60.0) -> None:
    """Return once a Docker daemon answers, installing and starting it when needed."""
    if docker_answers():
        return
    if which("dockerd") is None or which("docker") is None:
        apt_install(["docker.io"], progress)
        if docker_answers():  # a systemd host starts the service on install
            return
    if not is_root():
        raise DockerEngineError(
            "no Docker daemon answers and only root can start one: start dockerd "
            "(e.g. `sudo systemctl start docker`) or run as root"
        )
    if _dockerd_running():  # e.g. just started by docker.io's init script: let it come up
        with progress.step("waiting for the running dockerd"):
            _wait_for_daemon(_log_path(), wait)
        return
    with progress.step("starting dockerd"):
        log = _start_dockerd()
        _wait_for_daemon(log, wait)


def _dockerd_running(pidfile: Path = DOCKERD_PIDFILE) -> bool:
    try:
        pid = int(pidfile.read_text(encoding="ascii").strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def _start_dockerd() -> Path:
    """Start dockerd in the background, detached from our session and stdio."""
    if Path("/run/systemd/system").is_dir() and which("systemctl"):
        started = subprocess.run(
            ["systemctl", "start", "docker"], capture_output=True, timeout=120, check=False
        )
        if started.returncode == 0:
            return Path("/dev/null")
    dockerd = which("dockerd")
    if dockerd is None:
        raise DockerEngineError("dockerd is still missing after installing docker.io")
    log = _log_path()
    env = {**os.environ, "PATH": SBIN_PATH}
    # sh backgrounds dockerd with nohup and exits: dockerd is re-parented to init and never
    # shares our stdio, process group or session.
    subprocess.run(
        ["sh", "-c", 'nohup "$0" >>"$1" 2>&1 </dev/null &', dockerd, str(log)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        check=True,
    )
    return log


def _log_path() -> Path:
    for path in DOCKERD_LOGS:
        try:
            with path.open("a", encoding="utf-8") as f:
                f.write(f"--- wirelab starts dockerd at {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
            return path
        except OSError:
            continue
    raise DockerEngineError(f"cannot write a dockerd log to any of {DOCKERD_LOGS}")


def _wait_for_daemon(log: Path, wait: float) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if docker_answers(timeout=5.0):
            return
        time.sleep(0.5)
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    lines = "\n".join("    " + line for line in tail(text))
    raise DockerEngineError(
        f"dockerd did not answer within {wait:.0f} s (log: {log})"
        + (f"\n  last lines of its log:\n{lines}" if lines else "")
    )
