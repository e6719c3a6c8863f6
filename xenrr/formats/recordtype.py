"""Record classes and their codecs, derived from one construct definition each.

`define` turns a record's construct Struct into a named-tuple class whose
attributes are the spec's field names (reserved bytes are not attributes:
they are written as zero and checked by `xenrr log verify`). The class
carries its codec: a precompiled struct.Struct for the fixed-size part, which
packs the framing header, the body and the padding in one call (the writer's
hot path, spec "Record framing"), plus a trailing byte string or array of
small structs when the definition ends in one; or construct itself for
records with inner strings.
"""

import io
import struct
from collections import namedtuple
from itertools import starmap
from operator import attrgetter

import construct as cs

from xenrr.formats import display
from xenrr.formats.derive import Layout, layout_of, named
from xenrr.formats.errors import RecordError
from xenrr.formats.rectypes import REC_OPTIONAL, rec_type_to_str

RECORD_HEADER_DEF = named("RecordHeader", cs.Struct(
    "type" / cs.Int32ul * "record type; bit 31 set: optional",
    "length" / cs.Int32ul * "bytes of body, padding excluded",
))
RECORD_HEADER = struct.Struct(layout_of(RECORD_HEADER_DEF).fmt)
RECORD_ALIGN = 8
ACTOR_FIELDS = ("vcpu", "actor")  # a record that belongs to an actor starts with one of these


def padded(length: int) -> int:
    """A body's size on disk: its length rounded up to RECORD_ALIGN."""
    return (length + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1)


def _padding(length: int) -> bytes:
    """The zeros after a body of `length` bytes."""
    return bytes(padded(length) - length)


def value_class(definition: cs.Struct, show: str, *, show_nonzero: dict | None = None,
                defaults: dict | None = None) -> type:
    """A named tuple for a small Struct that records embed (Position).

    show is its display template; show_nonzero: templates appended, in
    order, for the fields named when they are not zero. defaults: values of
    trailing fields a caller may leave out (by name).
    """
    layout = layout_of(definition)
    fields = [m.name for m in layout.fixed if m.kind != "reserved"]
    defaults = defaults or {}
    if list(defaults) != fields[len(fields) - len(defaults):]:
        raise TypeError(f"{layout.name}: defaults {list(defaults)} are not its last fields")
    base = namedtuple(layout.name, fields, defaults=tuple(defaults.values()) or None)
    extra = [(fields.index(name), template) for name, template in (show_nonzero or {}).items()]

    def __str__(self):
        values = self._asdict()
        return show.format(**values) + "".join(template.format(**values)
                                               for index, template in extra if self[index])
    cls = type(layout.name, (base,), {
        "__slots__": (), "LAYOUT": layout, "SHOW": show, "SHOW_NONZERO": dict(show_nonzero or {}),
        "__str__": __str__,
    })
    _VALUE_CLASSES[layout.name] = cls
    return cls


_VALUE_CLASSES: dict[str, type] = {}


def define(rtype: int, class_name: str, definition: cs.Struct, *,
           doc: str, show: str, origin: str, defaults: dict | None = None) -> type:
    """The record class of type number `rtype`; `show` is its display template.

    doc is the one-line description the spec's catalogue prints; origin is
    "xen" for records the hypervisor writes, "replay" for those dom0 writes
    for the hypervisor to read (both go into the C header), or "toolstack"
    for records dom0 writes into traces. defaults: values of fields a caller
    may leave out (by name), wherever they sit in the record.
    """
    name = rec_type_to_str[rtype]
    layout = Layout(name, definition)
    fields = [m.name for m in layout.members if m.kind != "reserved"]
    base = namedtuple(class_name, fields)
    extra = {}
    if defaults:
        def __new__(cls, *args, **kwargs):
            for field, value in defaults.items():
                if fields.index(field) >= len(args):
                    kwargs.setdefault(field, value)
            return base.__new__(cls, *args, **kwargs)
        extra["__new__"] = __new__
    cls = type(class_name, (base,), {
        **extra,
        "__slots__": (),
        "__doc__": doc, "DOC": doc,
        "__str__": lambda self: f"{name} {display.describe(self)}",
        "TYPE": rtype, "NAME": name, "OPTIONAL": bool(rtype & REC_OPTIONAL),
        "LAYOUT": layout, "SHOW": show, "ORIGIN": origin,
        "ACTOR": layout.members[0].name if layout.members[0].name in ACTOR_FIELDS else None,
    })
    cls.CODEC = _codec(cls)
    return cls


