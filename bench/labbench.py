"""The Docker-backend benchmarks: deploy labs, measure, always destroy.

Methods (also in bench/README.md):

- TCP goodput: our BulkSend h1 -> r1 -> h2 (sink app), ``goodput_bps`` of the RPC
  (connect to the sink's close); Linux: ``iperf3 -n SIZE`` lx1 -> lxr -> lx2 (offloads
  off, as the deploy layer sets them on linux nodes), receiver's bytes/seconds.
- Loss ratio: the same transfer with a 1% random-loss fault on r1's egress toward the
  receiver, divided by the lossless goodput of the same repeat. The Linux kernel has no
  netem here, so its counterpart is the kernel TCP pair ka -> r1 -> kb through OUR router
  with the same fault.
- Request/response: 1-byte messages, one at a time (NODELAY). Ours: our stack both ends
  (kc runs our stack standalone: nodes.apps.echo.TcpEchoClient over a raw socket, the
  echo app on h2) through r1. Linux: a Python socket client/server lx1 -> lxr -> lx2.
  Each run gives p50/p99 of its round trips; the figure is the median over runs.
- Forwarding rate: ``iperf3 -u -l 64 -b 0`` from a kernel sender through the router to a
  kernel receiver: packets received per second (ka -> r1 -> kb for ours; lx1 -> lxr ->
  lx2 for Linux): the only difference between the two is the router.
- AddFault: while h1 pings h2 every 1 ms, AddFault(loss=1, icmp, r1 egress toward h2);
  time from the call until r1's fault counters show the first dropped packet (polled
  with ListFaults): an upper bound (includes up to 1 ms of ping interval and one poll).
- Deploy: ``deploy()`` until it returns (every agent SERVING with its apps, linux nodes
  configured), image cached; ``destroy()`` of the 50-node lab.
- Scale: the 100-node lab (``lan_line``: 20 routers in a line, each with a LAN of 4 hosts)
  deployed and destroyed ``scale_rounds`` times in a row (10); after each destroy, what is
  left of the lab (containers and networks by label, its agents' directory on the host)
  is counted: the leftovers figure is their sum and must be 0. The first round also pings
  across the lab (h1-1 -> h20-1, 21 hops), outside the clock.
- Idle node: VmRSS of the agent (PID 1 of the container) and its CPU time over a window,
  for every agent node of the path lab right after deploy.

Labs are driven as :class:`~orchestrator.lab.session.LabSession` (the server's running lab):
our nodes through their agents (:class:`~orchestrator.wire.agent.AgentWire`, domain results),
linux nodes through exec.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from statistics import median
from typing import Any

import topology
from bench import nodeprofile, scripts
from bench.results import Figure
from bench.stats import percentile
from bench.topologies import PathLabParts, fan_line, lan_line, path_lab, router_line, three_nodes
from nodes.faults.match import Match
from nodes.faults.model import Direction, Effects, FaultSpec
from orchestrator.domain import requests
from orchestrator.domain.errors import Cancelled
from orchestrator.domain.faults import FaultPart
from orchestrator.domain.lab import DeployProgress
from orchestrator.lab import load
from orchestrator.lab.backends.docker import DockerBackend
from orchestrator.lab.deploy import Deployed, deploy
from orchestrator.lab.labels import container_name
from orchestrator.lab.remove import destroy
from orchestrator.lab.session import LabSession
from topology import Lab

Log = Callable[[str], None]
MB = 1e6
ECHO_PORT = 7
KERNEL_ECHO_PORT = 7007
PATTERN_SEED = 1  # BulkSend's pattern (the sink hashes whatever arrives)


@dataclass(slots=True)
class DockerOptions:
    repeat: int = 3
    bulk_bytes: int = 200_000_000
    jumbo_bytes: int = 400_000_000
    linux_bulk_bytes: int = 2_000_000_000
    rr_count: int = 2000
    udp_seconds: float = 3.0
    fault_trials: int = 30
    idle_seconds: float = 10.0
    deploy_repeat: int = 3
    scale_rounds: int = 10
    run_id: str = ""
    node_profile: str = ""  # write the Docker bulk profile here ("" = none)
    node_profile_seconds: float = 6.0


class BenchError(RuntimeError):
    pass


def _lab_name(run_id: str, what: str) -> str:
    return f"wb{run_id}-{what}"[:32]


PING_LOAD_COUNT = 20  # pings at 50 ms during the transfer
PING_LOAD_SETTLE = 1.0  # s: the transfer runs this long before the pings start
PING_LOAD_BYTES = 150_000_000  # outlasts the pings at up to ~60 MB/s


class LabBench:
    """Runs the selected Docker figures; ``figures`` maps a figure name to its Figure."""

    def __init__(
        self,
        figures: dict[str, Figure],
        options: DockerOptions,
        log: Log,
        backend: DockerBackend | None = None,
    ) -> None:
        self.figures = figures
        self.opt = options
        self.log = log
        self.backend = backend or DockerBackend()
        self.last_cpu_bound = ""

    def wants(self, *names: str) -> bool:
        return any(n in self.figures for n in names)

    def record(self, name: str, fn: Callable[[], None]) -> None:
        """Run one figure's measurement; an error is recorded, the run goes on."""
        if name not in self.figures:
            return
        try:
            fn()
        except Exception as exc:  # one broken figure must not cost the others
            fig = self.figures[name]
            fig.error = f"{type(exc).__name__}: {exc}"[:2000]
            self.log(f"  {name}: ERROR {fig.error}")

    def add(self, name: str, value: float, *, linux: bool = False) -> None:
        fig = self.figures.get(name)
        if fig is None:
            return
        (fig.linux if linux else fig.samples).append(value)
        side = "linux" if linux else "ours"
        self.log(f"  {name} [{side}] {value:.4g} {fig.unit}")

    # ---- labs --------------------------------------------------------------------------
    def _progress(self, lab: str) -> Callable[[DeployProgress], None]:
        def show(ev: DeployProgress) -> None:
            if not ev.node and ev.done == 0:
                self.log(f"  [{lab}] {ev.step} ({ev.total}) {ev.message}".rstrip())

        return show

    @contextmanager
    def lab(self, text: str) -> Iterator[LabSession]:
        lab = topology.load_text(text)
        self.log(f"deploying {lab.name} ({len(lab.nodes)} nodes)")
        try:
            deployed = deploy(lab, self.backend, replace=True, progress=self._progress(lab.name))
            session = LabSession(deployed)
            try:
                yield session
            finally:
                session.close(destroy=False)
        finally:
            self.log(f"destroying {lab.name}")
            destroy(lab.name, self.backend)

    # ---- the whole run -----------------------------------------------------------------
    def run(self) -> None:
        path_figs = (
            "idle_rss_mb",
            "idle_cpu_pct",
            "tcp_goodput_1500",
            "ping_under_load_ms",
            "tcp_goodput_kernel_via_our_router",
            "tcp_loss_ratio",
            "udp_forward_pps",
            "addfault_first_packet_p99_ms",
            "addfault_rpc_p99_ms",
            "tcp_rr_p50_us",
            "tcp_rr_p99_us",
            "tcp_rr_kernel_via_our_router_p50_us",
        )
        if self.wants(*path_figs):
            self.path_lab()
        if self.wants("tcp_goodput_9000"):
            self.jumbo_lab()
        if self.wants("deploy_3_s", "deploy_line10_s", "deploy_50_s", "destroy_50_s"):
            self.deploy_figures()
        if self.wants(*SCALE_FIGURES):
            self.scale_figures()

    # ---- the measurement lab -----------------------------------------------------------
    def path_lab(self) -> None:
        needs_kernel_ends = self.wants(
            "tcp_goodput_kernel_via_our_router",
            "tcp_loss_ratio",
            "udp_forward_pps",
            "tcp_rr_kernel_via_our_router_p50_us",
        )
        needs_linux = self.wants(
            "tcp_goodput_1500",
            "ping_under_load_ms",
            "tcp_goodput_kernel_via_our_router",
            "udp_forward_pps",
            "tcp_rr_p50_us",
            "tcp_rr_p99_us",
            "tcp_rr_kernel_via_our_router_p50_us",
        )
        parts = PathLabParts(
            kernel_ends=needs_kernel_ends,
            rr_client=self.wants("tcp_rr_p50_us", "tcp_rr_p99_us"),
            linux_path=needs_linux,
        )
        text = path_lab(_lab_name(self.opt.run_id, "path"), parts=parts)
        with self.lab(text) as h:
            lab = h.lab
            self.record("idle_rss_mb", lambda: self.idle(h))
            linux_ok = self._setup_linux(h, parts)
            self._warm(h)
            self.record("tcp_goodput_1500", lambda: self.goodput(h, "tcp_goodput_1500", linux_ok))
            self.record("ping_under_load_ms", lambda: self.ping_under_load(h, linux_ok))
            if self.opt.node_profile:
                self.profile_bulk(h)
            if parts.kernel_ends:
                self.record(
                    "tcp_goodput_kernel_via_our_router", lambda: self.kernel_goodput(h, linux_ok)
                )
            self.record("tcp_loss_ratio", lambda: self.loss_ratio(h, lab))
            self.record("udp_forward_pps", lambda: self.udp_pps(h, linux_ok))
            self.record("addfault_first_packet_p99_ms", lambda: self.addfault(h, lab))
            self.record("tcp_rr_kernel_via_our_router_p50_us", lambda: self.rr_kernel(h, linux_ok))
            self.record("tcp_rr_p50_us", lambda: self.rr_ours(h, lab, linux_ok))

    def jumbo_lab(self) -> None:
        parts = PathLabParts(kernel_ends=False, rr_client=False, linux_path=True)
        text = path_lab(_lab_name(self.opt.run_id, "jumbo"), mtu=9000, parts=parts)
        with self.lab(text) as h:
            linux_ok = self._setup_linux(h, parts)
            self._warm(h)
            self.record(
                "tcp_goodput_9000",
                lambda: self.goodput(h, "tcp_goodput_9000", linux_ok, self.opt.jumbo_bytes),
            )

    # ---- setup -------------------------------------------------------------------------
    def exec(self, h: LabSession, node: str, argv: list[str], timeout: float = 60.0) -> str:
        result = h.exec(node, argv, timeout=timeout)
        if result.exit_code != 0:
            raise BenchError(
                f"{node}: `{' '.join(argv)[:200]}` exited {result.exit_code}: "
                f"{result.output.strip()[-800:]}"
            )
        return result.output

    def _setup_linux(self, h: LabSession, parts: PathLabParts) -> bool:
        """The Linux path works (lxr is deployed as a Linux-kernel router, ``forward: true``:
        ip_forward on and routes from the planner), then iperf3 and echo servers."""
        if parts.linux_path:
            try:
                self.exec(h, "lx1", ["ping", "-c", "1", "-W", "3", h.address("lx2")])
            except Exception as exc:
                self.log(f"  linux router setup failed: {exc}")
                for fig in self.figures.values():
                    fig.notes.append(f"linux path unavailable: {exc}"[:300])
                return False
        for node in ("kb", "lx2"):
            if node in _names(h) and (node != "lx2" or parts.linux_path):
                self.exec(h, node, ["iperf3", "-s", "-D"])
                argv = scripts.python_argv(scripts.KERNEL_ECHO_SERVER, KERNEL_ECHO_PORT)
                self.exec(h, node, scripts.detached(argv, "/tmp/echo.log"))
        # first transfers on a fresh path are slow (ARP, caches): one small one each
        if parts.kernel_ends:
            self.iperf_tcp(h, "ka", "kb", 1_000_000)
        if parts.linux_path:
            self.iperf_tcp(h, "lx1", "lx2", 1_000_000)
        return parts.linux_path

    def _warm(self, h: LabSession) -> None:
        """ARP and first packets out of the way: h1 pings h2 through r1."""
        req = requests.ping(h.address("h2"), count=3, interval="10ms", wait="2s")
        reply = h.agent("h1").ping(req, timeout=15)
        if reply.received == 0:
            raise BenchError("h1 cannot ping h2 through r1")
        self.bulk(h, 1_000_000)

    # ---- TCP goodput -------------------------------------------------------------------
    def bulk(self, h: LabSession, size: int) -> float:
        """Our BulkSend h1 -> h2: MB/s (``last_cpu_bound``: the saturation guard's words
        for it, "" when no node was CPU-bound)."""
        budget = 60.0 + size / 0.5e6
        names = {n.name for n in h.lab.nodes}
        ours = [n for n in ("h1", "r1", "h2") if n in names]
        before = load.snapshot(ours, lambda node: h.counters(node).io)
        reply = h.agent("h1").bulk_send(
            h.address("h2"), 5001, size, seed=PATTERN_SEED, sample_interval=None, wait=budget,
            timeout=budget + 10,
        )  # fmt: skip
        found = load.loads(before, load.snapshot(ours, lambda node: h.counters(node).io))
        self.last_cpu_bound = ", ".join(
            f"{x.node} loop busy {x.busy_fraction:.0%}, timers late {x.late_fraction:.0%}"
            for x in found
            if x.saturated
        )
        if reply.error:
            raise BenchError(f"BulkSend: {reply.error} after {reply.bytes} bytes")
        if reply.bytes != size:
            raise BenchError(f"BulkSend: {reply.bytes} of {size} bytes")
        return float(reply.goodput_bps) / 8 / MB

    def profile_bulk(self, h: LabSession) -> None:
        """CPU split and sampled profile of h1, r1, h2 during a BulkSend (nodeprofile.py)."""
        secs = self.opt.node_profile_seconds
        size = int(60e6 * (secs + 2))  # outlasts the window up to 60 MB/s
        api = self.backend.api
        pids = {
            n: int(api.inspect_container(container_name(h.lab.name, n))["State"]["Pid"])
            for n in ("h1", "r1", "h2")
        }
        self.log(f"profiling h1, r1, h2 during a {size / MB:g} MB BulkSend")

        def load() -> str:
            return f"BulkSend {size / MB:g} MB h1 -> r1 -> h2: {self.bulk(h, size):.1f} MB/s"

        text = nodeprofile.profile_nodes(pids, secs, load)
        with open(self.opt.node_profile, "w") as out:
            out.write(text)

    def iperf_tcp(self, h: LabSession, client: str, server: str, size: int) -> float:
        out = self.exec(
            h, client, ["iperf3", "-c", h.address(server), "-n", str(size), "-J"], timeout=300
        )
        doc = _json_in(out)
        recv = doc["end"]["sum_received"]
        return float(recv["bytes"]) / float(recv["seconds"]) / MB

    def goodput(self, h: LabSession, name: str, linux_ok: bool, size: int | None = None) -> None:
        size = size or self.opt.bulk_bytes
        linux_size = max(size, self.opt.linux_bulk_bytes) if size >= 10_000_000 else size
        for k in range(self.opt.repeat):
            self.log(f"{name}: run {k + 1}/{self.opt.repeat} ({size / MB:.0f} MB)")
            self.add(name, self.bulk(h, size))
            if self.last_cpu_bound:
                self.figures[name].cpu_bound.append(f"run {k + 1}: {self.last_cpu_bound}")
            if linux_ok:
                self.add(name, self.iperf_tcp(h, "lx1", "lx2", linux_size), linux=True)
        fig = self.figures[name]
        fig.notes.append(f"ours: BulkSend of {size / MB:g} MB h1 -> r1 -> h2 (our stack)")
        if linux_ok:
            fig.notes.append(f"linux: iperf3 -n {linux_size / MB:g} MB lx1 -> lxr -> lx2")

    def ping_under_load(self, h: LabSession, linux_ok: bool) -> None:
        """The issue's trap: under a bulk load, is the RTT the lab's or our queues'? The
        bulk sender pings its receiver (through the router) while its transfer runs:
        ours h1 -> r1 -> h2 (BulkSend), linux lx1 -> lxr -> lx2 (iperf3)."""
        name = "ping_under_load_ms"
        count, interval = PING_LOAD_COUNT, 0.05
        for k in range(self.opt.repeat):
            self.log(f"{name}: run {k + 1}/{self.opt.repeat}")
            self.add(name, self._ping_during(h, lambda: self.bulk(h, PING_LOAD_BYTES), count))
            if self.last_cpu_bound:
                self.figures[name].cpu_bound.append(f"run {k + 1}: {self.last_cpu_bound}")
            if linux_ok:
                seconds = count * interval + 2.0
                self.add(name, self._linux_ping_during(h, seconds, count, interval), linux=True)
        self.figures[name].notes.append(
            f"ours: {count} pings h1 -> h2 every 50 ms during a {PING_LOAD_BYTES / MB:g} MB "
            f"BulkSend h1 -> r1 -> h2, median RTT; linux: the same from lx1 during iperf3 "
            "lx1 -> lxr -> lx2"
        )

    def _ping_during(self, h: LabSession, load: Callable[[], float], count: int) -> float:
        done = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            try:
                load()
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                done.set()

        thread = threading.Thread(target=run, name="ping-load", daemon=True)
        thread.start()
        time.sleep(PING_LOAD_SETTLE)  # past the slow start
        req = requests.ping(h.address("h2"), count=count, interval="50ms", wait="2s")
        reply = h.agent("h1").ping(req, timeout=30)
        loaded = not done.is_set()
        thread.join(600)
        if errors:
            raise errors[0]
        if not loaded:
            raise BenchError(f"the transfer ended before the pings did: raise {PING_LOAD_BYTES}")
        rtts = [p.rtt_ms for p in reply.results if p.rtt_ms is not None]
        if not rtts:
            raise BenchError("no ping reply under load")
        return float(median(rtts))

    def _linux_ping_during(self, h: LabSession, seconds: float, count: int, gap: float) -> float:
        iperf = ["iperf3", "-c", h.address("lx2"), "-t", f"{seconds + PING_LOAD_SETTLE:g}"]
        thread = threading.Thread(
            target=lambda: self.exec(h, "lx1", iperf, timeout=seconds + 60),
            name="iperf-load", daemon=True,
        )  # fmt: skip
        thread.start()
        time.sleep(PING_LOAD_SETTLE)
        out = self.exec(h, "lx1", ["ping", "-n", "-c", str(count), "-i", f"{gap:g}",
                                   h.address("lx2")], timeout=60)  # fmt: skip
        thread.join(seconds + 90)
        rtts = [float(m) for m in re.findall(r"time=([0-9.]+) ms", out)]
        if not rtts:
            raise BenchError(f"lx1: no ping reply under load: {out[-300:]}")
        return float(median(rtts))

    def kernel_goodput(self, h: LabSession, linux_ok: bool) -> None:
        name = "tcp_goodput_kernel_via_our_router"
        size = max(self.opt.bulk_bytes, 1_000_000)
        for _ in range(self.opt.repeat):
            self.add(name, self.iperf_tcp(h, "ka", "kb", size))
            if linux_ok:
                self.add(name, self.iperf_tcp(h, "lx1", "lx2", size), linux=True)
        self.figures[name].notes.append(
            f"iperf3 -n {size / MB:g} MB: Linux TCP at both ends; ours: through our router r1, "
            "linux: through the linux router lxr"
        )

    # ---- loss --------------------------------------------------------------------------
    def _fault(self, h: LabSession, router: str, iface: str, *, loss: float, seed: int) -> str:
        spec = FaultSpec(iface, Effects(loss=loss), Direction.EGRESS, seed=seed)
        return h.agent(router).add_fault(spec, "", timeout=10).fault_id

    def _clear(self, h: LabSession, router: str, fault_id: str) -> FaultPart:
        return h.agent(router).clear_fault(fault_id)[0]

    def loss_ratio(self, h: LabSession, lab: Lab) -> None:
        name = "tcp_loss_ratio"
        size = self.opt.bulk_bytes
        to_h2 = _iface_toward(lab, "r1", "h2")
        kernel = "kb" in _names(h)
        to_kb = _iface_toward(lab, "r1", "kb") if kernel else ""
        ksize = max(size, 1_000_000)
        for k in range(self.opt.repeat):
            self.log(f"{name}: run {k + 1}/{self.opt.repeat}")
            clean = self.bulk(h, size)
            fid = self._fault(h, "r1", to_h2, loss=0.01, seed=100 + k)
            try:
                lossy = self.bulk(h, size)
            finally:
                info = self._clear(h, "r1", fid)
            self.log(f"  ours clean {clean:.2f} MB/s, 1% loss {lossy:.2f} MB/s, "
                     f"dropped {info.counters.dropped_loss}")  # fmt: skip
            self.add(name, lossy / clean)
            if kernel:
                kclean = self.iperf_tcp(h, "ka", "kb", ksize)
                fid = self._fault(h, "r1", to_kb, loss=0.01, seed=200 + k)
                try:
                    klossy = self.iperf_tcp(h, "ka", "kb", ksize)
                finally:
                    self._clear(h, "r1", fid)
                self.log(f"  kernel clean {kclean:.2f} MB/s, 1% loss {klossy:.2f} MB/s")
                self.add(name, klossy / kclean, linux=True)
        fig = self.figures[name]
        fig.notes.append(
            "1% random loss (seeded) on r1's egress toward the receiver; ratio per repeat"
        )
        if kernel:
            fig.notes.append(
                "linux: no netem on this kernel, so Linux TCP ends ka -> kb through OUR router "
                "with the same fault (iperf3)"
            )

    # ---- forwarding rate ---------------------------------------------------------------
    def iperf_udp(self, h: LabSession, client: str, server: str) -> float:
        secs = self.opt.udp_seconds
        argv = [
            "iperf3",
            "-c",
            h.address(server),
            "-u",
            "-l",
            "64",
            "-b",
            "0",
            "-t",
            f"{secs:g}",
            "-J",
        ]
        doc = _json_in(self.exec(h, client, argv, timeout=secs + 60))
        end = doc["end"]["sum"]
        received = float(end["packets"]) - float(end.get("lost_packets", 0))
        return received / float(end["seconds"])

    def udp_pps(self, h: LabSession, linux_ok: bool) -> None:
        name = "udp_forward_pps"
        if "ka" not in _names(h):
            raise BenchError("needs the kernel endpoints ka/kb")
        for k in range(self.opt.repeat):
            self.log(f"{name}: run {k + 1}/{self.opt.repeat}")
            self.add(name, self.iperf_udp(h, "ka", "kb"))
            if linux_ok:
                self.add(name, self.iperf_udp(h, "lx1", "lx2"), linux=True)
        self.figures[name].notes.append(
            f"iperf3 -u -l 64 -b 0 -t {self.opt.udp_seconds:g}: kernel sender and receiver, "
            "packets received per second; ours through r1, linux through lxr"
        )

    # ---- AddFault ----------------------------------------------------------------------
    def addfault(self, h: LabSession, lab: Lab) -> None:
        name = "addfault_first_packet_p99_ms"
        iface = _iface_toward(lab, "r1", "h2")
        r1 = h.agent("r1")
        trials = self.opt.fault_trials
        for k in range(self.opt.repeat):
            self.log(f"{name}: run {k + 1}/{self.opt.repeat} ({trials} trials)")
            ping = _Pinger(h, "h1", requests.ping(h.address("h2"), count=100_000,
                                                  interval="1ms", wait="1s"),
                           timeout=trials * 2.0 + 30)  # fmt: skip
            firsts: list[float] = []
            rpcs: list[float] = []
            try:
                time.sleep(0.2)
                for t in range(trials):
                    spec = FaultSpec(
                        iface,
                        Effects(loss=1.0),
                        Direction.EGRESS,
                        match=Match.of(protocol="icmp"),
                        seed=t,
                    )
                    t0 = time.perf_counter()
                    info = r1.add_fault(spec, "", timeout=10)
                    t1 = time.perf_counter()
                    while True:  # until the node reports the fault's first hit
                        hit = [f for f in r1.faults() if f.fault_id == info.fault_id]
                        if hit and hit[0].first_hit_ms is not None and hit[0].counters.dropped:
                            first_hit_ms = hit[0].first_hit_ms
                            break
                        if time.perf_counter() - t0 > 5:
                            raise BenchError("no packet dropped 5 s after AddFault")
                    # the fault was in force before the call returned: call time + the
                    # node's time from adding it to its first hit is an upper bound
                    firsts.append((t1 - t0) * 1000 + first_hit_ms)
                    rpcs.append((t1 - t0) * 1000)
                    self._clear(h, "r1", info.fault_id)
                    time.sleep(0.01)
            finally:
                ping.cancel()
            self.add(name, percentile(firsts, 99))
            self.add("addfault_rpc_p99_ms", percentile(rpcs, 99))
        self.figures[name].notes.append(
            f"{trials} trials per run, h1 pings h2 every 1 ms; AddFault(loss=1, icmp) on r1: "
            "the call's time plus the node's first_hit_ms (from adding the fault to the first "
            "packet it dropped), an upper bound (includes up to 1 ms of ping interval)"
        )

    # ---- request/response --------------------------------------------------------------
    def _rr_kernel_run(self, h: LabSession, client: str, server: str) -> list[float]:
        count = self.opt.rr_count
        argv = scripts.python_argv(
            scripts.KERNEL_RR_CLIENT, h.address(server), KERNEL_ECHO_PORT, count, 50
        )
        doc = _json_in(self.exec(h, client, argv, timeout=120))
        return [float(x) * 1e6 for x in doc["rtts"]]

    def rr_kernel(self, h: LabSession, linux_ok: bool) -> None:
        name = "tcp_rr_kernel_via_our_router_p50_us"
        for _ in range(self.opt.repeat):
            self.add(name, percentile(self._rr_kernel_run(h, "ka", "kb"), 50))
            if linux_ok:
                self.add(name, percentile(self._rr_kernel_run(h, "lx1", "lx2"), 50), linux=True)
        self.figures[name].notes.append(
            "Python socket client/server (Linux TCP) ka -> r1 -> kb; linux: lx1 -> lxr -> lx2"
        )

    def rr_ours(self, h: LabSession, lab: Lab, linux_ok: bool) -> None:
        kc = lab.node("kc").interfaces[0]
        gateway = next(i.address for i in lab.node("r1").interfaces if i.segment == kc.segment)
        count = self.opt.rr_count
        for k in range(self.opt.repeat):
            self.log(f"tcp_rr: run {k + 1}/{self.opt.repeat} ({count} round trips)")
            argv = scripts.python_argv(
                scripts.OURS_RR_CLIENT, kc.address, gateway, h.address("h2"), ECHO_PORT, count, 50
            )
            doc = _json_in(self.exec(h, "kc", argv, timeout=180))
            if doc.get("error") or not doc["rtts"]:
                raise BenchError(f"our echo client: {doc.get('error')} ({len(doc['rtts'])} rtts)")
            rtts = [float(x) * 1e6 for x in doc["rtts"]]
            self.add("tcp_rr_p50_us", percentile(rtts, 50))
            self.add("tcp_rr_p99_us", percentile(rtts, 99))
            if linux_ok:
                lrtts = self._rr_kernel_run(h, "lx1", "lx2")
                self.add("tcp_rr_p50_us", percentile(lrtts, 50), linux=True)
                self.add("tcp_rr_p99_us", percentile(lrtts, 99), linux=True)
        for name in ("tcp_rr_p50_us", "tcp_rr_p99_us"):
            if name in self.figures:
                self.figures[name].notes.append(
                    f"{count} 1-byte round trips per run; ours: our stack standalone on kc "
                    "(echo client) -> r1 -> h2 echo app; linux: Python sockets lx1 -> lxr -> lx2"
                )

    # ---- idle node ---------------------------------------------------------------------
    def _proc(self, h: LabSession, node: str) -> tuple[float, float]:
        out = self.exec(h, node, ["sh", "-c", "cat /proc/1/status; echo; cat /proc/1/stat"])
        rss = re.search(r"^VmRSS:\s+(\d+) kB", out, re.M)
        if rss is None:
            raise BenchError(f"{node}: no VmRSS in /proc/1/status")
        stat = out.strip().splitlines()[-1]
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        return int(rss.group(1)) * 1024 / MB, ticks / os.sysconf("SC_CLK_TCK")

    def idle(self, h: LabSession) -> None:
        nodes = [n.name for n in h.lab.nodes if n.kind.value != "linux"]
        window = self.opt.idle_seconds
        self.log(f"idle: {', '.join(nodes)} over {window:g} s")
        first: dict[str, tuple[float, float]] = {}
        started: dict[str, float] = {}

        def sample(node: str) -> None:
            started[node] = time.monotonic()
            first[node] = self._proc(h, node)

        _each(nodes, sample)
        time.sleep(window)
        for node in nodes:
            rss, cpu = self._proc(h, node)
            wall = time.monotonic() - started[node]
            self.add("idle_rss_mb", rss)
            self.add("idle_cpu_pct", 100.0 * (cpu - first[node][1]) / wall)
        for name in ("idle_rss_mb", "idle_cpu_pct"):
            if name in self.figures:
                self.figures[name].notes.append(
                    f"one sample per agent node ({', '.join(nodes)}): PID 1 VmRSS / CPU time "
                    f"over {window:g} s right after deploy"
                )

    # ---- deploy ------------------------------------------------------------------------
    def deploy_figures(self) -> None:
        cases = (
            ("deploy_3_s", three_nodes, "3"),
            ("deploy_line10_s", router_line, "line10"),
            ("deploy_50_s", fan_line, "n50"),
        )
        for name, make, short in cases:
            if not self.wants(name) and not (short == "n50" and self.wants("destroy_50_s")):
                continue
            lab = topology.load_text(make(_lab_name(self.opt.run_id, short)))
            key = name if self.wants(name) else "destroy_50_s"
            timed = "destroy_50_s" if short == "n50" else ""
            self.record(key, functools.partial(self._deploy_runs, lab, name, timed))

    def _deploy_runs(self, lab: Lab, name: str, destroy_figure: str = "") -> None:
        """``lab`` deployed and destroyed ``deploy_repeat`` times: ``name`` gets the deploy
        times, ``destroy_figure`` (if any) the destroy times."""
        destroy(lab.name, self.backend)  # a leftover of an interrupted run
        self.backend.image()  # the image is cached before the clock starts
        for k in range(self.opt.deploy_repeat):
            self.log(f"{name}: run {k + 1}/{self.opt.deploy_repeat} ({len(lab.nodes)} nodes)")
            t0 = time.perf_counter()
            try:
                deploy(lab, self.backend, progress=self._progress(lab.name))
                t1 = time.perf_counter()
            finally:
                t2 = time.perf_counter()
                destroy(lab.name, self.backend)
                t3 = time.perf_counter()
            self.add(name, t1 - t0)
            if destroy_figure:
                self.add(destroy_figure, t3 - t2)
        if name in self.figures:
            self.figures[name].notes.append(
                f"{len(lab.nodes)} nodes, {len(lab.segments)} links: deploy() until every agent "
                "is SERVING (image cached)"
            )

    # ---- scale: 100 nodes, deployed and destroyed again and again --------------------------
    def scale_figures(self) -> None:
        lab = topology.load_text(lan_line(_lab_name(self.opt.run_id, "n100")))
        key = next(n for n in SCALE_FIGURES if self.wants(n))
        self.record(key, functools.partial(self._scale_rounds, lab))

    def leftovers(self, lab: str) -> list[str]:
        """What is left of ``lab``: its containers and networks (by label) and its agents'
        directory on the host."""
        left = self.backend.find(lab).names
        directory = self.backend.run_dir / lab
        return left + ([str(directory)] if directory.exists() else [])

    def _scale_rounds(self, lab: Lab) -> None:
        rounds = self.opt.scale_rounds
        destroy(lab.name, self.backend)  # a leftover of an interrupted run
        self.backend.image()  # the image is cached before the clock starts
        counts: list[int] = []
        for k in range(rounds):
            self.log(f"scale: round {k + 1}/{rounds} ({len(lab.nodes)} nodes)")
            failed = ""
            t0 = time.perf_counter()
            try:
                deployed = deploy(lab, self.backend, progress=self._progress(lab.name))
                self.add("deploy_100_s", time.perf_counter() - t0)
                if k == 0:
                    self._across(deployed)
            except Exception as exc:
                failed = f"{type(exc).__name__}: {exc}"
            t2 = time.perf_counter()
            try:
                destroy(lab.name, self.backend)
                self.add("destroy_100_s", time.perf_counter() - t2)
            except Exception as exc:
                failed += f" destroy: {type(exc).__name__}: {exc}"
            left = self.leftovers(lab.name)
            counts.append(len(left))
            if failed or left:
                note = f"round {k + 1}: {failed.strip() or 'destroy returned'}; left: {left}"
                self.log(f"  {note}"[:2000])
                self._note(note[:2000])
            if left:  # clean up for the next round; if that fails too, stop here
                destroy(lab.name, self.backend)
                if self.leftovers(lab.name):
                    raise BenchError(f"round {k + 1}: cannot clean up {lab.name}")
        self.add("destroy_100_leftovers", float(sum(counts)))
        self._note(
            f"{len(lab.nodes)} nodes, {len(lab.segments)} networks "
            f"({sum(1 for s in lab.segments if len(s.members) > 2)} LANs), {rounds} rounds in a "
            f"row; objects left after each destroy: {counts}"
        )

    def _note(self, text: str) -> None:
        for name in SCALE_FIGURES:
            if name in self.figures:
                self.figures[name].notes.append(text)

    def _across(self, deployed: Deployed) -> None:
        """h1-1 pings h20-1 (every router on the way), as the issue's lab did."""
        lab = deployed.lab
        hosts = [n.name for n in lab.nodes if n.kind.value == "host"]
        src, dst = hosts[0], hosts[-1]
        session = LabSession(deployed)
        try:
            request = requests.ping(session.address(dst), count=3, interval="100ms", wait="3s")
            reply = session.agent(src).ping(request, timeout=30.0)
        finally:
            session.close(destroy=False)
        ttl = reply.results[0].ttl if reply.results else 0
        hops = 64 - ttl + 1 if ttl else 0
        self._note(f"round 1: {src} -> {dst}: {reply.received}/3 replies, {hops} hops (TTL {ttl})")
        if reply.received == 0:
            raise BenchError(f"ping: {src} cannot reach {dst} across the 100-node lab")


