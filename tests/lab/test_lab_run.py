"""`xenrr lab run` as a user calls it: each test boots its own QEMU (so none uses `lab`)."""

import signal
import subprocess
import sys
import time

import pytest

from xenrr.lab.paths import cache_dir

pytestmark = pytest.mark.lab


def xenrr(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xenrr", *args], capture_output=True,
                          text=True, timeout=timeout)


def qemu_processes_of_this_cache() -> list[str]:
    """QEMUs whose command line names the cache (their serial logs live there).

    Only QEMU itself: building the lab's QEMU runs commands that name it too.
    """
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in ps.splitlines()
            if line.split(" ", 1)[0].rsplit("/", 1)[-1].startswith("qemu-system")
            and str(cache_dir()) in line]


def test_a_dom0_crash_ends_the_run_with_the_serial_tail(xen):
    proc = xenrr("lab", "run", "--", "sh", "-c", "echo 1 > /proc/sys/kernel/sysrq; "
                 "echo c > /proc/sysrq-trigger; sleep 600")
    assert proc.returncode == 1
    assert "did not finish" in proc.stderr
    assert "serial log: " in proc.stderr
    assert "--- last lines ---" in proc.stderr
    assert "Kernel panic" in proc.stderr or "Dom0 crashed" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert qemu_processes_of_this_cache() == []


def test_lab_run_gives_the_commands_output_and_status_and_stock_xen_has_no_xenrr():
    """One boot of Debian's own hypervisor (a boot costs half a minute) shows both."""
    proc = xenrr("lab", "run", "--stock", "--", "sh", "-c", "echo out; echo err >&2; xenrr info")
    assert proc.returncode == 1
    assert proc.stdout == "out\n"
    stderr = [line for line in proc.stderr.splitlines()
              if line != "xenrr: waiting for another lab session to end"]
    assert stderr[0] == "err"
    assert stderr[1] == ("xenrr: Xen 4.17.7: xenrr info: this hypervisor has no xenrr support "
                         "(XEN_DOMCTL_rr_op is unknown to it): boot one built with "
                         "hypervisor-patches/ (`make xen`)")
    assert stderr[2].startswith("xenrr: sh exited with status 1 (serial log: ")
    assert len(stderr) == 3
    assert qemu_processes_of_this_cache() == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_lab_run_leaves_no_qemu_behind(xen, signum):
    """Killed in the middle of a dom0 command, by a signal it can or cannot catch."""
    proc = subprocess.Popen([sys.executable, "-m", "xenrr", "lab", "run", "--", "sleep", "600"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not any(runs.joinpath("share", "ready").exists() for runs in lab_runs_since(proc)):
            assert time.monotonic() < deadline, "the lab did not come up"
            assert proc.poll() is None, "xenrr lab run ended by itself"
            time.sleep(0.5)
        proc.send_signal(signum)
        proc.wait(timeout=60)
        deadline = time.monotonic() + 10
        while qemu_processes_of_this_cache() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert qemu_processes_of_this_cache() == []
    finally:
        proc.kill()


def lab_runs_since(proc: subprocess.Popen) -> list:
    """The lab run directories of process proc (named ...-PID)."""
    return list((cache_dir() / "lab" / "runs").glob(f"*-{proc.pid}"))
