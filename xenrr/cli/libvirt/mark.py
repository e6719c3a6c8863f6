"""`xenrr libvirt mark DOMAIN [--dir D] [--strict]` / `--unmark`: which domains the hook records."""

import sys
from pathlib import Path

import typer

from xenrr.errors import UsageError
from xenrr.libvirt.mark import DEFAULT_URI, connect, lookup, mark as set_mark, unmark
from xenrr.libvirt.metadata import DEFAULT_DIR, check_directory_value


def mark(
    domain: str = typer.Argument(..., help="The libvirt domain (name or UUID)."),
    directory: str = typer.Option(None, "--dir", metavar="D",
                                  help=f"Where its traces go (default {DEFAULT_DIR}); "
                                       "an absolute path on the host that runs it."),
    strict: bool = typer.Option(False, "--strict",
                                help="Refuse to start it when it cannot be recorded from its "
                                     "first instruction (the default starts it unrecorded)."),
    remove: bool = typer.Option(False, "--unmark", help="Stop recording it."),
    uri: str = typer.Option(DEFAULT_URI, "--connect", "-c", metavar="URI",
                            help="The libvirt connection."),
) -> None:
    """Record DOMAIN from its first instruction each time libvirt starts it (see install-hooks)."""
    if remove and (directory is not None or strict):
        raise UsageError("--unmark takes no --dir or --strict")
    path = None if remove else check_directory_value(directory or str(DEFAULT_DIR))
    with connect(uri) as conn:
        dom = lookup(conn, domain)
        name = dom.name()
        if remove:
            print(f"xenrr: {name} " + ("is no longer recorded" if unmark(dom)
                                       else "was not marked"), file=sys.stderr)
            return
        set_mark(dom, path, strict)
    print(f"xenrr: {name} is recorded into {path} from its next start"
          + (" (strict: it does not start unrecorded)" if strict else ""), file=sys.stderr)
    if uri == DEFAULT_URI and not path.is_dir():
        print(f"xenrr: warning: {path} is not a directory here: until it is, {name} starts "
              "unrecorded", file=sys.stderr)
