"""`xenrr replay CONFIG TRACE`: replay a recorded domain (issue 18).

It takes the configuration file and the flags of `xl create` that still mean
something for a replayed domain, so that what records a guest the xl way
replays it the same way. CONFIG is checked against the recorded
configuration, the domain is built paused on the machine frames of its
recording, and its start (every frame's bytes, every vCPU's registers) is
compared with the trace's. With -p it is left paused there, for
inspection. Otherwise Xen runs it through every position the recording
logged, stopping at each exactly (replay/run.py), and then lets the guest
run on to its end, which is compared with the recorded one. Replay exits 1
at the first position not met, with a report; traces it cannot replay yet
(more than one vCPU, positions by synchronous entries) are refused before
the domain is built.
"""

import json
import os
import sys
import time
from pathlib import Path

import typer

from xenrr.domains import Domain, destroy
from xenrr.domconfig import DomainConfig
from xenrr.errors import TraceError, XenrrError
from xenrr.formats import EndOfTrace, EndReason, TraceReader
from xenrr.hypercalls.abi import lib
from xenrr.hypercalls.domctl import getdomaininfo, unpause_domain
from xenrr.hypercalls.errors import NoSuchDomainError
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.rr import RrControl
from xenrr.replay.run import (STALL_SECONDS, DivergenceError, VcpuProgress, check_replayable,
                              run_positions, vcpu_positions)
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
    as_json: bool = typer.Option(False, "--json", help="Print a summary as JSON on stdout."),
) -> None:
    """Replay TRACE in a domain created from CONFIG.

    The options are those of `xl create`.
    """
    cfg = DomainConfig.from_xl_file(config, overrides or ())
    if not trace.is_file():
        raise TraceError(f"{trace}: no such trace file")
    with TraceReader(trace) as reader, Privcmd() as privcmd:
        if not paused and reader.header is not None:
            check_replayable(reader.header)
        domain, start = build_replay_domain(privcmd, cfg, reader)
        if not quiet:
            print(f"xenrr: domain {domain.domid} ({domain.name}) starts as recorded: "
                  f"{start.frames()} frames on the recorded machine frames, the registers "
                  f"of its {len(start.contexts)} vCPUs", file=sys.stderr)
        if paused:
            if console:
                os.execvp("xl", ["xl", "console", str(domain.domid)])
            return
        try:
            summary = _replay(privcmd, domain, reader, quiet)
        except BaseException as e:
            destroy(domain.domid)
            if as_json and isinstance(e, DivergenceError):
                print(json.dumps({"domid": domain.domid, "divergence": str(e)}))
            raise
    if as_json:
        print(json.dumps(summary))
    if console:
        os.execvp("xl", ["xl", "console", str(domain.domid)])


def _ended(privcmd: Privcmd, domid: int) -> str | None:
    """How the domain ended (a shutdown reason, or "destroyed"), None while it runs."""
    try:
        info = getdomaininfo(privcmd, domid)
    except NoSuchDomainError:
        return "destroyed"
    return info.shutdown_reason or ("destroyed" if info.dying else None)


def _replay(privcmd: Privcmd, domain: Domain, reader: TraceReader, quiet: bool) -> dict:
    """Run the built domain through its trace; the summary --json prints."""
    domid = domain.domid
    end = None
    for r in reader.records(frozenset({EndOfTrace.TYPE})):
        end = r.reason
    positions = vcpu_positions(reader, 0)
    rr = RrControl(privcmd)
    rr.enable(domid, mode=lib.XEN_RR_MODE_replay, position_mode=lib.XEN_RR_POSITION_branch)
    started = time.monotonic()

    def show(p: VcpuProgress) -> None:
        if not quiet and (p.reached == p.total or p.reached % 100 == 0):
            print(f"xenrr: vCPU {p.vcpu}: position {p.reached} of {p.total} "
                  f"({100 * p.reached // p.total}%), {p.steps} single steps", file=sys.stderr)

    done = run_positions(rr, domid, 0, positions, len(positions),
                         start=lambda: unpause_domain(privcmd, domid),
                         ended=lambda: _ended(privcmd, domid), progress=show)
    # Past its last logged position the guest runs on its own.
    rr.disable(domid)
    if not positions:
        unpause_domain(privcmd, domid)
    seconds = time.monotonic() - started
    ending = None
    if end in (EndReason.SHUTDOWN, EndReason.CRASHED):
        ending = _wait_end(privcmd, domid)
        expected = "crash" if end == EndReason.CRASHED else "an orderly shutdown"
        if (ending == "crash") != (end == EndReason.CRASHED):
            raise DivergenceError(f"the guest passed all {len(positions)} logged positions, "
                                  f"then ended by {ending} where the recording ended by "
                                  f"{expected}")
    if not quiet:
        print(f"xenrr: replayed {done.reached} positions of vCPU 0 exactly in {seconds:.1f} s"
              + (f"; the guest ended ({ending}) as recorded" if ending else
                 "; the guest runs on"), file=sys.stderr)
    return {"domid": domid, "positions": {"0": done.reached}, "divergence": None,
            "single_steps": done.steps, "counter_interrupts": done.overflows,
            "ended": ending, "seconds": round(seconds, 3)}


def _wait_end(privcmd: Privcmd, domid: int) -> str:
    deadline = time.monotonic() + STALL_SECONDS
    while (ending := _ended(privcmd, domid)) is None:
        if time.monotonic() > deadline:
            raise DivergenceError(f"the guest passed its logged positions but did not end in "
                                  f"{STALL_SECONDS:.0f} s, where the recording ended")
        time.sleep(0.05)
    return ending
