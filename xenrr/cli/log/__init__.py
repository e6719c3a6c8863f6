"""`xenrr log`: inspect, check and analyse trace files (one module per verb)."""

import typer

from xenrr.cli.log import dump, info, sharing, stats, verify

app = typer.Typer(help="Inspect, check and analyse trace files.", no_args_is_help=True,
                  rich_markup_mode=None)
app.command("info")(info.info)
app.command("dump")(dump.dump)
app.command("stats")(stats.stats)
app.command("verify")(verify.verify)
app.command("sharing")(sharing.sharing)
