"""`xenrr libvirt record-when-created UUID ...`: the recorder the libvirt hook starts.

See xenrr/libvirt/recorder.py for what it does and xenrr/libvirt/hook.py
for when. Its stdin is the domain XML (it goes into the trace header as the
configuration); its stdout is a pipe the hook reads until "ready", printed
once its xenstore watches are set. From then on its stdout and stderr go to
--log, since the hook returns to libvirt and stops listening.
"""

import os
import sys
import threading
from pathlib import Path

import typer

from xenrr.domconfig import DomainConfig
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.hypercalls.xenstore import Xenstore
from xenrr.libvirt.lock import RecorderLock
from xenrr.libvirt.recorder import CreationWatch, record_created
from xenrr.record.recorder import stop_on_signals


def _detach_output(log: Path) -> None:
    """Say "ready" to the hook, then write to the log instead."""
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    print("ready", flush=True)
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _say(text: str) -> None:
    print(f"xenrr: {text}", file=sys.stderr, flush=True)


def record_when_created(
    uuid: str = typer.Argument(..., help="The UUID of the domain libvirt is starting."),
    name: str = typer.Option(..., "--name", help="Its name."),
    output: Path = typer.Option(..., "--output", metavar="TRACE", help="The trace file."),
    log: Path = typer.Option(..., "--log", help="Where messages go once ready."),
    strict: bool = typer.Option(False, "--strict", help="Destroy the domain if it cannot be "
                                                        "recorded from its first instruction."),
) -> None:
    """Record the domain with UUID as soon as Xen creates it (started by the libvirt hook)."""
    config = DomainConfig.from_libvirt_xml(sys.stdin.read())
    lock = RecorderLock(uuid)
    lock.acquire()
    stop = threading.Event()
    with Privcmd() as privcmd, Xenstore() as xs, stop_on_signals(stop):
        watch = CreationWatch(xs, uuid)
        _detach_output(log)
        reason = record_created(privcmd, watch, lock, name=name, trace=output, config=config,
                                strict=strict, stop=stop, say=_say)
    if reason is not None:
        _say(f"{name} recorded to {output} ({reason.name.lower()})")
