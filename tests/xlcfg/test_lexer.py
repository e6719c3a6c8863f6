import pytest

from xenrr.xlcfg import ConfigSyntaxError
from xenrr.xlcfg.lexer import Kind, Token, tokenize


def kinds_and_text(text):
    return [(t.kind, t.text) for t in tokenize(text, "t.cfg")]


def test_tokens_and_their_positions():
    tokens = list(tokenize("ab.c_9 += [0x1f,'s'];\n  z=\"q\" # note\n", "t.cfg"))
    assert tokens == [
        Token(Kind.IDENT, "ab.c_9", "ab.c_9", 1, 1),
        Token(Kind.ADD, "+=", "+=", 1, 8),
        Token(Kind.OPEN, "[", "[", 1, 11),
        Token(Kind.NUMBER, "0x1f", "0x1f", 1, 12),
        Token(Kind.COMMA, ",", ",", 1, 16),
        Token(Kind.STRING, "'s'", "s", 1, 17),
        Token(Kind.CLOSE, "]", "]", 1, 20),
        Token(Kind.SEMICOLON, ";", ";", 1, 21),
        Token(Kind.NEWLINE, "\n", "", 1, 22),
        Token(Kind.IDENT, "z", "z", 2, 3),
        Token(Kind.ASSIGN, "=", "=", 2, 4),
        Token(Kind.STRING, '"q"', "q", 2, 5),
        Token(Kind.NEWLINE, "# note\n", "", 2, 9),
        Token(Kind.EOF, "", "", 3, 1),
    ]


def test_longest_match_splits_names_and_numbers_as_flex_does():
    # [0-9][0-9a-fx]* swallows hex letters and x but stops at g; names take digits.
    assert kinds_and_text("12abcx9g a1") == [
        (Kind.NUMBER, "12abcx9"), (Kind.IDENT, "g"), (Kind.IDENT, "a1"), (Kind.EOF, "")]


def test_plus_alone_is_an_error_but_plus_equals_is_one_token():
    assert kinds_and_text("+=")[0] == (Kind.ADD, "+=")
    with pytest.raises(ConfigSyntaxError, match="not Python"):
        list(tokenize("+ 1", "t.cfg"))


@pytest.mark.parametrize("last", ["@", "#", "\r", "-", "\udc80"])
def test_one_bad_byte_at_the_very_end_is_dropped(last):
    assert kinds_and_text("x" + last) == [(Kind.IDENT, "x"), (Kind.EOF, "")]


@pytest.mark.parametrize("last", ["é", "@@", "@ ", "#c"])
def test_more_than_one_bad_byte_at_the_end_is_an_error(last):
    with pytest.raises(ConfigSyntaxError, match=r"^t.cfg:1:2: "):
        list(tokenize("x" + last, "t.cfg"))


def test_describe_names_tokens_for_messages():
    token = next(tokenize("'" + "x" * 40 + "'", "t.cfg"))
    assert token.describe() == "string '" + "x" * 20 + "..."
    assert next(tokenize("abc", "t.cfg")).describe() == "name 'abc'"
    assert next(tokenize("\n", "t.cfg")).describe() == "end of line"
    assert next(tokenize("", "t.cfg")).describe() == "end of file"


def test_string_errors_point_into_the_string():
    with pytest.raises(ConfigSyntaxError) as caught:
        list(tokenize("\n  k = 'ab\\x41'", "t.cfg"))
    assert (caught.value.line, caught.value.column) == (2, 10)
