"""``make demo``: what TCP does on a clean path, under 5% loss and after an MTU drop.

    python -m orchestrator.demo                  # Docker (installed and started as root)
    python -m orchestrator.demo --backend sim    # every node in this process, no Docker
    python -m orchestrator.demo --json           # one JSON document on stdout

Steps: make sure the Docker engine runs (orchestrator.engine.ensure_docker) and the node
image exists (orchestrator.image.build, progress shown); deploy
topology/examples/quickstart.yaml (h1 - r1 - h2) under the name ``wirelab-demo``
through a LabService in this process; transfer ``--size`` bytes h1 -> h2 three times:

1. on the clean path,
2. with ``--loss`` random loss on r1's egress toward h2 (r1:eth1),
3. after r1's interface toward h2 drops to ``--mtu`` (the agent's SetInterface; a DF
   ping shows r1's ICMP frag-needed, then TCP's path MTU discovery follows it),

and after each prints goodput, retransmits, cwnd/ssthresh (from the sender's samples),
srtt and PMTU/MSS, and writes a cwnd plot (SVG) per transfer into ``--out``. The lab is
destroyed at the end, also on failure or Ctrl-C. Exit status 0 when every transfer
arrived intact, 1 otherwise, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from wirelab.v1 import lab_pb2, node_pb2, node_pb2_grpc

import topology
from orchestrator import render
from orchestrator.backend.agentclient import open_channel
from orchestrator.client import LabClient, LabError, NotFoundError
from orchestrator.service import Backends, LabServer, backend_deploy, start_server

LAB = "wirelab-demo"
SOURCE, ROUTER, SINK = "h1", "r1", "h2"
TOWARD_SINK = "eth1"  # r1's interface toward h2 in the quickstart topology
DEFAULT_SIZE = 20_000_000
DEFAULT_LOSS = 0.05
DEFAULT_MTU = 1000
SAMPLE_INTERVAL = 0.01  # s
DF_PROBE = 1200  # ICMP payload of the DF ping: above the lowered MTU


class ImageBackends(Backends):
    """The service's backends with Docker pinned to the image built here."""

    def __init__(self, image: str) -> None:
        super().__init__()
        from orchestrator.backend.docker import DockerBackend

        self.docker = DockerBackend(image=image)

    def get(self, name: str) -> Any:
        return self.docker if name == "docker" else super().get(name)


# ---- what a transfer shows ------------------------------------------------------------------


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
    plot: str = ""
    fault: dict[str, int] = field(default_factory=dict)  # the fault's counters
    frag_needed: dict[str, Any] = field(default_factory=dict)  # the DF probe's answer

    @property
    def ok(self) -> bool:
        return not self.error and self.sha256_match and self.bytes_received == self.bytes


def report(phase: str, reply: lab_pb2.TransferResponse) -> TcpReport:
    samples = list(reply.samples)
    ssthresh = [s.ssthresh for s in samples if s.HasField("ssthresh")]
    reductions = sum(
        1
        for a, b in itertools.pairwise(samples)
        if b.HasField("ssthresh") and (not a.HasField("ssthresh") or b.ssthresh < a.ssthresh)
    )  # the first one: from "infinite" to a number
    final = reply.final
    return TcpReport(
        phase=phase,
        bytes=reply.bytes,
        bytes_received=reply.bytes_received,
        seconds=reply.seconds,
        goodput_bps=reply.goodput_bps,
        sha256_match=reply.sha256_match,
        retransmits=reply.retransmits,
        bytes_retrans=reply.bytes_retrans,
        congestion_control=final.congestion_control,
        cwnd_final=final.cwnd,
        cwnd_max=max([s.cwnd for s in samples] + [final.cwnd]),
        ssthresh_final=final.ssthresh if final.HasField("ssthresh") else None,
        ssthresh_min=min(ssthresh) if ssthresh else None,
        cwnd_reductions=reductions,
        srtt_ms=final.srtt_ms if final.HasField("srtt_ms") else None,
        mss=final.mss,
        pmtu=final.pmtu,
        samples=len(samples),
        error=reply.error,
    )


