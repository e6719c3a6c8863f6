import re

import pytest

from xenrr.errors import UsageError
from xenrr.lab.micro import workloads


def test_the_issue_s_six_workloads_then_branches_and_timers_in_order():
    assert [w.name for w in workloads.WORKLOADS] == [
        "race", "locked", "pingpong", "falseshare", "private", "compute", "tsc", "branches",
        "timers"]


def test_by_name_finds_a_workload():
    assert workloads.by_name("pingpong").min_vcpus == 2


def test_by_name_lists_the_choices_for_an_unknown_name():
    with pytest.raises(UsageError) as e:
        workloads.by_name("racy")
    assert str(e.value) == ("unknown micro-guest workload 'racy' (choose from race, "
                            "locked, pingpong, falseshare, private, compute, tsc, "
                            "branches, timers)")


def test_c_header_has_one_x_macro_entry_per_workload():
    header = workloads.c_header()
    entries = re.findall(r"X\((\w+), (\d+), (\d+)ull\)", header)
    assert entries == [(w.name, str(w.min_vcpus), str(w.default_iterations))
                       for w in workloads.WORKLOADS]
    assert "#define MICRO_MAX_VCPUS 4\n" in header


def test_branches_runs_on_one_vcpu_and_defaults_to_100000_branches():
    w = workloads.by_name("branches")
    assert (w.min_vcpus, w.default_iterations) == (1, 100000)
    assert "    X(branches, 1, 100000ull) \\\n" in workloads.c_header()
