"""`xenrr install-hooks [--remove] [--root DIR]`: the libvirt hook in or out of place."""

import sys
from pathlib import Path

import typer

from xenrr.libvirt.install import hook_path, install, remove

app = typer.Typer(add_completion=False, rich_markup_mode=None)


@app.command("install-hooks")
def install_hooks(
    uninstall: bool = typer.Option(False, "--remove", help="Remove the hook instead."),
    root: Path = typer.Option(Path("/"), "--root", metavar="DIR",
                              help="Install under DIR instead of / (a chroot, an image)."),
) -> None:
    """Install the hook that records marked libvirt domains (see `xenrr libvirt mark`)."""
    if uninstall:
        path = remove(root)
        print(f"xenrr: removed {path}" if path else f"xenrr: {hook_path(root)} was not installed",
              file=sys.stderr)
        return
    path = install(root)
    print(f"xenrr: installed {path}; a running libvirtd sees it once restarted or "
          "reloaded (SIGHUP)", file=sys.stderr)
