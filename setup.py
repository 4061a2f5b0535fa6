"""Package discovery: `nodes`, `topology`, `orchestrator` from the top level, and the
generated gRPC code under proto/wirelab installed as the `wirelab` package.

Compiled code goes into wheels only (the node image installs one), never in place: an
editable install (``make venv``) stays pure Python, so no stale shared object can shadow
an edited source. Two kinds, each with the pure-Python source as its fallback:

- ``nodes.wire._checksum``, a small C extension (the Internet checksum's sum; the pure
  ``nodes.wire.checksum`` is its fallback); ``optional``: without a compiler it is left out.
- The node's per-packet code compiled by mypyc (issue 15): the modules listed under
  ``[tool.wirelab.mypyc]`` in pyproject.toml (the one list, with the modules left pure and
  why). Only when building a wheel (``pip wheel``, ``python -m build``, ``setup.py
  bdist_wheel``/``build``), with the mypy pinned in ``[build-system] requires`` importable
  and a working C compiler, and unless ``WIRELAB_PURE=1``; otherwise the wheel is pure
  Python and this says why on stderr."""

from __future__ import annotations

import glob
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

from setuptools import Extension, find_namespace_packages, find_packages, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
_PROTO = find_packages(where="proto", include=["wirelab", "wirelab.*"])
# namespace packages too: orchestrator/domain, lab and service have no __init__.py (a
# wheel without them has no CLI, service or client); the examples are package data
_PACKAGES = find_namespace_packages(
    include=["nodes", "nodes.*", "topology", "topology.*", "orchestrator", "orchestrator.*"],
    exclude=["*.__pycache__", "topology.examples", "topology.examples.*"],
)
# the commands that build a wheel's contents (an editable install runs editable_wheel,
# metadata queries egg_info: neither compiles)
_WHEEL_COMMANDS = {"bdist_wheel", "build"}


class BuildExtNotInPlace(build_ext):
    def run(self) -> None:
        if self.inplace or getattr(self, "editable_mode", False):
            return  # editable installs and `build_ext -i`: the pure-Python fallback
        super().run()


def _say(message: str) -> None:
    print(f"wirelab setup.py: {message}", file=sys.stderr)


def _pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def mypyc_paths(config: dict[str, Any]) -> list[str]:
    """The source files ``[tool.wirelab.mypyc]`` names: every module of its packages and
    its single modules, less its exclusions and empty ``__init__.py`` files; sorted."""
    section = config["tool"]["wirelab"]["mypyc"]
    found: set[str] = set(section.get("modules", []))
    for package in section.get("packages", []):
        found.update(glob.glob(f"{package}/**/*.py", root_dir=ROOT, recursive=True))
    found -= set(section.get("exclude", []))
    return sorted(p for p in found if (ROOT / p).stat().st_size > 0)


def _pinned_mypy(config: dict[str, Any]) -> str | None:
    for req in config["build-system"]["requires"]:
        name, sep, version = req.replace(" ", "").partition("==")
        if name.lower() == "mypy" and sep:
            return version
    return None


def _compiler_works() -> str | None:
    """None when a C compiler builds against this Python's headers, else why not."""
    import tempfile

    from setuptools._distutils import ccompiler, sysconfig

    compiler = ccompiler.new_compiler()
    sysconfig.customize_compiler(compiler)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "probe.c"
        source.write_text("#include <Python.h>\nint wirelab_probe(void) { return 0; }\n")
        try:
            compiler.compile(
                [str(source)], output_dir=tmp, include_dirs=[sysconfig.get_python_inc()]
            )
        except Exception as exc:  # distutils' errors differ between setuptools versions
            return f"no working C compiler with Python.h ({exc})"
    return None


def mypyc_extensions() -> list[Extension]:
    """The mypyc-compiled modules for a wheel build, or [] (pure) with the reason said."""
    if not _WHEEL_COMMANDS & set(sys.argv[1:]):
        return []  # editable installs, egg_info, build_ext (tests build the checksum so)
    if os.environ.get("WIRELAB_PURE", "") not in ("", "0"):
        _say("WIRELAB_PURE is set: a pure-Python wheel (no mypyc)")
        return []
    config = _pyproject()
    try:
        import mypy.version
        from mypyc.build import mypycify
    except ImportError:
        _say("mypyc is not importable (pip wheel --no-build-isolation without mypy?): "
             "a pure-Python wheel")  # fmt: skip
        return []
    pinned = _pinned_mypy(config)
    if pinned is not None and mypy.version.__version__ != pinned:
        _say(f"mypy {mypy.version.__version__} is not the pinned {pinned} "
             "(pyproject.toml [build-system]): a pure-Python wheel")  # fmt: skip
        return []
    why = _compiler_works()
    if why is not None:
        _say(f"{why}: a pure-Python wheel")
        return []
    paths = mypyc_paths(config)
    _say(f"compiling {len(paths)} modules with mypyc {mypy.version.__version__}")
    # from the project root, where every setuptools build runs: mypy reads [tool.mypy]
    # from its pyproject.toml, and the generated C goes to build/
    # one group, so calls between the modules stay native; its shared library is the
    # top-level wirelab_nodes__mypyc (the modules' own .so files are small shims into it)
    extensions: list[Extension] = mypycify(
        paths, opt_level="3", debug_level="0", group_name="wirelab_nodes"
    )
    return extensions


setup(
    packages=_PACKAGES + _PROTO,
    package_dir={name: "proto/" + name.replace(".", "/") for name in _PROTO},
    ext_modules=[
        Extension(
            "nodes.wire._checksum",
            sources=["nodes/wire/_checksum.c"],
            extra_compile_args=["-O3"],
            optional=True,
        ),
        *mypyc_extensions(),
    ],
    cmdclass={"build_ext": BuildExtNotInPlace},
)
