"""The compiled checksum (nodes/wire/_checksum.c) against its pure-Python fallback
(nodes/wire/checksum.py ones_sum_pure): the same sums for every length, alignment and
initial value. The extension is built here by setup.py into a temporary directory (the
editable install is pure Python, and wheels are built elsewhere), never in place."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nodes.wire import checksum
from nodes.wire.checksum import ones_sum_pure

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler: wheels built here are pure Python")
    out = tmp_path_factory.mktemp("cbuild")
    subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--build-lib", str(out),
         "--build-temp", str(out / "tmp")],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    (so,) = (out / "nodes" / "wire").glob("_checksum*.so")
    spec = importlib.util.spec_from_file_location("_checksum", so)  # PyInit__checksum
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_setup_never_builds_it_in_place() -> None:
    assert not list((ROOT / "nodes" / "wire").glob("_checksum*.so"))
    assert checksum.ones_sum in (checksum.ones_sum_c, ones_sum_pure)


def test_known_sums(compiled: ModuleType) -> None:
    c = compiled.ones_sum
    assert c(b"") == 0 and c(b"", 0x1234) == 0x1234
    assert c(b"\x00\x01\xf2\x03\xf4\xf5\xf6\xf7") == 0xDDF2  # RFC 1071 section 3
    assert c(b"\xff\xff\x00\x01") == 0x0001  # end-around carry
    assert c(b"\xab") == 0xAB00  # an odd byte is the high half of a padded word
    assert c(memoryview(b"x\x12\x34")[1:]) == 0x1234
    with pytest.raises(TypeError):
        c("text")  # not a buffer


@settings(max_examples=400, deadline=None)
@given(
    data=st.binary(max_size=3000),
    start=st.integers(0, 7),
    initial=st.one_of(st.integers(0, 0xFFFF), st.integers(0, 2**40)),
)
def test_compiled_and_pure_agree(
    compiled: ModuleType, data: bytes, start: int, initial: int
) -> None:
    view = memoryview(data)[min(start, len(data)) :]  # every alignment
    assert compiled.ones_sum(view, initial) == ones_sum_pure(view, initial)
    assert compiled.ones_sum(bytes(view)) == ones_sum_pure(bytes(view))


def test_a_real_segment_verifies_both_ways(compiled: ModuleType) -> None:
    from nodes.wire.tcp import build_tcp_raw

    src, dst = 0x0A000001, 0x0A000102
    segment = build_tcp_raw(src, dst, 1234, 80, 1, 2, 0x18, 65535, b"", bytes(range(256)) * 5)
    pseudo = (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + 6 + len(segment)
    assert compiled.ones_sum(segment, pseudo) == ones_sum_pure(segment, pseudo) == 0xFFFF
