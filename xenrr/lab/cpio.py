"""A writer for the newc cpio format, the format the Linux kernel unpacks as initramfs.

Written here rather than driving cpio(1) so that the archives are deterministic
(fixed mtimes, owners and inode numbers) and built from in-memory content.
Uncompressed on purpose: decompressing under QEMU TCG costs more than the bytes.
"""

import stat

_TRAILER = "TRAILER!!!"


class Cpio:
    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._ino = 0
        self._dirs: set[str] = set()

    def _entry(self, name: str, mode: int, data: bytes = b"") -> None:
        self._ino += 1
        namebytes = name.encode() + b"\0"
        fields = [self._ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(namebytes), 0]
        header = b"070701" + b"".join(b"%08X" % f for f in fields)
        record = header + namebytes
        record += b"\0" * (-len(record) % 4) + data
        record += b"\0" * (-len(record) % 4)
        self._parts.append(record)

    def _parents(self, name: str) -> None:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            self.directory("/".join(parts[:i]))

    def directory(self, name: str, mode: int = 0o755) -> None:
        name = name.strip("/")
        if name and name not in self._dirs:
            self._parents(name)
            self._dirs.add(name)
            self._entry(name, stat.S_IFDIR | mode)

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        name = name.strip("/")
        self._parents(name)
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name: str, target: str) -> None:
        name = name.strip("/")
        self._parents(name)
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def getvalue(self) -> bytes:
        trailer = Cpio()
        trailer._entry(_TRAILER, 0)
        return b"".join(self._parts) + trailer._parts[0]
