"""Layouts derived from construct definitions (trace-format.md, "Conventions").

A construct Struct is the one definition of each binary structure in a trace.
This module reads such a Struct once and derives what the fast paths need:
member offsets and sizes, a struct format string and a numpy dtype for the
fixed-size part, and a description of the variable-size tail. The spec tables,
the C header and the pretty-printer read the same Layout.

The derivation understands only the constructs the definitions use: integer
fields, enums of integer fields (made with `enum`), reserved bytes (Padding),
nested fixed-size Structs, and, after all fixed members, byte strings sized by
an earlier member or by the rest of the body, arrays of a flat fixed-size
Struct whose count is an earlier member, and length-prefixed strings.
Anything else is a programming error, reported when the module is imported.
"""

import functools
import struct
from dataclasses import dataclass
from enum import IntEnum

import construct as cs

# struct code -> (spec type, C type); the byte order comes from the field.
SCALARS = {
    "B": ("u8", "uint8_t"),
    "H": ("u16", "uint16_t"),
    "I": ("u32", "uint32_t"),
    "Q": ("u64", "uint64_t"),
    "b": ("s8", "int8_t"),
    "h": ("s16", "int16_t"),
    "i": ("s32", "int32_t"),
    "q": ("s64", "int64_t"),
}


def enum(subcon: cs.FormatField, values: type[IntEnum]) -> cs.Enum:
    """A construct Enum that remembers its IntEnum, so derived views can name the values."""
    field = cs.Enum(subcon, values)
    field.intenum = values
    return field


_NAMED: dict[int, "Layout"] = {}


def named(name: str, definition: cs.Struct) -> cs.Struct:
    """Give a Struct that other Structs embed one Layout and a name of its own (e.g. Position)."""
    _NAMED[id(definition)] = Layout(name, definition)
    return definition


def layout_of(definition: cs.Struct) -> "Layout":
    """The Layout of a Struct registered with `named`."""
    return _NAMED[id(definition)]


@dataclass(frozen=True)
class Member:
    """One member of a Struct, at a known offset when it is fixed-size."""

    name: str
    offset: int | None      # None after the first variable-size member
    size: int | None        # None when variable-size
    kind: str               # int, enum, reserved, struct, bytes, array, string
    doc: str
    code: str = ""          # struct code of an int or enum, or of a string's length prefix
    intenum: type[IntEnum] | None = None
    layout: "Layout | None" = None   # struct: the nested Struct's own layout; array: its element's
    length_field: str | None = None  # bytes: the member holding its length (None: rest of body);
                                     # array: the member holding its element count

    @property
    def label(self) -> str:
        """The member's type as the spec tables write it."""
        if self.kind == "int":
            return SCALARS[self.code[1:]][0]
        if self.kind == "enum":
            return f"{SCALARS[self.code[1:]][0]} ({self.intenum.__name__})"
        if self.kind == "reserved":
            return f"u8[{self.size}]"
        if self.kind == "struct":
            return self.layout.name
        if self.kind == "bytes":
            return f"u8[{self.length_field}]" if self.length_field else "u8[rest of body]"
        if self.kind == "array":
            return f"{self.layout.name}[{self.length_field}]"
        return f"{SCALARS[self.code[1:]][0]} length + UTF-8"


class Layout:
    """What a construct Struct looks like in memory: members, formats, dtype."""

    def __init__(self, name: str, definition: cs.Struct):
        self.name = name
        self.definition = definition
        self.members = tuple(_members(name, definition))
        fixed = [m for m in self.members if m.size is not None]
        self.fixed = tuple(fixed)
        self.tail = self.members[len(fixed):]
        self.size = sum(m.size for m in fixed)
        self.byteorder = _byteorder(name, fixed)
        self.fmt = self.byteorder + "".join(_codes(fixed))
        self.flat_names = tuple(_flat_names(fixed))
        self._check_sizes({"struct": struct.calcsize(self.fmt)})

    @functools.cached_property
    def dtype(self):
        """The numpy dtype of the fixed part, made when first asked for: importing numpy
        takes seconds in the lab's emulated dom0, and only bulk scans need it."""
        import numpy as np  # noqa: PLC0415 - see the docstring
        dtype = np.dtype(_dtype_spec(self.fixed, self.size))
        self._check_sizes({"numpy": dtype.itemsize})
        return dtype

    def _check_sizes(self, sizes: dict[str, int]) -> None:
        if not self.tail:
            sizes["construct"] = self.definition.sizeof()
        if set(sizes.values()) != {self.size}:
            raise TypeError(f"{self.name}: fixed part is {self.size} bytes, but {sizes}")


