"""The record definitions: exact bytes, and the derived codecs agreeing with construct."""

import construct as cs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xenrr.formats import (BY_NAME, BY_TYPE, INVALID_MFN, RECORD_CLASSES, Constraint, CrewEvent,
                           Dma, Position, RecordError, StartFrame, StartFrames, TraceHeader)
from xenrr.formats.enums import ConfigKind, CrewState, DmaKind, GuestType, PositionMode
from xenrr.formats.derive import named
from xenrr.formats.recordtype import RECORD_HEADER, define, value_class
from xenrr.formats.records import POSITION
from xenrr.formats.rectypes import REC_TYPE_IDENT, REC_TYPE_IDENT_MASK, rec_type_to_str

from tests.formats.strategies import records


def test_crew_event_bytes():
    record = CrewEvent(vcpu=1, old_state=CrewState.CR, new_state=CrewState.EW, gfn=0x1234,
                       position=Position(count=42, rip=0xFFFFFFFF81000010, rcx=0x203),
                       registers=0x0102030405060708)
    assert CrewEvent.CODEC.frame(record) == bytes.fromhex(
        "10005258"          # type 0x58520010 (crew_event)
        "30000000"          # length 48
        "01000000"          # vcpu 1
        "01"                # old_state CR
        "02"                # new_state EW
        "0000"              # reserved
        "3412000000000000"  # gfn 0x1234
        "2a00000000000000"  # position.count 42
        "10000081ffffffff"  # position.rip 0xffffffff81000010
        "0302000000000000"  # position.rcx 0x203
        "0807060504030201"  # registers 0x0102030405060708
    )


def test_a_position_given_count_and_rip_has_rcx_0():
    assert Position(42, 0x1000) == Position(count=42, rip=0x1000, rcx=0)
    assert Position(42, 0x1000)._fields == ("count", "rip", "rcx")


def test_constraint_bytes():
    record = Constraint(vcpu=0, after_vcpu=3, position=Position(7, 0x1000),
                        after_position=Position(9, 0x2000, 5))
    assert Constraint.CODEC.frame(record) == bytes.fromhex(
        "11005258"          # type 0x58520011 (constraint)
        "38000000"          # length 56
        "00000000"          # vcpu 0
        "03000000"          # after_vcpu 3
        "0700000000000000"  # position.count 7
        "0010000000000000"  # position.rip 0x1000
        "0000000000000000"  # position.rcx 0
        "0900000000000000"  # after_position.count 9
        "0020000000000000"  # after_position.rip 0x2000
        "0500000000000000"  # after_position.rcx 5
    )


def test_dma_bytes_pad_the_data_to_8():
    record = Dma(actor=0xFFFF0002, kind=DmaKind.GRANT_COPY, offset=0x10, length=3, gfn=0x77,
                 position=Position(5, 0), data=b"abc")
    assert Dma.CODEC.frame(record) == bytes.fromhex(
        "30005258"          # type 0x58520030 (dma)
        "33000000"          # length 51 = 48 fixed + 3 data
        "0200ffff"          # actor 0xffff0002 (device 2)
        "0100"              # kind GRANT_COPY
        "0000"              # reserved
        "10000000"          # offset 0x10
        "03000000"          # length 3
        "7700000000000000"  # gfn 0x77
        "0500000000000000"  # position.count 5
        "0000000000000000"  # position.rip 0
        "0000000000000000"  # position.rcx 0
        "616263"            # data "abc"
        "0000000000"        # padding to 56
    )


def test_trace_header_bytes():
    record = TraceHeader(domid=5, vcpus=2, guest_type=GuestType.PV,
                         position_mode=PositionMode.SYNC_ENTRY, xenrr_interface=1,
                         config_kind=ConfigKind.XL, start_time=0x0102030405060708, name="vm",
                         xen_version="4.17", config="x=1\n")
    assert TraceHeader.CODEC.frame(record) == bytes.fromhex(
        "01005258"          # type 0x58520001 (trace_header)
        "32000000"          # length 50 = 32 fixed + 2+2 + 2+4 + 4+4
        "05000000"          # domid 5
        "02000000"          # vcpus 2
        "01000000"          # guest_type PV
        "01000000"          # position_mode SYNC_ENTRY
        "01000000"          # xenrr_interface 1
        "01000000"          # config_kind XL (revision 1: reserved, zero)
        "0807060504030201"  # start_time
        "0200" "766d"       # name: length 2, "vm"
        "0400" "342e3137"   # xen_version: length 4, "4.17"
        "04000000" "783d310a"  # config: length 4, "x=1\n"
        "000000000000"      # padding to 56
    )


