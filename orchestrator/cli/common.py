"""What every ``wirelab`` command shares: exit codes, the consoles (colour only on a
terminal and never with NO_COLOR), the shared options (--server, --token, --json), the
connection to the LabService, and the wrapper that turns a command's result, a domain
error or a closed pipe into an exit status.

Exit statuses scripts can trust::

    0    ok
    1    the operation ran and failed (no reply, incomplete transfer, refused by the lab)
    2    usage error or invalid argument (the domain's InvalidArgument too)
    3    not found (lab, node, interface, fault, app, route)
    4    no server or node agent answers
    5    unauthenticated (wrong or missing --token)
    130  interrupted (Ctrl-C)
    141  the reader of stdout went away (``wirelab inspect LAB | head -1``)
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console, RenderableType

from orchestrator.client import Lab, LabClient, connect
from orchestrator.domain.errors import InvalidArgument, LabError
from orchestrator.domain.jsonout import to_json

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = EXIT_FAILED  # `validate`: the topology is invalid (the check ran and failed)
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_UNAVAILABLE = 4
EXIT_AUTH = 5
EXIT_INTERRUPTED = 130
EXIT_PIPE = 141  # 128 + SIGPIPE, as a shell reports a tool killed by a closed pipe

EXIT_CODES = (
    "Exit status: 0 ok; 1 the operation failed (no reply, incomplete transfer, refused by the "
    "lab); 2 usage error or invalid argument; 3 not found (lab, node, interface, fault, app); "
    "4 no server or node agent answers; 5 unauthenticated (--token); 130 interrupted; 141 "
    "stdout was closed early (| head)."
)

_BY_CODE = {
    "invalid_argument": EXIT_USAGE,
    "not_found": EXIT_NOT_FOUND,
    "unavailable": EXIT_UNAVAILABLE,
    "unauthenticated": EXIT_AUTH,
}


def exit_code(error: LabError) -> int:
    """The exit status of a domain error, by its ``code``."""
    return _BY_CODE.get(error.code, EXIT_FAILED)


# ---- consoles --------------------------------------------------------------------------------


def no_color() -> bool:
    """NO_COLOR (https://no-color.org) set to anything but "": no escape codes at all."""
    return bool(os.environ.get("NO_COLOR"))


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """The reader went away: quiet from now on, and let the command end (rich's own
        answer is SystemExit(1))."""
        self.quiet = True
        raise BrokenPipeError


def make_console(*, stderr: bool = False, file: Any = None) -> Console:
    """A console on stdout (or stderr, or ``file``): styles and colours only on a terminal
    and without NO_COLOR; never wrapped when it is not a terminal (scripts read it)."""
    console: Console = _Console(
        stderr=stderr,
        file=file,
        color_system=None if no_color() else "auto",
        highlight=False,
        markup=False,
        emoji=False,
    )
    if not console.is_terminal:
        console = _Console(
            stderr=stderr,
            file=file,
            color_system=None,
            highlight=False,
            markup=False,
            emoji=False,
            width=10_000,
            soft_wrap=True,
        )
    return console


@dataclass
class _Consoles:
    out: Console | None = None
    err: Console | None = None


_consoles = _Consoles()


def reset_consoles() -> None:
    """New consoles on the next use (each main() call: sys.stdout may have changed)."""
    _consoles.out = _consoles.err = None


def out() -> Console:
    if _consoles.out is None:
        _consoles.out = make_console()
    return _consoles.out


def err() -> Console:
    if _consoles.err is None:
        _consoles.err = make_console(stderr=True)
    return _consoles.err


def show(renderable: RenderableType) -> None:
    """Something for people on stdout."""
    out().print(renderable)


def note(text: str) -> None:
    """A line for people on stderr (progress, what a command did besides its output)."""
    err().print(text, soft_wrap=True)


def print_json(value: Any) -> None:
    """A domain object (or a list/dict of them) as the documented JSON on stdout."""
    sys.stdout.write(json.dumps(to_json(value), indent=2) + "\n")


def print_json_line(value: Any) -> None:
    sys.stdout.write(json.dumps(to_json(value), separators=(",", ":")) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    """Print ``wirelab: message`` on stderr; the Exit to raise."""
    error_line(message)
    return typer.Exit(code)


def error_line(message: str) -> None:
    first, _, rest = message.partition("\n")
    sys.stderr.write(f"wirelab: {first}\n" + (rest + "\n" if rest else ""))
    sys.stderr.flush()


# ---- a closed stdout -------------------------------------------------------------------------


def stdout_is_devnull() -> bool:
    try:
        out, null = os.fstat(sys.stdout.fileno()), os.stat(os.devnull)
    except (OSError, ValueError, AttributeError):
        return False
    return (out.st_dev, out.st_ino) == (null.st_dev, null.st_ino)


def stdout_closed() -> int:
    """The reader of stdout went away: point stdout at /dev/null so the flush at exit
    stays quiet, and exit like a tool killed by SIGPIPE."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (tests)
        pass
    return EXIT_PIPE


# ---- commands --------------------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])


def command(fn: F) -> F:
    """A command body returning an exit status (None: 0). Domain errors become
    ``wirelab: message`` and their status; a closed stdout exits quietly."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            status = fn(*args, **kwargs)
            sys.stdout.flush()
        except LabError as exc:
            error_line(exc.message)
            raise typer.Exit(exit_code(exc)) from None
        except BrokenPipeError:
            raise typer.Exit(stdout_closed()) from None
        raise typer.Exit(int(status or 0))

    return run  # type: ignore[return-value]


# ---- the server ------------------------------------------------------------------------------

SERVER_PANEL = "Server"

ServerOpt = Annotated[
    str | None,
    typer.Option(
        "--server",
        metavar="ADDR",
        help="LabService address ($WIRELAB_SERVER; default: the one `wirelab serve` recorded, "
        "else 127.0.0.1:50050, started in the background when none answers)",
        rich_help_panel=SERVER_PANEL,
        show_default=False,
    ),
]
TokenOpt = Annotated[
    str | None,
    typer.Option(
        "--token",
        metavar="TOKEN",
        help="bearer token ($WIRELAB_TOKEN)",
        rich_help_panel=SERVER_PANEL,
        show_default=False,
    ),
]


def complete_lab(incomplete: str) -> list[str]:
    """Shell completion of a lab's name: the labs of a server that answers (none started)."""
    try:
        with connect(os.environ.get("WIRELAB_SERVER"), start=False) as c:
            return [s.name for s in c.labs() if s.name.startswith(incomplete)]
    except LabError:
        return []


LabArg = Annotated[
    str,
    typer.Argument(metavar="LAB", help="the lab", show_default=False, autocompletion=complete_lab),
]
NodeArg = Annotated[str, typer.Argument(metavar="NODE", show_default=False)]


def json_opt(shape: str) -> Any:
    """The --json option of a read command, its help naming the JSON's shape."""
    return typer.Option("--json", help=f"print JSON: {shape}")


@contextmanager
def client(server: str | None, token: str | None) -> Iterator[LabClient]:
    """A client of the LabService (started in the background when none answers and no
    address was given)."""
    c = connect(server, token=token)
    try:
        yield c
    finally:
        c.close()


@contextmanager
def lab(server: str | None, token: str | None, name: str) -> Iterator[Lab]:
    """A handle on lab ``name`` without fetching it first: the server checks the name on
    each call (NotFound: exit 3)."""
    with client(server, token) as c:
        yield c.lab(name, fetch=False)


# ---- the CLI's option names in errors --------------------------------------------------------


def as_option(exc: InvalidArgument, names: dict[str, str]) -> InvalidArgument:
    """The same error naming the command-line option (``--blackhole-mtu``) instead of the
    request field (``blackhole_mtu``)."""
    head = exc.field.split(".", 1)[0]
    if head in names:
        return InvalidArgument(exc.detail, names[head])
    return exc
