"""`xenrr log stats TRACE [--json]`: records and bytes per type and per actor.

A bulk scan (trace-format.md, "Bulk scans"): numpy over each chunk's
records, never a decode per record. Bytes are framed bytes (header, body and
padding) before compression; the ratio is raw bytes over bytes in the file.
"""

import json
import sys
from contextlib import contextmanager
from pathlib import Path

import typer

from xenrr.formats import ACTOR_DEVICE_BASE, TraceReader, scan
from xenrr.formats.rectypes import type_name


@contextmanager
def scan_progress(reader: TraceReader):
    """progress(offset) for a scan: a bar on stderr, drawn only when stderr is a terminal."""
    with typer.progressbar(length=reader.size, label=reader.path.name, file=sys.stderr,
                           hidden=not sys.stderr.isatty()) as bar:
        yield lambda offset: bar.update(offset - bar.pos)
        bar.update(reader.size - bar.pos)  # the footer is read, not scanned


def actor_name(actor: int) -> str:
    """vCPU n or device n."""
    return f"device {actor - ACTOR_DEVICE_BASE}" if actor >= ACTOR_DEVICE_BASE else f"vcpu {actor}"


def as_json(s: scan.Stats) -> dict:
    """The statistics with record type names and actor ids, ready for json.dumps."""
    return {
        "chunks": s.chunks, "records": s.records, "raw_bytes": s.raw_bytes,
        "stored_bytes": s.stored_bytes, "ratio": round(s.ratio, 2),
        "types": [{"type": type_name(t), "number": f"{t:#010x}", "records": n, "bytes": b}
                  for t, (n, b) in sorted(s.types.items())],
        "actors": [{"actor": a, "records": n, "bytes": b} for a, (n, b) in sorted(s.actors.items())],
    }


def stats(
    trace: Path = typer.Argument(..., metavar="TRACE", help="The trace file."),
    json_out: bool = typer.Option(False, "--json", help="Print one compact JSON object."),
) -> None:
    """Count records and bytes per record type and per vCPU; show the compression ratio."""
    with TraceReader(trace) as reader:
        with scan_progress(reader) as progress:
            s = scan.stats(reader, progress)
        if json_out:
            print(json.dumps(as_json(s), separators=(",", ":")))
        else:
            print(f"chunks {s.chunks}  records {s.records}  raw bytes {s.raw_bytes}  "
                  f"stored bytes {s.stored_bytes}  ratio {s.ratio:.2f}")
            print(f"\n{'type':<36} {'records':>12} {'bytes':>14}")
            for t, (n, b) in sorted(s.types.items()):
                print(f"{type_name(t):<36} {n:>12} {b:>14}")
            print(f"\n{'actor':<36} {'records':>12} {'bytes':>14}")
            for a, (n, b) in sorted(s.actors.items()):
                print(f"{actor_name(a):<36} {n:>12} {b:>14}")
        damage = reader.damage()
    if damage is not None:
        raise damage