def test_start_frames_bytes():
    record = StartFrames(first_pfn=0x1000, count=2,
                         entries=(StartFrame(mfn=0x12345, digest=0x0102030405060708),
                                  StartFrame(mfn=INVALID_MFN, digest=0)))
    assert StartFrames.CODEC.frame(record) == bytes.fromhex(
        "04005258"          # type 0x58520004 (start_frames)
        "30000000"          # length 48 = 16 fixed + 2 * 16
        "0010000000000000"  # first_pfn 0x1000
        "02000000"          # count 2
        "00000000"          # reserved
        "4523010000000000"  # entries[0].mfn 0x12345
        "0807060504030201"  # entries[0].digest
        "ffffffffffffffff"  # entries[1].mfn INVALID_MFN: no frame at pfn 0x1001
        "0000000000000000"  # entries[1].digest 0
    )
    assert StartFrames.CODEC.decode(StartFrames.CODEC.frame(record), 8, 48) == record
    assert not StartFrames.OPTIONAL and StartFrames.ORIGIN == "toolstack" and StartFrames.ACTOR is None


def test_start_frames_entries_are_checked_against_count():
    with pytest.raises(RecordError, match="cannot encode start_frames record: count field 3 but "
                                          "2 elements"):
        StartFrames.CODEC.frame(StartFrames(0, 3, (StartFrame(1, 2), StartFrame(3, 4))))
    with pytest.raises(RecordError, match="cannot encode start_frames record: "):
        StartFrames.CODEC.frame(StartFrames(0, 1, (StartFrame(-1, 2),)))
    with pytest.raises(RecordError, match="cannot encode start_frames record: "):
        StartFrames.CODEC.frame(StartFrames(0, 1, ((1, 2, 3),)))
    framed = StartFrames.CODEC.frame(StartFrames(0, 1, (StartFrame(1, 2),)))
    with pytest.raises(RecordError, match=r"start_frames: expected a body of 16 \+ 1 \* 16 bytes, "
                                          "got 40"):
        StartFrames.CODEC.decode(framed + bytes(8), 8, 40)
    with pytest.raises(RecordError, match="start_frames: expected a body of at least 16 bytes, "
                                          "got 8"):
        StartFrames.CODEC.decode(framed, 8, 8)


def test_a_trace_header_that_says_no_config_kind_is_untagged():
    """As every writer wrote before config_kind existed; tests and benchmarks leave it out."""
    record = TraceHeader(domid=5, vcpus=2, guest_type=GuestType.PV,
                         position_mode=PositionMode.SYNC_ENTRY, xenrr_interface=1,
                         start_time=0, name="vm", xen_version="4.17", config="")
    assert record.config_kind == ConfigKind.UNTAGGED
    assert TraceHeader.CODEC.frame(record)[8 + 20:8 + 24] == bytes(4)
    assert TraceHeader(0, 1, 1, 1, 1, ConfigKind.XL_JSON, 0, "n", "", "{}").config_kind == 2


def test_type_table_and_classes_agree():
    assert [cls.TYPE for cls in RECORD_CLASSES] == list(rec_type_to_str)
    assert BY_NAME == {rec_type_to_str[t]: cls for t, cls in BY_TYPE.items()}
    assert all(t & REC_TYPE_IDENT_MASK == REC_TYPE_IDENT for t in rec_type_to_str)
    assert [cls.NAME for cls in RECORD_CLASSES if cls.OPTIONAL] == ["digest", "end_frames",
                                                                    "end_registers"]


@pytest.mark.parametrize("cls", RECORD_CLASSES, ids=lambda c: c.NAME)
def test_fields_are_the_definition_members(cls):
    members = [m.name for m in cls.LAYOUT.members if m.kind != "reserved"]
    assert list(cls._fields) == members


@pytest.mark.parametrize("cls", RECORD_CLASSES, ids=lambda c: c.NAME)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_codec_round_trip_agrees_with_construct(cls, data):
    record = data.draw(records(cls))
    framed = cls.CODEC.frame(record)
    rtype, length = RECORD_HEADER.unpack_from(framed)
    assert (rtype, len(framed) % 8) == (cls.TYPE, 0)
    assert framed[RECORD_HEADER.size + length:] == bytes(len(framed) - RECORD_HEADER.size - length)
    body = framed[RECORD_HEADER.size:RECORD_HEADER.size + length]
    assert cls.CODEC.decode(framed, RECORD_HEADER.size, length) == record
    as_dict = {m.name: _as_construct(m, getattr(record, m.name))
               for m in cls.LAYOUT.members if m.kind != "reserved"}
    assert cls.LAYOUT.definition.build(as_dict) == body
    parsed = cls.LAYOUT.definition.parse(body)
    for m in cls.LAYOUT.members:
        value, got = getattr(record, m.name, None), parsed[m.name]
        if m.kind == "struct":
            assert {k: got[k] for k in value._fields} == value._asdict()
        elif m.kind == "array":
            assert [{k: g[k] for k in v._fields} for g, v in zip(got, value)] == [
                v._asdict() for v in value] and len(got) == len(value)
        elif m.kind == "enum":
            assert int(got) == value
        elif m.kind != "reserved":
            assert got == value


