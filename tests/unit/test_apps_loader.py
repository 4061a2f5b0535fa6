"""Finding a user app's factory (nodes/apps/ref.py, loader.py): ``module:factory`` names,
the code folder searched first and re-imported afresh, installed packages, and an
AppLoadError that says what is wrong and where for every way it can fail."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from nodes.apps.loader import AppLoadError, describe, load_factory, split_ref
from nodes.apps.ref import CODE_DIR, REF_PATTERN, is_ref


@pytest.fixture
def code(tmp_path: Path) -> Iterator[Path]:
    """A code folder; the modules it defines are forgotten afterwards."""
    before = set(sys.modules)
    path_before = list(sys.path)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]
    sys.path[:] = path_before


def write(folder: Path, rel: str, text: str) -> None:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


@pytest.mark.parametrize(
    "ref", ["kvstore:serve", "a.b.c:make", "_m:_f", "pkg9.mod_2:Factory"]
)  # fmt: skip
def test_refs_are_dotted_modules_and_a_callable_name(ref: str) -> None:
    assert is_ref(ref)
    module, factory = split_ref(ref)
    assert f"{module}:{factory}" == ref


@pytest.mark.parametrize(
    "ref", ["kvstore", "kvstore:", ":make", "a..b:f", "a.b:c.d", "1mod:f", "a b:f", "m:f:7000",
            "echo", "m:f "],
)  # fmt: skip
def test_anything_else_is_not_a_ref(ref: str) -> None:
    assert not is_ref(ref)
    with pytest.raises(AppLoadError, match="is not module:factory"):
        split_ref(ref)


def test_the_schema_pattern_is_the_parser_pattern() -> None:
    import re

    assert re.fullmatch(REF_PATTERN, "a.b:c") and not re.fullmatch(REF_PATTERN, "a.b")
    assert CODE_DIR == "/wirelab/code"


def test_a_factory_from_the_code_folder_and_its_siblings(code: Path) -> None:
    write(code, "helpers.py", "GREETING = 'hi'\n")
    write(code, "pkg/__init__.py", "")
    write(code, "pkg/app.py", "import helpers\n\ndef make(ctx):\n    return helpers.GREETING\n")
    factory = load_factory("pkg.app:make", [str(code)])
    assert factory(None) == "hi"
    assert sys.modules["pkg.app"].__file__ == str(code / "pkg" / "app.py")


def test_the_code_folder_is_imported_afresh_each_time(code: Path) -> None:
    write(code, "counter.py", "def make(ctx):\n    return 1\n")
    assert load_factory("counter:make", [str(code)])(None) == 1
    write(code, "counter.py", "def make(ctx):\n    return 2\n")
    assert load_factory("counter:make", [str(code)])(None) == 2


def test_an_installed_package_is_found_when_no_folder_has_it(code: Path) -> None:
    factory = load_factory("nodes.apps.echo:TcpEchoServer", [str(code), "/nonexistent"])
    from nodes.apps.echo import TcpEchoServer

    assert factory is TcpEchoServer


def test_a_missing_module_names_the_places_searched(code: Path) -> None:
    with pytest.raises(AppLoadError) as info:
        load_factory("absent.mod:make", [str(code)])
    assert str(info.value) == (
        f"cannot import absent.mod: no module named 'absent' in the code folder ({code}) "
        "and the node's Python packages"
    )
    with pytest.raises(AppLoadError, match=r"none mounted at /wirelab/code"):
        load_factory("absent:make", ["/nonexistent"])


def test_a_missing_import_inside_the_users_module_is_not_blamed_on_the_app(code: Path) -> None:
    write(code, "needy.py", "import notinstalled_dependency\n")
    with pytest.raises(AppLoadError) as info:
        load_factory("needy:make", [str(code)])
    message = str(info.value)
    assert message.startswith("importing needy failed: ModuleNotFoundError: No module named")
    assert f"({code / 'needy.py'}:1)" in message


def test_a_missing_factory_lists_what_the_module_defines(code: Path) -> None:
    write(code, "mod.py", "X = 1\n\ndef serve(ctx): ...\ndef load(ctx): ...\ndef _p(): ...\n")
    with pytest.raises(AppLoadError) as info:
        load_factory("mod:server", [str(code)])
    assert str(info.value) == "mod has no 'server' (it defines load, serve)"
    with pytest.raises(AppLoadError, match=r"mod:X is a int, not a callable factory"):
        load_factory("mod:X", [str(code)])


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def make(:\n", "importing broken raised SyntaxError"),
        ("x = 1\nraise RuntimeError('no config')\n", "importing broken raised RuntimeError: "
                                                       "no config ({path}:2)"),
        ("import sys\nsys.exit(3)\n", "importing broken raised SystemExit: 3 ({path}:2)"),
    ],
)  # fmt: skip
def test_whatever_the_module_does_at_import_becomes_a_load_error(
    code: Path, source: str, expected: str
) -> None:
    write(code, "broken.py", source)
    with pytest.raises(AppLoadError) as info:
        load_factory("broken:make", [str(code)])
    assert str(info.value).startswith(expected.format(path=code / "broken.py"))
    assert "broken" not in sys.modules  # nothing half-imported stays


def test_a_code_module_may_not_shadow_one_the_node_uses(code: Path) -> None:
    write(code, "json.py", "def make(ctx): ...\n")
    with pytest.raises(AppLoadError) as info:
        load_factory("json:make", [str(code)])
    assert "json in the code folder" in str(info.value) and "rename it" in str(info.value)
    import json

    assert json.dumps([1]) == "[1]"  # the node's own json is untouched


def test_describe_points_at_the_users_frame() -> None:
    try:
        int("x")
    except ValueError as exc:
        text = describe(exc)
    assert text.startswith("ValueError: invalid literal") and "test_apps_loader.py:" in text
