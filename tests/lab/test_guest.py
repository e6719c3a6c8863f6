"""The lab guest's result lines and its argument checks."""

import pytest

from xenrr.errors import UsageError
from xenrr.lab.guest import linux_guest, results

CONSOLE = ("[    0.1] Linux booting\r\n"
           "xenrr-guest: start vcpus=2 workloads=race,locked iterations=100\r\n"
           "xenrr-guest: race counter=150 expected=200 lost=50 seconds=0.1\r\n"
           "xenrr-guest: locked counter=200 expected=200 ok seconds=0.2\r\n"
           "xenrr-guest: done ok\r\n")


def test_results_are_read_by_workload():
    assert results(CONSOLE) == {
        "race": {"counter": "150", "expected": "200", "lost": "50", "seconds": "0.1"},
        "locked": {"counter": "200", "expected": "200", "verdict": "ok", "seconds": "0.2"},
        "done": {"verdict": "ok"},
    }


def test_a_failed_self_check_is_its_verdict():
    found = results("xenrr-guest: locked counter=199 expected=200 FAILED seconds=1\n")
    assert found["locked"]["verdict"] == "FAILED"


@pytest.mark.parametrize("kwargs, message", [
    ({"workloads": ["race", "sort"]}, "unknown workload 'sort'"),
    ({"iterations": 0}, "iterations must be positive"),
    ({"vcpus": 9}, "vcpus between 1 and 8"),
])
def test_bad_guest_arguments_are_usage_errors(kwargs, message):
    with pytest.raises(UsageError, match=message):
        linux_guest(**kwargs)
