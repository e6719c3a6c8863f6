"""dma.Device: a DMA transaction as a non-preemptible CREW actor (seeds/001 slide 15)."""

from xenrr.crew.sim.devices import Device, frames_of
from xenrr.crew.actors import device_actor
from xenrr.crew.checker import check
from xenrr.crew.protocol import Access, Constraint, CrewEvent
from xenrr.crew.sim.program import Read, Sync, Write
from xenrr.crew.sim.recording import Recorder, Vcpu, scripted
from xenrr.crew.sim.replaying import replay

N, R, W = Access.NONE, Access.READ, Access.WRITE
X, Y = 0x10, 0x11
E, C = CrewEvent, Constraint
DEV = device_actor(0)


def test_a_transaction_takes_all_its_frames_at_its_position():
    rec = Recorder([Device(0, [[Write(Y, 0, 6), Write(X, 0, 5), Read(Y, 0)]]),
                    Vcpu(0, [Read(X, 0)])]).run(scripted([DEV, 0]))
    assert rec.log == [E(DEV, X, N, W, 0), E(DEV, Y, N, W, 0),
                       E(DEV, X, W, R, 1), C(DEV, 1, 0, 1), E(0, X, N, R, 1)]
    assert rec.reads == {DEV: [6], 0: [5]}
    check(rec.log)


def test_a_transaction_waits_for_its_frames_and_is_not_preempted():
    # The device's second transaction needs X, which vCPU 0 holds while it
    # runs; meanwhile vCPU 1 asks for Y, which the device wrote in its first
    # transaction. The device gives Y up only after the transaction, at 2.
    rec = Recorder([Device(0, [[Write(Y, 0, 5)], [Write(X, 0, 6)]]),
                    Vcpu(0, [Write(X, 0, 1), Read(X, 0), Sync()]),
                    Vcpu(1, [Read(Y, 0)])]).run(scripted([0, DEV, DEV, 1, 0, 0, DEV, 1]))
    assert rec.log == [
        E(0, X, N, W, 1), E(DEV, Y, N, W, 0),
        E(0, X, W, N, 2), C(0, 2, DEV, 1), E(DEV, X, N, W, 1),
        E(DEV, Y, W, R, 2), C(DEV, 2, 1, 1), E(1, Y, N, R, 1)]
    assert rec.streams[DEV] == [[Write(Y, 0, 5)], [Write(X, 0, 6)], []]
    check(rec.log)
    device_first, vcpus_first = max, min  # device ids are above every vCPU id
    for choose in device_first, vcpus_first:
        replayed = replay(rec.streams, rec.constraints, choose)
        assert replayed.reads == rec.reads == {DEV: [], 0: [1], 1: [5]}
        assert replayed.memory == rec.memory == {(X, 0): 6, (Y, 0): 5}


def test_a_device_without_transactions_is_done_at_position_zero():
    device = Device(3, [])
    assert (device.id, device.done, device.position) == (device_actor(3), True, 0)
    assert frames_of([Write(Y, 1, 1), Read(X, 0), Read(Y, 0)]) == [X, Y]
