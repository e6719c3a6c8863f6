"""The lab fixtures: one boot of the patched Xen serves every lab test of a session.

Lab tests that boot QEMU themselves (through `xenrr lab run`) must not use the
`lab` fixture; they are ordered before the others, since only one QEMU runs at
a time and the shared session holds the lab's lock until the session ends.
When a lab test fails, the serial log of the boot it used is copied to
test-artifacts/ and its tail is added to the failure report.
"""

import re
import shutil
from pathlib import Path

import pytest

from xenrr.lab.guest import linux_guest
from xenrr.lab.session import LabSession
from xenrr.lab.qemubuild import QemuBuilds, QemuSpec
from xenrr.lab.xenbuild import BuildSpec, XenBuilds, hypervisor_series

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SERIAL_TAIL = 40


def pytest_collection_modifyitems(config, items):
    """Tests that boot their own QEMU first, then those sharing the `lab` session."""
    items.sort(key=lambda item: "lab" in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session")
def xen() -> Path:
    """The hypervisor built from the tree's series (built now if the cache lacks it).

    The lab's QEMU too: every lab boot uses it.
    """
    QemuBuilds().build(QemuSpec.current())
    return XenBuilds().build(BuildSpec(hypervisor_series())) / "xen"


@pytest.fixture(scope="session")
def lab(xen):
    with LabSession(xen=xen) as session:
        yield session


@pytest.fixture(scope="session")
def linux_cfg() -> Path:
    """The 2-vCPU PV Linux domU running race and locked (the issue's workloads)."""
    return linux_guest(["race", "locked"], iterations=200000, vcpus=2)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    serial = _serial_log_of(item, report)
    if serial is None or not serial.exists():
        return
    ARTIFACTS.mkdir(exist_ok=True)
    kept = ARTIFACTS / (re.sub(r"[^\w.-]+", "_", item.nodeid) + ".serial.log")
    shutil.copyfile(serial, kept)
    tail = serial.read_text(errors="replace").replace("\r", "").splitlines()[-SERIAL_TAIL:]
    report.sections.append(("serial log", f"kept as {kept}\n" + "\n".join(tail)))


def _serial_log_of(item, report) -> Path | None:
    session = item.funcargs.get("lab")
    if session is not None:
        return session.serial
    m = re.search(r"serial log: (\S+)", report.longreprtext)
    return Path(m.group(1)) if m else None
