"""The node image carries the compiled checksum: the wheel check refuses a pure wheel,
the Dockerfile imports the extension, and no in-place shared object enters the inputs."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from orchestrator.image import build


def wheel(path: Path, *names: str) -> None:
    with zipfile.ZipFile(path / "wirelab-0.1-cp311-cp311-linux_x86_64.whl", "w") as whl:
        for name in names:
            whl.writestr(name, b"")


def test_a_wheel_without_the_compiled_checksum_is_refused(tmp_path: Path) -> None:
    wheel(tmp_path, "nodes/wire/checksum.py")
    with pytest.raises(build.ImageError, match=r"no compiled nodes\.wire\._checksum"):
        build.check_compiled(tmp_path)


def test_a_wheel_with_it_passes(tmp_path: Path) -> None:
    wheel(
        tmp_path, "nodes/wire/checksum.py", "nodes/wire/_checksum.cpython-311-x86_64-linux-gnu.so"
    )
    build.check_compiled(tmp_path)


def test_no_wheel_at_all_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(build.ImageError, match="no wirelab wheel"):
        build.check_compiled(tmp_path)


def test_a_shared_object_in_the_sources_is_no_input(tmp_path: Path) -> None:
    (tmp_path / "nodes" / "wire").mkdir(parents=True)
    (tmp_path / "nodes" / "wire" / "checksum.py").write_text("")
    (tmp_path / "nodes" / "wire" / "_checksum.c").write_text("")
    (tmp_path / "nodes" / "wire" / "_checksum.cpython-311-x86_64-linux-gnu.so").write_text("")
    names = {p.as_posix() for p in build.source_files(tmp_path)}
    assert {"nodes/wire/checksum.py", "nodes/wire/_checksum.c"} <= names
    assert not any(n.endswith(".so") for n in names)


MYPYC = ("nodes/stack/tcp/engine", "nodes/wire/tcp")


def test_a_wheel_without_the_mypyc_modules_is_refused(tmp_path: Path) -> None:
    so = ".cpython-311-x86_64-linux-gnu.so"
    wheel(tmp_path, f"nodes/wire/_checksum{so}", f"nodes/wire/tcp{so}", "nodes/stack/tcp/engine.py")
    with pytest.raises(build.ImageError, match=r"no mypyc-compiled nodes\.stack\.tcp\.engine"):
        build.check_compiled(tmp_path, MYPYC)


def test_a_wheel_with_them_passes(tmp_path: Path) -> None:
    names = [f"{stem}.cpython-311-x86_64-linux-gnu.so" for stem in ("nodes/wire/_checksum", *MYPYC)]
    wheel(tmp_path, *names)
    build.check_compiled(tmp_path, MYPYC)


def test_setup_and_the_image_check_agree_on_the_mypyc_modules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import runpy

    monkeypatch.setattr("setuptools.setup", lambda **kwargs: None)
    monkeypatch.setattr("sys.argv", ["setup.py", "egg_info"])  # no wheel build: no mypyc
    root = Path(__file__).resolve().parents[2]
    setup_py = runpy.run_path(str(root / "setup.py"), run_name="wirelab_setup")
    paths = setup_py["mypyc_paths"](setup_py["_pyproject"]())
    assert sorted(p.removesuffix(".py") for p in paths) == build.mypyc_modules(root)
    assert "nodes/faults/model" not in build.mypyc_modules(root)  # excluded: coerces input
    assert "nodes/stack/tcp/engine" in build.mypyc_modules(root)
