"""The libvirt hook in the lab: libvirtd's libxl driver starts a marked domain, xenrr records it.

libvirtd (Debian's 9.0.0, the host's packages as dom0's) runs in dom0 with
the libxl driver alone: LIBVIRT_DRIVER_DIR points it at a directory
holding only that module, since Debian's QEMU driver will not initialise
without the libvirt-qemu user of libvirt-daemon-system, and one driver
failing stops the daemon. It runs with tests/lab/dom0/libxl_vme.c
preloaded: the libxl driver will not start on a host CPU that none of
libvirt's CPU models fits, and the CPU QEMU's TCG presents, as Xen reports
it, lacks the two features (VME, SEP) of which every model needs one. The
hook is installed before libvirtd starts, which is when libvirtd looks for
hooks. The domain is the lab's 2-vCPU
Linux guest, defined from XML built from its xl configuration.
"""

import json
import sys
import time
from pathlib import Path

import pytest

from tests.lab.dom0run import assert_xen_healthy, dom0_json, xenrr_host
from xenrr.formats import TraceReader
from xenrr.formats import records as rec
from xenrr.lab.guest import linux_guest
from xenrr.lab.recording import record_guest
from xenrr.xlcfg import load

pytestmark = pytest.mark.lab

GUEST = "xenrr-libvirt"
ITERATIONS = 3000
RUN_SECONDS = 60          # the guest runs recorded this long, then libvirt destroys it
REFERENCE_SECONDS = 20    # of `xenrr record -c`, for the first events of a recorded boot
LIBXL_DRIVER = "/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_libxl.so"
DRIVERS = "/run/xenrr-lab/libvirt-drivers"
PIDFILE = "/run/xenrr-lab/libvirtd.pid"
LOG = "/var/log/libvirt/libvirtd.log"
CONNECTS = """
import glob, sys, time, libvirt
libvirt.registerErrorHandler(lambda *_: None, None)
deadline = time.monotonic() + float(sys.argv[1])
def libvirtd_runs():
    for comm in glob.glob("/proc/[0-9]*/comm"):
        try:
            if open(comm).read().strip() == "libvirtd":
                return True
        except OSError:
            pass
    return False
while True:
    try:
        print(libvirt.open("xen:///system").getType()); break
    except libvirt.libvirtError as e:
        if not libvirtd_runs():
            sys.exit(3)   # libvirtd is gone: its log says why
        if time.monotonic() > deadline:
            sys.exit(f"libvirt: {e.get_error_message()}")
        time.sleep(2)
"""
VME_SHIM = Path(__file__).resolve().parent / "dom0" / "libxl_vme.c"
DEFINE = """
import sys, libvirt
libvirt.registerErrorHandler(lambda *_: None, None)
conn = libvirt.open("xen:///system")
if sys.argv[1] == "define":
    conn.defineXML(open(sys.argv[2]).read())
else:
    conn.lookupByName(sys.argv[2]).undefine()
"""


def libvirtd_log(lab, lines: int = 60) -> str:
    return lab.run(["tail", "-n", str(lines), LOG]).stdout


def domain_xml(cfg: Path) -> str:
    """The lab guest's xl configuration as a libvirt (libxl driver) PV domain."""
    c = load(cfg)
    return (f"<domain type='xen'>\n"
            f"  <name>{GUEST}</name>\n"
            f"  <memory unit='MiB'>{c.get('memory')}</memory>\n"
            f"  <vcpu>{c.get('vcpus')}</vcpu>\n"
            f"  <os>\n"
            f"    <type arch='x86_64' machine='xenpv'>linux</type>\n"
            f"    <kernel>{c.get('kernel')}</kernel>\n"
            f"    <initrd>{c.get('ramdisk')}</initrd>\n"
            f"    <cmdline>{c.get('extra')}</cmdline>\n"
            f"  </os>\n"
            f"  <on_poweroff>destroy</on_poweroff>\n"
            f"  <on_reboot>destroy</on_reboot>\n"
            f"  <on_crash>destroy</on_crash>\n"
            f"  <devices>\n"
            f"    <console type='pty'><target type='xen' port='0'/></console>\n"
            f"  </devices>\n"
            f"</domain>\n")


@pytest.fixture(scope="module")
def small_cfg():
    return linux_guest(["race", "locked"], iterations=ITERATIONS, vcpus=2)


@pytest.fixture(scope="module")
def libvirtd(lab):
    hook = lab.run(["xenrr", "install-hooks"])
    assert hook.returncode == 0, hook.stderr
    conf = lab.share.files / "libvirtd.conf"
    # util.command logs each hook's stdout and stderr at debug level.
    conf.write_text(f'log_filters="1:util.command"\nlog_outputs="1:file:{LOG}"\n')
    start = lab.run(["sh", "-c", f"mkdir -p {DRIVERS} /var/log/libvirt && "
                                 f"ln -sf {LIBXL_DRIVER} {DRIVERS}/ && "
                                 f"gcc -shared -fPIC -O2 -Wall -Wextra -Werror "
                                 f"-o {DRIVERS}/libxl_vme.so {VME_SHIM} -ldl && "
                                 f"LD_PRELOAD={DRIVERS}/libxl_vme.so "
                                 f"LIBVIRT_DRIVER_DIR={DRIVERS} libvirtd --daemon "
                                 f"--config {lab.share.in_dom0(conf)} --pid-file {PIDFILE}"])
    assert start.returncode == 0, start.stderr
    up = lab.run([sys.executable, "-c", CONNECTS, "240"], timeout=300)
    assert up.returncode == 0 and up.stdout.strip() == "Xen", \
        f"{up.stderr}\n--- libvirtd log ---\n{libvirtd_log(lab)}"
    yield
    lab.run(["sh", "-c", f"kill $(cat {PIDFILE})"])
    lab.run(["xenrr", "install-hooks", "--remove"])


