"""Reading an xl configuration file from disk, as `xl create FILE [KEY=VALUE ...]` does.

xl hands libxlu the file's bytes; xenrr decodes them as UTF-8 with
surrogateescape, which keeps every byte (the lexer's notes say why that
cannot change what is accepted) and gives back the same bytes on encoding.
"""

import os
from collections.abc import Sequence

from xenrr.errors import ConfigError
from xenrr.xlcfg.model import XlConfig
from xenrr.xlcfg.overrides import parse_with_overrides


def read(path: str | os.PathLike[str]) -> str:
    """The text of the configuration file at path, every byte kept."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ConfigError(f"{os.fspath(path)}: cannot read the domain configuration: "
                          f"{e.strerror or e}") from None
    return data.decode("utf-8", "surrogateescape")


def load(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> XlConfig:
    """Parse the configuration file at path with xl create's trailing overrides."""
    return parse_with_overrides(read(path), overrides, os.fspath(path))
