"""What the node knows of user apps before loading any (pure, imported at start-up; the
loader itself, :mod:`nodes.apps.loader`, is imported when the first one starts): how one is
named (``package.module:factory``, which the topology checks too), where the code folder
is mounted, and the errors of loading and starting one."""

from __future__ import annotations

import re

CODE_DIR = "/wirelab/code"  # where the deploy mounts a node's code folder (read-only)
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
REF = re.compile(rf"^(?P<module>{_IDENT}(\.{_IDENT})*):(?P<factory>{_IDENT})$")
REF_PATTERN = REF.pattern.removeprefix("^").removesuffix("$")  # for JSON Schema patterns


def is_ref(kind: str) -> bool:
    """Whether ``kind`` names a user app (``package.module:factory``)."""
    return REF.match(kind) is not None


class AppLoadError(Exception):
    """The app's module or factory cannot be loaded (the message says why)."""


class AppStartError(Exception):
    """The factory raised, or returned something the node cannot run."""
