"""A client of the LabService, and finding (or starting) the server.

    with connect() as client:                     # the running server, started if none runs
        lab = client.deploy("quickstart")        # a bundled example, or a path to a YAML file
        print(lab.ping("h1", "h2", count=3).received)
        lab.destroy()

Where the server is: ``address``, else $WIRELAB_SERVER, else the address ``wirelab serve``
recorded in ``~/.wirelab/serve.json`` ($WIRELAB_HOME), else 127.0.0.1:50050. The client
reads topology files itself and sends their text: the server never reads a path.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc

import topology
from orchestrator.client.lab import Lab
from orchestrator.domain.errors import InvalidArgument, LabError, Unavailable
from orchestrator.domain.lab import DeployProgress, LabInfo, LabSummary
from orchestrator.wire.lab import LabWire

DEFAULT_ADDRESS = "127.0.0.1:50050"
SERVE_FILE = "serve.json"
START_TIMEOUT = 20.0
CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0), ("grpc.max_receive_message_length", 4 << 20)]


def home() -> Path:
    """The CLI's state directory: $WIRELAB_HOME, else ~/.wirelab."""
    return Path(os.environ.get("WIRELAB_HOME") or Path.home() / ".wirelab")


def read_topology(topology_ref: str | Path) -> tuple[str, str]:
    """(text, file name) of a topology: a path to a YAML file, or the name of a bundled
    example (``quickstart``). InvalidArgument naming the path when neither."""
    path = Path(topology_ref)
    if not path.exists() and path.suffix == "" and "/" not in str(topology_ref):
        with contextlib.suppress(FileNotFoundError):
            path = Path(topology.example_path(str(topology_ref)))
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidArgument(f"{str(topology_ref)[:200]}: {reason}", "topology") from None


class LabClient:
    def __init__(self, address: str = DEFAULT_ADDRESS, *, token: str | None = None) -> None:
        self.address = address
        metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self.wire = LabWire(grpc.insecure_channel(address, options=CHANNEL_OPTIONS), metadata)

    @classmethod
    def from_env(cls) -> LabClient:
        """$WIRELAB_SERVER (else the default address) and $WIRELAB_TOKEN."""
        return cls(
            os.environ.get("WIRELAB_SERVER") or DEFAULT_ADDRESS,
            token=os.environ.get("WIRELAB_TOKEN") or None,
        )

    def healthy(self, timeout: float = 1.0) -> bool:
        """Whether a LabService answers SERVING (no token needed)."""
        return self.wire.healthy(timeout)

    def wait_ready(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.healthy(timeout=min(1.0, max(0.1, deadline - time.monotonic()))):
                return True
            time.sleep(0.05)
        return False

    # ---- labs ------------------------------------------------------------------------------
    def deploy(
        self,
        topology_ref: str | Path | None = None,
        *,
        yaml: str | None = None,
        name: str = "",
        backend: str = "",
        replace: bool = False,
        seed: int | None = None,
        skip_timeline: bool = False,
        progress: Callable[[DeployProgress], None] | None = None,
        timeout: float | None = 900.0,
        base_dir: str | Path | None = None,
    ) -> Lab:
        """Deploy a topology (a path, a bundled example's name, or ``yaml=`` text) and
        return the running lab. ``backend`` "" is docker when the server has a Docker
        engine, else sim. Deploying the same topology again returns the running lab.
        A relative ``code:`` folder is found next to the topology file (with ``yaml=``: in
        ``base_dir``, default the current folder); the server mounts it into the nodes, so
        it must be on the server's machine."""
        if (topology_ref is None) == (yaml is None):
            raise InvalidArgument("give a topology file (or yaml=text)", "topology")
        if yaml is not None:
            text, source = yaml, "<yaml>"
            folder = Path(base_dir) if base_dir is not None else Path.cwd()
        else:
            assert topology_ref is not None
            text, source = read_topology(topology_ref)
            folder = Path(base_dir) if base_dir is not None else Path(source).parent
        events = self.wire.deploy(
            text, source_name=source, name=name, backend=backend, replace=replace, seed=seed,
            skip_timeline=skip_timeline, timeout=timeout, base_dir=str(folder.resolve()),
        )  # fmt: skip
        for event in events:
            if isinstance(event, LabInfo):
                return Lab(self, event)
            if progress is not None:
                progress(event)
        raise LabError("the deploy stream ended without the lab")

    def lab(self, name: str, *, fetch: bool = True) -> Lab:
        """A deployed lab by name (NotFound when there is none). ``fetch=False`` skips
        reading it (a live view asks every node): calls on it still name the lab."""
        if not fetch:
            return Lab(self, LabInfo(name=name, backend="", state=""))
        return Lab(self, self.wire.lab(name))

    def labs(self) -> list[LabSummary]:
        return self.wire.labs()

    def destroy(self, lab: str = "", *, all: bool = False) -> list[str]:
        return self.wire.destroy(lab, all=all)

    # ---- lifetime ----------------------------------------------------------------------------
    def close(self) -> None:
        self.wire.close()

    def __enter__(self) -> LabClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# ---- finding (or starting) the server -----------------------------------------------------


def read_serve_file(directory: Path | None = None) -> dict[str, Any] | None:
    path = (directory or home()) / SERVE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "address" in data else None


def connect(
    address: str | None = None, *, token: str | None = None, start: bool = True
) -> LabClient:
    """A client of the running server, starting ``wirelab serve`` in the background when
    none answers (see the module docstring). Unavailable when nothing answers."""
    token = token or os.environ.get("WIRELAB_TOKEN") or None
    explicit = address or os.environ.get("WIRELAB_SERVER") or None
    if explicit:
        client = LabClient(explicit, token=token)
        if client.wait_ready(2.0):
            return client
        client.close()
        raise Unavailable(f"no wirelab server answers at {explicit}")
    candidates = []
    saved = read_serve_file()
    if saved is not None:
        candidates.append(str(saved["address"]))
    candidates.append(DEFAULT_ADDRESS)
    for candidate in dict.fromkeys(candidates):
        client = LabClient(candidate, token=token)
        if client.healthy(0.5):
            return client
        client.close()
    if not start:
        raise Unavailable("no wirelab server is running (start one: wirelab serve)")
    return start_background(token=token)


def start_background(*, token: str | None = None, address: str = "127.0.0.1:0") -> LabClient:
    """Start ``wirelab serve`` detached (its log: ~/.wirelab/serve.log); wait until it
    answers; a client of it."""
    directory = home()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / SERVE_FILE).unlink(missing_ok=True)
    env = dict(os.environ)
    if token:
        env["WIRELAB_TOKEN"] = token
    with open(directory / "serve.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "orchestrator.cli", "serve", "--address", address],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        saved = read_serve_file(directory)
        if saved is not None and saved.get("pid") == proc.pid:
            client = LabClient(str(saved["address"]), token=token)
            if client.wait_ready(max(0.1, deadline - time.monotonic())):
                return client
            client.close()
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise Unavailable(f"wirelab serve did not start (see {directory / 'serve.log'})")
