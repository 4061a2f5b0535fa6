"""The lean node launcher (nodes/agent/launch.py) and what keeps the idle agent small."""

from __future__ import annotations

import importlib.metadata
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from wirelab.v1 import node_pb2, node_pb2_grpc

from nodes.agent import launch
from nodes.agent.servicer import wirelab_version

T = 10.0
# shared objects an idle agent must not map (ssl via asyncio, OpenSSL via hashlib,
# bz2/lzma/expat via importlib.metadata)
UNWANTED = ("_ssl.", "_hashlib.", "libssl", "libcrypto", "_lzma.", "_bz2.", "pyexpat.")


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)  # fmt: skip
    return out.stdout


def test_the_blocker_refuses_only_its_names_until_released() -> None:
    assert "tabnanny" not in sys.modules
    blocker = launch.install({"tabnanny"})
    try:
        with pytest.raises(ModuleNotFoundError, match="kept out of the node agent"):
            import tabnanny
        import colorsys  # noqa: F401  (others import as usual)

        blocker.release({"tabnanny"})
        import tabnanny  # noqa: F401
    finally:
        sys.meta_path.remove(blocker)
        sys.modules.pop("tabnanny", None)


def test_importing_the_agent_pulls_in_no_heavy_module() -> None:
    code = "import sys, json, nodes.agent.__main__; print(json.dumps(sorted(sys.modules)))"
    modules = set(json.loads(_run(code)))
    assert "nodes.agent.servicer" in modules
    for heavy in ("importlib.metadata", "statistics", "email", "zipfile", "csv"):
        assert heavy not in modules, heavy
    # the control plane's libraries stay on the host (the node image does not even have them)
    for control in ("pydantic", "typer", "click", "rich", "matplotlib", "yaml", "docker"):
        assert control not in modules, control
    assert not {m for m in modules if m == "orchestrator" or m.startswith("orchestrator.")}
    assert not {m for m in modules if m == "topology" or m.startswith("topology.")}
    # asyncio streams, user apps and the relay load when the first such app starts
    lazy = ("nodes.io.aio", "nodes.io.forward", "nodes.apps.api", "nodes.apps.loader",
            "nodes.apps.userapp")  # fmt: skip
    assert not modules & set(lazy)
    assert "nodes.apps.ref" in modules  # the names Configure checks: pure, tiny


def test_apps_get_openssl_sha256_even_when_hashlib_loaded_without_it() -> None:
    code = (
        "import sys, nodes.agent.launch as L\n"
        "b = L.install(L.STARTUP_BLOCKED)\n"
        "import hashlib\n"
        "assert '_hashlib' not in sys.modules and hashlib.blake2b(b'x').digest()\n"
        "b.release(L.STARTUP_BLOCKED)\n"
        "from nodes.apps.data import sha256\n"
        "h = sha256(); h.update(b'abc')\n"
        "print(type(h).__module__, h.hexdigest())\n"
    )
    module, digest = _run(code).split()
    assert module == "_hashlib"  # OpenSSL's, not the ~3.6x slower builtin _sha256
    assert digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_wirelab_version_reads_the_metadata_without_importlib_metadata(tmp_path: Path) -> None:
    assert wirelab_version() == importlib.metadata.version("wirelab")
    info = tmp_path / "wirelab-9.8.7.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: wirelab\nVersion: 9.8.7\n\nx\n")
    (tmp_path / "wirelabfoo-1.0.dist-info").mkdir()
    assert wirelab_version([str(tmp_path / "missing"), str(tmp_path)]) == "9.8.7"
    assert wirelab_version([str(tmp_path / "missing")]) == "unknown"


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc")
def test_the_launched_agent_serves_without_ssl_or_openssl_and_caps_arenas() -> None:
    env = {k: v for k, v in os.environ.items() if k != launch.ARENA_ENV}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nodes.agent.launch", "--listen", "127.0.0.1:0", "--name", "h9",
         "--kind", "host", "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = json.loads(proc.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{line['port']}") as channel:
            status = node_pb2_grpc.NodeAgentStub(channel).GetStatus(
                node_pb2.GetStatusRequest(), timeout=T
            )
        assert status.name == "h9"
        assert status.versions.wirelab == importlib.metadata.version("wirelab")
        maps = Path(f"/proc/{proc.pid}/maps").read_text()
        mapped = {row.split()[-1] for row in maps.splitlines() if "/" in row}
        for name in UNWANTED:
            assert not [m for m in mapped if name in os.path.basename(m)], name
        environ = Path(f"/proc/{proc.pid}/environ").read_bytes().split(b"\0")
        assert f"{launch.ARENA_ENV}={launch.ARENAS}".encode() in environ  # re-executed
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
