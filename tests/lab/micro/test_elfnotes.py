import re
import struct
import subprocess
from dataclasses import replace

import pytest

from xenrr.errors import LabError
from xenrr.lab.micro import elfnotes
from xenrr.lab.micro.elfnotes import PvImage, Segment


def test_the_built_guest_carries_the_notes_xen_s_pv_loader_needs(built_elf):
    image = elfnotes.read(built_elf)
    assert image.string(elfnotes.XEN_ELFNOTE_LOADER) == "generic"
    assert image.string(elfnotes.XEN_ELFNOTE_XEN_VERSION) == "xen-3.0"
    assert image.string(elfnotes.XEN_ELFNOTE_GUEST_OS) == "xenrr-micro"
    assert image.number(elfnotes.XEN_ELFNOTE_VIRT_BASE) == 0
    assert image.number(elfnotes.XEN_ELFNOTE_PADDR_OFFSET) == 0
    assert image.number(elfnotes.XEN_ELFNOTE_ENTRY) == image.entry
    assert image.number(elfnotes.XEN_ELFNOTE_HYPERCALL_PAGE) == 0x100000
    assert image.segments[0].vaddr == 0x100000
    elfnotes.check(image)


def test_notes_agree_with_readelf(built_elf):
    """binutils' readelf is the reference: same descriptors, same order."""
    out = subprocess.run(["readelf", "-n", "--wide", str(built_elf)],
                         capture_output=True, text=True, check=True).stdout
    theirs = [bytes.fromhex(m) for m in re.findall(r"description data: ([0-9a-f ]+)", out)]
    assert list(elfnotes.read(built_elf).notes.values()) == theirs


def test_one_note_spelled_out_byte_by_byte():
    blob = (struct.pack("<I", 4)          # namesz: "Xen\0"
            + struct.pack("<I", 8)        # descsz
            + struct.pack("<I", 5)        # type: XEN_ELFNOTE_XEN_VERSION
            + b"Xen\0"                    # name, already 4-aligned
            + b"xen-3.0\0"                # descriptor, already 4-aligned
            + struct.pack("<III", 4, 2, 7)  # a second note: GUEST_VERSION
            + b"GNU\0"                    # not Xen's: skipped
            + b"1\0\0\0")                 # 2 bytes padded to 4
    assert elfnotes._notes(blob, 0, len(blob)) == {5: b"xen-3.0\0"}


def test_a_note_running_past_its_segment_is_an_error():
    blob = struct.pack("<III", 4, 64, 5) + b"Xen\0" + b"short"
    with pytest.raises(LabError, match="runs past"):
        elfnotes._notes(blob, 0, len(blob))


def test_read_refuses_what_is_not_a_64_bit_elf(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"#!/bin/sh\n" + bytes(64))
    with pytest.raises(LabError, match="not a little-endian 64-bit ELF"):
        elfnotes.read(path)
    path.write_bytes(b"\x7fELF\x02\x01")
    with pytest.raises(LabError, match="truncated"):
        elfnotes.read(path)
    with pytest.raises(LabError, match="cannot read"):
        elfnotes.read(tmp_path / "missing")


def _good() -> PvImage:
    return PvImage(
        entry=0x101000,
        segments=(Segment(0x100000, 0x3000, elfnotes.PF_X | 4),),
        notes={elfnotes.XEN_ELFNOTE_LOADER: b"generic\0",
               elfnotes.XEN_ELFNOTE_XEN_VERSION: b"xen-3.0\0",
               elfnotes.XEN_ELFNOTE_GUEST_OS: b"xenrr-micro\0",
               elfnotes.XEN_ELFNOTE_VIRT_BASE: bytes(8),
               elfnotes.XEN_ELFNOTE_PADDR_OFFSET: bytes(8),
               elfnotes.XEN_ELFNOTE_ENTRY: (0x101000).to_bytes(8, "little"),
               elfnotes.XEN_ELFNOTE_HYPERCALL_PAGE: (0x100000).to_bytes(8, "little")})


def _with(note: int, value: bytes | None) -> PvImage:
    notes = dict(_good().notes)
    if value is None:
        del notes[note]
    else:
        notes[note] = value
    return replace(_good(), notes=notes)


def test_check_accepts_a_well_formed_image():
    elfnotes.check(_good())


@pytest.mark.parametrize("image, why", [
    (_with(elfnotes.XEN_ELFNOTE_LOADER, None), "lacks Xen notes"),
    (_with(elfnotes.XEN_ELFNOTE_LOADER, b"linux\0"), "not 'generic'"),
    (_with(elfnotes.XEN_ELFNOTE_XEN_VERSION, b"xen-4.0\0"), "not 'xen-3.0'"),
    (_with(elfnotes.XEN_ELFNOTE_VIRT_BASE, (1 << 30).to_bytes(8, "little")), "must be 0"),
    (_with(elfnotes.XEN_ELFNOTE_ENTRY, (0x102000).to_bytes(8, "little")), "entry note"),
    (_with(elfnotes.XEN_ELFNOTE_HYPERCALL_PAGE, (0x100800).to_bytes(8, "little")),
     "hypercall page"),
    (_with(elfnotes.XEN_ELFNOTE_HYPERCALL_PAGE, (0x103000).to_bytes(8, "little")),
     "hypercall page"),
    (replace(_good(), segments=(Segment(0x100000, 0x3000, 4),)), "hypercall page"),
])
def test_check_names_the_rule_an_image_breaks(image, why):
    with pytest.raises(LabError, match=why):
        elfnotes.check(image)
