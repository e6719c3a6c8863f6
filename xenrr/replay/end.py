"""The replayed domain's end, compared with the state its recording ended in.

Every crew_event applied at its position is not yet proof that the replay
was exact: a write CREW did not order, or a register that no position's
digest covered, shows only in the state the guest ends in. Once the
replayed guest has ended (and is still there), its frames and registers
are read as the recorder read them (rrdomain/end.py) and compared; a
difference is a divergence naming the pfns and registers.
"""

from xenrr.formats.endstate import EndState, end_differences, left_out_listed
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.replay.run import DivergenceError
from xenrr.rrdomain.end import read_end


def compare_end(privcmd: Privcmd, domid: int, recorded: EndState, ending: str) -> EndState:
    """The replayed domain's end state, which is the recorded one, or DivergenceError."""
    found = read_end(privcmd, domid, len(recorded.registers))
    diffs = end_differences(recorded, found)
    if diffs:
        raise DivergenceError(f"the guest ended ({ending}) but not in the state recorded: "
                              + "; ".join(diffs))
    return found


def final_digests(recorded: EndState, found: EndState) -> dict:
    """What `xenrr replay --json` says of the end: both states' digests, the frames left out."""
    return {"recorded": recorded.summary(), "replayed": found.summary(),
            "left_out": left_out_listed(found)}
