"""Package discovery: `nodes`, `topology`, `orchestrator` from the top level, and the
generated gRPC code under proto/wirelab installed as the `wirelab` package.

One optional C extension, ``nodes.wire._checksum`` (the Internet checksum's sum; the
pure-Python ``nodes.wire.checksum`` is its fallback): built into wheels (the node image
installs one), never in place. An editable install (``make venv``) stays pure Python,
so no stale shared object can shadow an edited source; without a compiler the wheel is
pure too (``optional``)."""

from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext

_PROTO = find_packages(where="proto", include=["wirelab", "wirelab.*"])


class BuildExtNotInPlace(build_ext):
    def run(self) -> None:
        if self.inplace or getattr(self, "editable_mode", False):
            return  # editable installs and `build_ext -i`: the pure-Python fallback
        super().run()


setup(
    packages=find_packages(include=["nodes*", "topology*", "orchestrator*"]) + _PROTO,
    package_dir={name: "proto/" + name.replace(".", "/") for name in _PROTO},
    ext_modules=[
        Extension(
            "nodes.wire._checksum",
            sources=["nodes/wire/_checksum.c"],
            extra_compile_args=["-O3"],
            optional=True,
        )
    ],
    cmdclass={"build_ext": BuildExtNotInPlace},
)
