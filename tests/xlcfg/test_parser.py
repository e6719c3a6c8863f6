import pytest

from tests.xlcfg.cases import ACCEPTED, REJECTED, SOURCE
from xenrr.errors import ConfigError
from xenrr.xlcfg import ConfigSyntaxError, Op, Setting, parse


@pytest.mark.parametrize("text,expected", ACCEPTED)
def test_accepted_values_and_key_order(text, expected):
    config = parse(text, SOURCE)
    assert dict(config) == expected
    assert list(config) == list(expected)


@pytest.mark.parametrize("text,message", REJECTED)
def test_rejected_with_one_line_naming_the_place(text, message):
    with pytest.raises(ConfigSyntaxError) as caught:
        parse(text, SOURCE)
    error = caught.value
    assert str(error) == message
    assert isinstance(error, ConfigError) and error.exit_status == 1
    assert f"{error.source}:{error.line}:{error.column}: {error.message}" == message


def test_setting_keeps_operator_and_position_of_the_newest_assignment():
    config = parse("x = [1]\n  x += [2]\ny = 'a'\n", SOURCE)
    assert config.setting("x") == Setting("x", ("1", "2"), Op.ADD, 2, 3)
    assert config.setting("y") == Setting("y", "a", Op.ASSIGN, 3, 1)


def test_a_later_assignment_replaces_an_addition():
    config = parse("x = 'a'\nx += 'b'\nx = 'c'\n", SOURCE)
    assert config.setting("x") == Setting("x", "c", Op.ASSIGN, 3, 1)


def test_the_first_error_is_reported_even_when_later_text_is_worse():
    with pytest.raises(ConfigSyntaxError, match=r"^guest.cfg:2:5: expected a value"):
        parse("a = 1\nb = \nC = @@\n", SOURCE)


def test_addition_is_checked_before_the_next_token_is_read():
    # libxlu stores a setting as soon as its value ends (a bison default
    # reduction), so the += error wins over a bad character right after it.
    with pytest.raises(ConfigSyntaxError, match="cannot add a list"):
        parse("x = 'a'\nx += [1] @@\n", SOURCE)


def test_nul_inside_a_string_is_an_error_not_a_crash():
    with pytest.raises(ConfigSyntaxError) as caught:
        parse('x = "a\0b"\n', SOURCE)
    assert str(caught.value) == ("guest.cfg:1:7: NUL character in a quoted string "
                                 "(libxlu aborts on it)")


def test_default_source_name():
    with pytest.raises(ConfigSyntaxError, match=r"^<string>:1:1: "):
        parse("=")
