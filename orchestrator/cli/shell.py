"""``wirelab exec -it``: an interactive terminal on a node's container.

A terminal is a stream of keystrokes and screen updates for as long as the user wants
it, which is what ``docker exec -it`` does well; the LabService's Exec is a bounded
request/response (30 s by default). So the CLI asks the server for the lab (its backend,
each node's container and the Docker engine the server uses) and replaces itself with
``docker exec -it CONTAINER CMD`` on this machine: no time limit, the terminal's size,
signals and exit status are Docker's. Every node kind has a container with a shell on
docker (ours too: their agent runs in it; the kernel there has no address on the data
interfaces, see ``wirelab forward``).

Where it cannot work it says so and how instead:

- a sim lab: its nodes live in the server's process and have no shell;
- a server on another machine: its containers are there. ``DOCKER_HOST`` (e.g.
  ``ssh://user@host``), when set here, says how to reach that engine and is used; else the
  error prints the command to run there (``ssh -t HOST docker exec -it ...``);
- no ``docker`` command here: the error prints the command too.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import shutil
import sys
from collections.abc import Sequence

from orchestrator.domain.errors import FailedPrecondition, NotFound
from orchestrator.domain.lab import LabInfo

DEFAULT_SHELL = ("sh", "-c", "if command -v bash >/dev/null; then exec bash; else exec sh; fi")
LOCAL_NAMES = frozenset({"localhost", "ip6-localhost"})


def server_is_local(address: str) -> bool:
    """Whether the LabService at ``address`` (``host:port``, ``unix:...``) is on this machine."""
    if address.startswith("unix:"):
        return True
    host = address.rsplit(":", 1)[0].strip("[]") if ":" in address else address
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def docker_exec(
    info: LabInfo,
    node: str,
    argv: Sequence[str],
    *,
    interactive: bool,
    tty: bool,
    server: str,
    stdin_is_tty: bool | None = None,
    env: dict[str, str] | None = None,
) -> list[str]:
    """The ``docker exec`` command line for a terminal on ``node`` (raises when there is
    no way from here, with what to run instead)."""
    try:
        target = info.node(node)
    except KeyError as exc:
        raise NotFound(str(exc.args[0]), "node") from None
    if info.backend != "docker" or not target.container:
        raise FailedPrecondition(
            f"lab {info.name} runs on the {info.backend or 'unknown'} backend: its nodes live "
            "in the server's process and have no shell (deploy it with --backend docker)",
            "node",
        )
    env = dict(os.environ) if env is None else env
    stdin_tty = sys.stdin.isatty() if stdin_is_tty is None else stdin_is_tty
    flags = "-it" if tty and stdin_tty else "-i"  # -i, -t, -it: an interactive session
    command = ["exec", flags, target.container, *(argv or DEFAULT_SHELL)]
    docker = ["docker"]
    if not env.get("DOCKER_HOST") and info.engine:
        docker += ["-H", info.engine]
    wanted = shlex.join(["docker", *command])
    if not server_is_local(server) and not env.get("DOCKER_HOST"):
        host = server.rsplit(":", 1)[0]
        raise FailedPrecondition(
            f"the server ({server}) runs {info.name}'s containers on its own machine: run "
            f"`ssh -t {host} {wanted}` or set DOCKER_HOST to that engine (ssh://user@{host})",
            "node",
        )
    if shutil.which("docker", path=env.get("PATH")) is None:
        raise FailedPrecondition(
            f"no docker command here (apt-get install docker.io); the command is: {wanted}",
            "node",
        )
    if tty and not stdin_tty:
        sys.stderr.write("wirelab: stdin is not a terminal: -t ignored\n")
    return [*docker, *command]


def run(command: Sequence[str]) -> int:
    """Replace this process with ``command``."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvp(command[0], list(command))
