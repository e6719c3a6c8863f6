"""Xen's own libxlutil.so, driven through cffi (ABI mode), as the reference parser.

For tests only: xenrr never loads it. Parsing goes through the public API
(xlu_cfg_init, xlu_cfg_readdata, xlu_cfg_destroy); values are read through
the public accessors (xlu_cfg_value_type, xlu_cfg_value_get_string/_list,
xlu_cfg_get_listitem2). Only the list of settings needs libxlu's internals:
struct XLU_Config and XLU_ConfigSetting from libxlu_internal.h of Xen 4.17.
Every layout assumption is checked against the public API on each parse
(the report stream and source name stored in XLU_Config, the newest setting
of each name against xlu_cfg_get_string/xlu_cfg_get_list), so a library
with another layout raises LayoutError instead of giving wrong answers.
"""

import ctypes.util
import glob
import re
from dataclasses import dataclass

import cffi

LIBRARY_GLOB = "/usr/lib/*/libxlutil.so.4.17"

# libxlu_internal.h, Xen 4.17; both enums are int-sized on x86-64.
STRUCTS = """
typedef struct XLU_ConfigSetting {
    struct XLU_ConfigSetting *next;
    char *name;
    XLU_ConfigValue *value;
    int op;          /* enum XLU_Operation */
    int lineno;
} XLU_ConfigSetting;

struct XLU_Config {
    XLU_ConfigSetting *settings;
    FILE *report;
    char *config_source;
};
"""

_DECLARATIONS = """
FILE *fopen(const char *path, const char *mode);
int fclose(FILE *stream);

typedef struct XLU_Config XLU_Config;
typedef struct XLU_ConfigList XLU_ConfigList;
typedef struct XLU_ConfigValue XLU_ConfigValue;
"""

_FUNCTIONS = """
XLU_Config *xlu_cfg_init(FILE *report, const char *report_filename);
int xlu_cfg_readdata(XLU_Config *cfg, const char *data, int length);
void xlu_cfg_destroy(XLU_Config *cfg);
int xlu_cfg_get_string(const XLU_Config *cfg, const char *n, const char **value_r,
                       int dont_warn);
int xlu_cfg_get_list(const XLU_Config *cfg, const char *n, XLU_ConfigList **list_r,
                     int *entries_r, int dont_warn);
int xlu_cfg_value_type(const XLU_ConfigValue *value);   /* enum XLU_ConfigValueType */
int xlu_cfg_value_get_string(const XLU_Config *cfg, XLU_ConfigValue *value,
                             char **value_r, int dont_warn);
int xlu_cfg_value_get_list(const XLU_Config *cfg, XLU_ConfigValue *value,
                           XLU_ConfigList **value_r, int dont_warn);
XLU_ConfigValue *xlu_cfg_get_listitem2(const XLU_ConfigList *list, int entry);
"""

XLU_STRING, XLU_LIST = 0, 1  # enum XLU_ConfigValueType (libxlutil.h)
_IDENT = re.compile(r"[a-z][._0-9a-z]*\Z")
SOURCE = "xenrr-differential"


class LayoutError(AssertionError):
    """libxlutil's structs are not laid out as this module declares them."""


@dataclass(frozen=True)
class Result:
    """What libxlu made of a text: ok, and for each key (value, op, lineno)."""

    ok: bool
    rc: int
    settings: dict


def find_library() -> str | None:
    paths = sorted(glob.glob(LIBRARY_GLOB))
    return paths[0] if paths else None


