"""The node image: one image for every node kind, built offline, cached by a hash of its inputs.

Two layers (DESIGN.md §4: no registry here, so nothing is pulled):

1. ``wirelab-base:<hash>``: Debian bookworm ``debootstrap --variant=minbase`` with Python 3.11
   and the linux-kind tools (iputils-ping, iproute2, curl, iperf3, traceroute, tracepath,
   tcpdump, ethtool, netcat, FRR's zebra/ripd/vtysh), ``docker import``-ed. The hash covers
   the suite and the package list. A local ``python:3.11-slim`` is not used: it lacks those
   tools and nothing can be installed inside an offline ``docker build``, so debootstrap is
   needed either way.
2. ``wirelab-node:<hash>`` (also tagged ``wirelab-node:latest``): the base plus a venv at
   /opt/wirelab with the project and its runtime dependencies installed from wheels built on
   the host (``pip wheel``); the build itself runs with ``--network none``. The hash covers
   the base tag, the project's source files and the pinned runtime dependencies.

``python -m orchestrator.image build [--force] [--json] [--quiet]`` builds (or finds) it;
``python -m orchestrator.image tag`` prints the tag the current sources need.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import platform
import re
import shlex
import shutil
import sys
import sysconfig
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from orchestrator.image.engine import (
    CommandError,
    DockerEngineError,
    Progress,
    apt_install,
    ensure_docker,
    is_root,
    run,
    which,
)

RECIPE = "wirelab-image/1"  # bump when the build recipe changes in a way the inputs miss
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PYTHON = (3, 11)  # bookworm's python3; host wheels must be built for it
BASE_PACKAGES: tuple[str, ...] = (
    "python3",
    "python3-venv",
    "iproute2",
    "iputils-ping",
    "curl",
    "iperf3",
    "traceroute",
    "iputils-tracepath",
    "tcpdump",
    "ethtool",
    "netcat-openbsd",
    "procps",
    "frr",  # FRR's zebra + ripd: the reference RIP peer on linux routers (lab/frr.py)
)
# what a linux-kind node (and a test) may rely on: command -> package that provides it
TOOLS: dict[str, str] = {
    "ping": "iputils-ping",
    "ip": "iproute2",
    "curl": "curl",
    "iperf3": "iperf3",
    "traceroute": "traceroute",
    "tracepath": "iputils-tracepath",
    "tcpdump": "tcpdump",
    "ethtool": "ethtool",
    "nc": "netcat-openbsd",
    "ps": "procps",
    "vtysh": "frr",
    "/usr/lib/frr/ripd": "frr",
}
SOURCE_DIRS = ("nodes", "topology", "orchestrator", "proto")
SOURCE_FILES = ("pyproject.toml", "setup.py", "README.md")  # README: the wheel's metadata
BASE_REPO = "wirelab-base"
NODE_REPO = "wirelab-node"
VENV = "/opt/wirelab"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# PID 1 idles until stopped and exits at once on SIGTERM; deploy chooses the real command
IDLE_CMD = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]
KEEP_NODE_IMAGES = 3  # older wirelab-node:<hash> tags are removed after a build
PRUNE_MIN_AGE_S = 3600.0  # ... unless younger than this: another session may be using it
_LS_FORMAT = "{{.Repository}}:{{.Tag}}\t{{.CreatedAt}}"
LOCK_FILE = Path(tempfile.gettempdir()) / "wirelab-image.lock"


class ImageError(RuntimeError):
    """The image cannot be built here (wrong interpreter, not a source checkout, ...)."""


# -- inputs and tags ----------------------------------------------------------------------------


def base_tag(packages: Sequence[str] = BASE_PACKAGES, suite: str = SUITE) -> str:
    text = "\n".join([RECIPE, suite, "minbase", *sorted(packages)])
    return f"{BASE_REPO}:{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def _ignored(rel: Path) -> bool:
    return any(
        part.startswith(".") or part == "__pycache__" or part.endswith(".egg-info")
        for part in rel.parts
    ) or rel.suffix in {".pyc", ".pyo", ".so"}  # a shared object is built, never copied


def source_files(root: Path) -> list[Path]:
    """The project files that go into the image, relative to ``root``, sorted."""
    found = [Path(name) for name in SOURCE_FILES if (root / name).is_file()]
    for top in SOURCE_DIRS:
        for path in (root / top).rglob("*"):
            rel = path.relative_to(root)
            if path.is_file() and not _ignored(rel):
                found.append(rel)
    return sorted(found, key=lambda p: p.as_posix())


_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?[^;]*(?:;(.*))?$")
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirement(text: str) -> tuple[str, frozenset[str], str | None]:
    """``'name[extra] >=1; marker'`` -> (canonical name, extras, marker or None)."""
    match = _REQ.match(text)
    if match is None:
        raise ImageError(f"cannot parse the requirement {text!r}")
    name, extras, marker = match.groups()
    wanted = frozenset(canonical(e) for e in (extras or "").split(",") if e.strip())
    return canonical(name), wanted, (marker.strip() if marker else None)


def declared_dependencies(root: Path) -> list[str]:
    """What a node needs: the project's ``node`` extra (the control plane's own
    dependencies, pydantic, typer, rich, matplotlib ..., stay out of the image)."""
    try:
        with (root / "pyproject.toml").open("rb") as f:
            project = tomllib.load(f).get("project", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ImageError(f"{root}: no readable pyproject.toml ({exc})") from exc
    deps = project.get("optional-dependencies", {}).get("node")
    if deps is None:
        raise ImageError(f"{root}/pyproject.toml has no optional-dependencies 'node'")
    return [str(d) for d in deps]


def _installed(name: str) -> importlib.metadata.Distribution | None:
    try:
        return importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def pinned_requirements(declared: Sequence[str]) -> list[str]:
    """The runtime dependency closure pinned to what this interpreter has installed.

    A dependency that is not installed stays as declared (pip resolves it). Markers are
    judged by the host, which matches the image (CPython 3.11 on Linux): a conditional
    dependency counts when the host has it installed, an extra's only when it is asked for.
    """
    pins: dict[str, str] = {}
    todo = list(declared)
    while todo:
        text = todo.pop()
        name, extras, marker = parse_requirement(text)
        dist = _installed(name)
        if name in pins or (marker is not None and dist is None):
            continue
        if dist is None:
            pins[name] = text.split(";")[0].strip()
            continue
        pins[name] = f"{name}=={dist.version}"
        for sub in dist.requires or []:
            wanted = {canonical(e) for e in _EXTRA.findall(parse_requirement(sub)[2] or "")}
            if wanted and not wanted & extras:
                continue
            todo.append(sub.split(";")[0] if wanted else sub)
    return sorted(pins.values())


@dataclass(frozen=True, slots=True)
class ImageInputs:
    root: Path
    base: str
    files: tuple[Path, ...]
    requirements: tuple[str, ...]
    digest: str

    @property
    def tag(self) -> str:
        return f"{NODE_REPO}:{self.digest[:12]}"


def compute_inputs(root: Path, *, base: str | None = None) -> ImageInputs:
    """Hash everything the node image is made of; any change gives a new tag."""
    root = root.resolve()
    if not (root / "pyproject.toml").is_file():
        raise ImageError(f"{root} is not a wirelab source checkout (no pyproject.toml)")
    base = base or base_tag()
    files = tuple(source_files(root))
    reqs = tuple(pinned_requirements(declared_dependencies(root)))
    h = hashlib.sha256()
    for item in (RECIPE, base, f"cp{PYTHON[0]}{PYTHON[1]}", platform.machine(), *reqs):
        h.update(item.encode() + b"\0")
    for rel in files:
        data = (root / rel).read_bytes()
        h.update(f"{rel.as_posix()}\0{len(data)}\0".encode())
        h.update(data)
    return ImageInputs(root, base, files, reqs, h.hexdigest())


# -- generated build files ----------------------------------------------------------------------


def import_changes() -> list[str]:
    """``docker import --change`` instructions that give the raw rootfs a usable config."""
    return [f"ENV PATH={SYSTEM_PATH}", "ENV LANG=C.UTF-8", 'CMD ["/bin/bash"]']


# the node image's check that the TCP engine it imports is the mypyc-compiled one
_IMPORTS_COMPILED = (
    "import nodes.stack.tcp.engine as m; assert m.__file__.endswith('.so'), m.__file__"
)


def render_dockerfile(inputs: ImageInputs) -> str:
    pip = f"{VENV}/bin/pip install --no-index --no-cache-dir --disable-pip-version-check"
    reqs = " ".join(shlex.quote(r) for r in inputs.requirements)
    return "\n".join(
        [
            f"FROM {inputs.base}",
            f'LABEL wirelab.image="node" wirelab.inputs="{inputs.digest}" '
            f'wirelab.base="{inputs.base}"',
            "COPY wheels/ /wheels/",
            f"RUN python3 -m venv {VENV} \\",
            f" && {pip} --find-links /wheels {reqs} \\",
            f" && {pip} --no-deps --find-links /wheels wirelab \\",
            f' && {VENV}/bin/python -c "import nodes.agent.launch" \\',
            # the compiled checksum and modules are in the wheel (build_wheels checked): they
            # must load, and the compiled module must be the one imported
            f' && {VENV}/bin/python -c "import nodes.wire._checksum" \\',
            f' && {VENV}/bin/python -c "{_IMPORTS_COMPILED}" \\',
            " && rm -rf /wheels",
            f"ENV PATH={VENV}/bin:{SYSTEM_PATH} LANG=C.UTF-8 PYTHONUNBUFFERED=1",
            "WORKDIR /root",
            f"CMD {json.dumps(IDLE_CMD)}",
            "",
        ]
    )


# -- docker helpers -----------------------------------------------------------------------------


def image_exists(tag: str) -> bool:
    try:
        run(["docker", "image", "inspect", "--format", "{{.Id}}", tag], step="inspect", timeout=30)
    except CommandError:
        return False
    return True


def _remove_image(tag: str) -> None:
    with contextlib.suppress(CommandError):
        run(["docker", "image", "rm", "-f", tag], step="cleanup", timeout=60)


def prune_node_images(keep: int = KEEP_NODE_IMAGES, min_age: float = PRUNE_MIN_AGE_S) -> list[str]:
    """Untag node images beyond the ``keep`` newest that are older than ``min_age``
    seconds (another session may have just built one it is about to deploy); one in use
    by a container stays (Docker refuses)."""
    listing = run(
        [
            "docker",
            "image",
            "ls",
            NODE_REPO,
            "--format",
            "{{.Repository}}:{{.Tag}}\t{{.CreatedAt}}",
        ],
        step="list node images",
        timeout=60,
    )
    removed = []
    for tag in prunable(listing, keep=keep, min_age=min_age, now=time.time()):
        with contextlib.suppress(CommandError):
            run(["docker", "image", "rm", tag], step="prune", timeout=60)
            removed.append(tag)
    return removed


def prunable(listing: str, *, keep: int, min_age: float, now: float) -> list[str]:
    """From ``docker image ls`` lines (tag TAB created, newest first): the tags beyond the
    ``keep`` newest created more than ``min_age`` seconds before ``now`` (never ``latest``;
    a line whose date does not parse counts as new)."""
    tags = []
    for line in listing.splitlines():
        tag, _, created = line.partition("\t")
        tag = tag.strip()
        if not tag or tag == f"{NODE_REPO}:latest" or tag.endswith("<none>"):
            continue
        tags.append((tag, _created(created)))
    return [t for t, at in tags[keep:] if at is not None and now - at > min_age]


def _created(text: str) -> float | None:
    """docker's CreatedAt ("2026-11-21 22:05:06 +0000 UTC") as a Unix time."""
    parts = text.split()
    if len(parts) < 3:
        return None
    try:
        stamp = datetime.datetime.strptime(" ".join(parts[:3]), "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        return None
    return stamp.timestamp()


# -- the base layer -----------------------------------------------------------------------------


def build_base(tag: str, workdir: Path, progress: Progress) -> None:
    if not is_root():
        raise ImageError(f"{tag} is missing and only root can debootstrap it")
    if which("debootstrap") is None:
        apt_install(["debootstrap"], progress)
    rootfs = workdir / "rootfs"
    cmd = [
        "debootstrap",
        "--variant=minbase",
        "--include=" + ",".join(BASE_PACKAGES),
        SUITE,
        str(rootfs),
        MIRROR,
    ]
    with progress.step(f"debootstrap {SUITE} minbase + {len(BASE_PACKAGES)} packages"):
        run(cmd, step="debootstrap", timeout=1800)
    for pattern in ("var/cache/apt/archives/*.deb", "var/lib/apt/lists/*_*"):
        for junk in rootfs.glob(pattern):
            junk.unlink()
    script = (
        'set -o pipefail; tar --numeric-owner --exclude="./proc/*" --exclude="./sys/*" '
        '-C "$1" -c . | docker import "${@:3}" - "$2"'
    )
    changes = [arg for change in import_changes() for arg in ("--change", change)]
    try:
        with progress.step(f"docker import {tag}"):
            run(["bash", "-c", script, "import", str(rootfs), tag, *changes], step="docker import")
        with progress.step("check the base's python3"):
            probe = "import sys, venv; print('%d.%d' % sys.version_info[:2])"
            cmd = ["docker", "run", "--rm", "--network", "none", tag, "python3", "-c", probe]
            got = run(cmd, step="check base", timeout=120).strip().splitlines()[-1:]
            if got != [f"{PYTHON[0]}.{PYTHON[1]}"]:
                raise CommandError("check base", cmd, f"python3 is {got}, want 3.11")
    except BaseException:
        _remove_image(tag)
        raise


# -- the node layer -----------------------------------------------------------------------------


def build_wheels(inputs: ImageInputs, dest: Path, progress: Progress) -> None:
    """The project's wheel (from a copy of exactly the hashed files) and its dependencies'."""
    if sys.version_info[:2] != PYTHON:
        raise ImageError(
            f"the node image runs Python {PYTHON[0]}.{PYTHON[1]}; build it with a Python "
            f"{PYTHON[0]}.{PYTHON[1]} interpreter (this is {platform.python_version()})"
        )
    src = dest.parent / "src"
    for rel in inputs.files:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(inputs.root / rel, src / rel)
    pip = [sys.executable, "-m", "pip", "wheel", "--no-input", "--disable-pip-version-check"]
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]
    ensure_compiler(progress)
    with progress.step(f"pip wheel wirelab + {len(inputs.requirements)} dependencies"):
        run([*pip, "--no-deps", *isolation, "-w", str(dest), str(src)], step="pip wheel (project)")
        if inputs.requirements:
            run([*pip, "-w", str(dest), *inputs.requirements], step="pip wheel (dependencies)")
    check_compiled(dest, mypyc_modules(src))


