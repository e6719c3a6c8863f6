"""xenrr's cffi definition of the hypercall ABI is proven equal to Xen's own headers.

gcc compiles Xen's public headers, with hypervisor-patches/ applied, and
Linux's privcmd.h, and prints the offset and size of every field of every
struct xenrr defines (nested ones included) and the value of every #define;
the test compares them with what cffi computed from xenrr/hypercalls/cdef.py.
"""

import re
import subprocess

import pytest

from xenrr.hypercalls.abi import ffi, lib, packer
from xenrr.hypercalls.cdef import CDEF

TOP_LEVEL = ["struct xen_domctl", "struct xen_sysctl", "struct xen_rr_ring_header",
             "struct xen_rr_ring_entry", "struct vcpu_guest_context",
             "struct privcmd_hypercall", "struct privcmd_mmap_resource",
             "struct privcmd_mmapbatch_v2", "struct ioctl_evtchn_bind_interdomain"]


def fields(ctype, path: str = "", base: int = 0):
    """(C member designator, offset, size) of every field, recursively."""
    for name, field in (ffi.typeof(ctype) if isinstance(ctype, str) else ctype).fields:
        designator = f"{path}.{name}" if path else name
        offset = base + field.offset
        yield designator, offset, ffi.sizeof(field.type)
        if field.type.kind in ("struct", "union"):
            yield from fields(field.type, designator, offset)


def defines() -> list[str]:
    return re.findall(r"^#define (\w+) ", CDEF, re.M)


def c_program() -> str:
    lines = ["#include <stddef.h>", "#include <stdio.h>", "#include <stdint.h>",
             "#include <xen/privcmd.h>", "#include <xen/evtchn.h>", "#include <public/xen.h>",
             "#include <public/version.h>", "#include <public/domctl.h>",
             "#include <public/sysctl.h>", "#include <public/memory.h>",
             "int main(void)", "{"]
    for ctype in TOP_LEVEL:
        lines.append(f'    printf("{ctype} . 0 %zu\\n", sizeof({ctype}));')
        for designator, _, _ in fields(ctype):
            lines.append(f'    printf("{ctype} {designator} %zu %zu\\n", '
                         f'offsetof({ctype}, {designator}), '
                         f'sizeof((({ctype} *)0)->{designator}));')
    for name in defines():
        # Unsigned: some are 64-bit masks (XEN_RR_NO_FRAME), and cffi's values are.
        lines.append(f'    printf("#define {name} %llu\\n", (unsigned long long)({name}));')
    return "\n".join(lines + ["    return 0;", "}"]) + "\n"


def python_view() -> list[str]:
    out = []
    for ctype in TOP_LEVEL:
        out.append(f"{ctype} . 0 {ffi.sizeof(ctype)}")
        out += [f"{ctype} {d} {o} {s}" for d, o, s in fields(ctype)]
    out += [f"#define {name} {getattr(lib, name)}" for name in defines()]
    return out


def test_every_layout_and_constant_matches_the_headers(patched_xen, tmp_path):
    source = tmp_path / "abi.c"
    source.write_text(c_program())
    # Linux's uapi privcmd.h takes Xen's types from the kernel's copy of xen.h.
    shim = tmp_path / "shim" / "xen" / "interface"
    shim.mkdir(parents=True)
    (shim / "xen.h").write_text("#include <public/xen.h>\n")
    subprocess.run(["gcc", "-Wall", "-Werror", "-D__XEN_TOOLS__", "-I", str(tmp_path / "shim"),
                    "-I", str(patched_xen / "xen/include"), "-o", str(tmp_path / "abi"),
                    str(source)], check=True)
    c_view = subprocess.run([str(tmp_path / "abi")], check=True, capture_output=True,
                            text=True).stdout.splitlines()
    assert python_view() == c_view


def test_the_rr_op_fits_the_domctl_union():
    """Xen's build_assertions() (xen/common/domctl.c) hold struct xen_domctl to a 16-byte
    header and a 128-byte union, so no rr_op may be bigger."""
    members = {f.type.cname: ffi.sizeof(f.type)
               for _, f in dict(ffi.typeof("struct xen_domctl_rr_op").fields)["u"].type.fields}
    assert ffi.sizeof("struct xen_domctl_rr_op") <= 128, f"rr_op's union members: {members}"
    assert ffi.sizeof("struct xen_domctl") == 144


def offsets(ctype: str, names: str) -> list[int]:
    return [ffi.offsetof(ctype, name) for name in names.split()]


def test_the_frame_plan_vcpu_context_and_mmapbatch_layouts():
    """What the header comparison says of the structs a replay's start needs, held here
    too: that comparison needs the series, with the frame plan, applied."""
    assert ffi.sizeof("struct xen_rr_frames") == 72
    assert offsets("struct xen_rr_frames",
                   "start nr flags mfns pfns count busy pad handle shared_info") == [
        0, 8, 12, 16, 24, 32, 40, 44, 48, 64]
    assert ffi.sizeof("struct xen_domctl_vcpucontext") == 16
    assert ffi.offsetof("struct xen_domctl_vcpucontext", "ctxt") == 8
    assert ffi.sizeof("struct vcpu_guest_context") == 5168
    assert offsets("struct vcpu_guest_context", "flags user_regs trap_ctxt kernel_sp ctrlreg "
                   "debugreg syscall_callback_eip vm_assist fs_base gs_base_user") == [
        512, 520, 720, 4976, 4984, 5048, 5128, 5136, 5144, 5160]
    assert ffi.sizeof("struct cpu_user_regs") == 200
    assert offsets("struct cpu_user_regs", "rip eip ip rsp spl ah gs") == [
        128, 128, 128, 152, 152, 81, 192]
    assert ffi.sizeof("struct privcmd_mmapbatch_v2") == 32
    assert offsets("struct privcmd_mmapbatch_v2", "num dom addr arr err") == [0, 4, 8, 16, 24]


def test_the_ring_entry_packer_lays_out_bytes_as_the_cdef_does():
    entry = packer("struct xen_rr_ring_entry")
    c = ffi.new("struct xen_rr_ring_entry *", {"seq": 2**40 + 1, "type": 0x58520010, "length": 24})
    assert entry.pack(2**40 + 1, 0x58520010, 24) == bytes(ffi.buffer(c))


def test_a_packer_refuses_what_is_not_a_run_of_unsigned_integers():
    with pytest.raises(TypeError, match="xen_domctl"):
        packer("struct xen_domctl")
