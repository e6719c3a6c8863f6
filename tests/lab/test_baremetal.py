"""The PMU test kernel's build key, command line and result lines (no QEMU)."""

from pathlib import Path

from xenrr.lab.baremetal import builder
from xenrr.lab.baremetal.run import argv, records


def test_result_lines_become_records_with_ints():
    text = ("SeaBIOS noise\r\npmu-test start\r\n"
            "count routine=jcc cpl=0x3 n=0x3e8 got=0x3e8\r\n"
            "pmi lvt=nmi cpl=0x0 k=0x1 pmis=0x1\n"
            "pmu-test done\n")
    assert records(text) == [
        {"kind": "count", "routine": "jcc", "cpl": 3, "n": 1000, "got": 1000},
        {"kind": "pmi", "lvt": "nmi", "cpl": 0, "k": 1, "pmis": 1},
    ]


def test_the_kernel_boots_on_the_labs_machine_with_the_cpu_options():
    cmd = argv(Path("/q"), Path("/k.elf"), "ks=1 margin=64", Path("/s.log"), "pmu-skid=8")
    assert cmd[cmd.index("-machine") + 1] == "q35"
    assert cmd[cmd.index("-accel") + 1] == "tcg,thread=multi"
    assert cmd[cmd.index("-cpu") + 1] == "max,-smap,pmu-skid=8"
    assert cmd[cmd.index("-kernel") + 1:] == ["/k.elf", "-append", "ks=1 margin=64"]
    assert "isa-debug-exit,iobase=0xf4,iosize=0x04" in cmd
    plain = argv(Path("/q"), Path("/k.elf"), "", Path("/s.log"))
    assert plain[plain.index("-cpu") + 1] == "max,-smap"


def test_the_build_key_follows_the_sources(tmp_path, monkeypatch):
    guest = tmp_path / "guest"
    guest.mkdir()
    (guest / "main.c").write_text("int x;\n")
    monkeypatch.setattr(builder, "GUEST_DIR", guest)
    before = builder.build_key("gcc")
    (guest / "main.c").write_text("int y;\n")
    assert builder.build_key("gcc") != before


def test_the_kernel_builds(tmp_path, monkeypatch):
    monkeypatch.setenv("XENRR_CACHE", str(tmp_path))
    elf = builder.build()
    assert elf.read_bytes()[:5] == b"\x7fELF\x01"     # 32-bit: QEMU's multiboot takes no other
    assert builder.build() == elf
