"""xlcfg against Xen's own libxlutil.so.4.17: same accept/reject, same values.

Compared for every text: whether it is accepted and, when it is, each key's
newest value, operator and line, and the order keys first appear in.
"""

from pathlib import Path

import pytest

from tests.xlcfg import generate
from tests.xlcfg.cases import ACCEPTED, REJECTED
from tests.xlcfg.libxlu import STRUCTS, LayoutError, Libxlu, Result, find_library
from xenrr.xlcfg import ConfigSyntaxError, parse, with_overrides

LIBRARY = find_library()
pytestmark = pytest.mark.skipif(LIBRARY is None, reason="libxlutil.so.4.17 (xen-utils-4.17) "
                                "is not installed")
GENERATED = 10000
EXAMPLES = Path("/etc/xen")


@pytest.fixture(scope="module")
def libxlu():
    library = Libxlu(LIBRARY)
    yield library
    library.close()


def ours(text: str) -> Result:
    try:
        config = parse(text)
    except ConfigSyntaxError:
        return Result(False, 0, {})
    return Result(True, 0, {key: (config[key], int(config.setting(key).op),
                                  config.setting(key).line) for key in config})


def disagreement(libxlu: Libxlu, text: str) -> str | None:
    theirs = libxlu.parse(text.encode("utf-8", "surrogateescape"))
    mine = ours(text)
    if mine.ok != theirs.ok:
        return f"{text!r}: libxlu {'accepts' if theirs.ok else 'rejects'}, xlcfg does not"
    if list(mine.settings.items()) != list(theirs.settings.items()):
        return f"{text!r}: libxlu {theirs.settings!r}, xlcfg {mine.settings!r}"
    return None


def test_layout_probe_reads_every_field(libxlu):
    result = libxlu.parse(b"a = 'x'\nb = [1]\n\nb += [[2], '3']\nc += 4\n")
    assert result == Result(True, 0, {"a": ("x", 0, 1), "b": (("1", ("2",), "3"), 1, 4),
                                      "c": ("4", 1, 5)})


@pytest.mark.parametrize("swap", [("XLU_ConfigSetting *settings;", "FILE *report;"),
                                  ("int op;", "int lineno;")])
def test_a_wrong_layout_fails_loudly(swap):
    first, second = swap
    structs = STRUCTS.replace(first, "@").replace(second, first).replace("@", second)
    assert structs != STRUCTS
    library = Libxlu(LIBRARY, structs)
    try:
        with pytest.raises(LayoutError):
            library.parse(b"a = 1\n")
    finally:
        library.close()


def test_example_configs_in_etc_xen(libxlu):
    files = sorted(p for p in EXAMPLES.iterdir() if p.is_file()) if EXAMPLES.is_dir() else []
    examples = [p for p in files if p.name.startswith("xlexample")]
    if not examples:
        pytest.skip("no xl example configs in /etc/xen")
    for path in files:
        text = path.read_bytes().decode("utf-8", "surrogateescape")
        assert disagreement(libxlu, text) is None, path
    for path in examples:
        assert libxlu.parse(path.read_bytes()).ok, path


@pytest.mark.parametrize("text", [text for text, _ in ACCEPTED + REJECTED])
def test_hand_picked_cases(libxlu, text):
    assert disagreement(libxlu, text) is None
    theirs = libxlu.parse(text.encode("utf-8", "surrogateescape"))
    accepted = dict(ACCEPTED)
    assert theirs.ok == (text in accepted)
    if theirs.ok:
        assert {key: value for key, (value, _, _) in theirs.settings.items()} == accepted[text]


@pytest.mark.parametrize("overrides", [["memory=1024"], ["extra+=' b'", "vcpus=4"],
                                       ["name=bare"], ["disk+=['x']"], ["a=1;b=2"]])
def test_overrides(libxlu, overrides):
    text = with_overrides("name = 'g'\nextra = 'a'\ndisk = []\n# no newline", overrides)
    assert disagreement(libxlu, text) is None


def test_generated_texts(libxlu):
    texts = generate.texts(seed=8, count=GENERATED)
    results = [libxlu.parse(text.encode("utf-8", "surrogateescape")).ok for text in texts]
    accepted = sum(results)
    # both sides of the grammar get a fair share, or the comparison proves little
    assert 0.3 * GENERATED < accepted < 0.7 * GENERATED
    problems = [problem for text in texts if (problem := disagreement(libxlu, text))]
    assert problems == [], f"{len(problems)} disagreements, first: {problems[:5]}"
