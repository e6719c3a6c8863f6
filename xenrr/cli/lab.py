"""`xenrr lab`: build the patched hypervisor and boot it under QEMU."""

import typer

from xenrr.lab.xenbuild import BuildSpec, Series, XenBuilds

app = typer.Typer(help="Build the patched Xen and run it under QEMU (TCG).", no_args_is_help=True)

RELEASE = typer.Option(False, "--release", help="A non-debug hypervisor (no ASSERTs, no audits).")


@app.command()
def build(release: bool = RELEASE) -> None:
    """Build the patched hypervisor (cached by its inputs); print the path of `xen`."""
    out = XenBuilds().build(BuildSpec(Series.load(), release))
    print(out / "xen")
