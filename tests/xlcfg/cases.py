"""Hand-picked texts on the edges of libxlu's grammar, with what xl makes of them.

test_parser.py checks xlcfg.parse against these expectations and
test_differential.py checks libxlutil.so agrees with them, so each
expectation here is libxlu's own behaviour, not a guess.
"""

SOURCE = "guest.cfg"

# (text, the values xl sees)
ACCEPTED = [
    ("", {}),
    ("# only a comment\n", {}),
    (";;\n;\n\n", {}),
    ("memory = 512\n", {"memory": "512"}),
    ('name = "guest"', {"name": "guest"}),
    ("name = 'guest'\n", {"name": "guest"}),
    ("a = 1; b = 2;c=3 ;", {"a": "1", "b": "2", "c": "3"}),
    ("x\t=\t1\n", {"x": "1"}),
    # numbers are kept as their text, and a quoted number is the same value
    ("x = 0x1f\ny = 1e5\nz = 09\nw = 0abc\n", {"x": "0x1f", "y": "1e5", "z": "09", "w": "0abc"}),
    ('x = "512"\ny = 512\n', {"x": "512", "y": "512"}),
    ("vif.default.script = 'vif-bridge'\nk_9.a = 1\n",
     {"vif.default.script": "vif-bridge", "k_9.a": "1"}),
    # lists: empty, nested, over lines, with a trailing comma
    ("disk = [ 'a', 'b', ]\n", {"disk": ("a", "b")}),
    ("disk = [\n  'a',\n\n  'b'\n]\n", {"disk": ("a", "b")}),
    ("x = []\ny = [\n]\n", {"x": (), "y": ()}),
    ("x = [[1, [2]], [], '3']\n", {"x": (("1", ("2",)), (), "3")}),
    ("x = [\n1\n,\n2\n,\n]", {"x": ("1", "2")}),
    # the last assignment wins; keys stay where they first appeared
    ("a = 1\nb = 2\na = 3\n", {"a": "3", "b": "2"}),
    ('extra = "a"\nextra += " b"\n', {"extra": "a b"}),
    ("x = [1]\nx += [2, [3]]\n", {"x": ("1", "2", ("3",))}),
    ("x = 1\nx = [1]\n", {"x": ("1",)}),
    ('x += "a"\n', {"x": "a"}),
    # escapes
    (r"""x = "\"q\" \'s\' \\ \a\b\f\n\r\t\v" """,
     {"x": "\"q\" 's' \\ \a\b\f\n\r\t\v"}),
    (r"""x = 'it\'s "fine"'""", {"x": 'it\'s "fine"'}),
    # libxlu reads an octal escape and then forgets to store it
    (r'x = "a\0123b"', {"x": "ab"}),
    (r'x = "a\1 2b"', {"x": "ab"}),
    (r'x = "\7+9"', {"x": ""}),
    ('x = "<\\7\t 5>"', {"x": "<>"}),
    (r'x = "\799"', {"x": ""}),
    (r'x = "\0-1"', {"x": ""}),
    ('x = "a # not a comment ; [x]"\n', {"x": "a # not a comment ; [x]"}),
    ("x = 1 # a comment\n# another\n", {"x": "1"}),
    ("# \"quotes\" and [brackets] = 1\nx = 1\n", {"x": "1"}),
    ("x = 'é'\n# é\n", {"x": "é"}),
    # one bad byte at the very end is dropped unread
    ("x = 1\n#", {"x": "1"}),
    ("x = 1 @", {"x": "1"}),
    ("x = 1\n\udcff", {"x": "1"}),
]

# (text, the one-line error) for texts libxlu rejects
REJECTED = [
    ("x = ", "guest.cfg:1:5: expected a value after '=', found end of file"),
    ("x =\n1\n", "guest.cfg:1:4: expected a value after '=', found end of line"),
    ("x += ;", "guest.cfg:1:6: expected a value after '+=', found ';'"),
    ("kernel = vmlinuz\n",
     "guest.cfg:1:10: expected a value after '=', found name 'vmlinuz' (strings must be quoted)"),
    ("x = 1 2\n",
     "guest.cfg:1:7: expected ';' or a new line after the value of 'x', found number '2'"),
    ("x = 'a' 'b'\n",
     "guest.cfg:1:9: expected ';' or a new line after the value of 'x', found string 'b'"),
    ("x = [1]]\n",
     "guest.cfg:1:8: expected ';' or a new line after the value of 'x', found ']'"),
    ("x 1\n", "guest.cfg:1:3: expected '=' or '+=' after 'x', found number '1'"),
    ("x\n= 1\n", "guest.cfg:1:2: expected '=' or '+=' after 'x', found end of line"),
    ("1 = 2\n", "guest.cfg:1:1: expected a setting name at the start of a statement, "
                "found number '1'"),
    ("= 1\n", "guest.cfg:1:1: expected a setting name at the start of a statement, found '='"),
    ("x = ]\n", "guest.cfg:1:5: expected a value after '=', found ']'"),
    ("x = [1 2]\n", "guest.cfg:1:8: expected ',' or ']' after a list item, found number '2'"),
    ("x = [,]\n", "guest.cfg:1:6: expected a value or ']' after '[', found ','"),
    ("x = [1,,]\n", "guest.cfg:1:8: expected a value or ']' after ',', found ','"),
    ("x = [1\n", "guest.cfg:2:1: expected ',' or ']' after a list item, found end of file"),
    ("x = [a]\n",
     "guest.cfg:1:6: expected a value or ']' after '[', found name 'a' (strings must be quoted)"),
    ('x = "a"\nx += [1]\n',
     "guest.cfg:2:3: cannot add a list to 'x', which holds a string (set on line 1)"),
    ("x = [1]\nx += 'a'\n",
     "guest.cfg:2:3: cannot add a string to 'x', which holds a list (set on line 1)"),
    ("Memory = 1\n", "guest.cfg:1:1: unexpected character 'M' "
                     "(names are lower case and strings are quoted)"),
    ('x = "abc\n', 'guest.cfg:1:5: unterminated string: the closing " must be on the same line'),
    ("x = 'a\\\nb'\n",
     "guest.cfg:1:5: unterminated string: the closing ' must be on the same line"),
    ("x = 1\n# c", "guest.cfg:2:1: comment without a newline at the end of the file"),
    ("x = 1\r\n", "guest.cfg:1:6: carriage return: xl accepts only Unix (LF) line endings"),
    ("x = -1\n", "guest.cfg:1:5: unexpected character '-' (xl configuration files are not Python)"),
    ("x = 1.5\n", "guest.cfg:1:6: unexpected character '.' (xl configuration files are not Python)"),
    ("x = 1 @ ", "guest.cfg:1:7: unexpected character '@'"),
    ("x = 1 é", "guest.cfg:1:7: unexpected character 'é'"),
    ('x = "\\x41"\n', "guest.cfg:1:6: hex escape '\\x' in a quoted string: xl rejects every one"),
    ('x = "\\1"\n', "guest.cfg:1:6: octal escape '\\1' needs two more digits after it"),
    ('x = "\\1  "\n', "guest.cfg:1:6: octal escape '\\1' needs two more digits after it"),
    ('x = "ab\\q"\n',
     "guest.cfg:1:8: invalid escape in a quoted string: backslash followed by 'q'"),
    ('x = "a\\\tb"\n',
     "guest.cfg:1:7: invalid escape in a quoted string: backslash followed by '\\t'"),
]
