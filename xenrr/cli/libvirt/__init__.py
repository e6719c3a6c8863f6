"""`xenrr libvirt`: domains libvirt manages (one module per verb).

`record-when-created` is the recorder the libvirt hook starts; people do not
run it, so --help does not list it.
"""

import typer

from xenrr.cli.libvirt import mark, recorder

app = typer.Typer(help="Record domains that libvirt manages.", no_args_is_help=True,
                  add_completion=False,
                  rich_markup_mode=None)


@app.callback()
def _group() -> None:
    """Record domains that libvirt manages (a group even while it has one visible verb)."""


app.command("mark")(mark.mark)
app.command("record-when-created", hidden=True)(recorder.record_when_created)
