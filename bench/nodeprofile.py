"""Where a real node's time goes: CPU split and a sampled profile of the agents during a bulk
transfer on the Docker path (``bench/profile-docker-bulk.txt`` with a full run).

- CPU: user and system time of each node's agent process over the window, from the host's
  ``/proc/<pid>/stat`` (percent of one core).
- Profile: ``py-spy record --format raw`` of each agent (when py-spy is installed; it is a
  dev dependency) while the transfer runs, folded into self time per function for the
  event-loop thread (the stacks through ``Runner.run``); gRPC's idle threads are left out.
  Time in ``EpollSelector.select`` is the loop waiting for frames, ``RawSocket.send`` and
  ``recv_batch`` are mostly the kernel (veth, bridge, the peer's delivery).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

_LINE = re.compile(r":\d+\)")  # py-spy's ":lineno)" in a frame: folded per function
_LOOP_MARK = "Runner.run ("


@dataclass(frozen=True, slots=True)
class CpuSplit:
    user_pct: float
    system_pct: float

    @property
    def total_pct(self) -> float:
        return self.user_pct + self.system_pct


def cpu_ticks(stat_line: str) -> tuple[int, int]:
    """(utime, stime) in clock ticks from one ``/proc/<pid>/stat`` line (the command name
    in parentheses may hold spaces)."""
    fields = stat_line[stat_line.rindex(")") + 2 :].split()
    return int(fields[11]), int(fields[12])


def cpu_split(before: tuple[int, int], after: tuple[int, int], seconds: float) -> CpuSplit:
    hz = os.sysconf("SC_CLK_TCK")
    return CpuSplit(
        100.0 * (after[0] - before[0]) / hz / seconds,
        100.0 * (after[1] - before[1]) / hz / seconds,
    )


def fold_loop_samples(raw: str) -> tuple[int, Counter[str]]:
    """From py-spy's raw output (``frame;frame;... count`` per line): the number of samples
    of the event-loop thread and its self samples per function (line numbers folded)."""
    total = 0
    own: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit() or _LOOP_MARK not in stack:
            continue
        n = int(count)
        total += n
        leaf = stack.rsplit(";", 1)[-1]
        own[_LINE.sub(")", leaf)] += n
    return total, own


def pyspy() -> str | None:
    """The py-spy executable next to this interpreter, or on PATH."""
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


def record(exe: str, pid: int, seconds: float, rate: int = 250) -> str:
    """py-spy's raw samples of ``pid`` for ``seconds`` ("" when it could not attach)."""
    out = Path(f"/tmp/wirelab-pyspy-{pid}-{os.getpid()}.txt")
    try:
        subprocess.run(
            [exe, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
             "--rate", str(rate), "--format", "raw", "--nonblocking", "--output", str(out)],
            capture_output=True, timeout=seconds + 30, check=False,
        )  # fmt: skip
        return out.read_text() if out.exists() else ""
    finally:
        out.unlink(missing_ok=True)


def profile_nodes(
    pids: Mapping[str, int], seconds: float, load: Callable[[], str], top: int = 20
) -> str:
    """Run ``load()`` (returns a one-line description of what it did) in a thread and, while
    it runs, sample each node for ``seconds``: the CPU split and (with py-spy) the loop's
    top ``top`` functions by self time. Returns the report text."""
    result: dict[str, str] = {}

    def run_load() -> None:
        try:
            result["load"] = load()
        except Exception as exc:  # the report says so; the bench goes on
            result["load"] = f"the load failed: {type(exc).__name__}: {exc}"

    worker = threading.Thread(target=run_load, daemon=True)
    worker.start()
    threading.Event().wait(min(1.0, seconds / 4))  # past the connection set-up
    exe = pyspy()
    raw: dict[str, str] = {}
    samplers = [
        threading.Thread(target=lambda n=n, p=p: raw.__setitem__(n, record(exe, p, seconds)))
        for n, p in pids.items()
        if exe is not None
    ]
    before = {n: cpu_ticks(Path(f"/proc/{p}/stat").read_text()) for n, p in pids.items()}
    for t in samplers:
        t.start()
    threading.Event().wait(seconds)
    after = {n: cpu_ticks(Path(f"/proc/{p}/stat").read_text()) for n, p in pids.items()}
    for t in samplers:
        t.join()
    worker.join()
    lines = [f"load: {result.get('load', '?')}", f"window: {seconds:g} s", "", "CPU (% of a core):"]
    total = 0.0
    for node in pids:
        split = cpu_split(before[node], after[node], seconds)
        total += split.total_pct
        lines.append(
            f"  {node:6} user {split.user_pct:5.1f}  system {split.system_pct:5.1f}"
            f"  total {split.total_pct:5.1f}"
        )
    lines.append(f"  all    {total:5.1f} of {100 * (os.cpu_count() or 1)}")
    if exe is None:
        lines += ["", "py-spy is not installed: no per-function profile (pip install py-spy)"]
        return "\n".join(lines) + "\n"
    for node in pids:
        samples, own = fold_loop_samples(raw.get(node, ""))
        lines += ["", f"{node}: event-loop thread, {samples} samples, top {top} by self time"]
        if not samples:
            lines.append("  (no samples: py-spy could not attach; run as root)")
            continue
        for func, n in own.most_common(top):
            lines.append(f"  {100.0 * n / samples:5.1f}%  {func}")
    return "\n".join(lines) + "\n"
