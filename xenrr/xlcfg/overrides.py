"""xl create's trailing KEY=VALUE arguments, applied exactly as xl applies them.

main_create (tools/xl/xl_vmcontrol.c, Xen 4.17) gathers every argument that
contains '=' into extra_config, each followed by a newline; create_domain
then appends "\\n" + extra_config + "\\n" to the file's text when extra_config
is not empty and parses the result as one file under the file's name. So an
override is a whole statement of the config language: it wins over the file
as any later assignment does, `KEY+=VALUE` extends the file's value, and a
string must be quoted (`name='guest2'`, not `name=guest2`).
"""

from collections.abc import Sequence

from xenrr.errors import UsageError
from xenrr.xlcfg.errors import ConfigSyntaxError
from xenrr.xlcfg.model import XlConfig
from xenrr.xlcfg.parser import parse


def with_overrides(text: str, overrides: Sequence[str]) -> str:
    """The text xl parses for a file's text and its create arguments."""
    for override in overrides:
        if "=" not in override:
            raise UsageError(f"override '{override}' is not KEY=VALUE")
    extra = "".join(f"{override}\n" for override in overrides)
    return f"{text}\n{extra}\n" if extra else text


def parse_with_overrides(text: str, overrides: Sequence[str], source: str) -> XlConfig:
    """Parse text with overrides applied; an error inside an override names it.

    The first override sits on the line after the file's last (possibly
    unterminated) line, whatever the file ends with.
    """
    try:
        return parse(with_overrides(text, overrides), source)
    except ConfigSyntaxError as e:
        index = e.line - (text.count("\n") + 2)
        if not 0 <= index < len(overrides):
            raise
        raise ConfigSyntaxError(e.source, e.line, e.column,
                                f"{e.message} (in the override '{overrides[index]}')") from None
