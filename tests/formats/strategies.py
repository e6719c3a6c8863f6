"""Hypothesis strategies for every record class, derived from its Layout like the codecs are."""

from hypothesis import strategies as st

from xenrr.formats.derive import SCALARS
from xenrr.formats.recordtype import _VALUE_CLASSES

_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)


def _scalar(code: str):
    kind, bits = SCALARS[code[1:]][0][0], int(SCALARS[code[1:]][0][1:])
    if kind == "u":
        return st.integers(0, (1 << bits) - 1)
    return st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)


def _member(m):
    if m.kind == "enum":
        return st.sampled_from(list(m.intenum))
    if m.kind == "int":
        return _scalar(m.code)
    if m.kind in ("struct", "array"):
        cls = _VALUE_CLASSES[m.layout.name]
        value = st.builds(cls, *[_scalar(f.code) for f in m.layout.fixed])
        return value if m.kind == "struct" else st.lists(value, max_size=8).map(tuple)
    if m.kind == "string":
        return _TEXT
    return st.binary(max_size=64)


@st.composite
def records(draw, cls):
    """A valid record of cls: every field drawn from its type, length fields matching their data."""
    values = {m.name: draw(_member(m)) for m in cls.LAYOUT.members if m.kind != "reserved"}
    for m in cls.LAYOUT.tail:
        if m.kind in ("bytes", "array") and m.length_field:
            values[m.length_field] = len(values[m.name])
    return cls(**values)
