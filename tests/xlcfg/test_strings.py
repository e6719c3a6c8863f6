import pytest

from xenrr.xlcfg import ConfigSyntaxError
from xenrr.xlcfg.strings import dequote


def value(body, quote='"'):
    return dequote(quote + body + quote, "s.cfg", 1, 1)


@pytest.mark.parametrize("escape,char", [
    ('\\"', '"'), ("\\'", "'"), ("\\\\", "\\"), ("\\a", "\a"), ("\\b", "\b"), ("\\f", "\f"),
    ("\\n", "\n"), ("\\r", "\r"), ("\\t", "\t"), ("\\v", "\v")])
def test_one_character_escapes_in_both_quote_styles(escape, char):
    assert value("<" + escape + ">") == "<" + char + ">"
    assert value("<" + escape + ">", "'") == "<" + char + ">"


@pytest.mark.parametrize("body,expected", [
    ("a\\0123b", "ab"),      # \0 then "123": three characters read, nothing stored
    ("a\\012b", "ab"),       # \0 then "12"
    ("a\\01bc", None),       # \0 then "1b": strtoul reads one character only
    ("\\7+9x", "x"),         # a sign counts
    ("\\7\t 5x", "x"),       # so does leading blank space, within the three characters
    ("\\0-", None),
    ("\\0-1", ""),          # strtoul takes "-1" as a number
    ("\\1  ", None),         # blanks without a digit are no number
    ("\\799", ""),           # base 10: 9 is a digit
    ("\\79", None),          # one digit is not enough
    ("\\8", None),           # 8 does not start an octal escape at all
])
def test_octal_escapes_vanish_or_fail_as_in_libxlu(body, expected):
    if expected is None:
        with pytest.raises(ConfigSyntaxError):
            value(body)
    else:
        assert value(body) == expected


def test_hex_escapes_always_fail():
    for body in ("\\x41", "\\xff", "\\x4142"):
        with pytest.raises(ConfigSyntaxError, match="hex escape"):
            value(body)


def test_error_column_is_the_backslash():
    with pytest.raises(ConfigSyntaxError) as caught:
        dequote("'abc\\q'", "s.cfg", 4, 10)
    assert (caught.value.line, caught.value.column) == (4, 14)
