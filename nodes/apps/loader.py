"""Finding a user app's factory: ``module:factory`` from the node's code folder or from
the node's installed Python packages.

The code folder (``/wirelab/code`` in a container, where the deploy mounts the topology's
``code:`` folder; see :data:`CODE_DIR`) is searched first. A package found there is
imported afresh every time an app starts (edit the folder, stop and start the app: the
new code runs); it goes on ``sys.path`` (at the end) so that its modules can import their
siblings. Anything else comes from the node's own packages (a package installed into the
node image).

Every failure is an :class:`AppLoadError` whose message names the module and says where
it was looked for; nothing the user's module does while it is imported (a syntax error,
an exception, ``sys.exit()``) escapes.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from importlib.machinery import PathFinder
from types import ModuleType
from typing import Any

from nodes.apps.ref import CODE_DIR, REF, AppLoadError, AppStartError, is_ref

__all__ = ["CODE_DIR", "AppLoadError", "AppStartError", "is_ref", "load_factory", "split_ref"]
TAG = "__wirelab_code__"  # set on a top-level module imported from a code folder
_SYS_MODULES = threading.Lock()
"""Serializes loads: ``sys.modules`` is the process's, and the sim backend runs many nodes
(threads) in one process, each importing its code folder afresh."""


def split_ref(ref: str) -> tuple[str, str]:
    m = REF.match(ref)
    if m is None:
        raise AppLoadError(f"{ref!r} is not module:factory (like kvstore.server:make)")
    return m["module"], m["factory"]


_LIBRARIES = (
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,  # nodes/
    os.path.dirname(os.path.abspath(os.__file__)) + os.sep,  # the standard library
)


def where(exc: BaseException) -> str:
    """``file:line`` of the innermost frame of ``exc``'s traceback in the user's code (in
    ours or the standard library's when none is the user's); '' without a traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    mine = [f for f in frames if not os.path.abspath(f.filename).startswith(_LIBRARIES)]
    last = (mine or frames)[-1]
    return f"{last.filename}:{last.lineno}"


def describe(exc: BaseException) -> str:
    """``ValueError: bad port (server.py:12)``."""
    at = where(exc)
    text = f"{type(exc).__name__}: {exc}"
    return f"{text} ({at})" if at else text


def _folders(code_paths: Sequence[str]) -> list[str]:
    return [p for p in code_paths if os.path.isdir(p)]


def _searched(folders: Sequence[str]) -> str:
    shown = ", ".join(folders) if folders else f"none mounted at {CODE_DIR}"
    return f"the code folder ({shown}) and the node's Python packages"


def _under(path: str | None, folder: str) -> bool:
    if not path:
        return False
    return os.path.abspath(path).startswith(os.path.abspath(folder).rstrip("/") + "/")


def _forget(top: str) -> None:
    for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
        del sys.modules[name]


def _import_top(top: str, folder: str) -> None:
    """Import the top-level module ``top`` afresh from ``folder``."""
    existing = sys.modules.get(top)
    if existing is not None:
        if getattr(existing, TAG, None) is None and not _under(existing.__file__, folder):
            raise AppLoadError(
                f"{top} in the code folder {folder} has the name of a module the node's "
                f"Python already uses ({existing.__file__ or 'built in'}): rename it"
            )
        _forget(top)
    spec = PathFinder.find_spec(top, [folder])
    if spec is None or spec.loader is None:
        raise AppLoadError(f"cannot import {top} from {folder}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[top] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        _forget(top)
        raise
    setattr(module, TAG, folder)


def load_factory(ref: str, code_paths: Sequence[str] = (CODE_DIR,)) -> Callable[..., Any]:
    """The callable ``ref`` (``module:factory``) names; AppLoadError when it cannot be had."""
    module_name, attr = split_ref(ref)
    with _SYS_MODULES:
        module = _load_module(module_name, code_paths)
    factory = getattr(module, attr, None)
    if factory is None:
        names = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_"))
        have = ", ".join(names[:12]) or "no public callables"
        raise AppLoadError(f"{module_name} has no {attr!r} (it defines {have})")
    if not callable(factory):
        raise AppLoadError(f"{ref} is a {type(factory).__name__}, not a callable factory")
    return factory  # type: ignore[no-any-return]


def _load_module(module_name: str, code_paths: Sequence[str]) -> ModuleType:
    top = module_name.split(".", 1)[0]
    folders = _folders(code_paths)
    found = next((f for f in folders if PathFinder.find_spec(top, [f]) is not None), None)
    try:
        if found is not None:
            if found not in sys.path:
                sys.path.append(found)  # siblings: ``import helpers`` inside the app
            importlib.invalidate_caches()
            _import_top(top, found)
        return importlib.import_module(module_name)
    except AppLoadError:
        raise
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise AppLoadError(
                f"cannot import {module_name}: no module named {missing!r} in {_searched(folders)}"
            ) from None
        raise AppLoadError(f"importing {module_name} failed: {describe(exc)}") from None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SyntaxError, an exception at import, sys.exit() ...
        raise AppLoadError(f"importing {module_name} raised {describe(exc)}") from None
