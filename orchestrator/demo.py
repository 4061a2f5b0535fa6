"""``make demo``: what TCP does on a clean path, under 5% loss and after an MTU drop.

    python -m orchestrator.demo                  # Docker (installed and started as root)
    python -m orchestrator.demo --backend sim    # every node in a process, no Docker
    python -m orchestrator.demo --json           # one JSON document on stdout

Steps: for docker, make sure the engine runs and the node image exists (progress shown);
use the running LabService (``wirelab serve``, or --server ADDR) or start one in this
process (--local, or when none answers); deploy topology/examples/quickstart.yaml
(h1 - r1 - h2) as ``wirelab-demo``; transfer ``--size`` bytes h1 -> h2 three times:

1. on the clean path,
2. with ``--loss`` random loss on r1's egress toward h2 (a fault on r1:eth1),
3. with an MTU fault on r1:eth1 (``add_fault(endpoint="r1:eth1", mtu=--mtu)``): a DF ping
   shows r1's ICMP frag-needed, then TCP's path MTU discovery follows it,

and after each prints goodput, retransmits, cwnd/ssthresh (from the sender's samples),
srtt and PMTU/MSS, and writes a cwnd plot (SVG) per transfer into ``--out``. The lab is
destroyed at the end, also on failure or Ctrl-C; then it says how to run ``wirelab``.
Exit status 0 when every transfer arrived intact, 1 otherwise, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import topology
from orchestrator.cli import render
from orchestrator.cli.common import make_console
from orchestrator.cli.plots import plot_transfer
from orchestrator.cli.progress import DeployView, ImageProgress
from orchestrator.client import Lab, LabClient, connect
from orchestrator.domain.errors import LabError, NotFound, Unavailable
from orchestrator.domain.results import PingProbe, TransferReport

LAB = "wirelab-demo"
SOURCE, ROUTER, SINK = "h1", "r1", "h2"
TOWARD_SINK = "eth1"  # r1's interface toward h2 in the quickstart topology
DEFAULT_SIZE = 20_000_000
DEFAULT_LOSS = 0.05
DEFAULT_MTU = 1000
SAMPLE_INTERVAL = 0.01  # s
DF_PROBE = 1200  # ICMP payload of the DF ping: above the lowered MTU


# ---- what a transfer shows ----------------------------------------------------------------


@dataclass
class TcpReport:
    """One transfer, summed up for people and machines."""

    phase: str
    bytes: int
    bytes_received: int
    seconds: float
    goodput_bps: float
    sha256_match: bool
    retransmits: int
    bytes_retrans: int
    congestion_control: str
    cwnd_final: int
    cwnd_max: int
    ssthresh_final: int | None
    ssthresh_min: int | None
    cwnd_reductions: int  # times ssthresh was lowered (loss events the sender reacted to)
    srtt_ms: float | None
    mss: int
    pmtu: int
    samples: int
    error: str = ""
    outcome: str = ""  # one line for people: "19.1 MiB in 2.3s = ..." or "incomplete: ..."
    plot: str = ""
    fault: dict[str, int] = field(default_factory=dict)  # the fault's counters
    frag_needed: dict[str, Any] = field(default_factory=dict)  # the DF probe's answer

    @property
    def ok(self) -> bool:
        return not self.error and self.sha256_match and self.bytes_received == self.bytes


def report(phase: str, result: TransferReport) -> TcpReport:
    samples = list(result.samples)
    ssthresh = [s.ssthresh for s in samples if s.ssthresh is not None]
    reductions = sum(
        1
        for a, b in itertools.pairwise(samples)
        if b.ssthresh is not None and (a.ssthresh is None or b.ssthresh < a.ssthresh)
    )  # the first one: from "infinite" to a number
    final = result.final
    return TcpReport(
        phase=phase,
        bytes=result.size_bytes,
        bytes_received=result.bytes_received,
        seconds=result.seconds,
        goodput_bps=result.goodput_bps,
        sha256_match=result.sha256_match,
        retransmits=result.retransmits,
        bytes_retrans=result.bytes_retrans,
        congestion_control=final.congestion_control if final else "",
        cwnd_final=final.cwnd if final else 0,
        cwnd_max=max([s.cwnd for s in samples] + [final.cwnd if final else 0]),
        ssthresh_final=final.ssthresh if final else None,
        ssthresh_min=min(ssthresh) if ssthresh else None,
        cwnd_reductions=reductions,
        srtt_ms=final.srtt_ms if final else None,
        mss=final.mss if final else 0,
        pmtu=final.pmtu if final else 0,
        samples=len(samples),
        error=result.error,
        outcome=render.transfer_outcome(result),
    )


def describe(r: TcpReport) -> str:
    def opt(v: int | None) -> str:
        return "infinite" if v is None else str(v)

    lines = [
        f"  transferred  {r.outcome}",
        f"  goodput      {render.rate(r.goodput_bps)}",
        f"  retransmits  {r.retransmits} segments ({render.size(r.bytes_retrans)})",
        f"  cwnd         max {r.cwnd_max}, final {r.cwnd_final} segments "
        f"({r.congestion_control or '?'})",
        f"  ssthresh     lowest {opt(r.ssthresh_min)}, final {opt(r.ssthresh_final)} "
        f"segments; lowered {r.cwnd_reductions} times",
        f"  srtt         {render.ms(r.srtt_ms)}",
        f"  path         PMTU {r.pmtu}, MSS {r.mss}",
    ]
    if r.fault:
        text = ", ".join(f"{k} {v}" for k, v in r.fault.items() if v)
        lines.append(f"  the fault    {text or 'did nothing'}")
    if r.plot:
        lines.append(f"  cwnd plot    {r.plot}")
    if r.error:
        lines.append(f"  error        {r.error}")
    return "\n".join(lines)


def wirelab_hint() -> list[str]:
    """How to run ``wirelab`` from here: the venv's script when it is not on PATH."""
    script = Path(sys.executable).parent / "wirelab"
    on_path = shutil.which("wirelab")
    if on_path and Path(on_path).resolve() == script.resolve():
        return ["wirelab"]
    try:
        shown = str(script.relative_to(Path.cwd()))
    except ValueError:
        shown = str(script)
    activate = script.parent / "activate"
    hints = [shown]
    if activate.exists():
        try:
            rel = activate.relative_to(Path.cwd())
        except ValueError:
            rel = activate
        hints.append(f". {rel}")
    return hints