class Libxlu:
    """One loaded libxlutil with a report stream to /dev/null (its messages are not compared)."""

    def __init__(self, path: str, structs: str = STRUCTS):
        self.ffi = cffi.FFI()
        self.ffi.cdef(_DECLARATIONS + structs + _FUNCTIONS)
        self.lib = self.ffi.dlopen(path)
        self.libc = self.ffi.dlopen(ctypes.util.find_library("c"))
        self.report = self.libc.fopen(b"/dev/null", b"w")
        if self.report == self.ffi.NULL:
            raise OSError("fopen(/dev/null) failed")

    def close(self) -> None:
        self.libc.fclose(self.report)

    def parse(self, data: bytes) -> Result:
        cfg = self.lib.xlu_cfg_init(self.report, SOURCE.encode())
        if cfg == self.ffi.NULL:
            raise MemoryError("xlu_cfg_init")
        try:
            self._check_config(cfg)
            rc = self.lib.xlu_cfg_readdata(cfg, data, len(data))
            if rc:
                return Result(False, rc, {})
            return Result(True, 0, self._settings(cfg))
        finally:
            self.lib.xlu_cfg_destroy(cfg)

    def _check_config(self, cfg) -> None:
        config = self.ffi.cast("struct XLU_Config *", cfg)
        if (config.report != self.report or config.settings != self.ffi.NULL
                or self.ffi.string(config.config_source) != SOURCE.encode()):
            raise LayoutError("struct XLU_Config does not hold what xlu_cfg_init stored")

    def _settings(self, cfg) -> dict:
        """Each name's newest setting, names in order of first appearance."""
        chain = []
        setting = self.ffi.cast("struct XLU_Config *", cfg).settings
        while setting != self.ffi.NULL:
            chain.append(setting)
            setting = setting.next
        newest = {}
        for setting in chain:  # newest first, as libxlu's find() walks them
            name = self.ffi.string(setting.name).decode()
            if not _IDENT.match(name) or setting.op not in (0, 1) or setting.lineno < 1:
                raise LayoutError(f"implausible XLU_ConfigSetting: {name!r} op={setting.op} "
                                  f"lineno={setting.lineno}")
            if name not in newest:
                newest[name] = setting
        order = []
        for setting in reversed(chain):
            name = self.ffi.string(setting.name).decode()
            if name not in order:
                order.append(name)
        out = {}
        for name in order:
            setting = newest[name]
            value = self._value(cfg, setting.value)
            self._check_lookup(cfg, name, setting.value, value)
            out[name] = (value, setting.op, setting.lineno)
        return out

    def _value(self, cfg, value):
        kind = self.lib.xlu_cfg_value_type(value)
        if kind == XLU_STRING:
            text = self.ffi.new("char **")
            if self.lib.xlu_cfg_value_get_string(cfg, value, text, 1):
                raise LayoutError("a string value is not a string")
            return self.ffi.string(text[0]).decode("utf-8", "surrogateescape")
        if kind == XLU_LIST:
            items = self.ffi.new("XLU_ConfigList **")
            if self.lib.xlu_cfg_value_get_list(cfg, value, items, 1):
                raise LayoutError("a list value is not a list")
            out = []
            while (item := self.lib.xlu_cfg_get_listitem2(items[0], len(out))) != self.ffi.NULL:
                out.append(self._value(cfg, item))
            return tuple(out)
        raise LayoutError(f"value type {kind} is neither XLU_STRING nor XLU_LIST")

    def _check_lookup(self, cfg, name: str, raw, value) -> None:
        """The public lookup by name must find the very value read from the struct."""
        key = name.encode()
        if isinstance(value, str):
            text = self.ffi.new("char **")
            found = self.lib.xlu_cfg_value_get_string(cfg, raw, text, 1)
            public = self.ffi.new("const char **")
            if found or self.lib.xlu_cfg_get_string(cfg, key, public, 1) or public[0] != text[0]:
                raise LayoutError(f"xlu_cfg_get_string({name!r}) disagrees with the settings list")
        else:
            ours = self.ffi.new("XLU_ConfigList **")
            public = self.ffi.new("XLU_ConfigList **")
            entries = self.ffi.new("int *")
            self.lib.xlu_cfg_value_get_list(cfg, raw, ours, 1)
            if (self.lib.xlu_cfg_get_list(cfg, key, public, entries, 1) or public[0] != ours[0]
                    or entries[0] != len(value)):
                raise LayoutError(f"xlu_cfg_get_list({name!r}) disagrees with the settings list")
