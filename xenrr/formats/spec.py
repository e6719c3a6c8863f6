"""The generated parts of docs/specs/trace-format.md: field tables, catalogue, values.

The document's prose is written by hand; every table that states a layout or
a number sits between `<!-- BEGIN GENERATED name -->` and
`<!-- END GENERATED name -->` and is rendered here from the definitions, so
the document cannot drift from the code (tests/formats/test_spec.py fails if
it does). Regenerate with:

    python -m xenrr.formats.spec --write
"""

import argparse
import re
import sys
from pathlib import Path

from xenrr.formats import fileformat as ff
from xenrr.formats.derive import Layout, layout_of
from xenrr.formats.enums import ACTOR_DEVICE_BASE, DIGEST_MEMORY, ENUMS, INVALID_MFN, meaning
from xenrr.formats.records import POSITION, RECORD_CLASSES, START_FRAME
from xenrr.formats.recordtype import RECORD_HEADER_DEF, padded
from xenrr.formats.rectypes import REC_OPTIONAL, REC_TYPE_IDENT
from xenrr.formats.startstate import START_FRAMES_ENTRIES

DOC = Path(__file__).resolve().parents[2] / "docs" / "specs" / "trace-format.md"
_BLOCK = re.compile(r"(<!-- BEGIN GENERATED (?P<name>[\w:]+) -->\n)(?P<body>.*?)(<!-- END GENERATED (?P=name) -->)",
                    re.DOTALL)

FILE_STRUCTURES = (ff.FILE_HEADER, ff.CHUNK_HEADER, RECORD_HEADER_DEF, ff.FOOTER,
                   ff.INDEX_ENTRY, ff.TRAILER, POSITION, START_FRAME)

CONSTANTS = (
    ("REVISION", ff.REVISION, "format revision this document describes"),
    ("FILE_MARKER", ff.FILE_MARKER, "file header marker"),
    ("FILE_IDENT", ff.FILE_IDENT, "file header ident, \"XRRT\""),
    ("OPT_BIG_ENDIAN", ff.OPT_BIG_ENDIAN, "file header option: big-endian contents"),
    ("CHUNK_MAGIC", ff.CHUNK_MAGIC, "chunk header magic, \"XRRchunk\" as bytes"),
    ("MAX_CHUNK_RAW", ff.MAX_CHUNK_RAW, "largest raw_length of a chunk"),
    ("FOOTER_MAGIC", ff.FOOTER_MAGIC, "footer magic, \"XRRindex\" as bytes"),
    ("TRAILER_MAGIC", ff.TRAILER_MAGIC, "trailer magic, \"XRRclose\" as bytes"),
    ("REC_OPTIONAL", REC_OPTIONAL, "record type bit: a reader may skip the record"),
    ("REC_TYPE_IDENT", REC_TYPE_IDENT, "bits 16-30 of every record type"),
    ("ACTOR_DEVICE_BASE", ACTOR_DEVICE_BASE, "first device actor id"),
    ("DIGEST_MEMORY", DIGEST_MEMORY, "digest flag: mem_digest is valid"),
    ("INVALID_MFN", INVALID_MFN, "start_frames mfn: the domain has no frame at that pfn"),
    ("START_FRAMES_ENTRIES", START_FRAMES_ENTRIES,
     "entries per start_frames record as xenrr writes them (readers take any count)"),
)


def _row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def field_table(layout: Layout) -> str:
    """Offset, size, name, type and meaning of each member, then the sizes."""
    lines = [_row("Offset", "Size", "Field", "Type", "Description"),
             "|-------:|-----:|-------|------|-------------|"]
    for m in layout.members:
        offset = m.offset if m.offset is not None else ""
        size = m.size if m.size is not None else "var"
        doc = m.doc or ("reserved, zero" if m.kind == "reserved" else "")
        lines.append(_row(offset, size, f"`{m.name}`", m.label, doc))
    if layout.tail:
        lines.append(f"\nFixed part: {layout.size} bytes, then the variable-size fields.")
    else:
        lines.append(f"\nSize: {layout.size} bytes.")
    return "\n".join(lines)


def catalogue() -> str:
    """The record types of this revision."""
    lines = [_row("Type", "Name", "Optional", "Body", "Written by", "Description"),
             "|------|------|----------|------|------------|-------------|"]
    for cls in RECORD_CLASSES:
        layout = cls.LAYOUT
        body = f">= {layout.size}" if layout.tail else f"{layout.size} (framed {8 + padded(layout.size)})"
        lines.append(_row(f"`{cls.TYPE:#010x}`", f"`{cls.NAME}`", "yes" if cls.OPTIONAL else "no",
                          body, "Xen" if cls.ORIGIN == "xen" else "toolstack", cls.DOC))
    return "\n".join(lines)


def enum_table(values) -> str:
    """The values of one enumerated field type."""
    lines = [_row("Value", "Name", "Meaning"), "|------:|------|---------|"]
    lines += [_row(int(v), f"`{v.name}`", meaning(v)) for v in values]
    return "\n".join(lines)


def constants() -> str:
    """The numbers the format fixes."""
    lines = [_row("Name", "Value", "Meaning"), "|------|-------|---------|"]
    lines += [_row(f"`{name}`", f"`{value:#x}`", meaning) for name, value, meaning in CONSTANTS]
    return "\n".join(lines)


def blocks() -> dict[str, str]:
    """Every generated block of the document, by name."""
    out = {"constants": constants(), "catalogue": catalogue()}
    for definition in FILE_STRUCTURES:
        layout = layout_of(definition)
        out[f"layout:{layout.name}"] = field_table(layout)
    for cls in RECORD_CLASSES:
        out[f"record:{cls.NAME}"] = field_table(cls.LAYOUT)
    for values in ENUMS:
        out[f"enum:{values.__name__}"] = enum_table(values)
    return out


def update(text: str) -> str:
    """The document with every generated block rendered afresh."""
    rendered = blocks()

    def replace(match):
        name = match.group("name")
        if name not in rendered:
            raise KeyError(f"the document has a generated block {name!r} that nothing renders")
        return f"{match.group(1)}{rendered[name]}\n{match.group(4)}"
    return _BLOCK.sub(replace, text)


def missing(text: str) -> list[str]:
    """Generated blocks the document does not contain."""
    present = {m.group("name") for m in _BLOCK.finditer(text)}
    return [name for name in blocks() if name not in present]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xenrr.formats.spec", description=__doc__.split("\n\n")[0])
    parser.add_argument("doc", nargs="?", type=Path, default=DOC)
    parser.add_argument("--write", action="store_true", help="rewrite the document's generated blocks")
    args = parser.parse_args(argv)
    text = args.doc.read_text()
    new = update(text)
    for name in missing(text):
        print(f"{args.doc}: no generated block {name!r}", file=sys.stderr)
    if args.write:
        args.doc.write_text(new)
        return 0
    if new != text:
        print(f"{args.doc}: generated blocks are out of date (run with --write)", file=sys.stderr)
        return 1
    return 1 if missing(text) else 0


if __name__ == "__main__":
    raise SystemExit(main())
