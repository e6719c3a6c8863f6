"""The `xenrr` command: a root typer app with one module per command or group.

Commands are thin: they parse arguments, call the library and report. People
read stderr, programs read stdout. Every failure reaches the user as a single
line through `main`, the one abort path; set XENRR_TRACEBACK=1 to see the
traceback of an internal error.
"""

import os
import sys
import traceback

import typer

from xenrr import __version__
from xenrr.errors import XenrrError
from xenrr.cli import lab
from xenrr.cli import log
from xenrr.cli import replay

app = typer.Typer(
    name="xenrr",
    help="Record and replay multiprocessor Xen guests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(lab.app, name="lab")
app.add_typer(log.app, name="log")
app.command("replay")(replay.replay)


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
