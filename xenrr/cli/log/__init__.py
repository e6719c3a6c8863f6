"""`xenrr log`: inspect, check and analyse trace files (one module per verb)."""

import typer

app = typer.Typer(help="Inspect, check and analyse trace files.", no_args_is_help=True)
