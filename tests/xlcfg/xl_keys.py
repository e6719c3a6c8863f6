"""Derive xenrr/xlcfg/keys.py from Xen's tools/xl/xl_parse.c.

Usage: .venv/bin/python -m tests.xlcfg.xl_keys XEN_SOURCE_TREE > xenrr/xlcfg/keys.py

Every key xl reads from a domain configuration passes through an
xlu_cfg_get_* or xlu_cfg_replace_string call on the parsed config with the
key as a string literal (list items are read with xlu_cfg_get_listitem*,
which take no key); test_keys.py checks that claim and the generated module.
"""

import re
import sys
from pathlib import Path

XL_PARSE_C = Path("tools/xl/xl_parse.c")
# A lookup by key: get/replace functions whose second argument is the key.
KEYED_CALL = re.compile(r'xlu_cfg_(?:get_(?!listitem)\w+|replace_string)\s*\(\s*\w+\s*,\s*"([^"]*)"')
ANY_LOOKUP = re.compile(r"xlu_cfg_(?:get_(?!listitem)\w+|replace_string)\s*\(")


def keys_of(xl_parse_c: str) -> list[str]:
    """The sorted keys; every keyed lookup in the file must name its key literally."""
    keys = KEYED_CALL.findall(xl_parse_c)
    lookups = len(ANY_LOOKUP.findall(xl_parse_c))
    if len(keys) != lookups:
        raise SystemExit(f"lookups naming no literal key in xl_parse.c: {lookups - len(keys)}")
    return sorted(set(keys))


def render(keys: list[str], version: str) -> str:
    lines = [
        '"""Every key xl reads from a domain configuration file (for the typo checker).',
        "",
        f"Generated from {XL_PARSE_C} of Xen {version}: the string keys of its",
        "xlu_cfg_get_* and xlu_cfg_replace_string calls. Regenerate with",
        "    .venv/bin/python -m tests.xlcfg.xl_keys XEN_SOURCE_TREE > xenrr/xlcfg/keys.py",
        "and do not edit by hand; tests/xlcfg/test_keys.py compares the two.",
        '"""',
        "",
        "XL_KEYS = frozenset({",
        *(f'    "{key}",' for key in keys),
        "})",
    ]
    return "\n".join(lines) + "\n"


def source_version(tree: Path) -> str:
    """The Debian version from debian/changelog, else the directory's name."""
    changelog = tree / "debian" / "changelog"
    if changelog.is_file():
        match = re.match(r"\S+ \(([^)]+)\)", changelog.read_text(errors="replace"))
        if match:
            return match.group(1)
    return tree.name


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    tree = Path(argv[0])
    sys.stdout.write(render(keys_of((tree / XL_PARSE_C).read_text()), source_version(tree)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
