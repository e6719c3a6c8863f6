"""Random model programs for the property tests: 2 to 8 vCPUs, up to two DMA devices.

Actors read and write two words of each of three frames; every write stores
a value no other write stores, so a read that sees another write shows.
"""

import itertools

from hypothesis import strategies as st

from xenrr.crew.sim.devices import Device
from xenrr.crew.sim.program import Read, Sync, Write
from xenrr.crew.sim.recording import Actor, Recorder, Recording, Vcpu

access = st.tuples(st.sampled_from(["read", "write"]), st.integers(0, 2), st.integers(0, 1))
vcpu_programs = st.lists(st.lists(access | st.just(("sync", 0, 0)), max_size=10),
                         min_size=2, max_size=8)
device_programs = st.lists(st.lists(st.lists(access, min_size=1, max_size=3), max_size=3),
                           max_size=2)


def build(vcpus, devices) -> list[Actor]:
    values = itertools.count(1)

    def op(kind, frame, word):
        if kind == "read":
            return Read(frame, word)
        if kind == "write":
            return Write(frame, word, next(values))
        return Sync()

    return ([Vcpu(v, [op(*spec) for spec in ops]) for v, ops in enumerate(vcpus)]
            + [Device(d, [[op(*spec) for spec in tx] for tx in txs])
               for d, txs in enumerate(devices)])


@st.composite
def recordings(draw) -> Recording:
    """A random program recorded under a random interleaving."""
    actors = build(draw(vcpu_programs), draw(device_programs))
    return Recorder(actors).run(draw(st.randoms(use_true_random=False)).choice)
