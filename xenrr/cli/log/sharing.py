"""`xenrr log sharing TRACE [--json] [--top N]`: where CREW costs, and between whom.

The frames with the most CREW events, the pairs of actors that hand each of
them back and forth, and each actor's CREW events per 10^6 positions
(xenrr.crew.sharing; positions of the count, which in a BRANCH trace counts
retired conditional branches). A damaged or unclosed trace is analysed as far as it
reads; the command then says what is wrong in one line, with exit status 1.
"""

import json
from pathlib import Path

import typer

from xenrr.crew.actors import actor_name
from xenrr.crew.sharing import Sharing
from xenrr.crew.history import trace_sharing

PAIRS_SHOWN = 3


def sharing(
    trace: Path = typer.Argument(..., metavar="TRACE", help="The trace file."),
    top: int = typer.Option(10, "--top", min=1, help="How many frames to list."),
    json_out: bool = typer.Option(False, "--json", help="Print one compact JSON object."),
) -> None:
    """List the frames with the most CREW events, their ping-pong pairs, and rates per actor."""
    result, damage = trace_sharing(trace, top)
    if json_out:
        print(json.dumps(result.json(), separators=(",", ":")))
    else:
        print(text(result))
    if damage is not None:
        raise damage


def text(s: Sharing) -> str:
    lines = [f"{s.events} CREW events on {s.frames} frames", "",
             f"{'frame':<18} {'events':>10}  ping-pong pairs (handovers both ways)"]
    for f in s.top:
        pairs = ", ".join(f"{actor_name(p.first)}<->{actor_name(p.second)} {p.handovers}"
                          for p in f.pingpong[:PAIRS_SHOWN])
        more = len(f.pingpong) - PAIRS_SHOWN
        lines.append(f"{f.frame:<#18x} {f.events:>10}  {pairs or '-'}"
                     + (f" (+{more} more)" if more > 0 else ""))
    lines += ["", f"{'actor':<18} {'events':>10} {'positions':>12} {'per 10^6 positions':>20}"]
    for a in s.actors:
        rate = "-" if a.per_million is None else f"{a.per_million:.1f}"
        lines.append(f"{actor_name(a.actor):<18} {a.events:>10} {a.positions:>12} {rate:>20}")
    return "\n".join(lines)