def _codec(cls):
    layout = cls.LAYOUT
    if not layout.tail:
        return FixedCodec(cls)
    if len(layout.tail) == 1 and layout.tail[0].kind == "bytes":
        return BytesTailCodec(cls)
    if len(layout.tail) == 1 and layout.tail[0].kind == "array":
        return ArrayTailCodec(cls)
    return ConstructCodec(cls)


class _StructCodec:
    """The fixed part through struct; subclasses add what follows it."""

    def __init__(self, cls):
        layout = cls.LAYOUT
        self.cls = cls
        self.name = cls.NAME
        self.rtype = cls.TYPE
        self.size = layout.size
        self.body = struct.Struct(layout.fmt)
        self.plan = _build_plan(cls)
        self.flatten = _flattener(layout, self.plan)

    def _make(self, values: tuple, tail=()):
        if self.plan is None:
            return self.cls._make(values + tail)
        args, i = [], 0
        for nested, width in self.plan:
            if nested is None:
                args.append(values[i])
            else:
                args.append(nested._make(values[i:i + width]))
            i += width
        return self.cls._make(tuple(args) + tail)

    def _encode_error(self, record, e: Exception) -> RecordError:
        return RecordError(f"cannot encode {self.name} record {tuple(record)!r}: {e}")

    def _length_error(self, expected: str, length: int) -> RecordError:
        return RecordError(f"{self.name}: expected a body of {expected} bytes, got {length}")


def _flattener(layout: Layout, plan):
    """record -> the fixed part's values in struct order; None when the record is that already.

    Records are scalars followed by one embedded Position in the common case,
    which a slice and a tuple concatenation flatten fastest (the writer's hot path).
    """
    if plan is None:
        return None
    first = next(i for i, (nested, _) in enumerate(plan) if nested)
    if first == len(plan) - 1:
        return lambda record: record[:first] + record[first]
    return attrgetter(*layout.flat_names)


def _trailing_structs(plan) -> tuple[int, int | None]:
    """(index of the first struct, number of structs) when the structs come last; None: they do not."""
    if plan is None:
        return 0, 0
    first = next(i for i, (nested, _) in enumerate(plan) if nested)
    trailing = all(nested for nested, _ in plan[first:])
    return first, len(plan) - first if trailing else None


def _build_plan(cls):
    """How flat struct values regroup into the record's attributes; None when they map 1:1."""
    plan = []
    for m in cls.LAYOUT.fixed:
        if m.kind == "struct":
            plan.append((_VALUE_CLASSES[m.layout.name], len(m.layout.flat_names)))
        elif m.kind != "reserved":
            plan.append((None, 1))
    return plan if any(nested for nested, _ in plan) else None