# ---- the run --------------------------------------------------------------------------------


class Demo:
    def __init__(self, args: argparse.Namespace, out: TextIO) -> None:
        self.args = args
        self.out = out
        self.people = not args.json
        self.console = make_console(file=out)
        self.err = make_console(stderr=True)
        self.started = time.monotonic()
        self.result: dict[str, Any] = {
            "backend": args.backend,
            "lab": args.name,
            "size": args.size,
            "phases": [],
            "ok": False,
            "destroyed": False,
        }

    def say(self, text: str = "") -> None:
        if self.people:
            print(text, file=self.out, flush=True)

    def section(self, title: str) -> None:
        self.say()
        self.say(f"== {title} " + "=" * max(0, 70 - len(title)))

    # ---- steps ----------------------------------------------------------------------------
    def image(self) -> str:
        from orchestrator.image.build import build
        from orchestrator.image.engine import ensure_docker

        self.section("Docker engine and node image")
        progress = ImageProgress(self.err, quiet=not self.people)
        ensure_docker(progress)
        built = build(progress=progress)
        self.say(f"node image {built.tag} ({'built' if built.built else 'cached'})")
        self.result["image"] = built.tag
        return built.tag

    def transfer(self, lab: Lab, phase: str, fault: str = "") -> TcpReport:
        result = lab.transfer(
            SOURCE,
            SINK,
            size=self.args.size,
            sample_interval=SAMPLE_INTERVAL,
            timeout=self.args.timeout,
        )
        r = report(phase, result)
        if fault:
            r.fault = asdict(lab.fault(fault).counters)
        if self.args.out and result.samples:
            out = Path(self.args.out)
            out.mkdir(parents=True, exist_ok=True)
            path = out / f"{self.args.name}-{phase}.svg"
            pmtu = result.final.pmtu if result.final else 0
            title = (
                f"{phase}: {render.rate(result.goodput_bps)}, {result.retransmits} "
                f"retransmits, pmtu {pmtu}"
            )
            plot_transfer(result, str(path), title=title)
            r.plot = str(path)
        self.result["phases"].append(asdict(r))
        return r

    def run(self, client: LabClient) -> bool:
        args = self.args
        self.section(f"Deploy {Path(args.topology).name} on {args.backend} as {args.name}")
        with DeployView(self.err) as view:
            lab = client.deploy(
                args.topology,
                name=args.name,
                backend=args.backend,
                replace=True,
                progress=view if self.people else None,
            )
        self.result["deployed"] = True
        if self.people:
            self.console.print(render.lab_info(lab.info))
        reports = []

        self.section(f"1. Transfer {render.size(args.size)} {SOURCE} -> {SINK}: clean path")
        reports.append(self.transfer(lab, "clean"))
        self.say(describe(reports[-1]))

        self.section(f"2. {args.loss:.0%} random loss on {ROUTER}:{TOWARD_SINK} egress")
        fault = lab.add_fault(
            endpoint=f"{ROUTER}:{TOWARD_SINK}", direction="egress", loss=args.loss, seed=args.seed
        )
        self.say(f"fault {fault.fault_id}: {fault.description}")
        reports.append(self.transfer(lab, "loss", fault.fault_id))
        lab.clear_fault(fault.fault_id)
        self.say(describe(reports[-1]))
        self.say("  (each lost segment is retransmitted; each loss event cuts cwnd: the sawtooth)")

        self.section(f"3. An MTU fault: {ROUTER}:{TOWARD_SINK} drops to {args.mtu} bytes")
        mtu_fault = lab.add_fault(endpoint=f"{ROUTER}:{TOWARD_SINK}", mtu=args.mtu)
        self.say(f"fault {mtu_fault.fault_id}: {mtu_fault.description}")
        probe = lab.ping(SOURCE, SINK, count=1, size=DF_PROBE, dont_fragment=True, wait=2.0)
        first = probe.results[0] if probe.results else PingProbe(seq=1)
        answer = {
            "icmp_type": first.icmp_type,
            "icmp_code": first.icmp_code,
            "next_hop_mtu": first.next_hop_mtu,
            "from": first.source,
        }
        if first.icmp_type == 3 and first.icmp_code == 4:
            self.say(
                f"DF ping of {DF_PROBE} bytes: {first.source} says fragmentation needed, "
                f"next-hop MTU {first.next_hop_mtu}"
            )
        else:
            self.say(f"DF ping of {DF_PROBE} bytes: no frag-needed came back ({answer})")
        reports.append(self.transfer(lab, "mtu", mtu_fault.fault_id))
        reports[-1].frag_needed = answer
        self.result["phases"][-1]["frag_needed"] = answer
        lab.clear_fault(mtu_fault.fault_id)
        self.say(describe(reports[-1]))
        self.say("  (path MTU discovery: the sender took the router's frag-needed and shrank")
        self.say("   its segments to fit; clearing the fault gives r1:eth1 its MTU back)")

        self.section("Summary")
        t = render.table(
            "PHASE", "GOODPUT", "RETRANS", "CWND MAX", "SSTHRESH MIN", "PMTU", "MSS", ""
        )
        for r in reports:
            t.add_row(
                r.phase,
                render.rate(r.goodput_bps),
                str(r.retransmits),
                str(r.cwnd_max),
                "inf" if r.ssthresh_min is None else str(r.ssthresh_min),
                str(r.pmtu),
                str(r.mss),
                render.state("ok" if r.ok else "FAILED"),
            )
        if self.people:
            self.console.print(t)
        return all(r.ok for r in reports)

    def finish(self, client: LabClient | None) -> None:
        if client is None:
            return
        self.section(f"Destroy {self.args.name}")
        try:
            client.destroy(self.args.name)
            self.result["destroyed"] = True
            self.say("removed every container, network and process of the lab")
        except NotFound:
            self.result["destroyed"] = True
            self.say("nothing to remove")
        except LabError as exc:
            self.say(f"destroy failed: {exc}")
            self.result["destroy_error"] = str(exc)

    def next_steps(self) -> None:
        hints = wirelab_hint()
        self.result["wirelab"] = hints[0]
        wl = hints[0]
        self.section("Next: drive a lab yourself with wirelab")
        if len(hints) > 1:
            self.say(f"(the command is {wl}; or run `{hints[1]}` once and then just `wirelab`)")
        steps = (
            ("deploy quickstart --backend sim", "or docker; progress on stderr"),
            ("inspect quickstart", "nodes, interfaces, live MTU, up/down"),
            ("ping quickstart h1 h2 -c 3", ""),
            ("fault add quickstart --link r1:eth1 --loss 5% --seed 7", ""),
            ("transfer quickstart h1 h2 --bytes 20MB --plot cwnd.svg", ""),
            ("fault add quickstart --link r1:eth1 --mtu 1000", "r1:eth1's MTU is 1000 now"),
            ("ping quickstart h1 h2 -s 1200 --df", "r1 answers: frag needed, MTU 1000"),
            ("fault clear quickstart --all", ""),
            ("destroy quickstart", ""),
            ("--help", "every command; --json on each"),
        )
        width = max(len(f"{wl} {cmd}") for cmd, _ in steps)
        for cmd, comment in steps:
            line = f"{wl} {cmd}"
            self.say("  " + (f"{line:<{width}}  # {comment}" if comment else line))


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m orchestrator.demo", description=(__doc__ or "").splitlines()[0]
    )
    p.add_argument("--backend", choices=("docker", "sim"), default="docker")
    p.add_argument("--topology", default=str(topology.example_path("quickstart")))
    p.add_argument("--name", default=LAB, help="the lab's name (default %(default)s)")
    p.add_argument("--size", type=int, default=DEFAULT_SIZE, help="bytes per transfer")
    p.add_argument("--loss", type=float, default=DEFAULT_LOSS, help="loss probability 0..1")
    p.add_argument("--mtu", type=int, default=DEFAULT_MTU, help="r1's MTU under the MTU fault")
    p.add_argument("--seed", type=int, default=1, help="the loss fault's seed")
    p.add_argument("--timeout", type=float, default=300.0, help="per transfer, seconds")
    p.add_argument("--out", default="build/demo", help="directory for the cwnd plots ('' none)")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--server", metavar="ADDR", help="use this LabService")
    where.add_argument(
        "--local",
        action="store_true",
        help="always start a LabService in this process (default: use the running "
        "one, `wirelab serve`, when it answers)",
    )
    args = p.parse_args(argv)
    if not 0 < args.loss < 1:
        p.error("--loss must be between 0 and 1")
    if not 576 <= args.mtu < 1500:
        p.error("--mtu must be 576..1499 (below the links' 1500)")
    if args.size <= 0:
        p.error("--size must be > 0")
    return args


