"""Quoted strings of xl configuration files, unescaped exactly as libxlu does.

Mirrors xlu__cfgl_dequote (tools/libs/util/libxlu_cfg.c, Xen 4.17), including
two quirks that decide what xl accepts and sees:

- a hex escape ("\\x41") is always rejected: libxlu skips one character too
  many and then demands more than the two digits it allows itself;
- an octal escape ("\\0123") is parsed with strtoul(base 10) over the three
  characters after its first digit, needs at least two of them consumed, and
  then stores nothing: the whole escape vanishes from the value.
"""

from xenrr.xlcfg.errors import ConfigSyntaxError, describe_char

# The one-character escapes libxlu knows, both quote characters in both styles.
_SIMPLE = {'"': '"', "'": "'", "\\": "\\", "a": "\a", "b": "\b", "f": "\f",
           "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
# isspace() in the C locale: what strtoul skips before the number.
_C_SPACE = " \t\n\v\f\r"
_DIGITS = "0123456789"


def dequote(token: str, source: str, line: int, column: int) -> str:
    """The value of a quoted-string token (quotes included) that starts at line:column.

    The lexer guarantees a character after every backslash before the closing
    quote; escapes libxlu refuses raise ConfigSyntaxError at their backslash.
    """
    body = token[1:-1]
    if "\0" in body:
        raise ConfigSyntaxError(source, line, column + 1 + body.index("\0"),
                                "NUL character in a quoted string (libxlu aborts on it)")
    out = []
    p = 0
    while p < len(body):
        c = body[p]
        p += 1
        if c != "\\":
            out.append(c)
            continue
        at = column + p  # the backslash, counting the opening quote
        nc = body[p]
        p += 1
        if nc in _SIMPLE:
            out.append(_SIMPLE[nc])
        elif nc == "x":
            raise ConfigSyntaxError(source, line, at,
                                    "hex escape '\\x' in a quoted string: xl rejects every one")
        elif "0" <= nc <= "7":
            used = _strtoul_length(body[p:p + 3])
            if used < 2:
                raise ConfigSyntaxError(source, line, at,
                                        f"octal escape '\\{nc}' needs two more digits after it")
            p += used
        else:
            raise ConfigSyntaxError(source, line, at, "invalid escape in a quoted string: "
                                    f"backslash followed by {describe_char(nc)}")
    return "".join(out)


def _strtoul_length(s: str) -> int:
    """How many characters of s strtoul(s, &end, 10) consumes (0: no number)."""
    i = 0
    while i < len(s) and s[i] in _C_SPACE:
        i += 1
    if i < len(s) and s[i] in "+-":
        i += 1
    j = i
    while j < len(s) and s[j] in _DIGITS:
        j += 1
    return j if j > i else 0
