"""``python -m bench`` (``make bench``): run the benchmarks, print the table, write JSON.

    python -m bench                      # everything, 3 repeats -> bench/results.json
    python -m bench --quick              # tiny sizes, 1 repeat (a smoke run)
    python -m bench --only tcp_goodput_1500,deploy_3_s,sim_virtual_per_wall -o /tmp/r.json
    python -m bench --list               # the figures and their targets

Progress goes to stderr; the table to stdout. Labs are always destroyed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.results import Figure, Target, document, loadavg, render_table

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "bench" / "results.json"
DEFAULT_PROFILE = ROOT / "bench" / "profile-sim-bulk.txt"
VIRTUAL_PROFILE = "profile-virtual-bulk.txt"  # beside the sim profile
DEFAULT_NODE_PROFILE = ROOT / "bench" / "profile-docker-bulk.txt"


@dataclass(frozen=True, slots=True)
class Spec:
    name: str
    unit: str
    description: str
    target: Target | None
    stat: str = "median over runs"
    docker: bool = True  # on the host's Docker engine (bench/labbench.py)
    swarm: bool = False  # across three Docker daemons in a swarm (bench/swarmbench.py)


SPECS: tuple[Spec, ...] = (
    Spec("tcp_goodput_1500", "MB/s", "TCP bulk goodput host -> router -> host, MTU 1500",
         Target(">=", 100)),
    Spec("tcp_goodput_9000", "MB/s", "TCP bulk goodput host -> router -> host, MTU 9000",
         Target(">=", 400)),
    Spec("tcp_loss_ratio", "ratio", "goodput under 1% random loss / lossless goodput",
         Target(">=", 0.5)),
    Spec("tcp_goodput_kernel_via_our_router", "MB/s",
         "Linux TCP ends, goodput through our router (linux: through a linux router)", None),
    Spec("tcp_rr_p50_us", "us", "TCP 1-byte request/response through one router, p50",
         Target("<=", 150), "median over runs of each run's p50"),
    Spec("tcp_rr_p99_us", "us", "TCP 1-byte request/response through one router, p99",
         Target("<=", 1000), "median over runs of each run's p99"),
    Spec("tcp_rr_kernel_via_our_router_p50_us", "us",
         "Linux TCP ends, 1-byte request/response p50 through our router", None,
         "median over runs of each run's p50"),
    Spec("ping_under_load_ms", "ms",
         "ping sender -> receiver through one router while the sender's bulk TCP transfer "
         "runs (the queues it meets), median", Target("<=", 2),
         "median over runs of each run's median"),
    Spec("udp_forward_pps", "pkt/s", "router forwarding rate, 64-byte UDP payloads",
         Target(">=", 150_000)),
    Spec("deploy_3_s", "s", "deploy until every node is ready: 3 nodes", Target("<=", 3)),
    Spec("deploy_line10_s", "s", "deploy until ready: 10 routers in a line (12 nodes)",
         Target("<=", 10)),
    Spec("deploy_50_s", "s", "deploy until ready: 50 nodes", Target("<=", 30)),
    Spec("destroy_50_s", "s", "destroy the 50-node lab", Target("<=", 10)),
    Spec("swarm_deploy_50_s", "s",
         "swarm: deploy until ready, the 50-node lab across 3 Docker daemons (every link an "
         "overlay between two)", None, docker=False, swarm=True),
    Spec("swarm_destroy_50_s", "s", "swarm: destroy the 50-node lab across 3 daemons", None,
         docker=False, swarm=True),
    Spec("swarm_goodput_1500", "MB/s",
         "swarm: TCP bulk goodput host -> router -> host, each on its own daemon (overlays, "
         "underlay MTU 1500, links 1450)", None, docker=False, swarm=True),
    Spec("deploy_100_s", "s",
         "deploy until ready: 100 nodes (20 routers in a line, each with a LAN of 4 hosts), "
         "deployed and destroyed ten times in a row", None, "median over the rounds"),
    Spec("destroy_100_s", "s", "destroy the 100-node lab, after each of the rounds", None,
         "median over the rounds"),
    Spec("destroy_100_leftovers", "objects",
         "containers, networks and agent directories of the 100-node lab left after its "
         "destroys", Target("<=", 0), "sum over the rounds"),
    Spec("addfault_first_packet_p99_ms", "ms", "AddFault call until the first packet is affected",
         Target("<=", 5), "median over runs of each run's p99"),
    Spec("addfault_rpc_p99_ms", "ms", "AddFault RPC round trip (the fault is in force on return)",
         None, "median over runs of each run's p99"),
    Spec("idle_rss_mb", "MB", "idle node: resident memory of the agent", Target("<=", 40),
         "median over nodes"),
    Spec("idle_cpu_pct", "% core", "idle node: CPU", Target("<=", 1), "median over nodes"),
    Spec("sim_virtual_per_wall", "ratio",
         "sim: virtual seconds per wall second, TCP transfer h1 -> r1 -> h2 in-process",
         Target(">=", 1), docker=False),
    Spec("sim_wall_goodput", "MB/s", "sim: bytes moved per wall second (same transfer)", None,
         docker=False),
    Spec("virtual_per_wall", "ratio",
         "virtual backend: virtual seconds per wall second, TCP transfer over one "
         "100 Mbit/s 10 ms link (h1 -> h2), as the lab service runs it",
         Target(">=", 5), docker=False),
)  # fmt: skip
BY_NAME = {s.name: s for s in SPECS}


@dataclass(slots=True)
class Sizes:
    repeat: int
    bulk: int
    jumbo: int
    linux_bulk: int
    rr_count: int
    udp_seconds: float
    fault_trials: int
    idle_seconds: float
    deploy_repeat: int
    scale_rounds: int
    sim_bytes: int
    sim_delay: float
    profile_bytes: int
    virtual_bytes: int


# Bulk sizes: several seconds each (like iperf3's default 10 s), past the start-up; our
# 50 MB runs (2 s) varied 21-27 MB/s with the ramp-up, 200 MB runs 27-31 MB/s.
FULL = Sizes(3, 200_000_000, 400_000_000, 2_000_000_000, 2000, 3.0, 30, 10.0, 3, 10,
             100_000_000, 0.001, 20_000_000, 100_000_000)  # fmt: skip
QUICK = Sizes(1, 2_000_000, 5_000_000, 20_000_000, 200, 1.0, 5, 2.0, 1, 1,
              5_000_000, 0.001, 2_000_000, 5_000_000)  # fmt: skip


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--quick", action="store_true", help="tiny sizes, 1 repeat")
    p.add_argument("--repeat", type=int, help="runs per figure (default 3; --quick 1)")
    p.add_argument("--only", default="", help="comma-separated figure names (see --list)")
    p.add_argument("--skip", default="", help="comma-separated figure names to leave out")
    p.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    p.add_argument("--bulk-mb", type=float, help="our TCP transfer size, MB")
    p.add_argument("--sim-mb", type=float, help="sim transfer size, MB (default 100)")
    p.add_argument("--virtual-mb", type=float,
                   help="virtual-backend transfer size, MB (default 100; --quick 5)")  # fmt: skip
    p.add_argument("--rr-count", type=int, help="round trips per request/response run")
    p.add_argument("--idle-seconds", type=float)
    p.add_argument("--deploy-repeat", type=int)
    p.add_argument(
        "--scale-rounds",
        type=int,
        help="deploy-and-destroy rounds of the 100-node lab (default 10; --quick 1)",
    )
    p.add_argument("--profile", type=Path, default=None,
                   help=f"write the sim bulk profile here (default with a full run: "
                        f"{DEFAULT_PROFILE.relative_to(ROOT)})")  # fmt: skip
    p.add_argument("--no-profile", action="store_true",
                   help="no profiles (a full run writes the sim one and, with tcp_goodput_1500, "
                        f"{DEFAULT_NODE_PROFILE.relative_to(ROOT)})")  # fmt: skip
    p.add_argument("--image", help="node image tag (default: build or find the current one)")
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    return p.parse_args(argv)


def select(only: str, skip: str) -> list[Spec]:
    names = [n.strip() for n in only.split(",") if n.strip()] or [s.name for s in SPECS]
    unknown = [n for n in names if n not in BY_NAME]
    skipped = {n.strip() for n in skip.split(",") if n.strip()}
    unknown += [n for n in skipped if n not in BY_NAME]
    if unknown:
        raise SystemExit(f"unknown figure(s): {', '.join(unknown)} (see --list)")
    return [BY_NAME[n] for n in names if n not in skipped]


def sizes_from(args: argparse.Namespace) -> Sizes:
    s = QUICK if args.quick else FULL
    s = Sizes(**{k: getattr(s, k) for k in Sizes.__slots__})
    if args.repeat is not None:
        s.repeat = max(1, args.repeat)
    if args.bulk_mb is not None:
        s.bulk = int(args.bulk_mb * 1e6)
    if args.sim_mb is not None:
        s.sim_bytes = int(args.sim_mb * 1e6)
    if args.virtual_mb is not None:
        s.virtual_bytes = int(args.virtual_mb * 1e6)
    if args.rr_count is not None:
        s.rr_count = args.rr_count
    if args.idle_seconds is not None:
        s.idle_seconds = args.idle_seconds
    if args.deploy_repeat is not None:
        s.deploy_repeat = max(1, args.deploy_repeat)
    if args.scale_rounds is not None:
        s.scale_rounds = max(1, args.scale_rounds)
    return s


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_sim(figures: dict[str, Figure], sizes: Sizes, profile: Path | None) -> None:
    from bench.simbench import profile_transfer, sim_transfer

    if "sim_virtual_per_wall" in figures or "sim_wall_goodput" in figures:
        for k in range(sizes.repeat):
            log(f"sim: run {k + 1}/{sizes.repeat} ({sizes.sim_bytes / 1e6:g} MB)")
            try:
                run = sim_transfer(sizes.sim_bytes, delay=sizes.sim_delay)
            except Exception as exc:
                for name in ("sim_virtual_per_wall", "sim_wall_goodput"):
                    if name in figures:
                        figures[name].error = f"{type(exc).__name__}: {exc}"
                break
            if not run.sha_ok:
                figures.get("sim_virtual_per_wall", Figure("", "", "")).notes.append("SHA MISMATCH")
            log(f"  virtual {run.virtual_s:.3f} s, wall {run.wall_s:.2f} s, ratio {run.ratio:.3f}"
                f", virtual goodput {run.virtual_goodput_mbps:.0f} MB/s")  # fmt: skip
            if "sim_virtual_per_wall" in figures:
                figures["sim_virtual_per_wall"].samples.append(run.ratio)
            if "sim_wall_goodput" in figures:
                figures["sim_wall_goodput"].samples.append(run.size / run.wall_s / 1e6)
        note = (
            f"{sizes.sim_bytes / 1e6:g} MB over build_line(1), link delay "
            f"{sizes.sim_delay * 1e3:g} ms, links without a rate limit: virtual time is "
            "set by TCP's window over the RTT, wall time by our per-packet Python work"
        )
        for name in ("sim_virtual_per_wall", "sim_wall_goodput"):
            if name in figures:
                figures[name].notes.append(note)
    sim_figures = "sim_virtual_per_wall" in figures or "sim_wall_goodput" in figures
    if profile is not None and sim_figures:
        log(f"profiling the sim bulk path ({sizes.profile_bytes / 1e6:g} MB) -> {profile}")
        _, text = profile_transfer(sizes.profile_bytes, delay=sizes.sim_delay)
        profile.write_text(text)
    run_virtual(figures, sizes, None if profile is None else profile.with_name(VIRTUAL_PROFILE))


def run_virtual(figures: dict[str, Figure], sizes: Sizes, profile: Path | None) -> None:
    """The virtual backend's figure (and its profile beside the sim one)."""
    from bench.simbench import profile_virtual, virtual_transfer

    figure = figures.get("virtual_per_wall")
    if figure is None:
        return
    for k in range(sizes.repeat):
        log(f"virtual: run {k + 1}/{sizes.repeat} ({sizes.virtual_bytes / 1e6:g} MB)")
        try:
            run = virtual_transfer(sizes.virtual_bytes)
        except Exception as exc:
            figure.error = f"{type(exc).__name__}: {exc}"
            return
        if not run.sha_ok:
            figure.notes.append("SHA MISMATCH")
        log(
            f"  virtual {run.virtual_s:.3f} s, wall {run.wall_s:.2f} s, ratio {run.ratio:.3f}, "
            f"virtual goodput {run.goodput_bps / 1e6:.1f} Mbit/s, {run.turns} node turns"
        )
        figure.samples.append(run.ratio)
    figure.notes.append(
        f"{sizes.virtual_bytes / 1e6:g} MB over one 100 Mbit/s 10 ms link: wall time is our "
        "per-packet Python stack work at both ends (the world's own share is in the profile)"
    )
    if profile is not None:
        size = min(sizes.virtual_bytes, sizes.profile_bytes)
        log(f"profiling the virtual backend ({size / 1e6:g} MB) -> {profile}")
        _, text = profile_virtual(size)
        profile.write_text(text)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for s in SPECS:
            print(f"{s.name:40} {s.unit:7} {s.target or '-'!s:>10}  {s.description}")
        return 0
    specs = select(args.only, args.skip)
    sizes = sizes_from(args)
    started = time.time()
    load_before = loadavg()
    figures = {s.name: Figure(s.name, s.unit, s.description, s.target, stat=s.stat) for s in specs}
    profile = args.profile
    if (
        profile is None
        and not args.quick
        and not args.no_profile
        and ("sim_virtual_per_wall" in figures or "virtual_per_wall" in figures)
    ):
        profile = DEFAULT_PROFILE
    node_profile = None
    if not args.quick and not args.no_profile and "tcp_goodput_1500" in figures:
        node_profile = DEFAULT_NODE_PROFILE
    if args.no_profile:
        profile = None
    log(f"{len(figures)} figures, {sizes.repeat} repeat(s), load {load_before}")
    try:
        run_sim(figures, sizes, profile)
        docker_figs = {n: f for n, f in figures.items() if BY_NAME[n].docker}
        swarm_figs = {n: f for n, f in figures.items() if BY_NAME[n].swarm}
        if docker_figs or swarm_figs:
            from bench.labbench import DockerOptions, LabBench

            options = DockerOptions(
                repeat=sizes.repeat,
                bulk_bytes=sizes.bulk,
                jumbo_bytes=sizes.jumbo,
                linux_bulk_bytes=sizes.linux_bulk,
                rr_count=sizes.rr_count,
                udp_seconds=sizes.udp_seconds,
                fault_trials=sizes.fault_trials,
                idle_seconds=sizes.idle_seconds,
                deploy_repeat=sizes.deploy_repeat,
                scale_rounds=sizes.scale_rounds,
                run_id=uuid.uuid4().hex[:6],
                node_profile=str(node_profile or ""),
            )
        if docker_figs:
            from orchestrator.lab.backends.docker import DockerBackend

            LabBench(docker_figs, options, log, DockerBackend(image=args.image)).run()
        if swarm_figs:
            from bench.swarmbench import run_swarm

            run_swarm(swarm_figs, options, log, args.image)
    finally:
        ordered = [figures[s.name] for s in specs]
        doc = document(
            ordered,
            root=ROOT,
            options={"quick": args.quick, **{k: getattr(sizes, k) for k in Sizes.__slots__}},
            load_before=load_before,
            started=started,
        )
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(doc, indent=2) + "\n")
        print(render_table(ordered, markdown=args.markdown))
        log(f"wrote {args.output} (load after: {doc['load']['after']})")
    return 0
