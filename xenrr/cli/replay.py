"""`xenrr replay CONFIG TRACE`: replay a recorded domain (issue 18).

It takes the configuration file and the flags of `xl create` that still mean
something for a replayed domain, so that what records a guest the xl way
replays it the same way. CONFIG is checked against the recorded
configuration, the domain is built paused on the machine frames of its
recording, and its start (every frame's bytes, every vCPU's registers) is
compared with the trace's. With -p it is left paused there, for
inspection. Otherwise Xen replays it under CREW, fed the trace through
its rings (replay/run.py): every vCPU stopped at each of its crew_events'
positions exactly, each access change made there once the constraints
hold. Then the guest runs on to its end, which is compared with the
recorded one: how it ended, and the state it ended in where the recording
kept it (replay/end.py). Replay exits 1 at the first divergence, with a
report; traces by synchronous entries are refused before the domain is
built.
"""

import json
import os
import sys
import time
from pathlib import Path

import typer

from xenrr.domains import Domain, destroy
from xenrr.domconfig import DomainConfig
from xenrr.errors import TraceError
from xenrr.formats import EndOfTrace, EndReason, TraceDamaged, TraceReader
from xenrr.formats.endstate import left_out_listed, trace_end
from xenrr.hypercalls.domctl import getdomaininfo, pause_domain, unpause_domain
from xenrr.hypercalls.errors import NoSuchDomainError
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.replay.end import compare_end, final_digests
from xenrr.replay.feed import vcpu_entries
from xenrr.replay.run import (STALL_SECONDS, DivergenceError, Progress, check_replayable,
                              replay_rings, replay_trace)
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
    if summary["damage"] is not None:
        # A killed recorder's trace replays to its last complete chunk, and no further.
        raise TraceDamaged(f"{summary['damage']}: replayed only the "
                           f"{sum(summary['crew_events'].values())} crew_events it holds, the "
                           "domain left paused where they end; the recording went on past them")
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
    entries = vcpu_entries(reader, reader.header.vcpus)
    damage = reader.damage()
    started = time.monotonic()
    shown = [0.0]

    def show(p: Progress) -> None:
        now = time.monotonic()
        if quiet or (now - shown[0] < 2 and p.applied != p.totals):
            return
        shown[0] = now
        done, total = sum(p.applied), sum(p.totals)
        print(f"xenrr: {done} of {total} crew_events ({100 * done // max(total, 1)}%), "
              f"{done / max(now - started, 1e-6):.0f}/s; "
              + ", ".join(f"vCPU {v} {a}/{t}" for v, (a, t) in
                          enumerate(zip(p.applied, p.totals))), file=sys.stderr)

    with replay_rings(privcmd, domid, reader.header.vcpus) as (rr, writers, events):
        done = replay_trace(rr, domid, writers, events, entries,
                            start=lambda: unpause_domain(privcmd, domid),
                            ended=lambda: _ended(privcmd, domid), progress=show,
                            whole=damage is None)
        if done.ended is None:
            if damage is not None:   # held where what the trace holds ends
                pause_domain(privcmd, domid)
            if damage is not None or end not in (EndReason.SHUTDOWN, EndReason.CRASHED):
                # Past its trace the guest runs on its own.
                rr.disable(domid)
            # Otherwise the recording went on to the guest's end, and so does replay
            # under rr: no live event reaches the guest, nor an upcall the trace lacks.
    seconds = time.monotonic() - started
    if damage is not None:
        return {"domid": domid, "crew_events": {str(v): a for v, a in enumerate(done.applied)},
                "inputs": {str(v): a for v, a in enumerate(done.inputs)}, "divergence": None,
                "damage": str(damage), "ended": done.ended, "seconds": round(seconds, 3)}
    unreached = (sum(done.totals) - sum(done.applied)
                 + sum(done.input_totals) - sum(done.inputs))
    ending = done.ended
    if end in (EndReason.SHUTDOWN, EndReason.CRASHED):
        ending = ending or _wait_end(privcmd, domid)
        expected = "crash" if end == EndReason.CRASHED else "an orderly shutdown"
        if (ending == "crash") != (end == EndReason.CRASHED):
            raise DivergenceError(f"the guest applied {sum(done.applied)} of "
                                  f"{sum(done.totals)} crew_events, then ended by {ending} "
                                  f"where the recording ended by {expected}")
    elif unreached:
        raise DivergenceError(f"the guest ended ({ending}) before taking {unreached} of its "
                              f"{sum(done.totals)} crew_events and {sum(done.input_totals)} "
                              "inputs, where the recording did not end")
    final = _compare_end(privcmd, domid, reader, ending, quiet)
    if not quiet:
        print(f"xenrr: replayed {sum(done.applied)} crew_events and {sum(done.inputs)} inputs "
              f"(TSC reads, events, upcalls) of {len(done.totals)} vCPUs in {seconds:.1f} s"
              + (f" ({unreached} logged at the end were not reached)" if unreached else "")
              + (f"; the guest ended ({ending}) as recorded" if ending else
                 "; the guest runs on"), file=sys.stderr)
    return {"domid": domid,
            "crew_events": {str(v): a for v, a in enumerate(done.applied)},
            "inputs": {str(v): a for v, a in enumerate(done.inputs)},
            "unreached": unreached, "divergence": None, "single_steps": done.steps,
            "counter_interrupts": done.overflows, "ended": ending, "final": final,
            "damage": None, "seconds": round(seconds, 3)}


def _compare_end(privcmd: Privcmd, domid: int, reader: TraceReader, ending: str | None,
                 quiet: bool) -> dict | None:
    """The recorded and replayed end states' digests once compared; None where either is
    missing (said on stderr). A difference is a DivergenceError."""
    recorded = trace_end(reader)
    say = (lambda text: None) if quiet else (lambda text: print(f"xenrr: {text}", file=sys.stderr))
    if ending is None:
        return None
    if recorded is None:
        say("the recording kept no end state: the end is not compared")
        return None
    if ending == "destroyed":
        say('the replayed domain was destroyed as it ended: its end is not compared '
            '(on_poweroff="preserve" keeps it)')
        return None
    found = compare_end(privcmd, domid, recorded, ending)
    left = ", ".join(f"pfn {f['pfn']:#x} (mfn {f['mfn']:#x}, {f['what']})"
                     for f in left_out_listed(found))
    say(f"the guest ended in the state recorded: memory {found.memory_digest():#018x}, the "
        f"registers of {len(found.registers)} vCPUs" + (f"; left out: {left}" if left else ""))
    return final_digests(recorded, found)


def _wait_end(privcmd: Privcmd, domid: int) -> str:
    deadline = time.monotonic() + STALL_SECONDS
    while (ending := _ended(privcmd, domid)) is None:
        if time.monotonic() > deadline:
            raise DivergenceError(f"the guest passed its logged positions but did not end in "
                                  f"{STALL_SECONDS:.0f} s, where the recording ended")
        time.sleep(0.05)
    return ending
