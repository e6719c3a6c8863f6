"""What a parsed xl configuration holds: settings whose values are text or lists.

Mirrors the structs of tools/libs/util/libxlu_internal.h (Xen 4.17). libxlu
stores a number token and a quoted string alike, as XLU_STRING holding the
text (`memory = 512` and `memory = "512"` cannot be told apart by xl), so a
value here is a str or a tuple of values (an XLU_LIST, nested freely).
libxlu keeps every assignment and finds the newest one; a += joins the new
value onto the one it finds. XlConfig keeps only that newest, joined
setting per key, in the order the keys first appear.
"""

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeAlias

Value: TypeAlias = "str | tuple[Value, ...]"


class Op(enum.IntEnum):
    """enum XLU_Operation (tools/include/libxlutil.h): how a setting was written.

    xl refuses a number set with += (xlu_cfg_get_bounded_long), so it matters
    after parsing.
    """

    ASSIGN = 0  # XLU_OP_ASSIGNMENT: key = value
    ADD = 1  # XLU_OP_ADDITION: key += value


@dataclass(frozen=True)
class Setting:
    """The newest setting of a key (XLU_ConfigSetting), where its key starts.

    A key, its operator and the first token of its value always share a line,
    so line is also libxlu's lineno for the setting.
    """

    name: str
    value: Value
    op: Op
    line: int
    column: int


class XlConfig(Mapping[str, Value]):
    """A parsed configuration: key -> value, keys in order of first appearance."""

    def __init__(self, source: str, settings: Iterable[Setting]):
        self.source = source
        self._settings = {setting.name: setting for setting in settings}

    def __getitem__(self, key: str) -> Value:
        return self._settings[key].value

    def __iter__(self) -> Iterator[str]:
        return iter(self._settings)

    def __len__(self) -> int:
        return len(self._settings)

    def setting(self, key: str) -> Setting:
        """The whole setting of key: value, operator and position."""
        return self._settings[key]

    def __repr__(self) -> str:
        return f"XlConfig({self.source!r}, {dict(self)!r})"
