"""`xenrr lab`: build the patched hypervisor and the lab's QEMU, and boot them."""

import json
import sys
from pathlib import Path

import typer

from xenrr.errors import LabError, UsageError
from xenrr.lab.domu import run_guest
from xenrr.lab.guest import linux_guest
from xenrr.lab.micro import workloads
from xenrr.lab.paths import cache_dir
from xenrr.lab.qemubuild import BINARY, QemuBuilds, QemuSpec, built_qemu
from xenrr.lab.session import LabSession
from xenrr.lab.stockxen import stock_hypervisor
from xenrr.lab.xenbuild import BuildSpec, XenBuilds, hypervisor_series

app = typer.Typer(help="Build the patched Xen and run it under QEMU (TCG).", no_args_is_help=True,
                  rich_markup_mode=None)

RELEASE = typer.Option(False, "--release", help="A non-debug hypervisor (no ASSERTs, no audits).")


@app.command()
def build(release: bool = RELEASE) -> None:
    """Build the patched hypervisor and the lab's QEMU (each cached by its inputs).

    Prints the path of `xen`, then that of `qemu-system-x86_64`.
    """
    out = XenBuilds().build(BuildSpec(hypervisor_series(), release))
    qemu = QemuBuilds().build(QemuSpec.current())
    print(out / "xen")
    print(qemu / BINARY)


@app.command(context_settings={"allow_interspersed_args": False})
def run(
    command: list[str] = typer.Argument(..., metavar="-- COMMAND [ARGS]...",
                                        help="What to run in dom0."),
    timeout: float = typer.Option(1800, help="Seconds the command may take."),
    release: bool = RELEASE,
    serial: bool = typer.Option(False, "--serial", help="Echo the serial console to stderr."),
    xen: Path = typer.Option(None, help="Boot this hypervisor ELF instead of the built one."),
    stock: bool = typer.Option(False, "--stock", help="Boot Debian's own, unpatched "
                                                      "hypervisor package instead."),
) -> None:
    """Boot the patched Xen under QEMU, run COMMAND in dom0, exit with its status."""
    if xen is not None and stock:
        raise UsageError("--xen and --stock are exclusive")
    if xen is not None and not xen.is_file():
        raise UsageError(f"{xen}: no such file")
    if stock:
        xen = stock_hypervisor(cache_dir())
    session = LabSession(xen=xen, release=release, echo_serial=serial)
    built_qemu()    # missing: say so now, not after waiting for the lab's lock
    with session as lab:
        result = lab.run(command, timeout=timeout, stream=True)
        serial_log = lab.serial
    if result.timed_out:
        raise LabError(f"{command[0]} did not finish within {timeout:.0f} s "
                       f"(serial log: {serial_log})")
    if result.returncode != 0:
        print(f"xenrr: {command[0]} exited with status {result.returncode} "
              f"(serial log: {serial_log})", file=sys.stderr)
    raise typer.Exit(result.returncode)


@app.command()
def guest(
    micro: str = typer.Option(None, "--micro", metavar="WORKLOAD",
                              help="A micro-guest running WORKLOAD instead of Linux "
                                   f"({', '.join(w.name for w in workloads.WORKLOADS)})."),
    workload: list[str] = typer.Option(None, "--workload", "-w",
                                       help="Linux guest: race, locked or getpid "
                                            "(repeatable; default race and locked)."),
    iterations: int = typer.Option(None, help="Iterations per vCPU (default: the "
                                              "workload's own; Linux: 200000)."),
    vcpus: int = typer.Option(2, help="vCPUs of the domU."),
) -> None:
    """Build a lab domU (Linux, or a micro-guest); print the path of its xl config."""
    if micro is not None:
        if workload:
            raise UsageError("--micro and --workload are exclusive: a micro-guest runs one workload")
        from xenrr.lab import micro as micro_guests  # noqa: PLC0415 - only when asked for
        print(micro_guests.config(micro, vcpus, iterations))
    else:
        print(linux_guest(workload or None, 200000 if iterations is None else iterations, vcpus))


@app.command()
def domu(
    configs: list[Path] = typer.Argument(..., metavar="CONFIG...",
                                         help="xl configs of the domUs, run one after another."),
    shadow: bool = typer.Option(False, "--shadow", help="Run them in Xen's shared shadow "
                                                        "paging mode (the baseline)."),
    rr: bool = typer.Option(False, "--rr", help="Run them in xenrr's record mode."),
    shadow_mb: int = typer.Option(None, help="Shadow pool (MB): 64 with --shadow, "
                                             "Xen's choice (per vCPU) with --rr."),
    timeout: float = typer.Option(300, help="Seconds each guest may run."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON summary per guest, "
                                                        "one per line."),
) -> None:
    """(In dom0) create each CONFIG paused, run it to its end, print its console output.

    Exits 0 only if every guest powered off by itself.
    """
    missing = [c for c in configs if not c.is_file()]
    if missing:
        raise UsageError(f"{missing[0]}: no such file")
    if shadow and rr:
        raise UsageError("--shadow and --rr are exclusive")
    mode = "shadow" if shadow else "rr" if rr else "native"
    ok = True
    for config in configs:
        result = run_guest(config, mode, timeout, shadow_mb)
        ok = ok and result.reason == "poweroff"
        if json_out:
            print(json.dumps(result.as_dict()), flush=True)
        else:
            sys.stdout.write(result.console)
            print(f"xenrr: {result.name} (domain {result.domid}, {result.mode}): "
                  f"{result.reason} after {result.seconds:.1f} s", file=sys.stderr)
    raise typer.Exit(0 if ok else 1)


@app.command()
def demo() -> None:
    """Build, boot the lab, run the 2-vCPU domU natively and in shadow mode."""
    from xenrr.lab.demo import run_demo  # noqa: PLC0415 - not needed by the other commands

    raise typer.Exit(0 if run_demo(sys.stdout) else 1)