def _as_construct(member, value):
    """A record's value as construct builds it: dicts for structs, lists of dicts for arrays."""
    if member.kind == "struct":
        return value._asdict()
    if member.kind == "array":
        return [element._asdict() for element in value]
    return value


def test_values_out_of_range_are_record_errors():
    with pytest.raises(RecordError, match="cannot encode crew_event"):
        CrewEvent.CODEC.frame(CrewEvent(-1, 1, 2, 0, Position(0, 0)))
    with pytest.raises(RecordError, match="cannot encode crew_event"):
        CrewEvent.CODEC.frame(CrewEvent(0, 1, 2, 0, position=None))
    with pytest.raises(RecordError, match="length field 4 but 3 data bytes"):
        Dma.CODEC.frame(Dma(0xFFFF0000, 1, 0, 4, 0, Position(0, 0), b"abc"))
    with pytest.raises(RecordError, match="cannot encode trace_header"):
        TraceHeader.CODEC.frame(TraceHeader(0, 1, 1, 1, 1, 0, 0, "n" * 70000, "", ""))


def test_a_struct_between_scalars_is_framed_as_construct_builds_it(monkeypatch):
    """The codec's general path (every record so far ends with its structs)."""
    monkeypatch.setitem(rec_type_to_str, 0x5852_7F01, "test_middle")
    cls = define(0x5852_7F01, "Middle", cs.Struct(
        "vcpu" / cs.Int32ul * "an actor",
        "reserved" / cs.Padding(4),
        "position" / POSITION * "a position",
        "value" / cs.Int64ul * "a scalar after the struct",
    ), doc="A struct between scalars.", show="{vcpu}", origin="toolstack")
    body = cls.LAYOUT.definition.build({"vcpu": 1, "position": {"count": 2, "rip": 3, "rcx": 5},
                                        "value": 4})
    assert cls.CODEC.frame(cls(1, Position(2, 3, 5), 4)) == RECORD_HEADER.pack(cls.TYPE, 40) + body
    assert cls.CODEC.decode(cls.CODEC.frame(cls(1, Position(2, 3, 5), 4)), 8, 40) == (
        cls(1, Position(2, 3, 5), 4))
    with pytest.raises(RecordError, match="cannot encode test_middle"):
        cls.CODEC.frame(cls(1, None, 4))


def test_decoding_checks_the_length():
    framed = Dma.CODEC.frame(Dma(0xFFFF0000, 1, 0, 3, 0, Position(0, 0), b"abc"))
    with pytest.raises(RecordError, match=r"dma: expected a body of 48 \+ 3 bytes, got 50"):
        Dma.CODEC.decode(framed, 8, 50)
    with pytest.raises(RecordError, match="crew_event: expected a body of 48 bytes, got 32"):
        CrewEvent.CODEC.decode(bytes(64), 8, 32)
    with pytest.raises(RecordError, match="trace_header: malformed body"):
        TraceHeader.CODEC.decode(bytes(38), 0, 38)
    with pytest.raises(RecordError, match="trace_header: expected a body of 40 bytes, got 48"):
        TraceHeader.CODEC.decode(bytes(48), 0, 48)


def test_str_uses_the_display_template():
    record = CrewEvent(1, CrewState.CR, CrewState.EW, 0x1234, Position(42, 0xFFFFFFFF81000010))
    assert str(record) == "crew_event vcpu 1 gfn 0x1234 CR->EW at 42@0xffffffff81000010"
    record = record._replace(position=Position(42, 0xFFFFFFFF81000010, 17))
    assert str(record) == "crew_event vcpu 1 gfn 0x1234 CR->EW at 42@0xffffffff81000010 rcx 17"


def test_a_value_class_default_must_be_a_trailing_field():
    definition = named("Pair", cs.Struct("a" / cs.Int64ul, "b" / cs.Int64ul))
    with pytest.raises(TypeError, match=r"Pair: defaults \['a'\] are not its last fields"):
        value_class(definition, show="{a}", defaults={"a": 0})
    pair = value_class(definition, show="{a}", show_nonzero={"b": "+{b}"}, defaults={"b": 0})
    assert (pair(1), str(pair(1)), str(pair(1, 2))) == ((1, 0), "1", "1+2")
