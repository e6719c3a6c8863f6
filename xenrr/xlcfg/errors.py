"""The errors of xl configuration parsing, placed in the text as file:line:column.

libxlu itself only reports a line (its lexer never tracks columns); xenrr adds
the column and names what the grammar expected there, so a user can fix the
file without reading libxlu_cfg_y.y.
"""

from xenrr.errors import ConfigError


class ConfigSyntaxError(ConfigError):
    """A text that libxlu would reject; str() is "source:line:column: message"."""

    def __init__(self, source: str, line: int, column: int, message: str):
        super().__init__(f"{source}:{line}:{column}: {message}")
        self.source = source
        self.line = line
        self.column = column
        self.message = message


def describe_char(c: str) -> str:
    """A character quoted for a message, escaped when it would not print."""
    return f"'{c}'" if c.isprintable() else repr(c)
