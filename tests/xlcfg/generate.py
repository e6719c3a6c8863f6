"""Seeded random xl configuration texts for the differential test, valid and not.

Texts are built from the grammar with every lexical feature libxlu has
(both quote styles, all escapes including the ones it rejects or drops,
numbers in hex and with letters, nested lists over lines with trailing
commas, +=, comments, ';', odd blanks), then some are mutated with the
characters that sit on the edges of the lexer (bad bytes, '\\r', stray
quotes, a comment or a single byte at the end without a newline). No text
holds a NUL inside a string: libxlu aborts the process on one.
"""

import random

KEYS = ["memory", "vcpus", "name", "disk", "vif", "x", "a.b", "vif.default.script",
        "k_9", "kernel", "extra", "on_crash"]
NUMBERS = ["0", "1", "512", "0x1f", "09", "1e5", "0abc", "12x", "4096"]
STRING_PIECES = ["a", "xen", " ", "/dev/xvda", "#", ";", ",", "[", "]", "=", "é", "\t",
                 "\\n", "\\t", "\\\\", "\\'", '\\"', "\\a", "\\v", "\\r",
                 "\\012", "\\1 2", "\\7+9", "\\09"]
# Escapes libxlu rejects, kept rarer so that most strings survive.
BAD_ESCAPES = ["\\1", "\\0a", "\\x41", "\\q", "\\ ", "\\é"]
BLANKS = ["", " ", "  ", "\t", " \t "]
ENDINGS = ["\n", ";", "\n\n", " # a comment\n", "#\n", ";\n", " ;"]
MUTATIONS = ["@", "-", "(", ")", ":", ".", "+", "\r", "\r\n", '"', "'", ",", "[", "]", "=",
             "+=", ";", "\n", "#", "\\", "M", "é", "\udcff", "$", "{", "0", "a", "  "]


def _string(rng: random.Random) -> str:
    quote = rng.choice("'\"")
    body = "".join(rng.choice(BAD_ESCAPES if rng.random() < 0.03 else STRING_PIECES)
                   for _ in range(rng.randrange(5)))
    return quote + body.replace(quote, "\\" + quote) + quote


def _value(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if roll < 0.4:
        return _string(rng)
    if roll < 0.7 or depth >= 3:
        return rng.choice(NUMBERS)
    items = [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    text = "["
    for i, item in enumerate(items):
        text += rng.choice(BLANKS + ["\n", "\n  "]) + item + rng.choice(BLANKS + ["\n"])
        if i < len(items) - 1 or rng.random() < 0.3:
            text += ","
    return text + rng.choice(BLANKS + ["\n"]) + "]"


def _statement(rng: random.Random) -> str:
    op = "+=" if rng.random() < 0.25 else "="
    return (rng.choice(BLANKS) + rng.choice(KEYS) + rng.choice(BLANKS) + op
            + rng.choice(BLANKS) + _value(rng) + rng.choice(BLANKS))


def valid_ish(rng: random.Random) -> str:
    """A text from the grammar; it can still fail (bad escapes, += of mixed kinds)."""
    parts = []
    for _ in range(rng.randrange(1, 7)):
        roll = rng.random()
        if roll < 0.1:
            parts.append("# " + rng.choice(["comment", "x = 1", "\"'", "é"]) + "\n")
        elif roll < 0.15:
            parts.append(rng.choice(["\n", ";", " \n"]))
        else:
            parts.append(_statement(rng) + rng.choice(ENDINGS))
    text = "".join(parts)
    if rng.random() < 0.3:  # the last statement without its terminator
        text = text.rstrip("\n;# acomment")
    return text


def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randrange(1, 4)):
        at = rng.randrange(len(text) + 1)
        roll = rng.random()
        if roll < 0.6:
            text = text[:at] + rng.choice(MUTATIONS) + text[at:]
        elif roll < 0.8:
            text = text[:at] + text[at + rng.randrange(1, 4):]
        else:
            text = text + rng.choice(["#", "# c", "@", "é", "\udcff", ";", ",", "["])
    return text


def noise(rng: random.Random) -> str:
    alphabet = "ab1 =+[],;'\"#\n\\\t@-"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))


def texts(seed: int, count: int) -> list[str]:
    """count texts: half from the grammar, four in ten mutated, one in ten noise."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        kind = i % 10
        if kind < 5:
            out.append(valid_ish(rng))
        elif kind < 9:
            out.append(mutate(rng, valid_ish(rng)))
        else:
            out.append(noise(rng))
    return out
