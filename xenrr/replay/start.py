"""The replayed domain's start: built from CONFIG on the recorded frames, then proven identical.

Before the guest's first instruction replay must hold what the recording
held: the same frames at the same pfns, each with the same bytes, every
vCPU's registers the same (rrdomain/start.py reads both). Frames the
builder did not write hold what they last held, which differs from one
run to the next, so those get the recorded bytes back first. Any
difference left is reported and the domain destroyed; nothing runs.
"""

from xenrr.domains import Domain, destroy
from xenrr.domconfig import DomainConfig
from xenrr.errors import TraceError, XenrrError
from xenrr.formats import TraceHeader, TraceReader
from xenrr.hypercalls.privcmd import Privcmd
from xenrr.replay.config import check_config
from xenrr.replay.frames import create_on_recorded_frames
from xenrr.formats.startstate import StartState, trace_start
from xenrr.rrdomain.start import differences, read_start, write_contents


class StartMismatchError(XenrrError):
    """The domain built for replay does not start as the recorded one did."""


def recorded_start(reader: TraceReader) -> tuple[TraceHeader, StartState]:
    """The trace's header and start state, which lead the trace."""
    header = reader.header
    if header is None:
        raise TraceError(f"{reader.path}: no trace header: the trace cannot be replayed")
    start = trace_start(reader)
    if start is None:
        raise TraceError(f"{reader.path}: the trace has no start state (StartFrames records): "
                         "it cannot be replayed")
    if len(start.contexts) != header.vcpus:
        raise TraceError(f"{reader.path}: the start state has {len(start.contexts)} vCPU "
                         f"contexts for {header.vcpus} vCPUs")
    return header, start


def build_replay_domain(privcmd: Privcmd, config: DomainConfig,
                        reader: TraceReader) -> tuple[Domain, StartState]:
    """The domain CONFIG describes, paused at a start identical to the trace's."""
    header, recorded = recorded_start(reader)
    check_config(header, config)
    domain = create_on_recorded_frames(privcmd, config, recorded.mfns, recorded.shared_info)
    try:
        found = write_contents(privcmd, domain.domid, recorded,
                               read_start(privcmd, domain.domid, header.vcpus))
        diffs = differences(recorded, found)
        if diffs:
            raise StartMismatchError("the domain built for replay does not start as the "
                                     f"recorded one did: {'; '.join(diffs)}")
    except BaseException:
        destroy(domain.domid)
        raise
    return domain, recorded
