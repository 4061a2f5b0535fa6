"""Measurements on linux-kind nodes with the kernel's own tools (through the backend's
exec): iputils ``ping``, ``traceroute -n``, and small ``python3`` scripts for bulk
transfer (the same pattern bytes as nodes/apps/data.py) and HTTP GET. Outputs are parsed
into the same reports as our nodes', so results compare one to one with our stack.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from typing import Any

from orchestrator.domain.errors import FailedPrecondition
from orchestrator.domain.requests import PingRequest, TraceRequest
from orchestrator.domain.results import (
    HttpReport,
    PingProbe,
    PingReport,
    TraceHop,
    TraceProbe,
    TraceReport,
)

Exec = Callable[[list[str], float], tuple[int, str]]

PYTHON = 'command -v python3 >/dev/null && exec python3 "$@" || exec /opt/wirelab/bin/python "$@"'

SEND_SCRIPT = """
import hashlib, json, random, socket, sys, time
host, port, size, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
timeout = float(sys.argv[5])
base = random.Random(seed).randbytes(65536); h = hashlib.sha256(); left = size; err = ""
k = 0
t0 = time.monotonic()
try:
    s = socket.create_connection((host, port), timeout=timeout)
    while left > 0:
        r = k * 4099 % 65536; k += 1  # nodes/apps/data.py PatternStream
        block = (base[r:] + base[:r])[:left]
        s.sendall(block); h.update(block); left -= len(block)
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    s.close()
except OSError as exc:
    err = type(exc).__name__ + ": " + str(exc)
print(json.dumps({"bytes": size - left, "seconds": time.monotonic() - t0,
                  "sha256": h.hexdigest(), "error": err}))
"""

SINK_SCRIPT = """
import hashlib, json, socket, sys, time
port, timeout = int(sys.argv[1]), float(sys.argv[2])
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", port)); l.listen(1); l.settimeout(timeout)
h = hashlib.sha256(); n = 0; err = ""; t0 = time.monotonic(); peer = ("", 0)
try:
    c, peer = l.accept(); c.settimeout(timeout); t0 = time.monotonic()
    while True:
        b = c.recv(262144)
        if not b:
            break
        h.update(b); n += len(b)
    c.close()
except OSError as exc:
    err = type(exc).__name__ + ": " + str(exc)
print(json.dumps({"bytes": n, "seconds": time.monotonic() - t0, "sha256": h.hexdigest(),
                  "error": err, "remote_port": peer[1]}))
"""

HTTP_SCRIPT = """
import hashlib, json, sys, time, urllib.request
url, timeout = sys.argv[1], float(sys.argv[2]); t0 = time.monotonic()
out = {"status": 0, "bytes": 0, "sha256": "", "error": ""}
try:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        body = r.read(); out.update(status=r.status, bytes=len(body),
                                    sha256=hashlib.sha256(body).hexdigest())
except Exception as exc:
    out["error"] = type(exc).__name__ + ": " + str(exc)
