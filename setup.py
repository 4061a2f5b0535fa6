"""Package discovery: `nodes`, `topology`, `orchestrator` from the top level, and the
generated gRPC code under proto/wirelab installed as the `wirelab` package."""

from setuptools import find_packages, setup

_PROTO = find_packages(where="proto", include=["wirelab", "wirelab.*"])

setup(
    packages=find_packages(include=["nodes*", "topology*", "orchestrator*"]) + _PROTO,
    package_dir={name: "proto/" + name.replace(".", "/") for name in _PROTO},
)
