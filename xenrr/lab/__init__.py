"""The lab: the patched hypervisor built from Debian's source and booted under QEMU.

See ../shared/design/LAB.md for the measured facts this package stands on.
"""
