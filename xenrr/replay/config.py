"""CONFIG against the recording: the same domain, or a one-line refusal naming the difference.

Replay builds the domain from CONFIG as `xl create` would, so CONFIG must
describe the recorded domain in everything that shapes what the guest
sees at its first instruction. The trace keeps the configuration the
recording was made from (trace header, config); the settings compared are
those the domain builder turns into the guest's memory and vCPUs. The
kernel's and ramdisk's bytes are compared later and exactly, as the
contents of the frames they were loaded into (start.py).
"""

from xenrr.domconfig import DomainConfig
from xenrr.errors import ConfigError
from xenrr.formats import ConfigKind, TraceHeader
from xenrr.xlcfg import parse

# xl.cfg(5) keys that decide the start the builder makes.
BUILD_KEYS = ("type", "builder", "vcpus", "maxvcpus", "memory", "maxmem", "kernel", "ramdisk",
              "cmdline", "extra", "root", "e820_host", "vnuma", "cpuid")


def check_config(header: TraceHeader, config: DomainConfig) -> None:
    """Refuse CONFIG unless it builds the domain the trace recorded."""
    if header.config_kind != ConfigKind.XL:
        raise ConfigError(f"the trace keeps the recorded domain's configuration as "
                          f"{ConfigKind(header.config_kind).name}, and replay can rebuild only "
                          "a domain recorded from an xl file (xenrr record -c CONFIG)")
    recorded = parse(header.config, "the trace's configuration")
    here = config.xl
    for key in BUILD_KEYS:
        a, b = recorded.get(key), here.get(key)
        if a != b:
            raise ConfigError(f"{config.path}: {key} is {_shown(b)} here but was {_shown(a)} "
                              "when the trace was recorded")
    if header.vcpus != _vcpus(here):
        raise ConfigError(f"{config.path}: the domain would have {_vcpus(here)} vCPUs, "
                          f"the trace recorded {header.vcpus}")


def _vcpus(cfg) -> int:
    """The vCPUs xl gives the domain: maxvcpus, else vcpus, else 1."""
    value = cfg.get("maxvcpus") or cfg.get("vcpus") or "1"
    return int(value) if isinstance(value, str) and value.isdigit() else 1


def _shown(value) -> str:
    return "unset" if value is None else repr(value)
