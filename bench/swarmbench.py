"""The swarm figures: labs across three Docker daemons in a swarm on this machine (root).

The daemons, their namespaces and the swarm are :mod:`orchestrator.lab.swarmlab`'s, as in
``make swarm-test``: started once for all the swarm figures (the node image loaded into
each daemon) and torn down at the end, also on errors and Ctrl-C; whatever the teardown
finds left (namespaces, links, processes, mounts, directories), or the labs left on the
swarm, is the figures' error. Labs go through the swarm backend, every node pinned to
another daemon than its neighbours (:func:`bench.topologies.spread`), so every link is an
overlay (VXLAN) between two daemons:

- ``swarm_deploy_50_s`` / ``swarm_destroy_50_s``: the 50-node lab of ``deploy_50_s``
  (:func:`~bench.topologies.fan_line`), ``deploy()`` until every agent is SERVING (image
  already in every daemon) and ``destroy()``, ``deploy_repeat`` times.
- ``swarm_goodput_1500``: our BulkSend h1 -> r1 -> h2 with h1, r1, h2 on the three
  daemons (links at the overlay's MTU, 1450 on the 1500-byte underlay), as
  ``tcp_goodput_1500`` measures it on one host; Linux: iperf3 lx1 -> lxr -> lx2 placed
  likewise.

Without root or the tools (:func:`orchestrator.lab.swarmlab.unavailable`), or without the
node image in the host's engine, the figures are skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import topology
from bench.labbench import DockerOptions, LabBench, Log, _lab_name
from bench.results import Figure
from bench.topologies import PathLabParts, swarm_fan_line, swarm_path_lab
from orchestrator.lab.backends.docker import DockerBackend
from orchestrator.lab.backends.swarm import SwarmBackend
from orchestrator.lab.swarmlab import SwarmLab, SwarmLabError, unavailable

DEPLOY = "swarm_deploy_50_s"
DESTROY = "swarm_destroy_50_s"
GOODPUT = "swarm_goodput_1500"
FIGURES = (DEPLOY, DESTROY, GOODPUT)


class SwarmBench(LabBench):
    """The swarm figures on a running swarm (``hosts``: its nodes' hostnames)."""

    def __init__(
        self,
        figures: dict[str, Figure],
        options: DockerOptions,
        log: Log,
        backend: SwarmBackend,
        hosts: Sequence[str],
    ) -> None:
        super().__init__(figures, options, log, backend)
        self.hosts = list(hosts)
        self.labs: list[str] = []  # every lab deployed: checked for leftovers at the end

    def run(self) -> None:
        if self.wants(GOODPUT):
            self.record(GOODPUT, self.goodput_lab)
        if self.wants(DEPLOY, DESTROY):
            lab = topology.load_text(swarm_fan_line(_lab_name(self.opt.run_id, "sw50"), self.hosts))
            self.labs.append(lab.name)
            where = {h: sum(n.placement == h for n in lab.nodes) for h in self.hosts}
            self.log(f"{DEPLOY}: {len(lab.nodes)} nodes on {where}")
            key = DEPLOY if self.wants(DEPLOY) else DESTROY
            self.record(key, lambda: self._deploy_runs(lab, DEPLOY, DESTROY))
            for name in (DEPLOY, DESTROY):
                if name in self.figures:
                    self.figures[name].notes.append(
                        f"{len(lab.nodes)} nodes on {len(self.hosts)} daemons "
                        f"({', '.join(f'{h}: {k}' for h, k in where.items())}), every one of "
                        f"the {len(lab.segments)} links an overlay between two daemons"
                    )

    def goodput_lab(self) -> None:
        parts = PathLabParts(kernel_ends=False, rr_client=False, linux_path=True)
        text = swarm_path_lab(_lab_name(self.opt.run_id, "swpath"), self.hosts, parts=parts)
        self.labs.append(topology.load_text(text).name)
        with self.lab(text) as h:
            linux_ok = self._setup_linux(h, parts)
            self._warm(h)
            self.goodput(h, GOODPUT, linux_ok)
            mtu = h.lab.node("h1").interfaces[0].mtu
            placed = ", ".join(f"{n.name}: {n.placement}" for n in h.lab.nodes)
            self.figures[GOODPUT].notes.append(
                f"each node on its own daemon ({placed}); links are overlays at MTU {mtu}"
            )

    def left(self) -> list[str]:
        """What is left of the labs this bench deployed (before the swarm goes)."""
        return [x for lab in self.labs for x in self.leftovers(lab)]


def run_swarm(
    figures: dict[str, Figure], options: DockerOptions, log: Log, image: str | None = None
) -> None:
    """The swarm figures among ``figures``: skipped (with the reason) when this machine
    cannot start the swarm, else measured on a swarm started and torn down here."""
    wanted = {n: f for n, f in figures.items() if n in FIGURES}
    if not wanted:
        return
    reason = unavailable()
    tag = ""
    if not reason:
        try:  # the node image the other docker figures use, built or found by content hash
            tag = DockerBackend(image=image).image()
        except Exception as exc:
            reason = f"no node image in the host's Docker engine: {type(exc).__name__}: {exc}"
    if reason:
        log(f"swarm: skipped: {reason}")
        for fig in wanted.values():
            fig.skipped = reason
        return
    cluster = SwarmLab(image=tag)
    log(f"swarm: starting {cluster.count} dockerd in a swarm, loading {tag} into each")
    try:
        cluster.up()  # on failure, up() removes what it made
    except SwarmLabError as exc:
        log(f"swarm: ERROR: the swarm did not start: {exc}")
        for fig in wanted.values():
            fig.error = f"the swarm did not start: {exc}"[:2000]
        return
    log(f"swarm: up in {_times(cluster.times)}")
    bench: SwarmBench | None = None
    left: list[str] = []
    try:
        backend = SwarmBackend(manager=cluster.manager.url, image=tag)
        bench = SwarmBench(wanted, options, log, backend, [d.name for d in cluster.daemons])
        bench.run()
    finally:
        try:
            left += bench.left() if bench is not None else []
        except Exception as exc:  # the swarm is removed below all the same
            left.append(f"cannot list the labs' objects: {type(exc).__name__}: {exc}")
        log("swarm: tearing down the daemons")
        left += cluster.down()
        log(f"swarm: down in {_times(cluster.times, 'down')}" + (f"; LEFT {left}" if left else ""))
        for fig in wanted.values():
            fig.notes.append(f"swarm (s): {_times(cluster.times)}")
            fig.notes += cluster.notes
            if left:
                fig.error = f"left behind: {left}"[:2000]


def _times(times: dict[str, float], prefix: str = "") -> str:
    return ", ".join(f"{k} {v:g} s" for k, v in times.items() if k.startswith(prefix))


__all__ = ["FIGURES", "SwarmBench", "run_swarm"]
