"""Your code on our stack, on Docker (issue 12, items 2 and 4): the kvstore example
topology (topology/examples/kvstore.yaml) deploys with its ./code folder mounted
read-only into h1 and h2, whose agents run the user's asyncio apps on our TCP across
r1; ``wirelab exec -it`` opens an interactive shell on a node through a terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.client import Lab, LabClient
from orchestrator.domain.results import AppInfo
from orchestrator.image.build import BuildResult
from orchestrator.lab import labels as L
from orchestrator.lab.backends.docker import DockerBackend
from orchestrator.service.server import LabServer, start_server

pytestmark = pytest.mark.docker

KVSTORE = Path(__file__).resolve().parents[2] / "topology" / "examples" / "kvstore.yaml"


@pytest.fixture(scope="module")
def server(node_image: BuildResult) -> Iterator[LabServer]:
    srv = start_server("127.0.0.1:0", backends={"docker": DockerBackend(image=node_image.tag)})
    try:
        yield srv
    finally:
        srv.stop(grace=0.5)


@pytest.fixture(scope="module")
def kv(server: LabServer) -> Iterator[Lab]:
    client = LabClient(server.address)
    lab = client.deploy(KVSTORE, name=f"appstest-kv-{uuid.uuid4().hex[:6]}", backend="docker")
    try:
        yield lab
    finally:
        lab.destroy()
        client.close()


def app(lab: Lab, node: str, app_id: str) -> AppInfo:
    return {a.app_id: a for a in lab.apps(node)[node]}[app_id]


def test_the_kvstore_example_runs_on_our_stack_in_containers(kv: Lab) -> None:
    deadline = time.monotonic() + 60
    while app(kv, "h1", "kvstore:load").state == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    load = app(kv, "h1", "kvstore:load")
    assert load.state == "finished", load
    assert load.stats["ok"] == 400 and load.stats["bad"] == 0
    serve = app(kv, "h2", "kvstore:serve:7000")
    assert serve.running and serve.stats["requests"] >= 401 and serve.stats["errors_sent"] == 0
    # the traffic was our stack's: h2's TCP counted it
    assert kv.counters("h2").stack["tcp_passive_opens"] >= 1


def test_the_code_folder_is_mounted_read_only(kv: Lab) -> None:
    listed = kv.exec("h1", ["ls", "/wirelab/code"])
    assert "kvstore.py" in listed.output.split()
    touched = kv.exec("h1", ["touch", "/wirelab/code/x"])
    assert touched.exit_code != 0 and "Read-only" in touched.output
    assert kv.exec("r1", ["ls", "/wirelab/code"]).exit_code == 0  # the lab's code: every node


def test_a_user_app_started_later_and_a_load_error_in_a_container(kv: Lab) -> None:
    info = kv.start_app("h1", "kvstore:load", args={"server": "h2", "port": 7000, "requests": 5})
    assert info.app_id == "kvstore:load"
    with pytest.raises(Exception, match=r"no module named 'absent' in the code folder "
                                        r"\(/wirelab/code\)"):  # fmt: skip
        kv.start_app("h1", "absent:make")


def _pty_session(argv: list[str], keys: bytes, timeout: float = 60.0) -> tuple[int, str]:
    """Run ``argv`` on a new terminal, type ``keys``, read the screen until it exits."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: argv on the terminal
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    out = b""
    sent = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # EIO: the terminal's other side closed
                    break
                if not chunk:
                    break
                out += chunk
            if not sent and (b"#" in out or b"$" in out):  # a prompt: the shell is there
                os.write(fd, keys)
                sent = True
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def test_exec_it_opens_an_interactive_shell_on_a_terminal(kv: Lab, server: LabServer) -> None:
    info = kv.refresh()
    assert info.node("h1").container == L.container_name(kv.name, "h1")
    wirelab = [sys.executable, "-m", "orchestrator.cli"]
    code, screen = _pty_session(
        [*wirelab, "exec", "-it", "--server", server.address, kv.name, "h1"],
        b"echo answer=$((6*7)) tty=$(tty); hostname; exit 3\r",
    )
    assert code == 3, screen  # the shell's own exit status
    assert "answer=42" in screen and "tty=/dev/pts/" in screen
    assert "h1" in screen.split("hostname", 1)[1]  # the node's container


def test_exec_i_without_a_terminal_pipes_stdin(kv: Lab, server: LabServer) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "exec", "-i", "--server", server.address,
         kv.name, "h2", "--", "sh", "-c", "tr a-z A-Z; exit 4"],
        input="through docker exec -i\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 4, done.stderr
    assert done.stdout == "THROUGH DOCKER EXEC -I\n"
