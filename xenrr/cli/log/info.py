"""`xenrr log info TRACE`: which domain a trace records and what it holds, without a scan.

Reads the file header, the trace_header record and the start state that
follows it (the first chunks), and the footer's totals (trace-format.md,
"Footer and index"); a trace that was not closed
has no totals, and the command says so in one line with exit status 1 after
printing what it knows. The domain's configuration comes last: its kind
(config_kind) and, indented below `config`, its text as the trace keeps it.
"""

import json
from datetime import datetime, timezone
from pathlib import Path

import typer

from xenrr.formats import ConfigKind, GuestType, PositionMode, RecordError, TraceReader
from xenrr.formats.startstate import trace_start

CONFIG_INDENT = "    "


def facts(reader: TraceReader) -> dict:
    """What info reports, by name; None where the trace cannot say."""
    h, f = reader.header, reader.footer
    out = {"trace": str(reader.path), "closed": reader.complete, "revision": reader.version,
           "size": reader.size}
    out.update(dict.fromkeys(("domid", "name", "vcpus", "guest_type", "xen_version",
                              "xenrr_interface", "position_mode", "start_time")))
    if h is not None:
        out.update(domid=h.domid, name=h.name, vcpus=h.vcpus, xen_version=h.xen_version,
                   guest_type=_name(GuestType, h.guest_type), xenrr_interface=h.xenrr_interface,
                   position_mode=_name(PositionMode, h.position_mode),
                   start_time=datetime.fromtimestamp(h.start_time / 1e9, timezone.utc)
                   .isoformat(timespec="seconds"))
    out.update(dict.fromkeys(("chunks", "records", "raw_bytes", "stored_bytes", "ratio")))
    if f is not None:
        out.update(chunks=f.chunks, records=f.records, raw_bytes=f.raw_bytes,
                   stored_bytes=f.stored_bytes,
                   ratio=round(f.raw_bytes / f.stored_bytes, 2) if f.stored_bytes else None)
    try:
        start = trace_start(reader)
        out["start"] = None if start is None else start.summary()
    except RecordError as e:  # the facts above still stand
        out["start"] = f"unusable: {e}"
    out.update(config_kind=None if h is None else _name(ConfigKind, h.config_kind),
               config=None if h is None else h.config)
    return out


def text_lines(out: dict) -> list[str]:
    """The facts one per line, the configuration's text last, indented below `config`."""
    lines = [f"{key:<16} {_shown(key, value)}" for key, value in out.items() if key != "config"]
    config = out["config"]
    if not config:
        lines.append(f"{'config':<16} {'unknown' if config is None else 'empty'}")
    else:
        lines.append("config")
        lines += [CONFIG_INDENT + line if line else ""
                  for line in config.rstrip("\n").split("\n")]
    return lines


def _shown(key: str, value) -> str:
    if key == "start":
        if value is None:
            return "none (the trace cannot be replayed)"
        if isinstance(value, str):
            return f"{value} (the trace cannot be replayed)"
        return (f"{value['frames']} frames on pfns 0-{value['pfns'] - 1:#x}, shared_info "
                f"{value['shared_info']:#x}, {value['vcpus_up']} of {value['vcpus']} vCPUs up")
    return "unknown" if value is None else str(value)


def _name(values, number: int) -> str:
    try:
        return values(number).name
    except ValueError:
        return str(number)


def info(
    trace: Path = typer.Argument(..., metavar="TRACE", help="The trace file."),
    as_json: bool = typer.Option(False, "--json", help="Print one compact JSON object."),
) -> None:
    """Show the recorded domain and the trace's totals (from its header and footer)."""
    with TraceReader(trace) as reader:
        out = facts(reader)
        if as_json:
            print(json.dumps(out, separators=(",", ":")))
        else:
            for line in text_lines(out):
                print(line)
        damage = reader.damage()
    if damage is not None:
        raise damage