@pytest.fixture(scope="module")
def defined(lab, libvirtd, small_cfg):
    xml = lab.share.files / f"{GUEST}.xml"
    xml.write_text(domain_xml(small_cfg))
    define = lab.run([sys.executable, "-c", DEFINE, "define", lab.share.in_dom0(xml)])
    assert define.returncode == 0, define.stderr
    yield GUEST
    lab.run([sys.executable, "-c", DEFINE, "undefine", GUEST])


def trace_dir(lab, name: str) -> Path:
    directory = lab.share.files / name
    directory.mkdir(exist_ok=True)
    for old in directory.iterdir():
        old.unlink()
    return directory


def mark(lab, *args) -> None:
    result = lab.run(["xenrr", "libvirt", "mark", GUEST, *map(str, args)])
    assert result.returncode == 0, result.stderr


def closed_trace(directory: Path, timeout: float = 120) -> Path:
    """The one trace of the directory, once its recorder has closed it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        traces = sorted(directory.glob("*.xrr"))
        if traces and not list(directory.glob("*.partial")):
            assert len(traces) == 1, traces
            return traces[0]
        time.sleep(1)
    listing = sorted(p.name for p in directory.iterdir())
    logs = "".join(p.read_text() for p in directory.glob("*.log"))
    raise AssertionError(f"no closed trace in {directory}: {listing}\n{logs}")


@pytest.fixture(scope="module")
def recorded(lab, defined):
    directory = trace_dir(lab, "libvirt-traces")
    mark(lab, "--dir", lab.share.in_dom0(directory))
    run = dom0_json(lab, "libvirt_guest.py", GUEST, RUN_SECONDS, timeout=900)
    assert run["started"], f"{run}\n--- libvirtd log ---\n{libvirtd_log(lab)}"
    return run, closed_trace(directory)


@pytest.fixture(scope="module")
def reference(lab, small_cfg):
    """`xenrr record -c` of the same guest: a trace that begins at its first instruction."""
    recording = record_guest(lab, small_cfg, "libvirt-reference", stop_after=REFERENCE_SECONDS)
    assert recording.result.returncode == 0, recording.result.stderr
    return recording.trace


def first_event_of_vcpu0(trace: Path) -> rec.CrewEvent:
    with TraceReader(trace) as reader:
        return next(r for r in reader.records()
                    if isinstance(r, rec.CrewEvent) and r.vcpu == 0)


def test_a_marked_domain_started_by_libvirt_leaves_a_trace_that_verifies(lab, recorded):
    _, trace = recorded
    verify = xenrr_host("log", "verify", trace)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert_xen_healthy(lab)


def test_the_trace_header_names_the_domain_and_carries_libvirts_xml(recorded):
    _, trace = recorded
    with TraceReader(trace) as reader:
        header = next(iter(reader.records()))
    assert isinstance(header, rec.TraceHeader)
    assert (header.name, header.vcpus) == (GUEST, 2)
    assert f"<name>{GUEST}</name>" in header.config
    assert 'xmlns:xenrr="urn:xenrr:record:1"' in header.config


def test_the_trace_begins_at_the_guests_first_instruction(recorded, reference):
    _, trace = recorded
    log = trace.with_suffix(".log").read_text()
    assert "has run: recording it into" in log, log
    # Both recordings start before the guest's first instruction, so vCPU 0's
    # first CREW event is the same access of its first instructions.
    ours, theirs = first_event_of_vcpu0(trace), first_event_of_vcpu0(reference)
    assert (ours.position.count, ours.position.rip) == (theirs.position.count,
                                                        theirs.position.rip)


def test_a_missing_directory_is_one_line_and_the_domain_starts(lab, defined):
    missing = "/nonexistent/xenrr-traces"
    mark(lab, "--dir", missing)
    run = dom0_json(lab, "libvirt_guest.py", GUEST, 10, timeout=600)
    assert run["started"], run
    line = (f"xenrr: domain {GUEST}: the trace directory {missing} does not exist "
            "(it starts unrecorded)")
    assert line in libvirtd_log(lab, 400)


def test_strict_mode_refuses_a_start_it_cannot_record(lab, defined):
    missing = "/nonexistent/xenrr-traces"
    mark(lab, "--dir", missing, "--strict")
    run = dom0_json(lab, "libvirt_guest.py", GUEST, 10, timeout=600)
    assert not run["started"]
    assert (f"xenrr: domain {GUEST}: the trace directory {missing} does not exist "
            "(strict mode: libvirt will not start it)") in run["error"], json.dumps(run)