out["seconds"] = time.monotonic() - t0
print(json.dumps(out))
"""


def python(script: str, *args: object) -> list[str]:
    """argv running ``script`` with python3 (or the node image's interpreter)."""
    return ["sh", "-c", PYTHON, "sh", "-c", script, *(str(a) for a in args)]


def json_result(code: int, output: str, what: str) -> dict[str, Any]:
    for line in reversed(output.strip().splitlines()):
        if line.startswith("{"):
            try:
                data: dict[str, Any] = json.loads(line)
                return data
            except json.JSONDecodeError:
                break
    raise FailedPrecondition(f"{what} failed (exit {code}): {output.strip()[-300:]}", "node")


# ---- ping -------------------------------------------------------------------------------

_REPLY = re.compile(
    r"bytes from ([0-9.]+).*icmp_seq=(\d+) ttl=(\d+) time=([0-9.]+) ms", re.IGNORECASE
)
_ERROR = re.compile(r"From ([0-9.]+).*icmp_seq=(\d+) (.*)$")
_ERRORS = {  # iputils wording -> (type, code)
    "Destination Net Unreachable": (3, 0),
    "Destination Host Unreachable": (3, 1),
    "Destination Port Unreachable": (3, 3),
    "Frag needed": (3, 4),
    "Time to live exceeded": (11, 0),
}


def ping(run: Exec, req: PingRequest, *, timeout: float) -> PingReport:
    """iputils ping to ``req.destination`` (an address)."""
    argv = ["ping", "-n", "-c", str(req.count)]
    if req.interval_s is not None:
        argv += ["-i", f"{req.interval_s:g}"]
    if req.size_bytes is not None:
        argv += ["-s", str(req.size_bytes)]
    if req.ttl is not None:
        argv += ["-t", str(req.ttl)]
    if req.wait_s is not None:
        argv += ["-W", f"{max(1.0, req.wait_s):g}"]
    argv += ["-M", "do" if req.dont_fragment else "dont", req.destination]
    _, output = run(argv, timeout)
    return parse_ping(output, req.count, 56 if req.size_bytes is None else req.size_bytes)


def parse_ping(output: str, count: int, size: int) -> PingReport:
    results: dict[int, PingProbe] = {}
    for line in output.splitlines():
        m = _REPLY.search(line)
        if m:
            seq = int(m.group(2))
            results[seq] = PingProbe(
                seq=seq,
                replied=True,
                source=m.group(1),
                rtt_ms=float(m.group(4)),
                ttl=int(m.group(3)),
                size_bytes=size,
            )
            continue
        m = _ERROR.search(line)
        if m:
            seq = int(m.group(2))
            icmp: tuple[int, int] | None = None
            mtu = None
            for text, codes in _ERRORS.items():
                if text.lower() in m.group(3).lower():
                    icmp = codes
                    found = re.search(r"mtu = (\d+)", m.group(3))
                    mtu = int(found.group(1)) if found else None
            results[seq] = PingProbe(
                seq=seq,
                source=m.group(1),
                size_bytes=size,
                icmp_type=None if icmp is None else icmp[0],
                icmp_code=None if icmp is None else icmp[1],
                next_hop_mtu=mtu,
            )
    probes = tuple(results.get(seq, PingProbe(seq, size_bytes=size)) for seq in range(1, count + 1))
    rtts = [p.rtt_ms for p in probes if p.replied and p.rtt_ms is not None]
    return PingReport(
        results=probes,
        transmitted=count,
        received=len(rtts),
        errors=sum(1 for p in probes if p.icmp_type is not None),
        loss=1.0 - len(rtts) / count,
        rtt_min_ms=min(rtts) if rtts else None,
        rtt_avg_ms=sum(rtts) / len(rtts) if rtts else None,
        rtt_max_ms=max(rtts) if rtts else None,
    )


# ---- traceroute -------------------------------------------------------------------------


def traceroute(run: Exec, req: TraceRequest, *, timeout: float) -> TraceReport:
    """traceroute -n to ``req.destination`` (an address)."""
    argv = ["traceroute", "-n"]
    if req.method == "icmp":
        argv.append("-I")
    if req.max_hops is not None:
        argv += ["-m", str(req.max_hops)]
    if req.probes is not None:
        argv += ["-q", str(req.probes)]
    if req.wait_s is not None:
        argv += ["-w", f"{max(1.0, req.wait_s):g}"]
    argv.append(req.destination)
    code, output = run(argv, timeout)
    if code != 0 and not re.search(r"^\s*\d+\s", output, re.MULTILINE):
        raise FailedPrecondition(
            f"traceroute failed (exit {code}): {output.strip()[-300:]}", "node"
        )
    return parse_traceroute(output, req.destination)


def parse_traceroute(output: str, destination: str) -> TraceReport:
    hops: list[TraceHop] = []
    for line in output.splitlines():
        m = re.match(r"^\s*(\d+)\s+(.*)$", line)
        if not m:
            continue
        ttl = int(m.group(1))
        probes: list[TraceProbe] = []
        responder = ""
        for token in re.finditer(r"(\*)|([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)|([0-9.]+) ms", m.group(2)):
            if token.group(1):
                probes.append(TraceProbe(ttl))
            elif token.group(2):
                responder = token.group(2)
            elif token.group(3):
                probes.append(TraceProbe(ttl, responder, float(token.group(3))))
        first = next((p.responder for p in probes if p.responder), "")
        hops.append(TraceHop(ttl, first, tuple(probes)))
    return TraceReport(tuple(hops), bool(hops) and hops[-1].responder == destination)


# ---- http -------------------------------------------------------------------------------


def http_get(run: Exec, url: str, *, wait: float, timeout: float) -> HttpReport:
    code, output = run(python(HTTP_SCRIPT, url, wait), timeout)
    data = json_result(code, output, "http GET")
    return HttpReport(
        status=int(data["status"]),
        bytes=int(data["bytes"]),
        sha256=str(data["sha256"]),
        seconds=float(data["seconds"]),
        error=str(data["error"]),
    )


def quote(argv: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)
