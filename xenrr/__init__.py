"""xenrr: record and replay of multiprocessor Xen guests (SMP-ReVirt for Xen)."""

__version__ = "0.1.0.dev0"
