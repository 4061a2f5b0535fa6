"""Agent jobs: every kind of job can be expired, and reports what it has."""

from __future__ import annotations

from nodes.agent.jobs import HttpGetJob
from nodes.apps.testing import tcp_line
from nodes.wire.addr import ip_to_str


def test_an_expired_http_get_reports_a_cancelled_partial_result() -> None:
    line = tcp_line(1)
    url = f"http://{ip_to_str(line.address('h2'))}:8080/"  # nobody listens: never completes
    job = HttpGetJob(line.left, url, timeout=30.0)
    job.start(0.0)
    assert not job.ready()
    result = job.expire(0.5)
    assert result.error == "ECANCELED"
    assert job.ready()
