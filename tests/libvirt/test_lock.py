"""The recorder's lock: who holds it, in which phase, and its release when the holder ends."""

import os
import subprocess
import sys

import pytest

from xenrr.errors import UsageError
from xenrr.libvirt.lock import RECORDING, WAITING, Holder, RecorderLock

UUID = "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"


def test_nobody_holds_a_lock_never_taken(tmp_path):
    assert RecorderLock(UUID, tmp_path).holder() is None


def test_the_holder_and_its_phase_are_seen(tmp_path):
    lock = RecorderLock(UUID, tmp_path)
    lock.acquire()
    pid = os.getpid()
    assert RecorderLock(UUID, tmp_path).holder() == Holder(pid, WAITING)
    lock.set_phase(RECORDING)
    assert RecorderLock(UUID, tmp_path).holder() == Holder(pid, RECORDING)


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path):
    RecorderLock(UUID, tmp_path).acquire()
    with pytest.raises(UsageError, match=r"still runs \(pid \d+\)"):
        RecorderLock(UUID, tmp_path).acquire()


def test_the_lock_is_released_when_its_holder_dies(tmp_path):
    code = (f"from pathlib import Path; from xenrr.libvirt.lock import RecorderLock; "
            f"RecorderLock({UUID!r}, Path({str(tmp_path)!r})).acquire(); print('held', flush=True); "
            "input()")
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    lock = RecorderLock(UUID, tmp_path)
    assert lock.holder().pid == holder.pid
    assert not lock.wait_released(0.2)
    holder.kill()
    holder.wait()
    assert lock.wait_released(5)
