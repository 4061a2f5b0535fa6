"""Node agents on Unix sockets: one host directory per node, mounted into its container.

    <root>/<lab>/<node>/             mounted at /run/wirelab in the node's container
    <root>/<lab>/<node>/agent.sock   the agent's gRPC socket (``--listen unix:///run/wirelab/agent.sock``)
    <root>/<lab>/<node>/takeover.json  the agent's take-over state (nodes/io/takeover.py)

The host dials ``unix://<root>/<lab>/<node>/agent.sock`` (the node's ``wirelab.agent``
label). No network carries the agents' traffic, so none has to be created or removed.

``<root>`` is ``$WIRELAB_RUN_DIR`` when set, else ``/run/wirelab`` as root (the machine's
runtime directory: gone at reboot, like the containers' processes), else
``$XDG_RUNTIME_DIR/wirelab``, else ``<tmp>/wirelab-<uid>``. Who may connect to an agent is
decided by the lab's directory, ``0700`` and owned by the orchestrator's user (the agent
makes its socket ``0666``). A node's directory belongs to root as root (the container's
root, without CAP_DAC_OVERRIDE, is its owner); for another user it is ``0777`` inside the
user's ``0700`` lab directory, so that the container's root may create the socket there.

A socket's path holds at most 107 bytes (``sun_path``): with names of up to 32 characters
the root may be 30 long.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from orchestrator.lab.backends.base import AgentSocket, BackendError, Mount

NODE_DIR = "/run/wirelab"  # inside the node (nodes/io/takeover.py keeps its state here too)
SOCKET = "agent.sock"
ENV = "WIRELAB_RUN_DIR"
MAX_SOCKET_PATH = 107  # bytes: sockaddr_un.sun_path is 108 with the terminating NUL
UNIX = "unix://"


def default_root(env: Mapping[str, str] | None = None, uid: int | None = None) -> Path:
    """Where labs' agent directories go (see the module's doc)."""
    env = os.environ if env is None else env
    uid = os.geteuid() if uid is None else uid
    if env.get(ENV):
        return Path(env[ENV])
    if uid == 0:
        return Path("/run/wirelab")
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "wirelab"
    return Path(tempfile.gettempdir()) / f"wirelab-{uid}"


def lab_dir(root: Path, lab: str) -> Path:
    return root / lab


def node_dir(root: Path, lab: str, node: str) -> Path:
    return root / lab / node


def agent_socket(root: Path, lab: str, node: str) -> AgentSocket:
    """The node's socket, as its agent listens on it and as the host dials it."""
    directory = node_dir(root, lab, node)
    path = directory / SOCKET
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise BackendError(
            f"the agent socket {path} is longer than {MAX_SOCKET_PATH} bytes (a Unix socket's "
            f"limit): set {ENV} to a shorter directory"
        )
    return AgentSocket(
        listen=f"{UNIX}{NODE_DIR}/{SOCKET}",
        address=f"{UNIX}{path}",
        mount=Mount(str(directory), NODE_DIR),
    )


def socket_path(address: str) -> Path | None:
    """The socket's path of a ``unix://`` gRPC address (None for any other address)."""
    if not address.startswith(UNIX):
        return None
    path = address.removeprefix(UNIX)
    return Path(path) if path.startswith("/") else None


def node_dir_mode(uid: int) -> int:
    """The mode of a node's directory made by ``uid`` (see the module's doc)."""
    return 0o755 if uid == 0 else 0o777


def fresh_node_dir(source: str | Path, *, uid: int | None = None) -> Path:
    """An empty directory at ``source`` (``<root>/<lab>/<node>``) for a node about to be
    created: what a node of the same name left there (a stale socket, its take-over
    state) goes. The root is made as needed, the lab's directory ``0700``."""
    uid = os.geteuid() if uid is None else uid
    directory = Path(source)
    lab, root = directory.parent, directory.parent.parent
    try:
        root.mkdir(mode=0o755 if uid == 0 else 0o700, parents=True, exist_ok=True)
        if uid != 0 and root.stat().st_uid != uid:  # e.g. a <tmp>/wirelab-<uid> of another
            raise BackendError(f"{root} belongs to another user: set {ENV} to a directory of yours")
        lab.mkdir(mode=0o700, exist_ok=True)
        if directory.is_symlink() or directory.is_file():
            directory.unlink()
        elif directory.exists():
            shutil.rmtree(directory)
        directory.mkdir()
        directory.chmod(node_dir_mode(uid))
    except OSError as exc:
        raise BackendError(f"cannot make the agent directory {directory}: {exc}") from None
    return directory


def remove_node_dir(address: str, lab: str, node: str) -> None:
    """Remove the directory of the node whose agent listens at ``address`` (its label), and
    its lab's directory when that is empty then. Only ``.../<lab>/<node>/agent.sock``
    addresses name a directory to remove; nothing there is not an error."""
    path = socket_path(address)
    if path is None or path.name != SOCKET:
        return
    directory = path.parent
    if directory.name != node or directory.parent.name != lab:
        return
    try:
        shutil.rmtree(directory)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise BackendError(f"cannot remove the agent directory {directory}: {exc}") from None
    with contextlib.suppress(OSError):  # not empty: other nodes of the lab are still there
        directory.parent.rmdir()


def remove_lab_dir(root: Path, lab: str) -> None:
    """Remove the lab's directory and everything in it (nothing there is not an error)."""
    directory = lab_dir(root, lab)
    try:
        shutil.rmtree(directory)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise BackendError(f"cannot remove the lab's agent directory {directory}: {exc}") from None
