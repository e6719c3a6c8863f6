"""Generates _ffi.py, the hypercall ABI of cdef.py as cffi parsed it (out-of-line ABI mode).

    python -m xenrr.hypercalls.ffigen --write

cffi's out-of-line ABI mode serializes the parsed types and constants into
a Python module that loads without a C parser; nothing is compiled. The
module is kept in the tree, generated from the one definition, and
tests/hypercalls/test_ffigen.py fails when it no longer matches it.
"""

import argparse
import contextlib
import io
import sys
import tempfile
from pathlib import Path

import cffi

from xenrr.hypercalls.cdef import CDEF

MODULE = Path(__file__).with_name("_ffi.py")


def render() -> str:
    """The text of _ffi.py for CDEF as it is now."""
    builder = cffi.FFI()
    builder.cdef(CDEF)
    builder.set_source("xenrr.hypercalls._ffi", None)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "_ffi.py"
        with contextlib.redirect_stdout(io.StringIO()):   # cffi says what it generates
            builder.emit_python_code(str(out))
        return ("# Generated from cdef.py by python -m xenrr.hypercalls.ffigen --write: "
                "do not edit.\n" + out.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xenrr.hypercalls.ffigen",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite {MODULE.name}")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        MODULE.write_text(text)
        return 0
    if not MODULE.exists() or MODULE.read_text() != text:
        print(f"{MODULE}: out of date with cdef.py (run with --write)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
