"""The tokens of an xl configuration file, cut as libxlu's flex lexer cuts them.

Mirrors tools/libs/util/libxlu_cfg_l.l (Xen 4.17) rule by rule. flex takes
the longest match and, on a tie, the earlier rule:

    [a-z][._0-9a-z]*        name (IDENT)
    [0-9][0-9a-fx]*         number, kept as its text ("0x1f", "1e5", "09")
    [ \\t]                   skipped; nothing else is blank ('\\r' is an error)
    , [ ] += = ;            punctuation
    \\n | \\#.*\\n             end of line; a comment needs its newline
    '...'  "..."            strings on one line, unescaped by strings.dequote
    anything else           a lexical error, reported with the text after it

One quirk decides acceptance: the error rules report the bad character only
once flex has read what follows it, so a single bad byte at the very end of
the input (a stray "@", an unterminated "#" comment of one character) is
dropped without an error. The text is handled as str decoded from UTF-8 with
surrogateescape; a character stands for one byte only if it is ASCII or an
escaped byte, which matters for that last-byte rule alone.
"""

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass

from xenrr.xlcfg.errors import ConfigSyntaxError, describe_char
from xenrr.xlcfg.strings import dequote


class Kind(enum.Enum):
    """Token kinds; the values name them in "expected X, found Y" messages."""

    IDENT = "name"
    NUMBER = "number"
    STRING = "string"
    NEWLINE = "end of line"
    SEMICOLON = "';'"
    COMMA = "','"
    OPEN = "'['"
    CLOSE = "']'"
    ASSIGN = "'='"
    ADD = "'+='"
    EOF = "end of file"


@dataclass(frozen=True)
class Token:
    """One token: value is the name, the number's text or the unescaped string."""

    kind: Kind
    text: str
    value: str
    line: int
    column: int

    def describe(self) -> str:
        if self.kind in (Kind.IDENT, Kind.NUMBER):
            return f"{self.kind.value} '{_clip(self.text)}'"
        if self.kind is Kind.STRING:
            return f"string {_clip(self.text)}"
        return self.kind.value


_IDENT = re.compile(r"[a-z][._0-9a-z]*")
_NUMBER = re.compile(r"[0-9][0-9a-fx]*")
_STRING = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*\"""")
_PUNCTUATION = {",": Kind.COMMA, "[": Kind.OPEN, "]": Kind.CLOSE, "=": Kind.ASSIGN,
                ";": Kind.SEMICOLON}
# The rule [+-.():] ("+-." is a range holding ',', which an earlier rule
# claims): libxlu takes these as the sign of a Python-era config and says so.
_PYTHON = frozenset("+-.():")


def tokenize(text: str, source: str) -> Iterator[Token]:
    """Yield the tokens of text, ending with one EOF token; raise at a lexical error."""
    i = 0
    line = 1
    line_start = 0
    n = len(text)
    while i < n:
        c = text[i]
        column = i - line_start + 1
        if c in " \t":
            i += 1
            continue
        if c in "\n#" and (end := text.find("\n", i) + 1):
            yield Token(Kind.NEWLINE, text[i:end], "", line, column)
            i = line_start = end
            line += 1
            continue
        if "a" <= c <= "z":
            kind, end = Kind.IDENT, _IDENT.match(text, i).end()
        elif "0" <= c <= "9":
            kind, end = Kind.NUMBER, _NUMBER.match(text, i).end()
        elif text.startswith("+=", i):
            kind, end = Kind.ADD, i + 2
        elif c in _PUNCTUATION:
            kind, end = _PUNCTUATION[c], i + 1
        elif c in "'\"" and (string := _STRING.match(text, i)):
            kind, end = Kind.STRING, string.end()
        elif i == n - 1 and _one_byte(c):
            break
        else:
            raise ConfigSyntaxError(source, line, column, _lexical_error(c))
        word = text[i:end]
        value = dequote(word, source, line, column) if kind is Kind.STRING else word
        yield Token(kind, word, value, line, column)
        i = end
    yield Token(Kind.EOF, "", "", line, n - line_start + 1)


def _one_byte(c: str) -> bool:
    """Whether c came from a single byte of the file (ASCII or surrogate-escaped)."""
    return ord(c) < 0x80 or 0xDC80 <= ord(c) <= 0xDCFF


def _lexical_error(c: str) -> str:
    if c in "'\"":
        return f"unterminated string: the closing {c} must be on the same line"
    if c == "#":
        return "comment without a newline at the end of the file"
    if c == "\r":
        return "carriage return: xl accepts only Unix (LF) line endings"
    if c in _PYTHON:
        return f"unexpected character {describe_char(c)} (xl configuration files are not Python)"
    if "A" <= c <= "Z":
        return (f"unexpected character {describe_char(c)} "
                "(names are lower case and strings are quoted)")
    return f"unexpected character {describe_char(c)}"


def _clip(text: str, width: int = 24) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."
