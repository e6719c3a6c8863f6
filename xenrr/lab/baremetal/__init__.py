"""A bare-metal test kernel for the lab CPU's branch counter, run under QEMU without Xen.

Checking the counter through Xen would cost a dom0 boot per QEMU
configuration; this multiboot kernel (guest/, 32-bit C and assembly built
with the host's gcc by `builder`) boots in a fraction of a second, runs
the checks its command line asks for and prints one line per result,
which `run` parses. docs/lab-pmu.md says what the counter counts.
"""
