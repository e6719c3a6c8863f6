"""The state a recording ended in: frames' digests and every vCPU's registers (spec "end_frames").

A replay that applied every event at its position can still have gone
wrong in between (a write CREW did not order, a register the digests at
positions did not cover yet): the state it ends in tells. When the
recorded domain ends and is still there (shut down, kept by its config's
on_poweroff="preserve"), the recorder writes, just before end_of_trace,
end_frames records covering every pfn, then one end_registers per vCPU;
replay reads the same from the domain it replayed once that has ended, and
compares. Frames that Xen or a backend writes outside CREW (the console
and xenstore rings) are left out (digest 0) and named: CREW does not order
them, so their bytes are not the guest's alone until devices are logged.
"""

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from xenrr.formats.enums import INVALID_MFN
from xenrr.formats.errors import RecordError
from xenrr.formats.records import EndFrames, EndRegisters
from xenrr.formats.registers import REGISTERS, RFLAGS_KEPT, register_digest
from xenrr.formats.startstate import gather_start_frames, start_frames_records

LEFT_OUT = 0   # an end_frames digest: the frame is there, its bytes not compared


@dataclass(frozen=True)
class EndState:
    """A domain's state when it ended: what a replay must end in too."""

    mfns: tuple[int, ...]       # by pfn; INVALID_MFN where the domain has none
    digests: tuple[int, ...]    # by pfn: frame_digest of its bytes; LEFT_OUT, or 0 where none
    registers: tuple[Mapping[str, int] | None, ...]  # by vCPU: REGISTERS; None if it was down
    left_out: Mapping[int, str]  # by pfn: the frames left out, and what they are

    def records(self) -> list:
        """What the trace keeps of it, in trace order."""
        return [*start_frames_records(self.mfns, self.digests, cls=EndFrames),
                *(EndRegisters(vcpu=v, up=int(r is not None),
                               **{name: _kept(name, (r or {}).get(name, 0)) for name in REGISTERS})
                  for v, r in enumerate(self.registers))]

    def memory_digest(self) -> int:
        """One number for the memory compared: BLAKE2b (8 bytes) of the compared pfns' digests."""
        h = hashlib.blake2b(digest_size=8)
        for pfn, (mfn, digest) in enumerate(zip(self.mfns, self.digests)):
            if mfn != INVALID_MFN and pfn not in self.left_out:
                h.update(pfn.to_bytes(8, "little") + digest.to_bytes(8, "little"))
        return int.from_bytes(h.digest(), "little")

    def summary(self) -> dict:
        """The final digests `xenrr replay --json` prints: memory, and each vCPU's registers."""
        return {"memory": f"{self.memory_digest():#018x}",
                "registers": {str(v): None if r is None else f"{register_digest(r):#018x}"
                              for v, r in enumerate(self.registers)}}


def _kept(name: str, value: int) -> int:
    return value & RFLAGS_KEPT if name == "rflags" else value


def end_from_trace(records: Iterable) -> EndState | None:
    """The end state in a trace's end_frames and end_registers records; None if it has none."""
    frames, registers = [], {}
    for r in records:
        if isinstance(r, EndFrames):
            frames.append(r)
        elif isinstance(r, EndRegisters):
            registers[r.vcpu] = {name: getattr(r, name) for name in REGISTERS} if r.up else None
    if not frames:
        return None
    mfns, digests = gather_start_frames(frames)
    if sorted(registers) != list(range(len(registers))):
        raise RecordError(f"end_registers: for vCPUs {sorted(registers)}, not 0 to "
                          f"{len(registers) - 1}")
    left_out = {p: "left out when recorded" for p, (m, d) in enumerate(zip(mfns, digests))
                if m != INVALID_MFN and d == LEFT_OUT}
    return EndState(tuple(mfns), tuple(digests), tuple(registers[v] for v in sorted(registers)),
                    left_out)


def trace_end(reader) -> EndState | None:
    """The end state a trace closes with, or None if the recording kept none."""
    return end_from_trace(reader.records(frozenset({EndFrames.TYPE, EndRegisters.TYPE})))


def end_differences(recorded: EndState, found: EndState, shown: int = 8) -> list[str]:
    """Where `found` does not end as `recorded` did, one line each."""
    out = []
    if recorded.mfns != found.mfns:
        out.append("the frames by pfn are not those the recording ended with")
    changed = [p for p, (a, b) in enumerate(zip(recorded.digests, found.digests))
               if a != b and p not in recorded.left_out and p not in found.left_out]
    if changed:
        more = f" and {len(changed) - shown} more" if len(changed) > shown else ""
        out.append(f"frame contents differ at {len(changed)} pfns: "
                   + "; ".join(f"pfn {p:#x} (mfn {found.mfns[p]:#x})" for p in changed[:shown])
                   + more)
    for v, (a, b) in enumerate(zip(recorded.registers, found.registers)):
        if (a is None) != (b is None):
            out.append(f"vCPU {v} is {'down' if b is None else 'up'}, was "
                       f"{'down' if a is None else 'up'}")
        elif a is not None:
            wrong = [n for n in REGISTERS if _kept(n, a[n]) != _kept(n, b[n])]
            if wrong:
                out.append(f"vCPU {v}'s " + ", ".join(
                    f"{n} is {_kept(n, b[n]):#x} (recorded {_kept(n, a[n]):#x})"
                    for n in wrong[:4]) + (f" and {len(wrong) - 4} more" if len(wrong) > 4 else ""))
    if len(recorded.registers) != len(found.registers):
        out.append(f"{len(found.registers)} vCPUs, the recording ended with "
                   f"{len(recorded.registers)}")
    return out


def left_out_listed(state: EndState) -> list[dict]:
    """The frames left out, for a report: pfn, mfn and what they are."""
    return [{"pfn": p, "mfn": state.mfns[p], "what": what}
            for p, what in sorted(state.left_out.items())]
