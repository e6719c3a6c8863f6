"""The `xenrr` command: a root typer app with one module per command or group.

Commands are thin: they parse arguments, call the library and report. People
read stderr, programs read stdout. Every failure reaches the user as a single
line through `main`, the one abort path; set XENRR_TRACEBACK=1 to see the
traceback of an internal error.
"""

import importlib
import os
import sys
import traceback

import typer
from typer.core import TyperGroup

from xenrr import __version__
from xenrr.errors import XenrrError

# Each command or group is the `app` of its module, imported only when it is
# invoked (or listed by --help). xenrr runs in the lab's dom0 under QEMU TCG,
# where importing every command's libraries (numpy, construct, ...) would make
# each invocation cost seconds.
COMMANDS = {
    "info": "xenrr.cli.info",
    "install-hooks": "xenrr.cli.install_hooks",
    "lab": "xenrr.cli.lab",
    "libvirt": "xenrr.cli.libvirt",
    "log": "xenrr.cli.log",
    "record": "xenrr.cli.record",
    "replay": "xenrr.cli.replay",
    "status": "xenrr.cli.status",
}


class LazyGroup(TyperGroup):
    def list_commands(self, ctx) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | COMMANDS.keys())

    def get_command(self, ctx, name: str):
        if name in COMMANDS and name not in self.commands:
            command = typer.main.get_command(importlib.import_module(COMMANDS[name]).app)
            command.name = name
            self.add_command(command, name)
        return super().get_command(ctx, name)


app = typer.Typer(
    name="xenrr",
    cls=LazyGroup,
    help="Record and replay multiprocessor Xen guests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        print(f"xenrr {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Record and replay multiprocessor Xen guests."""


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status; the only place errors are shown.

    Typer reports usage errors itself (exit status 2); everything else that
    escapes a command is turned into one line here.
    """
    try:
        app(args=argv, prog_name="xenrr")
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        print(e.code, file=sys.stderr)
        return 1
    except XenrrError as e:
        print(f"xenrr: {e}", file=sys.stderr)
        return e.exit_status
    except KeyboardInterrupt:
        print("xenrr: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as e:  # noqa: BLE001 - the crash handler of the CLI
        if os.environ.get("XENRR_TRACEBACK"):
            traceback.print_exc()
        print(f"xenrr: internal error: {type(e).__name__}: {e} "
              "(set XENRR_TRACEBACK=1 for the traceback)", file=sys.stderr)
        return 2
    return 0