# setup.py's C extension, which the node image must carry (its pure-Python fallback is
# for installs without a compiler, not for the image); the mypyc-compiled modules too
# (mypyc_modules)
COMPILED = ("nodes/wire/_checksum",)


def mypyc_modules(root: Path) -> list[str]:
    """The modules setup.py compiles with mypyc, as paths without ``.py``
    (``nodes/stack/tcp/engine``): pyproject.toml's ``[tool.wirelab.mypyc]`` expanded the
    way setup.py's ``mypyc_paths`` does it (tests/unit/test_image_compiled.py checks that
    they agree): its packages' modules and its single modules, less its exclusions and
    empty ``__init__.py`` files."""
    try:
        with (root / "pyproject.toml").open("rb") as f:
            section = tomllib.load(f)["tool"]["wirelab"]["mypyc"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as exc:
        raise ImageError(f"{root}/pyproject.toml has no readable [tool.wirelab.mypyc]") from exc
    found = {str(m) for m in section.get("modules", [])}
    for package in section.get("packages", []):
        found.update(p.relative_to(root).as_posix() for p in (root / package).rglob("*.py"))
    found -= {str(m) for m in section.get("exclude", [])}
    return sorted(p.removesuffix(".py") for p in found if (root / p).stat().st_size > 0)


def ensure_compiler(progress: Progress) -> None:
    """A C compiler and this Python's headers for setup.py's extensions: apt installs
    them as root when missing (gcc; python3-dev for Debian's own python3)."""
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    missing = [] if shutil.which("cc") or shutil.which("gcc") else ["gcc", "libc6-dev"]
    if not headers.is_file():
        missing.append("python3-dev")
    if missing:
        apt_install(missing, progress)


def check_compiled(wheels: Path, modules: Sequence[str] = ()) -> None:
    """The project's wheel holds the compiled checksum and every mypyc-compiled module in
    ``modules`` (else setup.py built it without them: no C compiler, no mypy of the pinned
    version, or WIRELAB_PURE set; it says why in pip's output)."""
    found = sorted(wheels.glob("wirelab-*.whl"))
    if not found:
        raise ImageError(f"pip wheel left no wirelab wheel in {wheels}")
    with zipfile.ZipFile(found[-1]) as whl:
        names = whl.namelist()
    for stem in COMPILED:
        if not any(n.startswith(stem + ".") and n.endswith(".so") for n in names):
            raise ImageError(
                f"the wirelab wheel has no compiled {stem.replace('/', '.')}: its C build "
                "failed (a compiler and Python.h are needed; see pip's output)"
            )
    missing = [
        m for m in modules if not any(n.startswith(m + ".") and n.endswith(".so") for n in names)
    ]
    if missing:
        raise ImageError(
            f"the wirelab wheel has no mypyc-compiled {missing[0].replace('/', '.')} "
            f"({len(missing)} of {len(modules)} modules missing): setup.py built it pure "
            "(no mypyc with the pinned mypy in this venv, no C compiler, or WIRELAB_PURE set; "
            "its message is in pip's output)"
        )


def build_node(inputs: ImageInputs, workdir: Path, progress: Progress) -> None:
    context = workdir / "context"
    (context / "wheels").mkdir(parents=True)
    build_wheels(inputs, context / "wheels", progress)
    (context / "Dockerfile").write_text(render_dockerfile(inputs), encoding="utf-8")
    cmd = ["docker", "build", "--network", "none", "--force-rm", "-t", inputs.tag, str(context)]
    try:
        with progress.step(f"docker build {inputs.tag}"):
            run(cmd, step="docker build", env={"DOCKER_BUILDKIT": "0"}, timeout=900)
    except BaseException:
        # the tag is only set by a successful build: drop the failed build's layers
        label = f"label=wirelab.inputs={inputs.digest}"
        with contextlib.suppress(CommandError):
            run(["docker", "image", "prune", "-f", "--filter", label], step="cleanup")
        raise


# -- the whole build ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BuildResult:
    tag: str
    latest: str
    base: str
    built: bool
    base_built: bool
    seconds: float


@contextlib.contextmanager
def _build_lock(progress: Progress) -> Iterator[None]:
    with LOCK_FILE.open("a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress.info(f"waiting for another image build ({LOCK_FILE})")
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def _workdir(progress: Progress) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="wirelab-image-"))
    try:
        yield path
    finally:
        _unmount_below(path)
        try:
            shutil.rmtree(path)
        except OSError as exc:
            progress.info(f"warning: could not remove {path}: {exc}")


