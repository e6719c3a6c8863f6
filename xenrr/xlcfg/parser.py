"""The grammar of xl configuration files, as libxlu's bison parser reads it.

Mirrors tools/libs/util/libxlu_cfg_y.y and xlu__cfg_set_store (libxlu_cfg.c)
of Xen 4.17:

    file       = { [assignment] endstmt } [assignment] EOF
    assignment = IDENT ("=" | "+=") value
    endstmt    = NEWLINE | ";"
    value      = STRING | NUMBER | "[" nl [ value nl { "," nl value nl } [ "," nl ] ] "]"
    nl         = { NEWLINE }

libxlu recovers from a syntax error only to report more of them: any error
rejects the whole file, so this parser stops at the first. It asks the lexer
for a token only when the grammar needs one, as bison does, so the first
error it reports is the first one libxlu reports. A setting is stored when
its value ends, before the token after it is read; a += of a list onto a
string (or the reverse) is an error there, as in xlu__cfg_concat_vals.
"""

from xenrr.xlcfg.errors import ConfigSyntaxError
from xenrr.xlcfg.lexer import Kind, Token, tokenize
from xenrr.xlcfg.model import Op, Setting, Value, XlConfig

_ENDSTMT = (Kind.NEWLINE, Kind.SEMICOLON)
_OPS = {Kind.ASSIGN: Op.ASSIGN, Kind.ADD: Op.ADD}


def parse(text: str, source: str = "<string>") -> XlConfig:
    """Parse the text of an xl configuration; source names it in errors."""
    return _Parser(text, source).file()


class _Parser:
    def __init__(self, text: str, source: str):
        self._source = source
        self._tokens = tokenize(text, source)
        self._next: Token | None = None
        self._settings: dict[str, Setting] = {}

    def _peek(self) -> Token:
        if self._next is None:
            self._next = next(self._tokens)
        return self._next

    def _take(self) -> Token:
        token = self._peek()
        self._next = None
        return token

    def _fail(self, expected: str, hint: str = "") -> ConfigSyntaxError:
        token = self._peek()
        return ConfigSyntaxError(self._source, token.line, token.column,
                                 f"expected {expected}, found {token.describe()}{hint}")

    def _skip_newlines(self) -> None:
        while self._peek().kind is Kind.NEWLINE:
            self._take()

    def file(self) -> XlConfig:
        while self._peek().kind is not Kind.EOF:
            if self._peek().kind in _ENDSTMT:
                self._take()
                continue
            if self._peek().kind is not Kind.IDENT:
                raise self._fail("a setting name at the start of a statement")
            key = self._assignment()
            if self._peek().kind in _ENDSTMT:
                self._take()
            elif self._peek().kind is not Kind.EOF:
                raise self._fail(f"';' or a new line after the value of '{key}'")
        return XlConfig(self._source, self._settings.values())

    def _assignment(self) -> str:
        key = self._take()
        if self._peek().kind not in _OPS:
            raise self._fail(f"'=' or '+=' after '{key.value}'")
        op = self._take()
        value = self._value(f"after {op.kind.value}")
        self._store(key, op, value)
        return key.value

    def _value(self, where: str) -> Value:
        token = self._peek()
        if token.kind in (Kind.STRING, Kind.NUMBER):
            return self._take().value
        if token.kind is Kind.OPEN:
            return self._list()
        hint = " (strings must be quoted)" if token.kind is Kind.IDENT else ""
        raise self._fail(f"a value {where}", hint)

    def _list(self) -> tuple[Value, ...]:
        self._take()
        items: list[Value] = []
        where = "or ']' after '['"
        while True:
            self._skip_newlines()
            if self._peek().kind is Kind.CLOSE:
                self._take()
                return tuple(items)
            items.append(self._value(where))
            self._skip_newlines()
            if self._peek().kind is Kind.CLOSE:
                self._take()
                return tuple(items)
            if self._peek().kind is not Kind.COMMA:
                raise self._fail("',' or ']' after a list item")
            self._take()
            where = "or ']' after ','"

    def _store(self, key: Token, op: Token, value: Value) -> None:
        previous = self._settings.get(key.value)
        if op.kind is Kind.ADD and previous is not None:
            if isinstance(previous.value, str) != isinstance(value, str):
                raise ConfigSyntaxError(
                    self._source, op.line, op.column,
                    f"cannot add {_kind(value)} to '{key.value}', which holds "
                    f"{_kind(previous.value)} (set on line {previous.line})")
            value = previous.value + value
        self._settings[key.value] = Setting(key.value, value, _OPS[op.kind], key.line,
                                            key.column)


def _kind(value: Value) -> str:
    return "a string" if isinstance(value, str) else "a list"
