"""The compiled test run's import guard (``make test-compiled``): installed into
``.venv-compiled`` as a ``.pth`` hook (``wirelab_installed_first``), it hides the project's
top-level packages in every ``sys.path`` directory but that venv's site-packages, so they
load from the compiled wheel even when the checkout is on ``sys.path`` before it (pytest's
``pythonpath = ["."]`` and rootdir, ``python -m`` from the checkout, a subprocess started
there). ``tests`` and ``bench`` still come from the checkout.

A path hook, not a meta-path finder: every finder that searches ``sys.path`` (the path
finder, and pytest's assertion rewriter, which goes first on ``sys.meta_path``) asks the
path hooks, and a package's submodules then follow its ``__path__``, the installed copy."""

from __future__ import annotations

import importlib.machinery
import sys
from pathlib import Path

PACKAGES = ("nodes", "topology", "orchestrator", "wirelab")
SITE = Path(__file__).resolve().parent  # this file sits in the site-packages it keeps


class HideProject:
    """A ``sys.path`` directory's finder without the project's packages."""

    def __init__(self, inner: importlib.machinery.FileFinder) -> None:
        self.inner = inner

    def find_spec(self, name: str, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if name in PACKAGES:
            return None
        return self.inner.find_spec(name)

    def invalidate_caches(self) -> None:
        self.inner.invalidate_caches()


def path_hook(entry: str) -> HideProject:
    """For a directory holding one of the project's packages other than :data:`SITE`
    (the checkout); any other entry is left to the usual hooks (ImportError)."""
    where = Path(entry or ".").resolve()
    if where == SITE or not any((where / p).is_dir() for p in PACKAGES):
        raise ImportError(entry)
    loaders = [
        (importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES),
        (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES),
        (importlib.machinery.SourcelessFileLoader, importlib.machinery.BYTECODE_SUFFIXES),
    ]
    return HideProject(importlib.machinery.FileFinder(entry, *loaders))


def install() -> None:
    """Called by the ``.pth`` line."""
    if path_hook not in sys.path_hooks:
        sys.path_hooks.insert(0, path_hook)
        sys.path_importer_cache.clear()  # entries seen so far get their finder again
