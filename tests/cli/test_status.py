"""The table `xenrr status` prints for a domain's counters."""

from xenrr.cli.status import render


def test_the_status_table():
    vcpu = {"position": 12, "rip": 0xFFFFFFFF81000000, "hypercalls": 7, "syscalls": 3,
            "exceptions": 1, "emulations": 1, "shadow_faults": 40, "shadows": 9,
            "crew_events": 0, "records": 0, "bytes": 0}
    snapshot = {"domid": 3, "name": "guest", "state": "-b---", "mode": "record",
                "nr_vcpus": 2, "shadow_mb": 16,
                "vcpus": [dict(vcpu, vcpu=0), dict(vcpu, vcpu=1, position=1000, syscalls=991)],
                "totals": {"position": 1012, "hypercalls": 14, "syscalls": 994,
                           "exceptions": 2, "emulations": 2, "shadow_faults": 80,
                           "shadows": 18, "crew_events": 0, "records": 0, "bytes": 0}}
    assert render(snapshot) == (
        "domain 3 (guest): mode record, 2 vCPUs, shadow pool 16 MiB, state -b---\n"
        " vcpu  position                 rip  hypercalls  syscalls  exceptions  emulations"
        "  shadow_faults  shadows  crew_events  records  bytes\n"
        "    0        12  0xffffffff81000000           7         3           1           1"
        "             40        9            0        0      0\n"
        "    1      1000  0xffffffff81000000           7       991           1           1"
        "             40        9            0        0      0\n"
        "total      1012                              14       994           2           2"
        "             80       18            0        0      0")
