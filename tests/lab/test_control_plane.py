"""XEN_DOMCTL_rr_op in the patched hypervisor, driven by xenrr's own hypercall layer."""

import errno
import json

import pytest

from tests.lab.dom0run import assert_xen_healthy, dom0_json
from xenrr.hypercalls.abi import lib
from xenrr.lab.guest import linux_guest, results
from xenrr.lab.xenbuild import hypervisor_series

pytestmark = pytest.mark.lab

GETPID_CALLS = 100000
FUZZ_CALLS = 3000
# errno names as the dom0 scripts print them (errno.errorcode: EOPNOTSUPP is "ENOTSUP").
E = {name: errno.errorcode[getattr(errno, name)] for name in (
    "EINVAL", "EOPNOTSUPP", "E2BIG", "EEXIST", "ENOENT", "EPERM", "ESRCH", "EBUSY")}


def test_info_reports_the_interface_and_the_build(lab):
    result = lab.run(["xenrr", "info", "--json"])
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["xen"]["version"] == "4.17.5-xenrr"
    assert info["xen"]["changeset"] == f"xenrr series {hypervisor_series().digest}"
    assert info["xenrr"]["interface_version"] == lib.XEN_RR_INTERFACE_VERSION
    assert {"pv", "pos_sync_entry", "pos_branch", "per_vcpu_shadows", "crew",
            "frame_plan", "replay"} <= set(
        info["xenrr"]["features"])
    assert info["xenrr"]["max_vcpus"] == 64
    # The lab's QEMU counts event 0xD1 and passes Xen's self-test (patch 0009);
    # replay arms its interrupt 64 branches early there (patch 0013).
    branch = info["position_modes"]["branch"]
    assert (branch["offered"], branch["event"], branch["skid"]) == (True, 0xd1, 64)


def test_status_of_dom0_is_mode_off(lab):
    result = lab.run(["xenrr", "status", "Domain-0", "--json"])
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert (status["domid"], status["mode"], status["nr_vcpus"]) == (0, "off", 2)
    assert status["totals"]["position"] == 0


def test_status_of_a_missing_domain_is_one_line(lab):
    result = lab.run(["xenrr", "status", "no-such-guest"])
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "xenrr: no domain named 'no-such-guest'\n"


@pytest.fixture(scope="module")
def recorded_run(lab):
    """The 2-vCPU domU run in record mode: race, locked, then getpid on the last vCPU."""
    cfg = linux_guest(["race", "locked", "getpid"], iterations=GETPID_CALLS, vcpus=2)
    result = lab.run(["xenrr", "lab", "domu", "--rr", "--json", str(cfg)], timeout=900)
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_a_recorded_guest_completes_its_workloads(recorded_run):
    assert recorded_run["reason"] == "poweroff", recorded_run["console"]
    found = results(recorded_run["console"])
    assert found["locked"]["verdict"] == "ok"
    assert found["done"]["verdict"] == "ok"
    assert recorded_run["rr"]["mode"] == "record"
    assert recorded_run["shadow_mb"] >= 16


def test_every_vcpu_has_a_position_made_of_synchronous_entries(recorded_run):
    for vcpu in recorded_run["rr"]["vcpus"]:
        assert vcpu["position"] > 0
        assert vcpu["position"] == (vcpu["hypercalls"] + vcpu["syscalls"]
                                    + vcpu["exceptions"] + vcpu["emulations"])
        assert vcpu["rip"] >= 0xFFFF800000000000 or vcpu["rip"] < 0x800000000000
        assert vcpu["shadow_faults"] > 0


def test_getpid_calls_advance_their_vcpus_position(recorded_run):
    getpid = results(recorded_run["console"])["getpid"]
    vcpu = recorded_run["rr"]["vcpus"][int(getpid["cpu"])]
    assert vcpu["syscalls"] >= GETPID_CALLS
    assert vcpu["position"] >= GETPID_CALLS


def test_rr_op_refuses_each_bad_request_with_its_errno(lab, linux_cfg):
    checks = dom0_json(lab, "rr_checks.py", linux_cfg)
    run = checks.pop("run after disable")
    position = checks.pop("position before disable")
    own_shadows = checks.pop("own shadows before disable")
    pool = checks.pop("shadow pool after enable")
    assert pool >= 16
    # Disabled, the domain keeps its pool for one shared tree.
    assert checks.pop("shadow pool after disable") == pool
    shared = checks.pop("shared shadows after disable")
    assert checks == {
        "enable unknown mode": E["EINVAL"],
        "enable unknown position mode": E["EINVAL"],
        "enable unknown flags": E["EINVAL"],
        "non-zero padding": E["EINVAL"],
        "unknown sub-op": E["EOPNOTSUPP"],
        "enable replay by synchronous entries": E["EOPNOTSUPP"],
        "enable branch positions": "ok",  # the lab CPU counts branches (patch 0009)
        "enable huge shadow pool": E["E2BIG"],
        "stats of a missing vCPU": E["EINVAL"],
        "mode before enable": "off",
        "ring while off": E["ENOENT"],
        "enable paused PV": "ok",
        "mode after enable": "record",
        "ring without CREW": E["EOPNOTSUPP"],
        "enable twice": E["EEXIST"],
        "disable": "ok",
        "mode after disable": "off",
        "disable twice": E["ENOENT"],
        "enable on shared shadows": E["EBUSY"],
        "shadow off": "ok",
        "shadow pool after shadow off": 0,
        "enable again": "ok",
        "disable again": "ok",
        "shadow off again": "ok",
        "enable with CREW": "ok",
        "ring frames": 32,
        "ring of a missing vCPU": E["EINVAL"],
        "disable CREW": "ok",
        "enable dom0": E["EPERM"],
        "enable a missing domain": E["ESRCH"],
        "enable running": E["EBUSY"],
        "enable PVH": E["EOPNOTSUPP"],
        "enable a domain already in shadow mode": E["EBUSY"],
        "dying: stats": E["ESRCH"],
        "dying: ring": E["ESRCH"],
        "dying: disable": E["ESRCH"],
        "dying: enable": E["ESRCH"],
        "disable while running": "ok",
    }
    assert position >= 10000
    assert len(own_shadows) == 2 and min(own_shadows) > 0
    assert shared["pool"] >= 16 and shared["own shadows"] == [0, 0]
    assert run["reason"] == "poweroff", run["console"]
    assert results(run["console"])["locked"]["verdict"] == "ok"
    assert run["rr"]["mode"] == "off"


def test_random_rr_ops_get_an_errno_and_leave_xen_and_the_guest_alone(lab, linux_cfg):
    fuzz = dom0_json(lab, "rr_fuzz.py", linux_cfg, FUZZ_CALLS, 20261122, timeout=1200)
    assert sum(fuzz["outcomes"].values()) == FUZZ_CALLS
    assert any(k.endswith(" ok") for k in fuzz["outcomes"])
    run = fuzz["running"]
    assert run["reason"] == "poweroff", run["console"]
    assert results(run["console"])["locked"]["verdict"] == "ok"
    assert_xen_healthy(lab)
    assert lab.run(["xenrr", "info"]).returncode == 0
