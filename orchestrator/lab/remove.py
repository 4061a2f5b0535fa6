"""Destroy: remove every object labelled with a lab, in parallel, naming what failed; then
what the lab keeps on the host outside its objects (docker: the agents' socket
directories, :meth:`Backend.remove_lab_files`), once none of its nodes is left."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from orchestrator.lab import hostnet
from orchestrator.lab import labels as L
from orchestrator.lab.backends.base import Backend, LabObjects, Removed
from orchestrator.lab.progress import DeployError, ProgressCallback, Reporter, describe

REMOVE_PARALLEL = 16  # concurrent node removals (I/O bound: the engine does the work)
NETWORK_PARALLEL = 8  # concurrent network removals (Docker runs iptables for each)
# Remove a network as soon as its own nodes are gone (overlapping node removal) instead of
# after every node. Off: on Docker 20.10 the overlap cut destroy_50 from 18 s to 13.5 s but
# leaked the management network's endpoint count in 3 of 4 runs (libnetwork; "has active
# endpoints" with no container left, until dockerd restarts). (The docker backend has no
# management network any more: its agents listen on Unix sockets.)
OVERLAP_NETWORKS = False


def remove_objects(
    backend: Backend, objects: LabObjects, report: Reporter, step: str = "remove"
) -> Removed:
    """Remove nodes and networks, up to ``REMOVE_PARALLEL`` nodes and ``NETWORK_PARALLEL``
    networks at a time; every object is tried; the errors (each naming its object) are
    raised together at the end.

    Networks go after every node; with ``OVERLAP_NETWORKS`` a network goes as soon as
    every node attached to it (the nodes' endpoints, as found by labels) is gone, and one
    whose removal failed while nodes were still being removed is tried once more when all
    nodes are done.
    """
    lab = objects.lab
    # the nodes on most networks first (routers): their networks then wait for one more
    # node each, and network removal starts early
    infos = sorted(objects.nodes, key=lambda n: len(n.endpoints), reverse=True)
    keys = [n.labels.get(L.NODE) or n.name for n in infos]
    networks = [n.name for n in objects.networks]
    total = len(keys) + len(networks)
    users: dict[str, set[str]] = {name: set() for name in networks}
    for key, info in zip(keys, infos, strict=True):
        for endpoint in info.endpoints:
            if endpoint.network in users:
                users[endpoint.network].add(key)
    if not OVERLAP_NETWORKS:
        users = {name: set() for name in networks}
    waiting_all = [name for name in networks if not users[name]]  # after every node
    retry: list[str] = []  # failed while nodes were still being removed
    errors: dict[str, str] = {}  # "node h1" / "network wl.x.y" -> what went wrong
    cond = threading.Condition()
    nodes_left = len(keys)
    outstanding = 0
    count = 0
    # two pools: networks freed by removed nodes do not queue behind the other nodes
    node_pool = ThreadPoolExecutor(max(1, min(REMOVE_PARALLEL, len(keys))), "wirelab-rm-node")
    net_pool = ThreadPoolExecutor(max(1, min(NETWORK_PARALLEL, len(networks))), "wirelab-rm-net")

    def submit(fn: Callable[..., None], *args: object) -> None:  # with cond held
        nonlocal outstanding
        outstanding += 1
        (node_pool if fn is remove_node else net_pool).submit(task, fn, *args)

    def task(fn: Callable[..., None], *args: object) -> None:
        nonlocal outstanding
        try:
            fn(*args)
        finally:
            with cond:
                outstanding -= 1
                cond.notify_all()

    def removed(item: str) -> None:
        nonlocal count
        with cond:
            count += 1
            done = count
        report(step, item, done, total)

    def remove_network(name: str, final: bool) -> None:
        try:
            backend.remove_network(lab, name)
        except Exception as exc:
            with cond:
                if final:
                    errors[f"network {name}"] = describe(exc)
                elif nodes_left:
                    retry.append(name)  # an endpoint of a node still being removed?
                else:
                    submit(remove_network, name, True)
            return
        removed(name)

    def remove_node(key: str) -> None:
        nonlocal nodes_left
        try:
            backend.remove_node(lab, key)
        except Exception as exc:
            with cond:
                errors[f"node {key}"] = describe(exc)
        else:
            removed(key)
        with cond:
            nodes_left -= 1
            final = not nodes_left
            for name, using in users.items():
                if key in using:
                    using.discard(key)
                    if not using:
                        submit(remove_network, name, final)
            if final:
                for name in waiting_all + retry:
                    submit(remove_network, name, True)
                retry.clear()

    try:
        with cond:
            for key in keys:
                submit(remove_node, key)
            if not keys:
                for name in networks:
                    submit(remove_network, name, True)
            cond.wait_for(lambda: outstanding == 0)
    finally:
        node_pool.shutdown(wait=True)
        net_pool.shutdown(wait=True)
    if errors:
        raise DeployError(lab, step, "; ".join(f"{k}: {v}" for k, v in errors.items()))
    return Removed(lab, tuple(keys), tuple(networks))


def destroy(
    lab_name: str, backend: Backend, *, progress: ProgressCallback | None = None
) -> Removed:
    """Remove every object labelled with ``lab_name`` (nothing to do is not an error)."""
    report = Reporter(progress)
    with backend.lock(lab_name):
        removed = remove_objects(backend, backend.find(lab_name), report)
        left = backend.find(lab_name)
        if not left.nodes:
            backend.remove_lab_files(lab_name)
        if not left.empty:
            names = left.names
            raise DeployError(lab_name, "remove", f"still present: {', '.join(names)}")
        hostnet.on_destroy(backend, lab_name, report)
        return removed


def destroy_all(backend: Backend, *, progress: ProgressCallback | None = None) -> list[Removed]:
    return [destroy(name, backend, progress=progress) for name in backend.lab_names()]
