"""Read the Xen PV notes of an ELF kernel and check they are what Xen needs.

Xen's libelf (xen/common/libelf/libelf-dominfo.c) loads a 64-bit PV kernel
only if its notes name the "generic" loader (or a Linux guest) and Xen
"xen-3.0"; the builder then jumps to the ENTRY note and fills the page the
HYPERCALL_PAGE note names.  The builder checks each micro-guest it links
against these rules, so a broken linker script fails on the host, not as
an `xl create` error inside the lab.
"""

import struct
from dataclasses import dataclass
from pathlib import Path

from xenrr.errors import LabError

# xen/include/public/elfnote.h
XEN_ELFNOTE_ENTRY = 1
XEN_ELFNOTE_HYPERCALL_PAGE = 2
XEN_ELFNOTE_VIRT_BASE = 3
XEN_ELFNOTE_PADDR_OFFSET = 4
XEN_ELFNOTE_XEN_VERSION = 5
XEN_ELFNOTE_GUEST_OS = 6
XEN_ELFNOTE_LOADER = 8

EM_X86_64 = 62
PT_LOAD = 1
PT_NOTE = 4
PF_X = 1

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")   # Elf64_Ehdr
_PHDR = struct.Struct("<IIQQQQQQ")           # Elf64_Phdr
_NHDR = struct.Struct("<III")                # Elf64_Nhdr: namesz, descsz, type


@dataclass(frozen=True)
class Segment:
    vaddr: int
    memsz: int
    flags: int


@dataclass(frozen=True)
class PvImage:
    entry: int
    segments: tuple[Segment, ...]
    notes: dict[int, bytes]       # Xen notes by type: the descriptor bytes

    def number(self, note: int) -> int:
        """A numeric note (little-endian, as wide as its descriptor)."""
        return int.from_bytes(self.notes[note], "little")

    def string(self, note: int) -> str:
        """A string note, without its terminating NUL."""
        return self.notes[note].split(b"\0", 1)[0].decode("ascii", "replace")


def _align4(n: int) -> int:
    return (n + 3) & ~3


def _notes(data: bytes, offset: int, size: int) -> dict[int, bytes]:
    notes = {}
    end = offset + size
    while offset + _NHDR.size <= end:
        namesz, descsz, kind = _NHDR.unpack_from(data, offset)
        name_at = offset + _NHDR.size
        desc_at = name_at + _align4(namesz)
        offset = desc_at + _align4(descsz)
        if offset > end:
            raise LabError("ELF note runs past its segment")
        if data[name_at:name_at + namesz] == b"Xen\0":
            notes[kind] = data[desc_at:desc_at + descsz]
    return notes


def read(path: Path) -> PvImage:
    """The entry point, loadable segments and Xen notes of a 64-bit ELF."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LabError(f"cannot read {path}: {e.strerror}") from None
    try:
        ident, _type, machine, _ver, entry, phoff, _sh, _fl, _eh, phentsize, \
            phnum, *_ = _EHDR.unpack_from(data, 0)
        if ident[:4] != b"\x7fELF" or ident[4] != 2 or ident[5] != 1:
            raise LabError(f"{path} is not a little-endian 64-bit ELF file")
        if machine != EM_X86_64:
            raise LabError(f"{path} is not an x86-64 ELF file (machine {machine})")
        segments, notes = [], {}
        for i in range(phnum):
            kind, flags, offset, vaddr, _pa, filesz, memsz, _al = \
                _PHDR.unpack_from(data, phoff + i * phentsize)
            if kind == PT_LOAD:
                segments.append(Segment(vaddr, memsz, flags))
            elif kind == PT_NOTE:
                notes.update(_notes(data, offset, filesz))
    except struct.error:
        raise LabError(f"{path} is truncated") from None
    return PvImage(entry, tuple(segments), notes)


def check(image: PvImage) -> None:
    """LabError naming the first rule of Xen's PV loader the image breaks."""
    required = (XEN_ELFNOTE_LOADER, XEN_ELFNOTE_XEN_VERSION, XEN_ELFNOTE_ENTRY,
                XEN_ELFNOTE_HYPERCALL_PAGE, XEN_ELFNOTE_VIRT_BASE,
                XEN_ELFNOTE_PADDR_OFFSET, XEN_ELFNOTE_GUEST_OS)
    missing = [n for n in required if n not in image.notes]
    if missing:
        raise LabError(f"micro-guest ELF lacks Xen notes {missing}")
    if image.string(XEN_ELFNOTE_LOADER) != "generic":
        raise LabError("micro-guest ELF: loader note is not 'generic'")
    if image.string(XEN_ELFNOTE_XEN_VERSION) != "xen-3.0":
        raise LabError("micro-guest ELF: Xen version note is not 'xen-3.0'")
    if image.number(XEN_ELFNOTE_VIRT_BASE) or image.number(XEN_ELFNOTE_PADDR_OFFSET):
        raise LabError("micro-guest ELF: virt_base and paddr_offset must be 0")
    if image.number(XEN_ELFNOTE_ENTRY) != image.entry:
        raise LabError("micro-guest ELF: entry note differs from the ELF entry")
    page = image.number(XEN_ELFNOTE_HYPERCALL_PAGE)
    in_text = any(s.flags & PF_X and s.vaddr <= page and page + 4096 <= s.vaddr + s.memsz
                  for s in image.segments)
    if page % 4096 or not in_text:
        raise LabError(f"micro-guest ELF: hypercall page {page:#x} is not a "
                       "page-aligned page of an executable segment")
