"""The lab as a whole: the patched Xen boots, dom0 runs commands, the domU runs its workloads."""

import json
import re

import pytest

from xenrr.lab.xenbuild import hypervisor_series

pytestmark = pytest.mark.lab

GUEST_TIMEOUT = 240


def xl_info(lab) -> dict[str, str]:
    result = lab.run(["xl", "info"], timeout=120)
    assert result.returncode == 0, result.stderr
    return {k.strip(): v.strip() for k, _, v in
            (line.partition(":") for line in result.stdout.splitlines())}


def test_the_running_hypervisor_is_built_from_this_series(lab):
    info = xl_info(lab)
    assert info["xen_changeset"] == f"xenrr series {hypervisor_series().digest}"
    assert info["xen_extra"] == ".5-xenrr"
    assert info["xen_version"] == "4.17.5-xenrr"


def test_shadow_paging_is_compiled_in(lab):
    dmesg = lab.run(["xl", "dmesg"], timeout=120).stdout
    compiled = re.search(r"Compiled-in support: (.*)", dmesg)
    assert compiled, "no 'Compiled-in support' line in xl dmesg"
    assert "SHADOW_PAGING" in compiled.group(1).split()
    assert "shadow" in xl_info(lab)["virt_caps"].split()


def test_dom0_commands_report_their_status_and_output(lab):
    result = lab.run(["sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 7"])
    assert (result.returncode, result.stdout, result.stderr) == (7, "to-stdout\n", "to-stderr\n")


def test_a_missing_dom0_command_is_status_127(lab):
    result = lab.run(["no-such-command-xenrr"])
    assert result.returncode == 127
    assert "cannot run no-such-command-xenrr" in result.stderr


def test_a_dom0_command_over_its_time_is_killed(lab):
    result = lab.run(["sleep", "60"], timeout=2)
    assert result.timed_out
    assert result.elapsed < 30


def run_domu(lab, cfg, *options: str) -> dict:
    result = lab.run(["xenrr", "lab", "domu", "--json", "--timeout", str(GUEST_TIMEOUT),
                      *options, str(cfg)], timeout=GUEST_TIMEOUT + 60)
    assert result.stdout.strip(), result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.returncode == (0 if summary["reason"] == "poweroff" else 1)
    return summary


def guest_line(console: str, name: str) -> str:
    """What the lab guest printed after `xenrr-guest: NAME `."""
    m = re.search(rf"^xenrr-guest: {name} (.*?)\r?$", console, re.M)
    assert m, f"no {name} line in the console:\n{console}"
    return m.group(1)


def fields(line: str) -> dict[str, str]:
    return dict(word.split("=", 1) for word in line.split() if "=" in word)


@pytest.mark.parametrize("mode", ["native", "shadow"])
def test_the_two_vcpu_domu_runs_its_workloads(lab, linux_cfg, mode):
    summary = run_domu(lab, linux_cfg, *(["--shadow"] if mode == "shadow" else []))
    assert summary["reason"] == "poweroff", summary["console"]
    assert summary["mode"] == mode
    assert (summary["shadow_mb"] >= 64) == (mode == "shadow")
    console = summary["console"]
    assert "xenrr-guest: start vcpus=2 workloads=race,locked iterations=200000" in console
    assert "xenrr-guest: done ok" in console
    locked, race = guest_line(console, "locked"), fields(guest_line(console, "race"))
    assert fields(locked)["counter"] == fields(locked)["expected"] == "400000"
    assert locked.split()[2] == "ok"
    assert race["expected"] == "400000"
    assert 0 < int(race["counter"]) <= 400000
