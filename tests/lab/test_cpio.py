"""The newc writer produces archives the kernel's format rules accept."""

import stat

from xenrr.lab.cpio import Cpio


def parse_newc(data: bytes) -> list[tuple[str, int, bytes]]:
    """An independent reader of newc (see the kernel's Documentation/driver-api/early-userspace)."""
    entries, pos = [], 0
    while True:
        assert data[pos:pos + 6] == b"070701", f"bad magic at {pos}"
        fields = [int(data[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        mode, filesize, namesize = fields[1], fields[6], fields[11]
        name = data[pos + 110:pos + 110 + namesize - 1].decode()
        assert data[pos + 110 + namesize - 1] == 0
        pos = (pos + 110 + namesize + 3) & ~3
        body = data[pos:pos + filesize]
        pos = (pos + filesize + 3) & ~3
        if name == "TRAILER!!!":
            assert pos == len(data)
            return entries
        entries.append((name, mode, body))


def test_files_bring_their_parent_directories_once():
    archive = Cpio()
    archive.file("bin/busybox", b"\x7fELF", 0o755)
    archive.file("bin/sh-helper", b"x")
    archive.symlink("sbin/init", "/bin/busybox")
    entries = parse_newc(archive.getvalue())
    assert [(n, stat.S_IFMT(m)) for n, m, _ in entries] == [
        ("bin", stat.S_IFDIR), ("bin/busybox", stat.S_IFREG), ("bin/sh-helper", stat.S_IFREG),
        ("sbin", stat.S_IFDIR), ("sbin/init", stat.S_IFLNK)]
    assert entries[1][1] & 0o777 == 0o755 and entries[1][2] == b"\x7fELF"
    assert entries[4][2] == b"/bin/busybox"


def test_odd_sizes_are_padded_to_four_bytes():
    archive = Cpio()
    for size in range(6):
        archive.file(f"f{size}", b"a" * size)
    assert [len(body) for _, _, body in parse_newc(archive.getvalue())] == list(range(6))


def test_the_same_content_gives_the_same_bytes():
    def build() -> bytes:
        archive = Cpio()
        archive.directory("dev")
        archive.file("init", b"#!/bin/sh\n", 0o755)
        return archive.getvalue()

    assert build() == build()
