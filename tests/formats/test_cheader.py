"""The C header for Xen: gcc lays the structs out exactly as the Python definitions do."""

import shutil
import subprocess

import pytest

from xenrr.formats import cheader
from xenrr.formats.derive import layout_of
from xenrr.formats.enums import ACTOR_DEVICE_BASE
from xenrr.formats.records import POSITION
from xenrr.formats.recordtype import RECORD_HEADER_DEF
from xenrr.formats.registers import REGISTERS, register_digest

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


def layouts():
    return [layout_of(RECORD_HEADER_DEF), layout_of(POSITION)] + [c.LAYOUT for c in cheader.xen_records()]


def compile_and_run(tmp_path, header: str, main: str, std: str = "gnu99") -> str:
    (tmp_path / "xenrr_trace.h").write_text(header)
    (tmp_path / "t.c").write_text("#include <stddef.h>\n#include <stdint.h>\n#include <stdio.h>\n"
                                  '#include "xenrr_trace.h"\n'
                                  f"int main(void)\n{{\n{main}    return 0;\n}}\n")
    subprocess.run(["gcc", f"-std={std}", "-Wall", "-Wextra", "-Werror", "-o", tmp_path / "t",
                    tmp_path / "t.c"], check=True, capture_output=True, text=True)
    return subprocess.run([tmp_path / "t"], check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize("std", ["gnu99", "c11"])
def test_gcc_agrees_on_every_offset_and_size(tmp_path, std):
    lines, expected = [], []
    for layout in layouts():
        tag = f"struct {cheader.struct_name(layout)}"
        lines.append(f'    printf("{tag} %zu\\n", sizeof({tag}));')
        expected.append(f"{tag} {layout.size}")
        for m in layout.members:
            if m.kind == "bytes":
                lines.append(f'    printf("{tag}.{m.name} %zu\\n", offsetof({tag}, {m.name}));')
                expected.append(f"{tag}.{m.name} {layout.size}")
                continue
            lines.append(f'    printf("{tag}.{m.name} %zu %zu\\n", offsetof({tag}, {m.name}), '
                         f'sizeof((({tag} *)0)->{m.name}));')
            expected.append(f"{tag}.{m.name} {m.offset} {m.size}")
    out = compile_and_run(tmp_path, cheader.render(), "".join(line + "\n" for line in lines), std)
    assert out.splitlines() == expected


def test_constants_match(tmp_path):
    names = [(f"XENRR_REC_TYPE_{c.NAME.upper()}", c.TYPE) for c in cheader.xen_records()]
    names += [("XENRR_CREW_STATE_EW", 2), ("XENRR_DMA_KIND_FOREIGN_MAP", 3),
              ("XENRR_ACTOR_DEVICE_BASE", ACTOR_DEVICE_BASE)]
    main = "".join(f'    printf("%llu\\n", (unsigned long long){n});\n' for n, _ in names)
    assert [int(x) for x in compile_and_run(tmp_path, cheader.render(), main).split()] == [
        v for _, v in names]


def test_the_register_digest_xen_computes_is_xenrrs(tmp_path):
    """Xen's C, from the rendered X-macro, digests registers as formats.registers does."""
    samples = [{name: (i + 1) * 0x0123456789ABCDEF % 2**64 for i, name in enumerate(REGISTERS)},
               dict.fromkeys(REGISTERS, 0),
               {**dict.fromkeys(REGISTERS, 2**64 - 1), "rflags": 0x10346}]   # TF, RF, IF set
    main = ["    static const struct { uint64_t " + ", ".join(REGISTERS) + "; } s[] = {"]
    main += ["        { " + ", ".join(f"{r[name]:#x}ULL" for name in REGISTERS) + " },"
             for r in samples]
    main += ["    };", "    for ( unsigned int i = 0; i < 3; i++ ) {",
             "        uint64_t h = XENRR_REGS_FNV_OFFSET;",
             "#define X(r) { uint64_t v = s[i].r; \\",
             "    if ( &s[i].r == &s[i].rflags ) v &= XENRR_REGS_RFLAGS_KEPT; \\",
             "    for ( unsigned int b = 0; b < 8; b++ ) \\",
             "        h = (h ^ ((v >> (8 * b)) & 0xff)) * XENRR_REGS_FNV_PRIME; }",
             "        XENRR_REGS_DIGEST(X)",
             '        printf("%llu\\n", (unsigned long long)h);', "    }"]
    out = compile_and_run(tmp_path, cheader.render(), "".join(line + "\n" for line in main))
    assert [int(x) for x in out.split()] == [register_digest(r) for r in samples]
    assert register_digest(samples[2]) == register_digest({**samples[2], "rflags": 0x44})  # PF ZF


def test_the_size_checks_fire(tmp_path):
    assert "sizeof(struct xenrr_position) == 24," in cheader.render()
    wrong = cheader.render().replace("sizeof(struct xenrr_position) == 24,",
                                     "sizeof(struct xenrr_position) == 25,")
    with pytest.raises(subprocess.CalledProcessError) as e:
        compile_and_run(tmp_path, wrong, "")
    assert "static assertion failed" in e.value.stderr


def test_header_shape():
    text = cheader.render()
    assert text.startswith("/* SPDX-License-Identifier: MIT */\n")
    assert "#ifndef __XENRR_TRACE_H__" in text and text.rstrip().endswith("*/")
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "\t" not in text
    assert "trace_header" not in text  # only what Xen writes


def test_the_series_carries_the_header_as_rendered(patched_xen):
    carried = patched_xen / "xen/arch/x86/include/asm/xenrr-trace.h"
    assert carried.read_text() == cheader.render(), (
        "hypervisor-patches/ carries an old asm/xenrr-trace.h: render it with "
        "`python -m xenrr.formats.cheader` into the patch that adds it")
