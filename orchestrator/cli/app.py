"""The ``wirelab`` command tree (typer + rich) and :func:`main`."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated

import typer
from typer import rich_utils
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer._click.utils import PacifyFlushWrapper

from orchestrator.cli import common, faults, labs, measure, nodes, replay, topo
from orchestrator.domain.errors import LabError

_HELP_COLORS = rich_utils.COLOR_SYSTEM  # typer's colours for help and usage errors
TOPOLOGIES, LABS, MEASURE, CONFIGURE, STATE = (
    "Topology files",
    "Labs",
    "Measure",
    "Faults and live configuration",
    "Node state, apps and shells",
)

app = typer.Typer(
    name="wirelab",
    help="Network emulation lab: nodes run wirelab's own TCP/IP stack in containers (docker) "
    "or in process (sim); a LabService deploys them from YAML topologies and injects faults.\n\n"
    "Lab commands talk to the LabService at --server ADDR ($WIRELAB_SERVER), else the one "
    "`wirelab serve` recorded in ~/.wirelab/serve.json ($WIRELAB_HOME), else 127.0.0.1:50050, "
    "started in the background when none answers. Every read command takes --json.",
    epilog=common.EXIT_CODES,
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            text = version("wirelab")
        except PackageNotFoundError:
            text = "unknown"
        sys.stdout.write(f"wirelab {text}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    """The options before the command."""


app.command(rich_help_panel=TOPOLOGIES)(topo.validate)
app.command(rich_help_panel=TOPOLOGIES)(topo.schema)
app.command(rich_help_panel=TOPOLOGIES)(topo.graph)
app.command(rich_help_panel=LABS)(labs.serve)
app.command(rich_help_panel=LABS)(labs.deploy)
app.command(rich_help_panel=LABS)(labs.destroy)
app.command(rich_help_panel=LABS)(labs.inspect)
app.command(rich_help_panel=LABS)(labs.events)
app.command(rich_help_panel=LABS)(labs.wait)
app.add_typer(labs.image_app, rich_help_panel=LABS)
app.command(rich_help_panel=LABS)(replay.journal)
app.command(rich_help_panel=LABS)(replay.replay)
app.command(rich_help_panel=MEASURE)(measure.ping)
app.command(rich_help_panel=MEASURE)(measure.traceroute)
app.command(rich_help_panel=MEASURE)(measure.transfer)
app.command(rich_help_panel=MEASURE)(measure.http)
app.add_typer(faults.app, rich_help_panel=CONFIGURE)
app.add_typer(nodes.iface_app, rich_help_panel=CONFIGURE)
app.add_typer(nodes.route_app, rich_help_panel=CONFIGURE)
app.command(rich_help_panel=STATE)(nodes.show)
app.command(rich_help_panel=STATE)(nodes.capture)
app.command("exec", rich_help_panel=STATE, context_settings={"ignore_unknown_options": True})(
    nodes.exec_
)
app.add_typer(nodes.app_app, rich_help_panel=STATE)
app.command(rich_help_panel=STATE)(nodes.forward)


def _usage_error(exc: UsageError) -> int:
    """``wirelab: <message> (usage: ...)`` on one line."""
    if isinstance(exc, NoArgsIsHelpError):
        return common.EXIT_USAGE  # the help was shown
    usage = ""
    if exc.ctx is not None:
        usage = " ".join(exc.ctx.get_usage().split())
        usage = usage[len("Usage: ") :] if usage.startswith("Usage: ") else usage
    message = " ".join(exc.format_message().split())
    common.error_line(message + (f" (usage: {usage})" if usage else ""))
    return common.EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``wirelab`` with ``argv`` (default: the process's); return the exit status."""
    common.reset_consoles()
    rich_utils.COLOR_SYSTEM = None if common.no_color() else _HELP_COLORS
    was_devnull = common.stdout_is_devnull()
    command = typer.main.get_command(app)
    try:
        result = command.main(
            args=None if argv is None else list(argv), prog_name="wirelab", standalone_mode=False
        )
        sys.stdout.flush()
    except UsageError as exc:
        return _usage_error(exc)
    except ClickException as exc:
        common.error_line(" ".join(exc.format_message().split()))
        return exc.exit_code
    except LabError as exc:
        common.error_line(exc.message)
        return common.exit_code(exc)
    except BrokenPipeError:
        return common.stdout_closed()
    except typer.Abort:
        return common.EXIT_FAILED
    except KeyboardInterrupt:
        return common.EXIT_INTERRUPTED
    except SystemExit as exc:  # shell completion, or a closed pipe while printing help
        if isinstance(sys.stdout, PacifyFlushWrapper):  # typer's answer to a closed pipe
            sys.stdout = sys.stdout.wrapped
            if isinstance(sys.stderr, PacifyFlushWrapper):
                sys.stderr = sys.stderr.wrapped
            return common.stdout_closed()
        if exc.code == 1 and not was_devnull and common.stdout_is_devnull():
            return common.EXIT_PIPE  # rich's answer to a closed pipe: stdout -> /dev/null
        if exc.code is None:
            return common.EXIT_OK
        return exc.code if isinstance(exc.code, int) else common.EXIT_FAILED
    return result if isinstance(result, int) else common.EXIT_OK