def _unmount_below(path: Path) -> None:
    """A failed debootstrap can leave /proc or /sys mounted in the rootfs: never rm those."""
    try:
        mounts = Path("/proc/self/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return
    prefix = str(path) + "/"
    points = [m.split()[1] for m in mounts if len(m.split()) > 1]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        with contextlib.suppress(CommandError):
            run(["umount", "-l", point], step="cleanup", timeout=60)


def build(
    root: Path | None = None,
    *,
    force: bool = False,
    force_base: bool = False,
    progress: Progress | None = None,
) -> BuildResult:
    """Build the node image unless an image with the same inputs exists; return its tag."""
    progress = progress or Progress()
    started = time.monotonic()
    inputs = compute_inputs(root or project_root())
    latest = f"{NODE_REPO}:latest"
    ensure_docker(progress)
    with _build_lock(progress):
        base_built = force_base or not image_exists(inputs.base)
        built = force or base_built or not image_exists(inputs.tag)
        if built:
            with _workdir(progress) as workdir:
                if base_built:
                    build_base(inputs.base, workdir, progress)
                else:
                    progress.info(f"base {inputs.base} is cached")
                build_node(inputs, workdir, progress)
            for old in prune_node_images():
                progress.info(f"removed the old image {old}")
        else:
            progress.info(f"{inputs.tag} is up to date (cached)")
        run(["docker", "tag", inputs.tag, latest], step="docker tag", timeout=60)
    seconds = round(time.monotonic() - started, 1)
    progress.info(f"node image {inputs.tag} ({'built' if built else 'cached'}, {seconds} s)")
    return BuildResult(inputs.tag, latest, inputs.base, built, base_built, seconds)


def project_root() -> Path:
    return Path(__file__).resolve().parents[2]


# -- command line -------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m orchestrator.image", description="Build the wirelab node image offline."
    )
    parser.add_argument("--root", type=Path, default=None, help="source checkout (default: ours)")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the node image unless it is up to date")
    b.add_argument("--force", action="store_true", help="rebuild the node image")
    b.add_argument("--force-base", action="store_true", help="rebuild the base image too")
    b.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    b.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    sub.add_parser("tag", help="print the tag the current sources need")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    root = args.root or project_root()
    try:
        if args.command == "tag":
            print(compute_inputs(root).tag)
            return 0
        result = build(
            root,
            force=args.force,
            force_base=args.force_base,
            progress=Progress(quiet=args.quiet),
        )
    except (ImageError, CommandError, DockerEngineError) as exc:
        print(f"wirelab image: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("wirelab image: interrupted", file=sys.stderr)
        return 130
    print(json.dumps(asdict(result)) if args.json else result.tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
