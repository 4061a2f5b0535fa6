"""Where the user's code folders are: a topology's ``code:`` (lab-wide or per node) is a
folder on the server's machine, relative to the topology file's folder (the client sends
it as the DeployRequest's ``base_dir``) unless absolute. Each host and router with one gets
it mounted read-only at ``/wirelab/code`` (nodes/apps/ref.py), where its agent loads
``module:factory`` apps from."""

from __future__ import annotations

import os
from pathlib import Path

from orchestrator.domain.errors import InvalidArgument, echo
from topology import Lab


def code_folders(lab: Lab, base_dir: str = "") -> dict[str, str]:
    """node -> the absolute path of its code folder (nodes without one are left out);
    InvalidArgument when a folder is missing, or relative without ``base_dir``."""
    out: dict[str, str] = {}
    for node in lab.nodes:
        if node.code is None:
            continue
        written = Path(os.path.expanduser(node.code))
        if not written.is_absolute():
            if not base_dir:
                raise InvalidArgument(
                    f"{node.name}: code folder {echo(node.code)} is relative and no base_dir "
                    "says relative to what (the topology file's folder, on the server's machine)",
                    "base_dir",
                )
            written = Path(base_dir) / written
        folder = written.resolve()
        if not folder.is_dir():
            raise InvalidArgument(
                f"{node.name}: code folder {echo(node.code)} is not a folder on the server's "
                f"machine ({folder})",
                "topology",
            )
        out[node.name] = str(folder)
    return out
