"""xenrr.lab.micro.config: the interface `xenrr lab guest --micro` calls."""

import pytest

from xenrr.errors import UsageError
from xenrr.lab import micro


def _settings(path) -> dict[str, str]:
    return dict(line.split(" = ", 1) for line in path.read_text().splitlines()
                if " = " in line)


def test_config_builds_the_guest_and_writes_its_xl_config(cache):
    path = micro.config("race")
    assert path == cache / "micro" / "micro-race-2v.cfg"
    s = _settings(path)
    assert s["name"] == '"micro-race-2v"'
    assert s["vcpus"] == "2"
    assert s["extra"] == '"race"'
    kernel = s["kernel"].strip('"')
    assert kernel.startswith(str(cache / "micro" / "build-"))
    assert kernel.endswith("/micro.elf")


def test_iterations_go_on_the_command_line_and_into_the_name(cache):
    s = _settings(micro.config("pingpong", vcpus=4, iterations=100))
    assert s["name"] == '"micro-pingpong-4v-100i"'
    assert s["vcpus"] == "4"
    assert s["extra"] == '"pingpong iterations=100"'


@pytest.mark.parametrize("args, message", [
    (("nosuch",), "unknown micro-guest workload 'nosuch' (choose from race, locked, "
                  "pingpong, falseshare, private, compute, tsc, branches, timers)"),
    (("race", 0), "a micro-guest has 1 to 4 vCPUs, not 0"),
    (("race", 5), "a micro-guest has 1 to 4 vCPUs, not 5"),
    (("pingpong", 1), "the pingpong workload needs at least 2 vCPUs"),
    (("race", 2, 0), "iterations must be 1 to 4294967295, not 0"),
    (("race", 2, 2**32), "iterations must be 1 to 4294967295, not 4294967296"),
])
def test_bad_requests_are_usage_errors_with_one_clear_line(cache, args, message):
    with pytest.raises(UsageError) as e:
        micro.config(*args)
    assert str(e.value) == message
    assert not (cache / "micro").exists() or not list((cache / "micro").glob("*.cfg"))
