"""The end-to-end scenarios of tests/e2e_scenarios.py on the sim backend: the quickstart
lab deployed by the pytest plugin (``wirelab_lab``) through the LabService, every node in
this process. tests/docker/test_docker_scenarios.py runs the very same functions on
Docker."""

from __future__ import annotations

import pytest

from tests import e2e_scenarios as S

pytestmark = pytest.mark.wirelab_topology(S.QUICKSTART, backend="sim", name="scenarios-sim")
globals().update({f.__name__: f for f in S.SCENARIOS})
