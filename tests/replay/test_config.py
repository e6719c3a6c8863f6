import pytest

from xenrr.domconfig import DomainConfig
from xenrr.errors import ConfigError
from xenrr.formats import ConfigKind, GuestType, PositionMode, TraceHeader
from xenrr.replay.config import check_config

RECORDED = """name = "micro-race-2v"
type = "pv"
kernel = "/cache/micro.elf"
memory = 32
vcpus = 2
extra = "workload=race"
"""


def header(config=RECORDED, kind=ConfigKind.XL, vcpus=2):
    return TraceHeader(domid=3, vcpus=vcpus, guest_type=GuestType.PV,
                       position_mode=PositionMode.BRANCH, xenrr_interface=7, start_time=0,
                       name="micro-race-2v", xen_version="4.17.5", config_kind=kind,
                       config=config)


def config(tmp_path, text=RECORDED, overrides=()):
    path = tmp_path / "guest.cfg"
    path.write_text(text)
    return DomainConfig.from_xl_file(path, overrides)


def test_the_recorded_config_with_other_lifecycle_settings_is_accepted(tmp_path):
    check_config(header(RECORDED + 'on_poweroff = "preserve"\n'),
                 config(tmp_path, overrides=('on_crash="preserve"',)))


@pytest.mark.parametrize("override, said", [
    ("vcpus=4", "vcpus is '4' here but was '2' when the trace was recorded"),
    ("memory=64", "memory is '64' here but was '32'"),
    ('extra="workload=locked"', "extra is 'workload=locked' here but was 'workload=race'"),
    ('ramdisk="/initrd"', "ramdisk is '/initrd' here but was unset"),
])
def test_a_setting_that_shapes_the_start_is_refused_by_name(tmp_path, override, said):
    cfg = config(tmp_path, overrides=(override,))
    with pytest.raises(ConfigError, match=said) as e:
        check_config(header(), cfg)
    assert str(cfg.path) in str(e.value) and "\n" not in str(e.value)


def test_a_trace_whose_vcpus_differ_from_what_the_config_gives_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="would have 2 vCPUs, the trace recorded 3"):
        check_config(header(vcpus=3), config(tmp_path))


def test_a_trace_of_a_domain_not_created_from_an_xl_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="XL_JSON.*xenrr record -c CONFIG"):
        check_config(header("{}", ConfigKind.XL_JSON), config(tmp_path))