def _server(args: argparse.Namespace, image: str | None) -> tuple[LabClient, Any]:
    """(client, the in-process server or None): the running LabService unless --local."""
    if not args.local:
        try:
            return connect(args.server, start=False), None
        except Unavailable:
            if args.server:
                raise
    from orchestrator.service.server import start_server

    backends: dict[str, Any] = {}
    if image is not None:
        from orchestrator.lab.backends.docker import DockerBackend

        backends["docker"] = DockerBackend(image=image)
    server = start_server("127.0.0.1:0", backends=backends)
    return LabClient(server.address), server


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = _args(argv)
    stream = out or sys.stdout
    demo = Demo(args, stream)
    server: Any = None
    client: LabClient | None = None
    status = 1
    try:
        image = demo.image() if args.backend == "docker" else None
        client, server = _server(args, image)
        demo.result["server"] = "in-process" if server is not None else client.address
        ok = demo.run(client)
        demo.result["ok"] = ok
        status = 0 if ok else 1
    except KeyboardInterrupt:
        demo.say("\ninterrupted: cleaning up")
        demo.result["error"] = "interrupted"
        status = 130
    except Exception as exc:
        text = exc.message if isinstance(exc, LabError) else f"{type(exc).__name__}: {exc}"
        demo.say(f"\ndemo failed: {text}")
        demo.result["error"] = text
        status = 1
    finally:
        try:
            demo.finish(client)
        finally:
            if client is not None:
                client.close()
            if server is not None:
                server.stop(grace=0.5)
    demo.result["seconds"] = round(time.monotonic() - demo.started, 1)
    demo.next_steps()
    if args.json:
        print(json.dumps(demo.result, indent=2), file=stream, flush=True)
    else:
        demo.say(f"\ndemo {'done' if status == 0 else 'FAILED'} in {demo.result['seconds']} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
