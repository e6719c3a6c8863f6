"""`xenrr lab`: build the patched hypervisor and boot it under QEMU."""

import typer

app = typer.Typer(help="Build the patched Xen and run it under QEMU (TCG).", no_args_is_help=True)
