"""The pytest plugin, as a user would use it: a tiny test module with the
``wirelab_topology`` marker and the ``wirelab_lab`` fixture, run by pytester."""

from __future__ import annotations

import pytest

import orchestrator.client.pytest_plugin as plugin
import topology

pytest_plugins = ["pytester"]

USER_TESTS = """
import pytest

pytestmark = pytest.mark.wirelab_topology({path!r}, backend="sim")


def test_ping(wirelab_lab):
    assert wirelab_lab.ping("h1", "h2", count=2, interval="10ms").received == 2


def test_loss_is_counted_and_transfer_survives(wirelab_lab):
    fault = wirelab_lab.add_fault(endpoint="r1:eth1", loss=0.05, seed=1)
    result = wirelab_lab.transfer("h1", "h2", size=100_000)
    assert result.sha256_match
    assert wirelab_lab.fault_counters(fault.fault_id).seen > 0


def test_faults_were_cleared_after_the_previous_test(wirelab_lab):
    assert wirelab_lab.faults(active_only=True) == []


def test_capture_and_counters(wirelab_lab):
    assert wirelab_lab.address("h2").count(".") == 3
    assert wirelab_lab.counters("r1").stack
    pcap = wirelab_lab.capture("h2", "eth0", duration=0.1)
    assert len(pcap) >= 24


def test_factory_deploys_a_second_lab(wirelab_lab_factory):
    other = wirelab_lab_factory({path!r}, name="second")
    assert other.name == "second" and other.partition(["h1"], ["h2"]).parts
"""


def test_a_user_test_module_runs_against_a_lab(
    pytester: pytest.Pytester, request: pytest.FixtureRequest
) -> None:
    pytester.makepyfile(test_user=USER_TESTS.format(path=topology.example_path("quickstart")))
    args = ["-p", "no:cacheprovider"]
    if not request.config.pluginmanager.is_registered(plugin):
        args += ["-p", "orchestrator.client.pytest_plugin"]  # not installed as an entry point yet
    result = pytester.runpytest_inprocess(*args)
    result.assert_outcomes(passed=5)


def test_the_fixture_asks_for_its_marker(
    pytester: pytest.Pytester, request: pytest.FixtureRequest
) -> None:
    pytester.makepyfile(test_nomark="def test_x(wirelab_lab):\n    pass\n")
    args = ["-p", "no:cacheprovider"]
    if not request.config.pluginmanager.is_registered(plugin):
        args += ["-p", "orchestrator.client.pytest_plugin"]
    result = pytester.runpytest_inprocess(*args)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*wirelab_topology*"])
