"""`xenrr status DOMAIN`: a domain's record/replay mode and its per-vCPU counters."""

import json
import sys
import time

import typer

from xenrr.domains import status_snapshot
from xenrr.hypercalls.errors import NoSuchDomainError
from xenrr.hypercalls.privcmd import Privcmd

app = typer.Typer(add_completion=False, rich_markup_mode=None)

COLUMNS = ("position", "rip", "hypercalls", "syscalls", "exceptions", "emulations",
           "shadow_faults", "shadows", "crew_events", "records", "bytes")


def render(s: dict) -> str:
    lines = [f"domain {s['domid']} ({s['name'] or 'unnamed'}): mode {s['mode']}, "
             f"{s['nr_vcpus']} vCPUs, shadow pool {s['shadow_mb']} MiB, state {s['state']}"]
    rows = [["vcpu", *COLUMNS]]
    for v in s["vcpus"]:
        rows.append([str(v["vcpu"])] + [f"{v[c]:#x}" if c == "rip" else str(v[c])
                                          for c in COLUMNS])
    rows.append(["total"] + ["" if c == "rip" else str(s["totals"][c]) for c in COLUMNS])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines += ["  ".join(cell.rjust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


@app.command()
def status(
    domain: str = typer.Argument(..., help="Domain name or id."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON (a line per sample)."),
    watch: bool = typer.Option(False, "--watch", help="Sample again every --interval "
                                                      "seconds until the domain is gone."),
    interval: float = typer.Option(1.0, help="Seconds between samples with --watch."),
) -> None:
    """Show DOMAIN's record/replay mode and counters per vCPU."""
    with Privcmd() as privcmd:
        while True:
            try:
                s = status_snapshot(privcmd, domain)
            except NoSuchDomainError:
                if not watch:
                    raise
                print(f"xenrr: domain {domain} is gone", file=sys.stderr)
                return
            print(json.dumps(s) if json_out else render(s), flush=True)
            if not watch:
                return
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                return
            if not json_out:
                print()
