import pytest

from xenrr.errors import LabError
from xenrr.lab.micro import report
from xenrr.lab.micro.report import Page

# What a 2-vCPU race run prints, as Xen's console shows it ("(d5) " prefix).
RACE = """\
(XEN) some hypervisor line
(d5) micro: workload name=race vcpus=2 iterations=20000
(d5) micro: page region=control index=0 gfn=0x11b mfn=0x2c31b va=0x11b000
(d5) micro: page region=report vcpu=1 index=0 gfn=0x118 mfn=0x2c318 va=0x118000
(d5) micro: page region=counter index=0 gfn=0x12b mfn=0x2c32b va=0x12b000
(d5) micro: result counter=31377 expected=40000 lost=8623
(d5) micro: digest fnv1a64=9f0c2c1e0b8d2a77
(d5) micro: PASS
"""


def test_parse_reads_every_kind_of_line():
    r = report.parse(RACE)
    assert (r.workload, r.vcpus, r.iterations) == ("race", 2, 20000)
    assert r.pages == [
        Page("control", 0, 0x11b, 0x2c31b, 0x11b000),
        Page("report", 0, 0x118, 0x2c318, 0x118000, vcpu=1),
        Page("counter", 0, 0x12b, 0x2c32b, 0x12b000),
    ]
    assert r.result == {"counter": "31377", "expected": "40000", "lost": "8623"}
    assert r.digest == "9f0c2c1e0b8d2a77"
    assert (r.passed, r.failure) == (True, None)


def test_a_failure_keeps_its_reason():
    r = report.parse("micro: FAIL unknown workload 'bogus'\r\n")
    assert (r.passed, r.failure) == (False, "unknown workload 'bogus'")
    assert r.workload is None


def test_a_run_cut_short_has_no_verdict():
    r = report.parse(RACE.split("(d5) micro: result")[0])
    assert r.passed is None and r.digest is None and len(r.pages) == 3


@pytest.mark.parametrize("line", [
    "micro: page region=x index=0 gfn=zz mfn=0x1 va=0x1000",
    "micro: page region=x index=0 mfn=0x1 va=0x1000",
    "micro: result counter",
    "micro: frobnicate a=b",
])
def test_malformed_lines_are_lab_errors(line):
    with pytest.raises(LabError, match="micro-guest console line"):
        report.parse(line)
