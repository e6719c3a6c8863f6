import os
from pathlib import Path

import pytest

from tests.xlcfg import xl_keys
from xenrr.lab.paths import cache_dir
from xenrr.lab.xenbuild import SOURCE_VERSION
from xenrr.xlcfg import keys


def xen_source() -> Path | None:
    """$XENRR_XEN_SRC, else the source tree the lab extracted."""
    candidates = [os.environ.get("XENRR_XEN_SRC"), cache_dir() / "xen" / "src" / SOURCE_VERSION]
    for candidate in candidates:
        if candidate and (Path(candidate) / xl_keys.XL_PARSE_C).is_file():
            return Path(candidate)
    return None


def test_keys_module_is_what_the_generator_makes_of_xl_parse_c():
    tree = xen_source()
    if tree is None:
        pytest.skip("no Xen source (set XENRR_XEN_SRC or let the lab fetch it)")
    generated = xl_keys.render(xl_keys.keys_of((tree / xl_keys.XL_PARSE_C).read_text()),
                               xl_keys.source_version(tree))
    assert Path(keys.__file__).read_text() == generated


def test_the_generator_refuses_a_lookup_without_a_literal_key():
    source = ('xlu_cfg_get_long (config, "memory", &l, 0);\n'
              'xlu_cfg_get_string(config, name, &buf, 0);\n'
              'xlu_cfg_get_listitem(list, 0);\n')
    with pytest.raises(SystemExit, match="naming no literal key in xl_parse.c: 1"):
        xl_keys.keys_of(source)
    assert xl_keys.keys_of(source.replace("name,", '"name",')) == ["memory", "name"]


def test_the_keys_are_those_of_domain_configs():
    assert {"name", "memory", "maxmem", "vcpus", "disk", "vif", "kernel", "type",
            "on_crash", "cpuid"} <= keys.XL_KEYS
    assert "autoballoon" not in keys.XL_KEYS  # an xl.conf key, read by xl.c
