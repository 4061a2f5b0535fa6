"""The node container's command: ``python -m nodes.agent.launch`` + the arguments of
``python -m nodes.agent`` (nodes/agent/__main__.py), which it runs in a leaner process.

An idle agent is mostly libraries it never uses. Before anything else is imported this
module installs :class:`ImportBlocker`, a ``sys.meta_path`` finder that refuses

* ``ssl`` / ``_ssl`` for the life of the process: grpc imports asyncio unconditionally
  and asyncio imports ssl (libssl + libcrypto, several MB resident), yet the agent
  serves plain-text gRPC and grpc carries its own TLS. asyncio is written to work
  without ssl (``except ImportError: ssl = None``).
* ``_bz2`` / ``_lzma`` (libbz2, liblzma) likewise: argparse's help formatter imports
  shutil, which loads them if it can; the agent never (de)compresses.
* ``_hashlib`` (hashlib's OpenSSL backend, ~3.7 MB) while the agent's modules load:
  ``hashlib`` then takes its builtin constructors; blake2b (TCP ISNs, syncookies, fault
  selection) is the builtin ``_blake2`` either way. After start-up ``_hashlib`` may load:
  the apps fetch OpenSSL's faster sha256 when a transfer hashes
  (:func:`nodes.apps.data.sha256`).

Only the node process does this (never tests or the orchestrator, which only import
this module's names). glibc's malloc arenas are capped (``MALLOC_ARENA_MAX``, read by
glibc at process start, hence a re-exec when it is unset): every thread that allocates
would otherwise get its own arena (the gRPC threads, the loop).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

ALWAYS_BLOCKED = frozenset({"ssl", "_ssl", "_bz2", "_lzma"})
STARTUP_BLOCKED = frozenset({"_hashlib"})
ARENA_ENV = "MALLOC_ARENA_MAX"
ARENAS = "2"


class ImportBlocker:
    """A meta-path finder that makes ``import NAME`` fail with ModuleNotFoundError for
    the names it holds (modules already imported are not affected)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = set(names)

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname in self.names:
            raise ModuleNotFoundError(
                f"No module named {fullname!r} (kept out of the node agent)", name=fullname
            )
        return None

    def release(self, names: Iterable[str]) -> None:
        self.names.difference_update(names)


def install(names: Iterable[str] = ALWAYS_BLOCKED | STARTUP_BLOCKED) -> ImportBlocker:
    blocker = ImportBlocker(names)
    sys.meta_path.insert(0, blocker)
    return blocker


def _reexec_with_arena_cap() -> None:
    if os.environ.get(ARENA_ENV):
        return
    env = dict(os.environ, **{ARENA_ENV: ARENAS})
    argv = [sys.executable, *sys.orig_argv[1:]]
    os.execve(sys.executable, argv, env)


def main(argv: Sequence[str] | None = None) -> int:
    blocker = install()
    from nodes.agent.__main__ import main as agent_main

    blocker.release(STARTUP_BLOCKED)
    return agent_main(argv)


if __name__ == "__main__":
    _reexec_with_arena_cap()  # only as the process's command, never when imported
    sys.exit(main())
