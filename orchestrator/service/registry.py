"""The labs one server holds: deploy, find, list and destroy them.

Sim and virtual labs (every node in the server process) live and die with the server.
Docker and swarm labs outlive it: their state is the containers' labels plus the topology
the server saved under its state directory (``<home>/labs/<lab>.yaml``, and beside it
``<lab>.backend`` naming the backend when it is not docker), so a new server attaches to
such a lab again on first use. Labs it cannot open (labels without a saved topology) are
not listed; ``destroy`` still removes them by label.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from orchestrator.domain.errors import (
    MAX_MESSAGE,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    echo,
)
from orchestrator.domain.lab import DeployProgress, LabSummary
from orchestrator.lab.backends import IN_PROCESS, Backends
from orchestrator.lab.code import code_folders
from orchestrator.lab.deploy import Deployed, deploy
from orchestrator.lab.inspect import inspect_or_none
from orchestrator.lab.labels import topology_hash
from orchestrator.lab.progress import DeployError, LabConflictError
from orchestrator.lab.remove import destroy as remove_lab
from orchestrator.lab.session import LabSession
from topology import Lab, TopologyError, load_text

log = logging.getLogger(__name__)
Progress = Callable[[DeployProgress], None]


def state_dir() -> Path:
    """Where the server keeps its files: $WIRELAB_HOME, else ~/.wirelab."""
    return Path(os.environ.get("WIRELAB_HOME") or Path.home() / ".wirelab")


def topology_error(exc: TopologyError) -> InvalidArgument:
    """Every diagnostic, as far as they fit in one message."""
    lines = [d.format() for d in exc.diagnostics]
    text = "; ".join(lines)
    if len(text) > MAX_MESSAGE - 40:
        kept: list[str] = []
        for line in lines:
            if len("; ".join([*kept, line])) > MAX_MESSAGE - 60:
                break
            kept.append(line)
        text = "; ".join(kept) + f"; ... and {len(lines) - len(kept)} more"
    return InvalidArgument(text, "topology")


class LabRegistry:
    def __init__(self, backends: Backends | None = None, *, home: Path | None = None) -> None:
        self.backends = backends or Backends()
        self.home = home
        self._labs: dict[str, LabSession] = {}
        self._lock = threading.RLock()
        self._deploying: set[str] = set()

    # ---- finding labs -------------------------------------------------------------------
    def session(self, name: str, field_name: str = "lab") -> LabSession:
        if not name:
            raise InvalidArgument("is required", field_name)
        with self._lock:
            found = self._labs.get(name)
        if found is None:
            found = self._attach(name)
        if found is None:
            with self._lock:
                have = ", ".join(sorted(self._labs)) or "none"
            raise NotFound(f"no lab {echo(name)} (deployed: {have[:300]})", field_name)
        return found

    def _saved(self, name: str) -> Path | None:
        if self.home is None or "/" in name or name.startswith("."):
            return None
        return self.home / "labs" / f"{name}.yaml"

    def _saved_backend(self, saved: Path) -> str:
        """The backend a saved lab runs on: its ``.backend`` file, else docker."""
        marker = saved.with_suffix(".backend")
        try:
            return marker.read_text(encoding="utf-8").strip() or "docker"
        except FileNotFoundError:
            return "docker"

    def _save(self, name: str, text: str, backend: str) -> None:
        saved = self._saved(name)
        if saved is None or backend in IN_PROCESS:
            return
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(text, encoding="utf-8")
        marker = saved.with_suffix(".backend")
        if backend == "docker":
            marker.unlink(missing_ok=True)
        else:
            marker.write_text(backend + "\n", encoding="utf-8")

    def _unsave(self, name: str) -> None:
        saved = self._saved(name)
        if saved is not None:
            saved.unlink(missing_ok=True)
            saved.with_suffix(".backend").unlink(missing_ok=True)

    def _attach(self, name: str) -> LabSession | None:
        """A docker or swarm lab deployed by an earlier server: found by its labels."""
        saved = self._saved(name)
        if saved is None or not saved.is_file():
            return None
        kind = self._saved_backend(saved)
        try:
            backend = self.backends.get(kind)
            info = inspect_or_none(name, backend)
            if info is None:
                self._unsave(name)
                return None
            text = saved.read_text(encoding="utf-8")
            lab = self._as_run(load_text(text, file=str(saved)), kind)
            if topology_hash(lab) not in info.topology_hash.split(","):
                return None
            agents = {n.name: n.management for n in info.nodes if n.management}
            session = LabSession(
                Deployed(lab, backend, agents), source=str(saved), text=text, attached=True
            )
        except Exception as exc:
            log.warning("cannot attach %s lab %s: %s", kind, name, exc)
            return None
        with self._lock:
            return self._labs.setdefault(name, session)

    def summaries(self) -> list[LabSummary]:
        """Every lab this server can open: its own, and docker labs it can attach."""
        with self._lock:
            sessions = list(self._labs.values())
        known = {s.name for s in sessions}
        for name in self._outliving_labs():
            if name not in known:
                session = self._attach(name)
                if session is not None:
                    sessions.append(session)
        return sorted((s.summary() for s in sessions), key=lambda s: s.name)

    def _outliving_labs(self) -> dict[str, str]:
        """Labs that outlive their server, found by label: lab -> the backend whose engines
        hold it. Docker when an engine answers; swarm when this server made its swarm
        backend or saved a swarm lab (a swarm lab whose nodes sit on this engine too is
        the swarm's)."""
        found: dict[str, str] = {}
        kinds = ["docker"]
        if self.backends.made("swarm") or "swarm" in self._saved_kinds():
            kinds.append("swarm")
        for kind in kinds:
            if (
                kind == "docker"
                and not self.backends.made(kind)
                and os.environ.get("WIRELAB_NO_DOCKER")
            ):
                continue
            try:
                names = self.backends.get(kind).lab_names()
            except Exception:
                continue
            for name in names:
                found[name] = kind
        return found

    def _saved_kinds(self) -> set[str]:
        if self.home is None or not (self.home / "labs").is_dir():
            return set()
        return {
            self._saved_backend(p.with_suffix(".yaml"))
            for p in (self.home / "labs").glob("*.backend")
        }

    # ---- deploy ---------------------------------------------------------------------------
    def deploy(
        self,
        text: str,
        *,
        source_name: str = "<request>",
        name: str = "",
        backend: str = "",
        replace: bool = False,
        seed: int = 1,
        skip_timeline: bool = False,
        progress: Progress | None = None,
        base_dir: str = "",
        host_paths: bool = True,
    ) -> LabSession:
        """``base_dir``: the folder a relative ``code:`` folder is in (the topology file's).
        ``host_paths`` False (a caller on another machine): a topology that mounts folders of
        this machine into its nodes (``code:``, ``binds:``) is refused."""
        report = progress or (lambda p: None)
        try:
            lab = load_text(text, file=source_name)
            stored = text  # what a later server loads to attach: under the lab's own name
            if name:
                stored = _renamed(text, name)
                lab = load_text(stored, file=source_name)
        except TopologyError as exc:
            raise topology_error(exc) from None
        if not host_paths and any(n.code is not None or n.workload.binds for n in lab.nodes):
            raise FailedPrecondition(
                "code and binds mount folders of the server's machine into the lab's nodes: "
                "only a client on that machine may deploy them (run it there)",
                "topology",
            )
        code = code_folders(lab, base_dir)
        backend, why = self.backends.choose(backend)
        report(DeployProgress("backend", "", 1, 1, f"{backend} ({why})"))
        with self._lock:
            existing = self._labs.get(lab.name)
            if existing is not None:
                same = topology_hash(existing.lab) == topology_hash(self._as_run(lab, backend))
                if same and existing.backend_name == backend:
                    report(
                        DeployProgress("existing", "", 1, 1, "already deployed from this topology")
                    )
                    return existing
                if not replace:
                    raise AlreadyExists(
                        f"lab {lab.name} is already deployed ({existing.backend_name}, another "
                        "topology or backend): destroy it first or deploy with replace",
                        "name",
                    )
            if lab.name in self._deploying:
                raise AlreadyExists(f"lab {lab.name} is being deployed right now", "name")
            self._deploying.add(lab.name)
        try:
            if existing is not None:
                self._forget(lab.name, destroy=True)
            return self._deploy(
                lab, text, stored, backend, replace, seed, skip_timeline, report, code
            )
        finally:
            with self._lock:
                self._deploying.discard(lab.name)

    def _as_run(self, lab: Lab, backend: str) -> Lab:
        """``lab`` as ``backend`` runs it (a session holds that lab: swarm adapts MTUs and
        MACs to its overlays), so that a redeploy of the same topology is recognised."""
        adapt = getattr(self.backends.get(backend), "adapt_lab", None)
        return lab if adapt is None else adapt(lab)[0]

    def _deploy(
        self,
        lab: Lab,
        text: str,
        stored: str,
        backend: str,
        replace: bool,
        seed: int,
        skip_timeline: bool,
        report: Progress,
        code: dict[str, str],
    ) -> LabSession:
        try:
            deployed = deploy(
                lab,
                self.backends.get(backend),
                replace=replace,
                progress=report,
                seed=seed,
                code=code,
            )
        except LabConflictError as exc:
            raise AlreadyExists(str(exc), "name") from None
        except DeployError as exc:
            raise FailedPrecondition(str(exc), "backend") from None
        session = LabSession(
            deployed, source=lab.source, seed=seed, text=text, timeline=not skip_timeline
        )
        with self._lock:
            self._labs[lab.name] = session
        self._save(lab.name, stored, backend)
        if not skip_timeline and lab.faults:
            session.schedule_timeline()
        return session

    # ---- destroy ----------------------------------------------------------------------------
    def _forget(self, name: str, *, destroy: bool) -> None:
        with self._lock:
            session = self._labs.pop(name, None)
        if session is not None:
            session.close(destroy=destroy)
        if destroy:
            self._unsave(name)

    def destroy(self, name: str) -> list[str]:
        if not name:
            raise InvalidArgument("is required (or all)", "lab")
        with self._lock:
            known = name in self._labs
        if known:
            self._forget(name, destroy=True)
            return [name]
        kind = self._outliving_labs().get(name)
        if kind is None:
            raise NotFound(f"no lab {echo(name)}", "lab")
        remove_lab(name, self.backends.get(kind))
        self._forget(name, destroy=True)
        return [name]

    def destroy_all(self) -> list[str]:
        with self._lock:
            names = sorted(self._labs)
        names += [n for n in self._outliving_labs() if n not in names]
        for name in names:
            self.destroy(name)
        return names

    def close(self) -> None:
        """Stop every lab's threads; sim and virtual labs (in this process) are destroyed,
        the others keep running."""
        with self._lock:
            sessions, self._labs = list(self._labs.values()), {}
        for session in sessions:
            try:
                session.close(destroy=session.backend_name in IN_PROCESS)
            except Exception:
                log.exception("closing lab %s", session.name)
        self.backends.close()


def _renamed(text: str, name: str) -> str:
    """The topology's text with another lab name (the YAML's top-level ``name``)."""
    import yaml

    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise InvalidArgument("the topology is not a mapping", "topology")
    data["name"] = name
    return yaml.safe_dump(data, sort_keys=False)
