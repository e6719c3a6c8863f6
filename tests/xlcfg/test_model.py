from xenrr.xlcfg import Op, Setting, XlConfig


def test_op_values_are_libxlutil_enum_xlu_operation():
    assert (Op.ASSIGN, Op.ADD) == (0, 1)


def test_config_is_a_read_only_mapping_of_the_newest_settings():
    config = XlConfig("g.cfg", [Setting("b", "1", Op.ASSIGN, 1, 1),
                                Setting("a", ("x", ()), Op.ADD, 2, 1)])
    assert config == {"b": "1", "a": ("x", ())}
    assert list(config) == ["b", "a"] and len(config) == 2
    assert config.setting("a").op is Op.ADD
    assert config.source == "g.cfg"
    assert repr(config) == "XlConfig('g.cfg', {'b': '1', 'a': ('x', ())})"
    assert not hasattr(config, "__setitem__")