class FixedCodec(_StructCodec):
    """A fixed-size record: header, body and padding in one precompiled struct."""

    def __init__(self, cls):
        super().__init__(cls)
        self.framed_size = RECORD_HEADER.size + padded(self.size)
        pad = self.framed_size - RECORD_HEADER.size - self.size
        self.framed = struct.Struct(f"<II{self.body.format[1:]}{pad}x")
        self.pack_into = self._packer()
        self.reserved = [(m.offset, m.size) for m in cls.LAYOUT.fixed if m.kind == "reserved"]

    def _packer(self):
        """pack_into(buf, offset, record): frame a record into buf (the writer's hot path).

        Records are scalars, then embedded structs (Positions) in every
        definition so far: the scalars' slice and each struct are unpacked
        straight into the call, with no tuple built in between.
        """
        pack, rtype, size, flatten = self.framed.pack_into, self.rtype, self.size, self.flatten
        error = self._encode_error
        first, structs = _trailing_structs(self.plan)
        if structs == 0:
            def pack_into(buf, offset, record):
                try:
                    pack(buf, offset, rtype, size, *record)
                except (struct.error, TypeError) as e:
                    raise error(record, e) from None
        elif structs == 1:
            def pack_into(buf, offset, record):
                try:
                    pack(buf, offset, rtype, size, *record[:first], *record[first])
                except (struct.error, TypeError) as e:
                    raise error(record, e) from None
        elif structs == 2:
            def pack_into(buf, offset, record):
                try:
                    pack(buf, offset, rtype, size, *record[:first], *record[first], *record[first + 1])
                except (struct.error, TypeError) as e:
                    raise error(record, e) from None
        else:
            def pack_into(buf, offset, record):
                try:
                    pack(buf, offset, rtype, size, *flatten(record))
                except (struct.error, TypeError, AttributeError) as e:
                    raise error(record, e) from None
        return pack_into

    def frame(self, record) -> bytes:
        """The framed record as bytes."""
        buf = bytearray(self.framed_size)
        self.pack_into(buf, 0, record)
        return bytes(buf)

    def frame_array(self, array):
        """Framed records, one row each, from a numpy array of the record's dtype."""
        import numpy as np  # noqa: PLC0415 - loaded when needed (derive.Layout.dtype)
        array = np.ascontiguousarray(array)
        if array.dtype != self.cls.LAYOUT.dtype or array.ndim != 1:
            raise RecordError(f"{self.name}: expected a 1-d array of {self.cls.LAYOUT.dtype}, "
                              f"got {array.ndim}-d {array.dtype}")
        out = np.zeros((len(array), self.framed_size), np.uint8)
        out[:, :RECORD_HEADER.size] = np.frombuffer(RECORD_HEADER.pack(self.rtype, self.size), np.uint8)
        body = out[:, RECORD_HEADER.size:RECORD_HEADER.size + self.size]
        body[:] = array.view(np.uint8).reshape(len(array), self.size)
        for offset, size in self.reserved:
            body[:, offset:offset + size] = 0
        return out

    def decode(self, buf, offset: int, length: int):
        """The record whose body of `length` bytes starts at buf[offset]."""
        if length != self.size:
            raise self._length_error(str(self.size), length)
        return self._make(self.body.unpack_from(buf, offset))


class BytesTailCodec(_StructCodec):
    """A fixed part then one byte string, sized by a fixed member or by the rest of the body."""

    framed_size = 0

    def __init__(self, cls):
        super().__init__(cls)
        tail = cls.LAYOUT.tail[0]
        self.data = attrgetter(tail.name)
        self.length_at = (cls.LAYOUT.flat_names.index(tail.length_field)
                          if tail.length_field else None)
        self.header = struct.Struct("<II" + self.body.format[1:])

    def frame(self, record) -> bytes:
        """The framed record as bytes."""
        try:
            data = bytes(self.data(record))
            values = self.flatten(record) if self.flatten else record[:-1]
            if self.length_at is not None and values[self.length_at] != len(data):
                raise ValueError(f"length field {values[self.length_at]} but {len(data)} data bytes")
            length = self.size + len(data)
            head = self.header.pack(self.rtype, length, *values)
        except (struct.error, TypeError, ValueError, AttributeError) as e:
            raise self._encode_error(record, e) from None
        return head + data + _padding(length)

    def decode(self, buf, offset: int, length: int):
        """The record whose body of `length` bytes starts at buf[offset]."""
        if length < self.size:
            raise self._length_error(f"at least {self.size}", length)
        values = self.body.unpack_from(buf, offset)
        if self.length_at is not None and length != self.size + values[self.length_at]:
            raise self._length_error(f"{self.size} + {values[self.length_at]}", length)
        data = bytes(buf[offset + self.size:offset + length])
        return self._make(values, (data,))


