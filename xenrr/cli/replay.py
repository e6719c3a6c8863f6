"""`xenrr replay CONFIG TRACE`: replay a recorded domain (issue 18).

It takes the configuration file and the flags of `xl create` that still mean
something for a replayed domain, so that what records a guest the xl way
replays it the same way. What exists: CONFIG is checked against the
recorded configuration, the domain is built paused on the machine frames
of its recording, and its start (every frame's bytes, every vCPU's
registers) is compared with the trace's. Running the guest to its logged
positions needs Xen's replay mode, which is not written yet: with -p the
domain is left paused at its proven start, for inspection; without, it is
destroyed and replay says in one line what it could not do (exit status 1).
"""

import os
import sys
from pathlib import Path

import typer

from xenrr.domains import destroy
from xenrr.domconfig import DomainConfig
from xenrr.errors import TraceError, XenrrError
from xenrr.formats import TraceReader
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.replay.start import build_replay_domain

app = typer.Typer(add_completion=False, rich_markup_mode=None)


@app.command()
def replay(
    config: Path = typer.Argument(..., metavar="CONFIG",
                                  help="The xl domain configuration, as for `xl create`."),
    trace: Path = typer.Argument(..., metavar="TRACE", help="The trace to replay."),
    overrides: list[str] = typer.Argument(None, metavar="[KEY=VALUE]...",
                                          help="Settings added to CONFIG, as xl create takes them."),
    console: bool = typer.Option(False, "-c",
                                 help="Connect to the console after the domain is created (with -p)."),
    paused: bool = typer.Option(False, "-p",
                                help="Leave the domain paused at its start, once proven."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Quiet."),
) -> None:
    """Replay TRACE in a domain created from CONFIG.

    The options are those of `xl create`.
    """
    cfg = DomainConfig.from_xl_file(config, overrides or ())
    if not trace.is_file():
        raise TraceError(f"{trace}: no such trace file")
    with TraceReader(trace) as reader, Privcmd() as privcmd:
        domain, start = build_replay_domain(privcmd, cfg, reader)
        if not quiet:
            print(f"xenrr: domain {domain.domid} ({domain.name}) starts as recorded: "
                  f"{start.frames()} frames on the recorded machine frames, the registers "
                  f"of its {len(start.contexts)} vCPUs", file=sys.stderr)
        if paused:
            if console:
                os.execvp("xl", ["xl", "console", str(domain.domid)])
            return
        destroy(domain.domid)
        raise XenrrError(f"{trace}: the start matched, but running the guest to its logged "
                         "positions needs Xen's replay mode, which xenrr does not have yet: "
                         f"domain {domain.domid} was destroyed")
