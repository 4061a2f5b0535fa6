"""``wirelab``: the command line (typer + rich) on the typed client
(:mod:`orchestrator.client`).

Modules: :mod:`.app` (the command tree, :func:`main`), :mod:`.common` (exit codes,
consoles, shared options, the connection), :mod:`.render` (tables and lines for people),
:mod:`.progress` (deploy/image progress, spinners), :mod:`.plots` (matplotlib), and the
commands by role: :mod:`.topo`, :mod:`.labs`, :mod:`.measure`, :mod:`.faults`,
:mod:`.nodes`. ``--json`` prints :func:`orchestrator.domain.jsonout.to_json` of the domain
records.
"""

from orchestrator.cli.app import app, main
from orchestrator.cli.common import (
    EXIT_AUTH,
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_PIPE,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
)

__all__ = [
    "EXIT_AUTH",
    "EXIT_FAILED",
    "EXIT_INVALID",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_PIPE",
    "EXIT_UNAVAILABLE",
    "EXIT_USAGE",
    "app",
    "main",
]
