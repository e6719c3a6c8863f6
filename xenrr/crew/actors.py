"""The actor id space: vCPUs count up from 0, DMA devices from ACTOR_DEVICE_BASE.

A DMA device takes part in CREW like a vCPU (seeds/001 slide 15; sim/devices.py),
so both kinds of actor share one id space in events and constraints, the one
the trace format defines (xenrr.formats.enums, spec "Actors").
"""

from xenrr.formats.enums import ACTOR_DEVICE_BASE


def device_actor(index: int) -> int:
    return ACTOR_DEVICE_BASE + index


def actor_name(actor: int) -> str:
    if actor >= ACTOR_DEVICE_BASE:
        return f"device {actor - ACTOR_DEVICE_BASE}"
    return f"vCPU {actor}"