def describe(r: TcpReport) -> str:
    def opt(v: int | None) -> str:
        return "infinite" if v is None else str(v)

    lines = [
        f"  transferred  {render.size(r.bytes_received)} of {render.size(r.bytes)} in "
        f"{r.seconds:.2f} s, sha256 {'match' if r.sha256_match else 'MISMATCH'}",
        f"  goodput      {render.bits(r.goodput_bps)}",
        f"  retransmits  {r.retransmits} segments ({render.size(r.bytes_retrans)})",
        f"  cwnd         max {r.cwnd_max}, final {r.cwnd_final} segments "
        f"({r.congestion_control or '?'})",
        f"  ssthresh     lowest {opt(r.ssthresh_min)}, final {opt(r.ssthresh_final)} "
        f"segments; lowered {r.cwnd_reductions} times",
        f"  srtt         {'-' if r.srtt_ms is None else render.ms(r.srtt_ms)}",
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


# ---- the run ------------------------------------------------------------------------------


class Demo:
    def __init__(self, args: argparse.Namespace, out: TextIO) -> None:
        self.args = args
        self.out = out
        self.people = not args.json
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
        from orchestrator.engine import Progress, ensure_docker
        from orchestrator.image import build

        self.section("Docker engine and node image")
        progress = Progress(quiet=False)
        ensure_docker(progress)
        built = build(progress=progress)
        self.say(f"node image {built.tag} ({'built' if built.built else 'cached'})")
        self.result["image"] = built.tag
        return built.tag

    def transfer(self, client: LabClient, phase: str, fault: str = "") -> TcpReport:
        reply = client.transfer(
            self.args.name,
            SOURCE,
            SINK,
            size=self.args.size,
            sample_interval=SAMPLE_INTERVAL,
            timeout=self.args.timeout,
        )
        r = report(phase, reply)
        if fault:
            counters = client.fault(self.args.name, fault).counters
            r.fault = {
                f.name: int(getattr(counters, f.name))
                for f in counters.DESCRIPTOR.fields
                if isinstance(getattr(counters, f.name), int)
            }
        if self.args.out and reply.samples:
            out = Path(self.args.out)
            out.mkdir(parents=True, exist_ok=True)
            path = out / f"{self.args.name}-{phase}.svg"
            title = (
                f"{phase}: {render.bits(reply.goodput_bps)}, {reply.retransmits} retransmits, "
                f"pmtu {reply.final.pmtu}"
            )
            render.plot_transfer(reply, str(path), title=title)
            r.plot = str(path)
        self.result["phases"].append(asdict(r))
        return r

    def set_mtu(self, client: LabClient, mtu: int) -> None:
        lab = client.get_lab(self.args.name)
        agent = next(n.agent for n in lab.nodes if n.name == ROUTER)
        with open_channel(agent) as channel:
            stub = node_pb2_grpc.NodeAgentStub(channel)
            stub.SetInterface(node_pb2.SetInterfaceRequest(name=TOWARD_SINK, mtu=mtu), timeout=10)

    def run(self, client: LabClient) -> bool:
        args = self.args
        self.section(f"Deploy {Path(args.topology).name} on {args.backend} as {args.name}")
        progress = render.Progress(sys.stderr) if self.people else None
        info = client.deploy(
            path=args.topology, name=args.name, backend=args.backend, replace=True,
            progress=progress,
        )  # fmt: skip
        if progress is not None:
            progress.close()
        self.result["deployed"] = True
        self.say(render.lab_info(info))
        reports = []

        self.section(f"1. Transfer {render.size(args.size)} {SOURCE} -> {SINK}: clean path")
        reports.append(self.transfer(client, "clean"))
        self.say(describe(reports[-1]))

        self.section(f"2. {args.loss:.0%} random loss on {ROUTER}:{TOWARD_SINK} egress")
        fault = client.add_fault(
            args.name, endpoint=f"{ROUTER}:{TOWARD_SINK}", direction="egress",
            loss=args.loss, seed=args.seed,
        )  # fmt: skip
        self.say(f"fault {fault.fault_id}: {fault.description}")
        reports.append(self.transfer(client, "loss", fault.fault_id))
        client.clear_fault(args.name, fault.fault_id)
        self.say(describe(reports[-1]))
        self.say("  (each lost segment is retransmitted; each loss event cuts cwnd: the sawtooth)")

        self.section(f"3. {ROUTER}'s MTU toward {SINK} drops to {args.mtu}")
        self.set_mtu(client, args.mtu)
        probe = client.ping(
            args.name, SOURCE, SINK, count=1, size=DF_PROBE, dont_fragment=True, wait=2.0
        )
        first = probe.results[0] if probe.results else node_pb2.PingResult()
        answer = {
            "icmp_type": first.icmp_type if first.HasField("icmp_type") else None,
            "icmp_code": first.icmp_code if first.HasField("icmp_code") else None,
            "next_hop_mtu": first.next_hop_mtu,
            "from": first.source,
        }
        if answer["icmp_type"] == 3 and answer["icmp_code"] == 4:
            self.say(
                f"DF ping of {DF_PROBE} bytes: {first.source} says fragmentation needed, "
                f"next-hop MTU {first.next_hop_mtu}"
            )
        else:
            self.say(f"DF ping of {DF_PROBE} bytes: no frag-needed came back ({answer})")
        reports.append(self.transfer(client, "mtu"))
        reports[-1].frag_needed = answer
        self.result["phases"][-1]["frag_needed"] = answer
        self.say(describe(reports[-1]))
        self.say("  (path MTU discovery: the sender took the router's frag-needed and shrank")
        self.say("   its segments to fit)")

        self.section("Summary")
        rows = [
            [
                r.phase,
                render.bits(r.goodput_bps),
                str(r.retransmits),
                str(r.cwnd_max),
                "inf" if r.ssthresh_min is None else str(r.ssthresh_min),
                str(r.pmtu),
                str(r.mss),
                "ok" if r.ok else "FAILED",
            ]
            for r in reports
        ]
        header = ["phase", "goodput", "retrans", "cwnd max", "ssthresh min", "pmtu", "mss", ""]
        self.say(render.table(header, rows))
        return all(r.ok for r in reports)

    def finish(self, client: LabClient | None) -> None:
        if client is None:
            return
        self.section(f"Destroy {self.args.name}")
        try:
            client.destroy(self.args.name)
            self.result["destroyed"] = True
            self.say("removed every container, network and process of the lab")
        except NotFoundError:
            self.result["destroyed"] = True
            self.say("nothing to remove")
        except LabError as exc:
            self.say(f"destroy failed: {exc}")
            self.result["destroy_error"] = str(exc)


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m orchestrator.demo", description=(__doc__ or "").splitlines()[0]
    )
    p.add_argument("--backend", choices=("docker", "sim"), default="docker")
    p.add_argument("--topology", default=str(topology.example_path("quickstart")))
    p.add_argument("--name", default=LAB, help="the lab's name (default %(default)s)")
    p.add_argument("--size", type=int, default=DEFAULT_SIZE, help="bytes per transfer")
    p.add_argument("--loss", type=float, default=DEFAULT_LOSS, help="loss probability 0..1")
    p.add_argument("--mtu", type=int, default=DEFAULT_MTU, help="r1's lowered MTU")
    p.add_argument("--seed", type=int, default=1, help="the loss fault's seed")
    p.add_argument("--timeout", type=float, default=300.0, help="per transfer, seconds")
    p.add_argument("--out", default="build/demo", help="directory for the cwnd plots ('' none)")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = p.parse_args(argv)
    if not 0 < args.loss < 1:
        p.error("--loss must be between 0 and 1")
    if not 576 <= args.mtu < 1500:
        p.error("--mtu must be 576..1499 (below the links' 1500)")
    if args.size <= 0:
        p.error("--size must be > 0")
    return args


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = _args(argv)
    stream = out or sys.stdout
    demo = Demo(args, stream)
    server: LabServer | None = None
    client: LabClient | None = None
    status = 1
    try:
        backends = ImageBackends(demo.image()) if args.backend == "docker" else Backends()
        server = start_server("127.0.0.1:0", deploy_fn=backend_deploy(backends))
        client = LabClient(server.address)
        ok = demo.run(client)
        demo.result["ok"] = ok
        status = 0 if ok else 1
    except KeyboardInterrupt:
        demo.say("\ninterrupted: cleaning up")
        demo.result["error"] = "interrupted"
        status = 130
    except Exception as exc:
        demo.say(f"\ndemo failed: {type(exc).__name__}: {exc}")
        demo.result["error"] = f"{type(exc).__name__}: {exc}"
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
    if args.json:
        print(json.dumps(demo.result, indent=2), file=stream, flush=True)
    else:
        demo.say(f"\ndemo {'done' if status == 0 else 'FAILED'} in {demo.result['seconds']} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
