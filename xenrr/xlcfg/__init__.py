"""xl domain configuration files, read exactly as Xen 4.17's libxlu reads them.

xenrr takes the same files and the same `KEY=VALUE` arguments as `xl create`
(issue 8), so it has to accept what xl accepts, reject what xl rejects and
see the same values. The modules follow libxlu's own layering:

    lexer.py      libxlu_cfg_l.l: tokens          strings.py   xlu__cfgl_dequote
    parser.py     libxlu_cfg_y.y: statements      model.py     the settings it keeps
    overrides.py  xl create's KEY=VALUE           loader.py    files on disk
    keys.py       the keys xl_parse.c reads       typos.py     keys xl would ignore

tests/xlcfg/ checks the lot against libxlutil.so itself. Errors are
ConfigSyntaxError ("file:line:column: expected ..."), a ConfigError.
"""

from xenrr.xlcfg.errors import ConfigSyntaxError
from xenrr.xlcfg.loader import load
from xenrr.xlcfg.model import Op, Setting, Value, XlConfig
from xenrr.xlcfg.overrides import parse_with_overrides, with_overrides
from xenrr.xlcfg.parser import parse
from xenrr.xlcfg.typos import UnknownKey, unknown_keys

__all__ = ["ConfigSyntaxError", "Op", "Setting", "UnknownKey", "Value", "XlConfig", "load",
           "parse", "parse_with_overrides", "unknown_keys", "with_overrides"]
