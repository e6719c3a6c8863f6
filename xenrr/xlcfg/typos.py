"""Keys xl will not read, with the known key each one most likely misspells.

xl silently ignores a key it does not know, so `memroy = 2048` starts a
guest with the default memory. This check is a warning for xenrr's commands,
never a parse error: libxlu accepts such a file and so does xlcfg.parse.
"""

import difflib
from collections.abc import Collection
from dataclasses import dataclass

from xenrr.xlcfg.keys import XL_KEYS
from xenrr.xlcfg.model import XlConfig

# difflib's similarity ratio from which a known key counts as a likely typo;
# 0.75 takes one swapped, dropped or doubled letter in keys of 4 or more.
_CUTOFF = 0.75


@dataclass(frozen=True)
class UnknownKey:
    """A key xl ignores, where it is set, and the known key it resembles."""

    source: str
    name: str
    line: int
    column: int
    suggestion: str | None

    def __str__(self) -> str:
        advice = (f"did you mean '{self.suggestion}'?" if self.suggestion
                  else "xl ignores it")
        return f"{self.source}:{self.line}:{self.column}: unknown key '{self.name}' ({advice})"


def unknown_keys(config: XlConfig, known: Collection[str] = XL_KEYS) -> list[UnknownKey]:
    """The keys of config that xl does not read, in the order they appear."""
    found = []
    for name in config:
        if name in known:
            continue
        setting = config.setting(name)
        close = difflib.get_close_matches(name, known, n=1, cutoff=_CUTOFF)
        found.append(UnknownKey(config.source, name, setting.line, setting.column,
                                close[0] if close else None))
    return found
