from xenrr.xlcfg import UnknownKey, parse, unknown_keys


def test_a_likely_typo_names_the_key_it_resembles():
    config = parse("name = 'g'\n  memroy = 2048\nvcpus = 2\n", "guest.cfg")
    assert unknown_keys(config) == [UnknownKey("guest.cfg", "memroy", 2, 3, "memory")]
    assert str(unknown_keys(config)[0]) == (
        "guest.cfg:2:3: unknown key 'memroy' (did you mean 'memory'?)")


def test_an_unknown_key_like_nothing_is_still_reported():
    found = unknown_keys(parse("zzzq = 1\n", "guest.cfg"))
    assert [str(f) for f in found] == ["guest.cfg:1:1: unknown key 'zzzq' (xl ignores it)"]


def test_known_keys_and_the_example_configs_pass():
    config = parse("name='g'\ntype='pvh'\nkernel='k'\nmemory=1\nvcpus=2\n"
                   "vif=['bridge=xenbr0']\ndisk=['/dev/vg/g,raw,xvda,rw']\non_crash='destroy'\n")
    assert unknown_keys(config) == []


def test_the_known_set_can_be_given():
    config = parse("colour = 1\ncolor = 2\n", "x.cfg")
    assert [(k.name, k.suggestion) for k in unknown_keys(config, {"color"})] == [
        ("colour", "color")]