class _Pinger:
    """A ping from ``node`` running in a thread while the caller measures; :meth:`cancel`
    ends it (the node's ping job stops with the call)."""

    def __init__(
        self, h: LabSession, node: str, request: requests.PingRequest, *, timeout: float
    ) -> None:
        self._cancel: list[Callable[[], object]] = []
        self._started = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(h, node, request, timeout), name=f"ping-{node}", daemon=True
        )
        self._thread.start()
        self._started.wait(10.0)

    def _run(self, h: LabSession, node: str, request: requests.PingRequest, timeout: float) -> None:
        def started(cancel: Callable[[], object]) -> None:
            self._cancel.append(cancel)
            self._started.set()

        try:
            h.agent(node).ping(request, timeout=timeout, on_start=started)
        except Cancelled:
            pass
        finally:
            self._started.set()

    def cancel(self) -> None:
        for cancel in self._cancel:
            cancel()
        self._thread.join(10.0)


SCALE_FIGURES = ("deploy_100_s", "destroy_100_s", "destroy_100_leftovers")


def _names(h: LabSession) -> list[str]:
    return [n.name for n in h.lab.nodes]


def _each(items: list[str], fn: Callable[[str], None]) -> None:
    threads = [threading.Thread(target=fn, args=(i,)) for i in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _iface_toward(lab: Lab, node: str, peer: str) -> str:
    peer_segments = {i.segment for i in lab.node(peer).interfaces}
    for iface in lab.node(node).interfaces:
        if iface.segment in peer_segments:
            return iface.name
    raise BenchError(f"{node} has no link to {peer}")


def _json_in(output: str) -> dict[str, Any]:
    """The JSON object in a command's output (iperf3 -J, our scripts), noise around it."""
    start = output.find("{")
    if start < 0:
        raise BenchError(f"no JSON in the output: {output.strip()[-500:]}")
    try:
        doc, _ = json.JSONDecoder().raw_decode(output[start:])
    except ValueError as exc:
        raise BenchError(f"bad JSON ({exc}): {output.strip()[-500:]}") from None
    if not isinstance(doc, dict):
        raise BenchError("the JSON is not an object")
    if "error" in doc and isinstance(doc["error"], str) and "end" not in doc and "rtts" not in doc:
        raise BenchError(f"iperf3: {doc['error']}")
    return doc


__all__ = ["DockerOptions", "LabBench"]
