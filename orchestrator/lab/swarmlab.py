"""A Docker Swarm of three daemons on this one machine, for ``make swarm-test`` (root).

Each daemon is a real ``dockerd`` with its own network namespace, UTS namespace (so its
swarm hostname is its own), data root, exec root, pid file and Unix socket; the
namespaces are joined by veth pairs to a bridge that lives in a namespace of its own (so
the host's iptables, which Docker set to drop forwarded frames, never see the underlay).
The daemons form a swarm over the bridge's addresses (the first is the manager), every
swarm node gets the labels ``wirelab.host=<name>`` and ``wirelab.engine=<its API URL>``
(how the swarm backend finds each node's engine), and the node image is copied into each
daemon (``docker save`` from the host's daemon, ``docker load`` into each). :meth:`down`
removes every container, leaves the swarm, stops the daemons and removes the namespaces,
links and directories: nothing is left behind. Each step is timed (:attr:`SwarmLab.times`).

Nothing touches the host's own daemon except ``docker save``, and the host's network only
through the veth pairs' creation (they move into the namespaces at once).

    python -m orchestrator.lab.swarmlab up [--image wirelab-node:latest]
    python -m orchestrator.lab.swarmlab status | down
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

PREFIX = "wlsw"
SWITCH_NS = f"{PREFIX}-sw"
SWITCH = "br0"
UNDERLAY = "198.18.213"  # /24 (the benchmarking range, RFC 2544): never a lab's pool
STATE = Path("/run/wirelab-swarm")  # exec roots, sockets, pid files, logs (a tmpfs-like /run)
DATA = Path("/var/lib/wirelab-swarm")  # the daemons' data roots (images, containers)
LOCK = Path("/run/wirelab-swarm.lock")  # held from up() to down(): one swarm lab at a time
VXLAN_OVERHEAD = 50  # outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8
START_WAIT = 60.0  # s: a daemon answers on its socket
STOP_WAIT = 5.0  # s: the daemons exit after SIGTERM, else SIGKILL (their data goes anyway)
TOOLS = ("dockerd", "docker", "ip", "nsenter", "unshare")  # what up() runs


class SwarmLabError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Daemon:
    name: str  # wlsw-d1: its network namespace and its hostname (its swarm node's name)
    index: int

    @property
    def address(self) -> str:
        return f"{UNDERLAY}.{self.index}"

    @property
    def socket(self) -> Path:
        return STATE / f"{self.name}.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def exec_root(self) -> Path:
        return STATE / self.name

    @property
    def data_root(self) -> Path:
        return DATA / self.name

    @property
    def pidfile(self) -> Path:
        return STATE / f"{self.name}.pid"

    @property
    def log(self) -> Path:
        return STATE / f"{self.name}.log"


def unavailable() -> str:
    """Why this machine cannot start the swarm lab ("" when it can): :meth:`SwarmLab.up`
    needs root and the tools it runs (the node image must also be in the host's engine)."""
    if os.geteuid() != 0:
        return "the swarm lab needs root (namespaces, dockerd)"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"the swarm lab needs {', '.join(missing)} (not found on PATH)"
    return ""


def run(argv: Sequence[str], *, check: bool = True, input: bytes | None = None) -> str:
    done = subprocess.run(list(argv), capture_output=True, input=input, check=False)
    if check and done.returncode != 0:
        err = (done.stderr or done.stdout).decode(errors="replace").strip()
        raise SwarmLabError(f"{' '.join(argv)}: exit {done.returncode}: {err}")
    return done.stdout.decode(errors="replace")


def launcher(d: Daemon, argv: Sequence[str]) -> list[str]:
    """``argv`` in the daemon's network namespace, with a UTS namespace of its own (the swarm
    knows each node by its hostname) and a mount namespace of its own that receives the
    host's mounts but keeps the daemon's (container root filesystems, network namespace
    files): they vanish with it. /sys is mounted again for the network namespace (as ``ip
    netns exec`` does) with the host's cgroup hierarchy moved back beneath it (dockerd
    needs the cgroup mounts, ``ip netns exec`` hides them)."""
    keep = d.exec_root / "cgroup"
    shell = (
        f"hostname {d.name} && mkdir -p {keep} && mount --rbind /sys/fs/cgroup {keep} && "
        f"mount -t sysfs sysfs /sys && mount --move {keep} /sys/fs/cgroup && "
        'exec "$@"'
    )
    return [
        "nsenter", f"--net=/run/netns/{d.name}",
        "unshare", "--mount", "--uts", "--propagation", "slave",
        "sh", "-c", shell, "sh", *argv,
    ]  # fmt: skip


@dataclass
class SwarmLab:
    """Three daemons (``count``) in a swarm; the first is the manager."""

    count: int = 3
    underlay_mtu: int = 1500
    image: str = "wirelab-node:latest"
    times: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    _lock_file: IO[str] | None = field(default=None, repr=False)

    @property
    def daemons(self) -> list[Daemon]:
        return [Daemon(f"{PREFIX}-d{i}", i) for i in range(1, self.count + 1)]

    @property
    def manager(self) -> Daemon:
        return self.daemons[0]

    @property
    def overlay_mtu(self) -> int:
        return self.underlay_mtu - VXLAN_OVERHEAD

    def docker(self, d: Daemon, *argv: str, input: bytes | None = None) -> str:
        return run(["docker", "-H", d.url, *argv], input=input)

    @contextlib.contextmanager
    def timed(self, step: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.times[step] = round(time.monotonic() - start, 2)

    # ---- up ----------------------------------------------------------------------------
    def up(self, *, load_image: bool = True) -> None:
        """Network, daemons, swarm, image; on failure everything made is removed again."""
        reason = unavailable()
        if reason:
            raise SwarmLabError(reason)
        self._lock()
        if self.leftovers():  # a run that died before its down(): the lock says none runs
            self.notes.append(f"removed a previous run's leftovers: {self.down()}")
            self._lock()
        try:
            with self.timed("network"):
                self._network()
            with self.timed("daemons"):
                self._daemons()
            with self.timed("swarm"):
                self._swarm()
            if load_image:
                with self.timed("image"):
                    self._load_image()
        except BaseException:
            self.down()
            raise

    def _lock(self) -> None:
        """One swarm lab per machine (its names are fixed): wait for the lock."""
        if self._lock_file is None:
            self._lock_file = LOCK.open("a")
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)

    def _unlock(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def _network(self) -> None:
        run(["ip", "netns", "add", SWITCH_NS])
        sw = ["ip", "-n", SWITCH_NS]
        run([*sw, "link", "add", SWITCH, "type", "bridge"])
        run([*sw, "link", "set", SWITCH, "mtu", str(self.underlay_mtu), "up"])
        run([*sw, "link", "set", "lo", "up"])
        for d in self.daemons:
            run(["ip", "netns", "add", d.name])
            inner, outer = f"{PREFIX}{d.index}a", f"{PREFIX}{d.index}b"
            run(["ip", "link", "add", inner, "mtu", str(self.underlay_mtu), "type", "veth",
                 "peer", "name", outer, "mtu", str(self.underlay_mtu)])  # fmt: skip
            run(["ip", "link", "set", inner, "netns", d.name])
            run(["ip", "link", "set", outer, "netns", SWITCH_NS])
            run([*sw, "link", "set", outer, "master", SWITCH, "up"])
            ns = ["ip", "-n", d.name]
            run([*ns, "link", "set", inner, "name", "eth0"])
            run([*ns, "addr", "add", f"{d.address}/24", "dev", "eth0"])
            run([*ns, "link", "set", "eth0", "up"])
            run([*ns, "link", "set", "lo", "up"])

    def _daemons(self) -> None:
        STATE.mkdir(parents=True, exist_ok=True)
        config = STATE / "daemon.json"
        config.write_text("{}\n")
        for d in self.daemons:
            d.exec_root.mkdir(parents=True, exist_ok=True)
            d.data_root.mkdir(parents=True, exist_ok=True)
            argv = [
                "dockerd",
                f"--config-file={config}",
                f"--data-root={d.data_root}",
                f"--exec-root={d.exec_root}",
                f"--pidfile={d.pidfile}",
                f"--host={d.url}",
                "--bridge=none",  # no docker0: labs use overlays only
                "--ip-masq=false",
                "--userland-proxy=false",
                f"--swarm-default-advertise-addr={d.address}",
                "--log-level=warn",
            ]
            with d.log.open("ab") as log:
                subprocess.Popen(
                    launcher(d, argv), stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )  # fmt: skip
        for d in self.daemons:
            deadline = time.monotonic() + START_WAIT
            while subprocess.run(
                ["docker", "-H", d.url, "version"], capture_output=True, check=False
            ).returncode:
                if time.monotonic() > deadline:
                    tail = d.log.read_text(errors="replace")[-2000:]
                    raise SwarmLabError(f"{d.name} does not answer on {d.url}:\n{tail}")
                time.sleep(0.2)

    def _swarm(self) -> None:
        m = self.manager
        self.docker(m, "swarm", "init", "--advertise-addr", m.address,
                    "--listen-addr", f"{m.address}:2377")  # fmt: skip
        token = self.docker(m, "swarm", "join-token", "-q", "worker").strip()
        for d in self.daemons[1:]:
            self.docker(d, "swarm", "join", "--token", token,
                        "--advertise-addr", d.address, f"{m.address}:2377")  # fmt: skip
        for d in self.daemons:
            self.docker(m, "node", "update", "--label-add", f"wirelab.host={d.name}",
                        "--label-add", f"wirelab.engine={d.url}", d.name)  # fmt: skip

    def _load_image(self) -> None:
        tar = STATE / "image.tar"
        try:
            run(["docker", "save", "-o", str(tar), self.image])
            for d in self.daemons:
                self.docker(d, "load", "-q", "-i", str(tar))
        finally:
            tar.unlink(missing_ok=True)

    # ---- down --------------------------------------------------------------------------
    def down(self) -> list[str]:
        """Remove everything :meth:`up` made, whatever state it is in; returns problems
        (what is still there afterwards), empty when nothing is left. The daemons are not
        taken out of the swarm first (their data goes with them): the containers are
        removed, every daemon gets SIGTERM at once, and what still runs after
        ``STOP_WAIT`` (a daemon, its containerd, a shim: found by their paths in our state
        directories, killed by pid) gets SIGKILL (noted in :attr:`notes`)."""
        start = time.monotonic()
        with self.timed("down_containers"):
            for d in self.daemons:
                if d.socket.exists():
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        subprocess.run(
                            ["sh", "-c", f"docker -H {d.url} ps -aq | "
                             f"xargs -r docker -H {d.url} rm -f"],
                            capture_output=True, check=False, timeout=60,
                        )  # fmt: skip
        with self.timed("down_daemons"):
            self._stop_all()
        for d in self.daemons:
            subprocess.run(["ip", "netns", "del", d.name], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", SWITCH_NS], capture_output=True, check=False)
        problems: list[str] = []
        with self.timed("down_files"):
            for path in (STATE, DATA):
                _rmtree(path, problems)
        problems += self.leftovers()
        self.times["down"] = round(time.monotonic() - start, 2)
        self._unlock()
        return problems

    def _stop_all(self) -> None:
        pids = []
        for d in self.daemons:
            with contextlib.suppress(OSError, ValueError):
                pids.append(int(d.pidfile.read_text().strip()))
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        stuck = {p for p in pids if _alive(p)} | {p for p, _ in self._processes()}
        for pid in sorted(stuck):  # a daemon still running is on both lists: killed once
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                self.notes.append(f"process {pid} killed (still running after SIGTERM)")
        deadline = time.monotonic() + 5
        while self._processes() and time.monotonic() < deadline:
            time.sleep(0.1)

    def _processes(self) -> list[tuple[int, str]]:
        """Processes of ours that are still running (their arguments name our directories)."""
        out = []
        for line in run(["ps", "-eo", "pid=,args="], check=False).splitlines():
            pid, _, args = line.strip().partition(" ")
            if str(STATE) in args or str(DATA) in args:
                out.append((int(pid), args))
        return out

    def leftovers(self) -> list[str]:
        """What of the swarm lab exists now: namespaces, links, processes, mounts, dirs."""
        left = []
        netns = run(["ip", "netns", "list"], check=False)
        left += [f"netns {line.split()[0]}" for line in netns.splitlines()
                 if line.startswith(PREFIX)]  # fmt: skip
        links = run(["ip", "-o", "link", "show"], check=False)
        left += [f"link {line.split(':')[1].strip()}" for line in links.splitlines()
                 if line.split(":")[1].strip().startswith(PREFIX)]  # fmt: skip
        left += [f"process {pid} {args}" for pid, args in self._processes()]
        mounts = Path("/proc/self/mountinfo").read_text()
        left += [f"mount {m.split()[4]}" for m in mounts.splitlines()
                 if str(STATE) in m or str(DATA) in m]  # fmt: skip
        left += [f"directory {p}" for p in (STATE, DATA) if p.exists()]
        return left

    def status(self) -> dict[str, object]:
        nodes = []
        if self.manager.socket.exists():
            form = "{{.Hostname}} {{.Status}} {{.ManagerStatus}}"
            out = run(["docker", "-H", self.manager.url, "node", "ls", "--format", form],
                      check=False)  # fmt: skip
            nodes = out.split("\n")
        return {
            "daemons": {d.name: d.url for d in self.daemons},
            "nodes": [n for n in nodes if n],
            "overlay_mtu": self.overlay_mtu,
            "objects": self.leftovers(),
        }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _rmtree(path: Path, problems: list[str]) -> None:
    """``rm -rf``, staying on one file system (a mount left beneath is a leftover to
    report, not something to empty)."""
    if not path.exists():
        return
    done = subprocess.run(
        ["rm", "-rf", "--one-file-system", str(path)], capture_output=True, check=False
    )
    if done.returncode != 0 or path.exists():
        problems.append(f"remove {path}: {done.stderr.decode(errors='replace').strip()}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestrator.lab.swarmlab")
    parser.add_argument("command", choices=("up", "down", "status"))
    parser.add_argument("--image", default="wirelab-node:latest")
    parser.add_argument("--no-image", action="store_true", help="up without loading the image")
    args = parser.parse_args(argv)
    lab = SwarmLab(image=args.image)
    try:
        if args.command == "up":
            lab.up(load_image=not args.no_image)
            print(json.dumps({"times_s": lab.times, **lab.status()}, indent=2))
        elif args.command == "down":
            problems = lab.down()
            print(
                json.dumps({"times_s": lab.times, "left": problems, "notes": lab.notes}, indent=2)
            )
            return 1 if problems else 0
        else:
            print(json.dumps(lab.status(), indent=2))
    except SwarmLabError as exc:
        print(f"swarmlab: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
