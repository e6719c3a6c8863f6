"""The pretty-printer: records as one line of text or as JSON (trace-format.md, "Display").

Each record definition carries a format template (like the lines of
xentrace's `formats` file), so adding a record adds no printing code. The
values are prepared once here: enum numbers become their names, positions
read "count@rip" (then " rcx N" when rcx is not zero), byte strings and
arrays show their length.
"""

from typing import Any


def _text_value(member, value) -> Any:
    if member.kind == "enum":
        return _enum_name(member.intenum, value)
    if member.kind == "bytes":
        return f"<{len(value)} bytes>"
    if member.kind == "array":
        return f"<{len(value)} entries>"
    return value


def _enum_name(intenum, value: int) -> str:
    try:
        return intenum(value).name
    except ValueError:
        return f"{value}?"


def describe(record) -> str:
    """The record's fields through its template, without its name."""
    values = {m.name: _text_value(m, getattr(record, m.name))
              for m in record.LAYOUT.members if m.kind != "reserved"}
    return record.SHOW.format(**values)


def _json_value(member, value) -> Any:
    if member.kind == "enum":
        return _enum_name(member.intenum, value)
    if member.kind == "struct":
        return value._asdict()
    if member.kind == "bytes":
        return value.hex()
    if member.kind == "array":
        return [element._asdict() for element in value]
    return value


def to_json(record) -> dict:
    """The record as a JSON-ready dict: its type name first, then its fields by spec name."""
    out = {"type": record.NAME}
    for m in record.LAYOUT.members:
        if m.kind != "reserved":
            out[m.name] = _json_value(m, getattr(record, m.name))
    return out
