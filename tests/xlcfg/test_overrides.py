import pytest

from xenrr.errors import UsageError
from xenrr.xlcfg import ConfigSyntaxError, Op, parse_with_overrides, with_overrides


def test_text_is_built_as_xl_create_builds_it():
    # create_domain: file + "\n" + each override followed by "\n" + "\n"
    assert with_overrides("a = 1\n", ["b=2", "c='x'"]) == "a = 1\n\nb=2\nc='x'\n\n"
    assert with_overrides("a = 1", ["b=2"]) == "a = 1\nb=2\n\n"
    assert with_overrides("a = 1", []) == "a = 1"


def test_overrides_win_and_can_extend():
    config = parse_with_overrides("memory = 512\nextra = 'a'\n",
                                  ["memory=1024", "extra+=' b'"], "g.cfg")
    assert config == {"memory": "1024", "extra": "a b"}
    assert config.setting("extra").op is Op.ADD
    assert config.setting("memory").line == 4


def test_overrides_end_a_final_comment_that_alone_would_be_rejected():
    with pytest.raises(ConfigSyntaxError):
        parse_with_overrides("a = 1\n# last", [], "g.cfg")
    assert parse_with_overrides("a = 1\n# last", ["b=2"], "g.cfg") == {"a": "1", "b": "2"}


def test_an_argument_without_equals_is_not_an_override():
    with pytest.raises(UsageError) as caught:
        with_overrides("", ["memory"])
    assert str(caught.value) == "override 'memory' is not KEY=VALUE"


@pytest.mark.parametrize("text", ["a = 1\n", "a = 1", "# x\n\n"])
def test_an_error_inside_an_override_names_it(text):
    with pytest.raises(ConfigSyntaxError) as caught:
        parse_with_overrides(text, ["b=2", "name=guest2"], "g.cfg")
    line = text.count("\n") + 3
    assert str(caught.value) == (f"g.cfg:{line}:6: expected a value after '=', found name "
                                 "'guest2' (strings must be quoted) (in the override "
                                 "'name=guest2')")


def test_an_error_in_the_file_is_left_as_it_is():
    with pytest.raises(ConfigSyntaxError) as caught:
        parse_with_overrides("a = \n", ["b=2"], "g.cfg")
    assert str(caught.value) == "g.cfg:1:5: expected a value after '=', found end of line"
