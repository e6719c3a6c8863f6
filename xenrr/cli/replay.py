"""`xenrr replay CONFIG TRACE`: replay a recorded domain (issue 8, part 2).

It takes the configuration file and the flags of `xl create` that still mean
something for a replayed domain, so that what records a guest the xl way
replays it the same way. Replay itself is not written yet: the command
reads CONFIG as xl would (a malformed file gets its one-line error) and
then refuses in one line with exit status 1, having started nothing.
"""

from pathlib import Path

import typer

from xenrr.errors import XenrrError
from xenrr.xlcfg import load

app = typer.Typer(add_completion=False, rich_markup_mode=None)


@app.command()
def replay(
    config: Path = typer.Argument(..., metavar="CONFIG",
                                  help="The xl domain configuration, as for `xl create`."),
    trace: Path = typer.Argument(..., metavar="TRACE", help="The trace to replay."),
    console: bool = typer.Option(False, "-c",
                                 help="Connect to the console after the domain is created."),
    paused: bool = typer.Option(False, "-p",
                                help="Leave the domain paused after it is created."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Quiet."),
) -> None:
    """Replay TRACE in a domain created from CONFIG (not implemented yet).

    The options are those of `xl create`.
    """
    load(config)
    raise XenrrError(f"replay is not implemented yet: {trace} was not replayed "
                     "and no domain was created")