class ArrayTailCodec(_StructCodec):
    """A fixed part then an array of a small flat struct, its count in a fixed member.

    Each element goes through its own precompiled struct, not construct: a
    start_frames record holds thousands of them.
    """

    framed_size = 0

    def __init__(self, cls):
        super().__init__(cls)
        tail = cls.LAYOUT.tail[0]
        self.elements = attrgetter(tail.name)
        self.element = struct.Struct(tail.layout.fmt)
        self.make_element = _VALUE_CLASSES[tail.layout.name]._make
        self.count_at = cls.LAYOUT.flat_names.index(tail.length_field)
        self.header = struct.Struct("<II" + self.body.format[1:])

    def frame(self, record) -> bytes:
        """The framed record as bytes."""
        try:
            elements = self.elements(record)
            values = self.flatten(record) if self.flatten else record[:-1]
            count = values[self.count_at]
            if count != len(elements):
                raise ValueError(f"count field {count} but {len(elements)} elements")
            data = b"".join(starmap(self.element.pack, elements))
            length = self.size + len(data)
            head = self.header.pack(self.rtype, length, *values)
        except (struct.error, TypeError, ValueError, AttributeError) as e:
            # without the record, which the other codecs print: it may hold thousands of elements
            raise RecordError(f"cannot encode {self.name} record: {e}") from None
        return head + data + _padding(length)

    def decode(self, buf, offset: int, length: int):
        """The record whose body of `length` bytes starts at buf[offset]."""
        if length < self.size:
            raise self._length_error(f"at least {self.size}", length)
        values = self.body.unpack_from(buf, offset)
        count = values[self.count_at]
        if length != self.size + count * self.element.size:
            raise self._length_error(f"{self.size} + {count} * {self.element.size}", length)
        data = buf[offset + self.size:offset + length]
        return self._make(values, (tuple(map(self.make_element, self.element.iter_unpack(data))),))


class ConstructCodec:
    """Records with inner strings go through their construct definition itself."""

    framed_size = 0

    def __init__(self, cls):
        self.cls = cls
        self.name = cls.NAME
        self.rtype = cls.TYPE
        self.definition = cls.LAYOUT.definition

    def frame(self, record) -> bytes:
        """The framed record as bytes."""
        try:
            body = self.definition.build(_as_dict(record))
        except (cs.ConstructError, TypeError, ValueError, AttributeError, UnicodeError) as e:
            raise RecordError(f"cannot encode {self.name} record: {e}") from None
        return RECORD_HEADER.pack(self.rtype, len(body)) + body + _padding(len(body))

    def decode(self, buf, offset: int, length: int):
        """The record whose body of `length` bytes starts at buf[offset]."""
        stream = io.BytesIO(buf[offset:offset + length])
        try:
            parsed = self.definition.parse_stream(stream)
        except (cs.ConstructError, UnicodeError) as e:
            raise RecordError(f"{self.name}: malformed body: {e}") from None
        if stream.tell() != length:
            raise RecordError(f"{self.name}: expected a body of {stream.tell()} bytes, got {length}")
        return self.cls(**{m.name: _from_construct(m, parsed[m.name])
                           for m in self.cls.LAYOUT.members if m.kind != "reserved"})


def _as_dict(record) -> dict:
    return {k: v._asdict() if hasattr(v, "_asdict") else v for k, v in record._asdict().items()}


def _from_construct(member, value):
    if member.kind == "enum":
        return int(value)
    if member.kind == "struct":
        cls = _VALUE_CLASSES[member.layout.name]
        return cls(**{k: value[k] for k in cls._fields})
    return value
