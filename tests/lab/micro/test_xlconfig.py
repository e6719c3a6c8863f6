from pathlib import Path

import pytest

from xenrr.errors import UsageError
from xenrr.lab.micro import xlconfig


def test_domain_name_is_unique_per_workload_vcpus_and_iterations():
    assert xlconfig.domain_name("race", 2, None) == "micro-race-2v"
    assert xlconfig.domain_name("race", 2, 1000) == "micro-race-2v-1000i"
    assert xlconfig.domain_name("race", 4, None) == "micro-race-4v"


def test_render_writes_a_pv_config_that_destroys_the_domain_however_it_ends():
    text = xlconfig.render("micro-race-2v", Path("/c/micro.elf"), 2, "race iterations=7")
    assert text == (
        "# A xenrr micro-guest (xenrr/lab/micro/guest/README.md).\n"
        'name = "micro-race-2v"\n'
        'type = "pv"\n'
        'kernel = "/c/micro.elf"\n'
        "memory = 32\n"
        "vcpus = 2\n"
        'extra = "race iterations=7"\n'
        'on_poweroff = "destroy"\n'
        'on_reboot = "destroy"\n'
        'on_crash = "destroy"\n')


@pytest.mark.parametrize("bad", ['a"b', "a\\b", "a\nb"])
def test_render_refuses_what_an_xl_string_cannot_hold(bad):
    with pytest.raises(UsageError):
        xlconfig.render("micro-x", Path("/k"), 1, bad)


def test_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "micro-race-1v.cfg"
    path.write_text("old")
    assert xlconfig.write(path, "micro-race-1v", Path("/k"), 1, "race") == path
    assert 'extra = "race"' in path.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["micro-race-1v.cfg"]