def _unwrap(sub):
    """Strip the Renamed wrappers `name / x * "doc"` leaves: (name, doc, core)."""
    name, doc = sub.name, ""
    while isinstance(sub, cs.Renamed):
        name = sub.name or name
        doc = sub.docs or doc
        sub = sub.subcon
    return name, doc, sub


class _FieldName(dict):
    """A context that answers every lookup with the key: reveals which field `this.x` names."""

    def __getitem__(self, key):
        return key


def _members(owner: str, definition: cs.Struct):
    offset = 0
    for sub in definition.subcons:
        name, doc, core = _unwrap(sub)
        member = _member(owner, name, doc, core, offset)
        if member.size is None:
            offset = None
        elif offset is None:
            raise TypeError(f"{owner}.{name}: fixed-size member after a variable-size one")
        else:
            offset += member.size
        yield member


def _member(owner, name, doc, core, offset) -> Member:
    where = f"{owner}.{name}"
    if isinstance(core, cs.FormatField):
        return Member(name, offset, core.length, "int", doc, code=_scalar(where, core))
    if isinstance(core, cs.Enum):
        field = core.subcon
        return Member(name, offset, field.length, "enum", doc,
                      code=_scalar(where, field), intenum=core.intenum)
    if isinstance(core, cs.Padded) and isinstance(core.subcon, type(cs.Pass)):
        return Member(name, offset, core.length, "reserved", doc)
    if isinstance(core, cs.Struct):
        layout = _flat_layout(where, name, core)
        return Member(name, offset, layout.size, "struct", doc, layout=layout)
    if isinstance(core, cs.Array) and isinstance(core.subcon, cs.Struct) and callable(core.count):
        element = _flat_layout(where, name, core.subcon)
        return Member(name, offset, None, "array", doc, layout=element,
                      length_field=core.count(_FieldName()))
    if isinstance(core, cs.Bytes) and not isinstance(core.length, int):
        return Member(name, offset, None, "bytes", doc, length_field=core.length(_FieldName()))
    if core is cs.GreedyBytes:
        return Member(name, offset, None, "bytes", doc)
    if isinstance(core, cs.StringEncoded) and isinstance(core.subcon, cs.Prefixed):
        return Member(name, offset, None, "string", doc,
                      code=_scalar(where, core.subcon.lengthfield))
    raise TypeError(f"{where}: {core!r} is not a construct the trace format derives from")


def _flat_layout(where: str, name: str, definition: cs.Struct) -> Layout:
    """The Layout of a Struct another embeds (as a member or an array's element)."""
    layout = _NAMED.get(id(definition)) or Layout(name, definition)
    if layout.tail or any(m.kind == "struct" for m in layout.members):
        raise TypeError(f"{where}: a nested Struct must be flat and fixed-size")
    return layout


def _scalar(where: str, field: cs.FormatField) -> str:
    """The field's format with the size-unambiguous code ('<L' is '<I': numpy reads L as long)."""
    order, code = field.fmtstr[0], field.fmtstr[1:]
    code = {"L": "I", "l": "i"}.get(code, code)
    if order not in "<>" or code not in SCALARS:
        raise TypeError(f"{where}: unsupported field format {field.fmtstr!r}")
    return order + code


def _byteorder(name: str, fixed) -> str:
    orders = {m.code[0] for m in fixed if m.kind in ("int", "enum")}
    orders |= {m.layout.byteorder for m in fixed if m.kind == "struct"}
    if len(orders) > 1:
        raise TypeError(f"{name}: members of mixed byte order {sorted(orders)}")
    return orders.pop() if orders else "<"


def _codes(fixed):
    for m in fixed:
        if m.kind in ("int", "enum"):
            yield m.code[1:]
        elif m.kind == "reserved":
            yield f"{m.size}x"
        else:
            yield from _codes(m.layout.fixed)


def _flat_names(fixed, prefix=""):
    for m in fixed:
        if m.kind in ("int", "enum"):
            yield prefix + m.name
        elif m.kind == "struct":
            yield from _flat_names(m.layout.fixed, f"{prefix}{m.name}.")


def _dtype_spec(fixed, size: int) -> dict:
    import numpy as np  # noqa: PLC0415 - as Layout.dtype
    spec = {"names": [], "formats": [], "offsets": [], "itemsize": size}
    for m in fixed:
        if m.kind == "reserved":
            continue
        spec["names"].append(m.name)
        spec["offsets"].append(m.offset)
        if m.kind == "struct":
            spec["formats"].append(m.layout.dtype)
        else:
            spec["formats"].append(np.dtype(m.code))
    return spec
