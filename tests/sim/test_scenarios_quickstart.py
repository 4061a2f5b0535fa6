"""The end-to-end scenarios of tests/e2e_scenarios.py on the sim backend: the quickstart
lab deployed by the pytest plugin (``wirelab_lab``) through the LabService, every node in
this process. tests/docker/test_docker_scenarios.py runs the very same functions on
Docker."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest


def _scenarios() -> ModuleType:
    name = "wirelab_e2e_scenarios"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "e2e_scenarios.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        sys.modules[name] = module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules[name]


S = _scenarios()
pytestmark = pytest.mark.wirelab_topology(S.QUICKSTART, backend="sim", name="scenarios-sim")
globals().update({f.__name__: f for f in S.SCENARIOS})
