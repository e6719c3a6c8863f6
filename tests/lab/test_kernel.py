"""Finding the host's kernel and unpacking the vmlinux a PV domU boots quickly."""

import lzma

import pytest

from xenrr.errors import LabError
from xenrr.lab.kernel import HostKernel


def fake_kernels(tmp_path, versions, payload=b"\x7fELF" + b"\0" * 60):
    boot, lib = tmp_path / "boot", tmp_path / "modules"
    boot.mkdir()
    for v in versions:
        (boot / f"vmlinuz-{v}").write_bytes(b"MZ bzImage setup" + lzma.compress(
            payload, format=lzma.FORMAT_XZ) + b"trailer")
        (lib / v).mkdir(parents=True)
        (lib / v / "modules.dep").write_text("")
    return boot, lib


def test_the_newest_kernel_with_modules_is_chosen(tmp_path):
    boot, lib = fake_kernels(tmp_path, ["6.1.0-9-amd64", "6.1.0-10-amd64", "5.10.0-30-amd64"])
    (boot / "vmlinuz-6.2.0-1-amd64").write_bytes(b"no modules for this one")
    assert HostKernel.find(boot, lib).version == "6.1.0-10-amd64"


def test_no_kernel_names_the_package_to_install(tmp_path):
    (tmp_path / "boot").mkdir()
    with pytest.raises(LabError, match="install the Debian package linux-image-amd64"):
        HostKernel.find(tmp_path / "boot", tmp_path / "modules")


def test_vmlinux_is_the_xz_payload(tmp_path):
    boot, lib = fake_kernels(tmp_path, ["6.1.0-9-amd64"], b"\x7fELF payload")
    vmlinux = HostKernel.find(boot, lib).vmlinux(tmp_path / "cache")
    assert vmlinux.read_bytes() == b"\x7fELF payload"


def test_a_kernel_without_xz_payload_is_refused(tmp_path):
    boot, lib = fake_kernels(tmp_path, ["6.1.0-9-amd64"])
    (boot / "vmlinuz-6.1.0-9-amd64").write_bytes(b"MZ gzip-compressed kernel")
    with pytest.raises(LabError, match="not an xz-compressed bzImage"):
        HostKernel.find(boot, lib).vmlinux(tmp_path / "cache")
