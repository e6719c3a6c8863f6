"""The binary interface xenrr speaks to Xen, as cffi objects: ffi, lib, and what derives from them.

The interface is defined once, in C syntax, in cdef.py. cffi parses it
ahead of time (ffigen.py writes _ffi.py, a test fails if that is stale):
parsing C at every start would cost each xenrr command a tenth of a second
natively and seconds in the lab's dom0 under TCG.
"""

import struct

from xenrr.hypercalls._ffi import ffi

lib = ffi.dlopen(None)

_FORMATS = {("primitive", 1): "B", ("primitive", 2): "H", ("primitive", 4): "I",
            ("primitive", 8): "Q"}


def packer(ctype: str) -> struct.Struct:
    """A struct.Struct for a C struct of unsigned integer members, laid out as CDEF says.

    For paths that unpack one struct per entry, where a cffi cast costs
    more than struct does; the layout still has one definition, the CDEF.
    """
    fmt, offset = "<", 0
    for _, field in ffi.typeof(ctype).fields:
        if field.offset != offset:
            raise TypeError(f"{ctype}: padding before offset {field.offset}")
        code = _FORMATS.get((field.type.kind, ffi.sizeof(field.type)))
        if code is None:
            raise TypeError(f"{ctype}: {field.type.cname} is not an unsigned integer")
        fmt += code
        offset += ffi.sizeof(field.type)
    if offset != ffi.sizeof(ctype):
        raise TypeError(f"{ctype}: padding at its end")
    return struct.Struct(fmt)

# Names for the bit sets and enumerations the CLI shows.
RR_FEATURES = {name.removeprefix("XEN_RR_FEATURE_"): getattr(lib, name)
               for name in dir(lib) if name.startswith("XEN_RR_FEATURE_")}
RR_MODES = {getattr(lib, name): name.removeprefix("XEN_RR_MODE_")
            for name in dir(lib) if name.startswith("XEN_RR_MODE_")}
RR_POSITION_MODES = {name.removeprefix("XEN_RR_POSITION_"): getattr(lib, name)
                     for name in dir(lib) if name.startswith("XEN_RR_POSITION_")}
RR_BRANCH = {getattr(lib, name): name.removeprefix("XEN_RR_BRANCH_")
             for name in dir(lib) if name.startswith("XEN_RR_BRANCH_")}
RR_RUN = {getattr(lib, name): name.removeprefix("XEN_RR_RUN_")
          for name in dir(lib) if name.startswith("XEN_RR_RUN_")}
RR_ACCESS = {name.removeprefix("XEN_RR_ACCESS_"): getattr(lib, name)
             for name in dir(lib) if name.startswith("XEN_RR_ACCESS_")}
