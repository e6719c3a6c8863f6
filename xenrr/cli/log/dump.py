"""`xenrr log dump TRACE [--type T] [--vcpu N] [--json]`: every record, one line each.

The text comes from each record's display template (trace-format.md,
"Records"); --json gives one compact JSON object per line with the spec's
field names. Damage is skipped as the reader skips it, and reported in one
line with exit status 1 once the recoverable records are printed.
"""

import json
from pathlib import Path

import typer

from xenrr.errors import UsageError
from xenrr.formats import BY_NAME, BY_TYPE, TraceReader
from xenrr.formats.display import to_json


def record_types(names: list[str]) -> frozenset[int] | None:
    """The type numbers --type names (record names or numbers); None for all."""
    if not names:
        return None
    types = set()
    for name in names:
        if name in BY_NAME:
            types.add(BY_NAME[name].TYPE)
            continue
        try:
            number = int(name, 0)
        except ValueError:
            number = None
        if number not in BY_TYPE:
            raise UsageError(f"unknown record type {name!r} (known: {', '.join(BY_NAME)})")
        types.add(number)
    return frozenset(types)


def dump(
    trace: Path = typer.Argument(..., metavar="TRACE", help="The trace file."),
    types: list[str] = typer.Option([], "--type", metavar="T",
                                    help="Only records of this type (name or number); repeatable."),
    vcpu: int = typer.Option(None, "--vcpu", metavar="N",
                             help="Only records that belong to actor N (a vCPU id or device id)."),
    as_json: bool = typer.Option(False, "--json", help="One compact JSON object per record."),
) -> None:
    """Print the trace's records in file order, one per line."""
    wanted = record_types(types)
    with TraceReader(trace) as reader:
        for record in reader.records(wanted):
            if vcpu is not None and (record.ACTOR is None or record[0] != vcpu):
                continue
            print(json.dumps(to_json(record), separators=(",", ":")) if as_json else record)
        damage = reader.damage()
    if damage is not None:
        raise damage
