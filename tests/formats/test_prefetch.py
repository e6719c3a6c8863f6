"""The prefetcher: predicted offsets are examined ahead, a miss drops them, errors reach the caller."""

import threading

import pytest

from xenrr.errors import TraceError
from xenrr.formats.prefetch import Prefetcher

STEP = 10
END = 100


class Chain:
    """Chunks every STEP bytes up to END; records which offsets were examined, from which thread."""

    def __init__(self):
        self.examined = []
        self.threads = set()
        self.lock = threading.Lock()

    def examine(self, offset):
        with self.lock:
            self.examined.append(offset)
            self.threads.add(threading.current_thread().name)
        if offset == 666:
            raise TraceError("cannot read at 666")
        return f"chunk at {offset}"

    @staticmethod
    def peek(offset):
        return (4, offset + STEP) if offset < END else None


def test_predicted_offsets_are_examined_ahead_in_workers():
    chain = Chain()
    ahead = Prefetcher(chain.examine, chain.peek, workers=2, ahead=8)
    try:
        assert [ahead.at(offset) for offset in range(0, END, STEP)] == [
            f"chunk at {offset}" for offset in range(0, END, STEP)]
    finally:
        ahead.close()
    assert sorted(chain.examined) == list(range(0, END, STEP))  # each once, none past the end
    assert chain.threads and all(name.startswith("xenrr-read") for name in chain.threads)


def test_an_offset_not_predicted_drops_the_predictions():
    chain = Chain()
    ahead = Prefetcher(chain.examine, chain.peek, workers=1, ahead=12)
    try:
        assert ahead.at(0) == "chunk at 0"
        assert ahead.at(45) == "chunk at 45"   # resynchronised: 10, 20, 30 were predicted
        assert ahead.at(55) == "chunk at 55"   # predicted from 45 on
    finally:
        ahead.close()
    assert chain.examined.count(55) == 1 and 45 in chain.examined


def test_errors_reach_the_caller():
    chain = Chain()
    ahead = Prefetcher(chain.examine, chain.peek, workers=2, ahead=8)
    try:
        with pytest.raises(TraceError, match="cannot read at 666"):
            ahead.at(666)
    finally:
        ahead.close()


def test_after_close_it_examines_in_the_callers_thread():
    chain = Chain()
    ahead = Prefetcher(chain.examine, chain.peek, workers=2, ahead=8)
    ahead.at(0)
    ahead.close()
    chain.threads.clear()
    assert ahead.at(50) == "chunk at 50"
    assert chain.threads == {threading.current_thread().name}
    assert not [t for t in threading.enumerate() if t.name.startswith("xenrr-read")]


@pytest.mark.parametrize("ahead, submitted", [(8, [10, 20]), (11, [10, 20]), (12, [10, 20, 30]),
                                              (1, [10])])
def test_chunks_ahead_stay_within_the_budget_but_one_always_goes(ahead, submitted):
    chain = Chain()   # 4 raw bytes a chunk
    prefetcher = Prefetcher(chain.examine, chain.peek, workers=1, ahead=ahead)
    try:
        prefetcher.at(0)
        assert [offset for offset, _, _ in prefetcher._pending] == submitted
    finally:
        prefetcher.close()
