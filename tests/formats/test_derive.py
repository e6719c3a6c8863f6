"""Layouts derived from construct Structs: offsets, formats, dtypes, and what is refused."""

import numpy as np
import pytest
from construct import (Array, Bytes, GreedyBytes, Int8ub, Int32ub, Int32ul, Int64ul, PascalString,
                       Struct, this)

from xenrr.formats import CrewEvent, Dma, StartFrames, TraceHeader
from xenrr.formats.derive import Layout
from xenrr.formats.records import POSITION


def test_crew_event_layout():
    layout = CrewEvent.LAYOUT
    assert [(m.name, m.offset, m.size, m.kind) for m in layout.members] == [
        ("vcpu", 0, 4, "int"), ("old_state", 4, 1, "enum"), ("new_state", 5, 1, "enum"),
        ("reserved", 6, 2, "reserved"), ("gfn", 8, 8, "int"), ("position", 16, 24, "struct"),
        ("registers", 40, 8, "int")]
    assert layout.fmt == "<IBB2xQQQQQ"
    assert layout.flat_names == ("vcpu", "old_state", "new_state", "gfn", "position.count",
                                 "position.rip", "position.rcx", "registers")
    assert layout.dtype.itemsize == 48
    assert layout.dtype.fields["position"][1] == 16
    assert layout.dtype.fields["registers"][1] == 40
    assert layout.dtype["position"] == np.dtype([("count", "<u8"), ("rip", "<u8"), ("rcx", "<u8")])


def test_tails():
    assert [(m.name, m.kind, m.length_field) for m in Dma.LAYOUT.tail] == [("data", "bytes", "length")]
    assert [(m.name, m.label) for m in TraceHeader.LAYOUT.tail] == [
        ("name", "u16 length + UTF-8"), ("xen_version", "u16 length + UTF-8"),
        ("config", "u32 length + UTF-8")]
    assert TraceHeader.LAYOUT.tail[0].offset == 32 and TraceHeader.LAYOUT.tail[1].offset is None


def test_an_array_of_small_structs():
    layout = StartFrames.LAYOUT
    assert [(m.name, m.offset, m.size, m.kind) for m in layout.members] == [
        ("first_pfn", 0, 8, "int"), ("count", 8, 4, "int"), ("reserved", 12, 4, "reserved"),
        ("entries", 16, None, "array")]
    assert (layout.size, layout.fmt, layout.flat_names) == (16, "<QI4x", ("first_pfn", "count"))
    assert layout.dtype == np.dtype({"names": ["first_pfn", "count"], "formats": ["<u8", "<u4"],
                                     "offsets": [0, 8], "itemsize": 16})
    entries = layout.tail[0]
    assert (entries.length_field, entries.label) == ("count", "StartFrame[count]")
    assert (entries.layout.name, entries.layout.size, entries.layout.fmt) == ("StartFrame", 16, "<QQ")
    assert entries.layout.dtype == np.dtype([("mfn", "<u8"), ("digest", "<u8")])


@pytest.mark.parametrize("definition, message", [
    (Struct("a" / Int32ul, "b" / Bytes(4)), "is not a construct the trace format derives from"),
    (Struct("n" / Int32ul, "d" / Bytes(this.n), "x" / Int32ul), "fixed-size member after a variable"),
    (Struct("a" / Int32ul, "b" / Int32ub), "mixed byte order"),
    (Struct("s" / Struct("t" / PascalString(Int8ub, "utf8"))), "must be flat and fixed-size"),
    (Struct("a" / Array(2, Struct("x" / Int64ul))), "is not a construct the trace format derives"),
    (Struct("n" / Int32ul, "a" / Array(this.n, Int64ul)), "is not a construct the trace format"),
    (Struct("n" / Int32ul, "a" / Array(this.n, Struct("p" / POSITION))), "must be flat and fixed"),
    (Struct("n" / Int32ul, "a" / Array(this.n, Struct("d" / GreedyBytes))), "must be flat and fixed"),
    (Struct("a" / Int64ul, "f" / Int32ul), None),
])
def test_what_derivation_refuses(definition, message):
    if message is None:
        assert Layout("ok", definition).size == 12
    else:
        with pytest.raises(TypeError, match=message):
            Layout("bad", definition)
