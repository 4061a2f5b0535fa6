"""Where the user's folders are: a topology's ``code:`` (lab-wide or per node) and a linux
node's ``binds:`` are paths on the server's machine, relative to the topology file's folder
(the client sends it as the DeployRequest's ``base_dir``) unless absolute. Each host and
router with code gets it mounted read-only at ``/wirelab/code`` (nodes/apps/ref.py), where
its agent loads ``module:factory`` apps from; binds are mounted where they say."""

from __future__ import annotations

import os
from pathlib import Path

from nodes.apps.ref import CODE_DIR
from orchestrator.domain.errors import InvalidArgument, echo
from orchestrator.lab.backends.base import Mount
from topology import Lab


def _host_path(node: str, what: str, path: str, base_dir: str) -> Path:
    written = Path(os.path.expanduser(path))
    if not written.is_absolute():
        if not base_dir:
            raise InvalidArgument(
                f"{node}: {what} {echo(path)} is relative and no base_dir says relative to "
                "what (the topology file's folder, on the server's machine)",
                "base_dir",
            )
        written = Path(base_dir) / written
    return written.resolve()


def code_folders(lab: Lab, base_dir: str = "") -> dict[str, str]:
    """node -> the absolute path of its code folder (nodes without one are left out);
    InvalidArgument when a folder is missing, or relative without ``base_dir``."""
    out: dict[str, str] = {}
    for node in lab.nodes:
        if node.code is None:
            continue
        folder = _host_path(node.name, "code folder", node.code, base_dir)
        if not folder.is_dir():
            raise InvalidArgument(
                f"{node.name}: code folder {echo(node.code)} is not a folder on the server's "
                f"machine ({folder})",
                "topology",
            )
        out[node.name] = str(folder)
    return out


def user_mounts(lab: Lab, base_dir: str = "") -> dict[str, tuple[Mount, ...]]:
    """node -> the user's folders mounted into it: its code folder (read-only at
    /wirelab/code) and its binds (as written); every host path must exist."""
    out: dict[str, tuple[Mount, ...]] = {
        name: (Mount(folder, CODE_DIR, read_only=True),)
        for name, folder in code_folders(lab, base_dir).items()
    }
    for node in lab.nodes:
        for bind in node.container.binds:
            source = _host_path(node.name, "bind", bind.source, base_dir)
            if not source.exists():
                raise InvalidArgument(
                    f"{node.name}: bind {echo(str(bind))}: {source} does not exist on the "
                    "server's machine",
                    "topology",
                )
            mount = Mount(str(source), bind.target, read_only=bind.read_only, user=True)
            out[node.name] = (*out.get(node.name, ()), mount)
    return out
