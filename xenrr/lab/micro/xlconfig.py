"""xl domain configurations for micro-guests (xl.cfg(5), PV guest).

The command line goes in `extra`, which xl passes as the PV kernel's
command line when no `root` is given (tools/xl/xl_parse.c, parse_cmdline).
Every way the domain can end destroys it, so a finished guest leaves
nothing behind for the next test and its shutdown reason is its verdict.
"""

import os
from pathlib import Path

from xenrr.errors import LabError, UsageError

MEMORY_MB = 32


def domain_name(workload: str, vcpus: int, iterations: int | None) -> str:
    """micro-<workload>-<vcpus>v[-<iterations>i]: unique per configuration."""
    name = f"micro-{workload}-{vcpus}v"
    return name if iterations is None else f"{name}-{iterations}i"


def _quoted(value: str) -> str:
    if any(c in value for c in '"\\\n'):
        raise UsageError(f"cannot put {value!r} in an xl config string")
    return f'"{value}"'


def render(name: str, kernel: Path, vcpus: int, extra: str) -> str:
    """The text of the xl config."""
    lines = [
        "# A xenrr micro-guest (xenrr/lab/micro/guest/README.md).",
        f"name = {_quoted(name)}",
        'type = "pv"',
        f"kernel = {_quoted(str(kernel))}",
        f"memory = {MEMORY_MB}",
        f"vcpus = {vcpus}",
        f"extra = {_quoted(extra)}",
        'on_poweroff = "destroy"',
        'on_reboot = "destroy"',
        'on_crash = "destroy"',
    ]
    return "\n".join(lines) + "\n"


def write(path: Path, name: str, kernel: Path, vcpus: int, extra: str) -> Path:
    """Write the config to path atomically (a reader never sees half a file)."""
    text = render(name, kernel, vcpus, extra)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise LabError(f"cannot write {path}: {e.strerror}") from None
    return path
