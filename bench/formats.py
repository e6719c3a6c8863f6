"""Trace file throughput: writing records, and `xenrr log stats` against plain LZ4.

Targets (issue 4): writing at least 1,000,000 records/s; `log stats` over a
trace of 1 GiB of raw records at no less than half the throughput of plain
LZ4 decompression of the same chunk bytes; `log stats` resident memory under
200 MB whatever the trace size.

The records are a recorder's hot mix: CREW events (80%), constraints (15%)
and rdtsc values (5%) of 4 vCPUs, interleaved in small runs, with positions
that grow, frames drawn from a working set and rips from a set of kernel
addresses, so that LZ4 sees realistic redundancy. Measured:

- write(): one record object per call (objects built beforehand, untimed);
- write_array(): the same records handed over as numpy arrays;
- lz4: lz4.block.decompress of every chunk block of the big trace (blocks
  read beforehand, untimed): the baseline;
- stats: xenrr.formats.scan.stats over the same file (reading, checksums,
  decompression and the numpy framing walk all timed) as `xenrr log stats`
  runs it, with the reader's prefetch threads (xenrr.formats.prefetch), in
  wall time and in CPU time of all threads; and again with workers=0,
  everything in one thread, beside reader.chunks() alone with workers=0
  (reading, checksums, decompression), which tells how the time splits
  between getting the records and counting them. The threads overlap only
  when a second core is free: compare the two lines, and the CPU time;
- lz4, chunks and both stats alternate three times, best of each;
- rss: `xenrr log stats --json` in a child process, its peak resident memory
  (VmHWM, as the child reports it).

Every reader sets the allocator policy of xenrr.formats.allocator (freed
chunk buffers are kept for the next chunk instead of being faulted in
again); lz4_seconds opens a reader before it measures anything, so the
baseline runs under the same policy.

XENRR_BENCH_TRACE_MB sets the size of the big trace (default 1024).
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lz4.block
import numpy as np

from xenrr.formats import (Constraint, CrewEvent, Durability, GuestType, Position, PositionMode,
                           Rdtsc, TraceHeader, TraceReader, TraceWriter, scan)
from xenrr.formats.fileformat import CHUNK_HEADER_STRUCT
from xenrr.formats.reader import default_workers

WRITE_TARGET = 1_000_000
SCAN_TARGET = 0.5
RSS_TARGET_MB = 200
VCPUS = 4
RUN = {CrewEvent: 32, Constraint: 6, Rdtsc: 2}   # records of each class per interleaved run
RUNS = 2048                                      # runs in one batch of templates
HEADER = TraceHeader(domid=1, vcpus=VCPUS, guest_type=GuestType.PV,
                     position_mode=PositionMode.SYNC_ENTRY, xenrr_interface=1, start_time=0,
                     name="bench", xen_version="4.17.5", config="")


def templates(rng: np.random.Generator) -> dict:
    """One batch of each class's records, positions counting from 0."""
    rips = np.uint64(0xFFFFFFFF81000000) + rng.integers(0, 1 << 22, 5000).astype(np.uint64)
    frames = np.uint64(0x10000) + rng.zipf(1.3, 1 << 16).astype(np.uint64) % np.uint64(20000)

    def positions(n):
        p = np.zeros(n, CrewEvent.LAYOUT.dtype["position"])
        p["count"] = np.cumsum(rng.integers(1, 40, n))
        p["rip"] = rng.choice(rips, n)
        return p

    out = {}
    n = RUNS * RUN[CrewEvent]
    crew = np.zeros(n, CrewEvent.LAYOUT.dtype)
    crew["vcpu"] = rng.integers(0, VCPUS, n)
    transitions = np.array([(1, 2), (2, 1), (0, 1), (1, 0), (2, 0), (0, 2)])
    crew["old_state"], crew["new_state"] = transitions[rng.integers(0, 6, n)].T
    crew["gfn"] = rng.choice(frames, n)
    crew["position"] = positions(n)
    out[CrewEvent] = crew
    n = RUNS * RUN[Constraint]
    cons = np.zeros(n, Constraint.LAYOUT.dtype)
    cons["vcpu"] = rng.integers(0, VCPUS, n)
    cons["after_vcpu"] = (cons["vcpu"] + rng.integers(1, VCPUS, n)) % VCPUS
    cons["position"], cons["after_position"] = positions(n), positions(n)
    out[Constraint] = cons
    n = RUNS * RUN[Rdtsc]
    tsc = np.zeros(n, Rdtsc.LAYOUT.dtype)
    tsc["vcpu"] = rng.integers(0, VCPUS, n)
    tsc["tsc"] = np.cumsum(rng.integers(1000, 100000, n))
    tsc["position"] = positions(n)
    out[Rdtsc] = tsc
    return out


def write_arrays(path: Path, batches: dict, raw_bytes: int) -> tuple[int, float]:
    """Write runs of each class until raw_bytes are written; (records, seconds)."""
    count = written = 0
    elapsed, shift = 0.0, 0
    batch_bytes = sum(len(array) * cls.CODEC.framed_size for cls, array in batches.items())
    w = TraceWriter(path, HEADER, Durability(fsync_bytes=None, fsync_seconds=None))
    while written < raw_bytes:
        shifted = {}
        for cls, array in batches.items():
            shifted[cls] = array.copy()
            for field in ("position", "after_position"):
                if field in array.dtype.names:
                    shifted[cls][field]["count"] += np.uint64(shift)
        start = time.perf_counter()
        for run in range(RUNS):
            for cls, per_run in RUN.items():
                w.write_array(cls, shifted[cls][run * per_run:(run + 1) * per_run])
        elapsed += time.perf_counter() - start
        count += RUNS * sum(RUN.values())
        written += batch_bytes
        shift += 1 << 20
    start = time.perf_counter()
    w.close()
    return count, elapsed + time.perf_counter() - start


def as_records(batches: dict) -> list:
    """The batch as record objects, interleaved as write_arrays interleaves them."""
    objects = {}
    for cls, array in batches.items():
        rows = array.tolist()
        if cls is CrewEvent:
            objects[cls] = [cls(v, o, n, g, Position(*p)) for v, o, n, g, p in rows]
        elif cls is Constraint:
            objects[cls] = [cls(v, a, Position(*p), Position(*q)) for v, a, p, q in rows]
        else:
            objects[cls] = [cls(v, aux, t, Position(*p)) for v, aux, t, p in rows]
    out = []
    for run in range(RUNS):
        for cls, per_run in RUN.items():
            out += objects[cls][run * per_run:(run + 1) * per_run]
    return out


def write_records(path: Path, records: list, total: int) -> float:
    """Seconds to write() total records (cycling through the list) and close."""
    w = TraceWriter(path, HEADER, Durability(fsync_bytes=None, fsync_seconds=None))
    write = w.write
    start = time.perf_counter()
    for _ in range(total // len(records)):
        for record in records:
            write(record)
    w.close()
    return time.perf_counter() - start


def wall(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def decompress_each(blocks) -> None:
    for block, size in blocks:
        lz4.block.decompress(block, uncompressed_size=size)


def lz4_seconds(path: Path) -> float:
    """Seconds to decompress every chunk block of the file, the blocks read untimed."""
    elapsed = 0.0
    blocks = []
    with open(path, "rb") as f, TraceReader(path) as r:
        end = r.footer.offset
        pos = f.seek(24)
        while pos < end:
            _, _, _, raw, stored, _ = CHUNK_HEADER_STRUCT.unpack(f.read(CHUNK_HEADER_STRUCT.size))
            blocks.append((f.read(stored), raw))
            pos += CHUNK_HEADER_STRUCT.size + stored
            if len(blocks) == 64 or pos >= end:   # bounded memory: 64 blocks at a time
                elapsed += wall(lambda: decompress_each(blocks))
                blocks.clear()
    return elapsed


def chunks_seconds(path: Path) -> float:
    """Seconds for the reader alone to read, check and decompress every chunk, in one thread."""
    with TraceReader(path, workers=0) as r:
        return wall(lambda: sum(1 for _ in r.chunks()))


def stats_seconds(path: Path, workers: int | None = None) -> tuple[float, float, scan.Stats]:
    """Wall and CPU seconds of scan.stats over the file (what `xenrr log stats` runs), its result."""
    out = []
    with TraceReader(path, workers=workers) as r:
        cpu = time.process_time()
        seconds = wall(lambda: out.append(scan.stats(r)))
        return seconds, time.process_time() - cpu, out[0]


# The child reports its own peak, VmHWM of its address space: getrusage's
# ru_maxrss (self or children) keeps the high-water mark across exec, so a
# child forked from this large process would report this process's size.
CHILD = ("import sys\n"
         "from xenrr.cli import main\n"
         "status = main(sys.argv[1:])\n"
         "with open('/proc/self/status') as f:\n"
         "    print(next(l for l in f if l.startswith('VmHWM:')).split()[1], file=sys.stderr)\n"
         "sys.exit(status)\n")


def child_stats(path: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of `xenrr log stats --json` in a child process."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, "log", "stats", "--json", str(path)],
                          check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return time.perf_counter() - start, int(done.stderr.split()[-1]) / 1024


def verdict(ok: bool, target: str) -> str:
    return f"ok (target {target})" if ok else f"BELOW the target of {target}"


def main() -> int:
    size_mb = int(os.environ.get("XENRR_BENCH_TRACE_MB", "1024"))
    batches = templates(np.random.default_rng(1))
    records = as_records(batches)
    framed = {cls: cls.CODEC.framed_size for cls in RUN}
    record_bytes = sum(framed[type(r)] for r in records) / len(records)
    with tempfile.TemporaryDirectory(prefix="xenrr-bench-") as tmp:
        total = len(records) * max(1, 1_000_000 // len(records))
        seconds = write_records(Path(tmp) / "w.xrr", records, total)
        write_rate = total / seconds
        print(f"write()        {write_rate:>13,.0f} records/s {write_rate * record_bytes / 1e6:>8.1f} MB/s"
              f"  {verdict(write_rate >= WRITE_TARGET, f'{WRITE_TARGET:,} records/s')}")
        big = Path(tmp) / "big.xrr"
        count, seconds = write_arrays(big, batches, size_mb << 20)
        print(f"write_array()  {count / seconds:>13,.0f} records/s "
              f"{count * record_bytes / seconds / 1e6:>8.1f} MB/s  ({count:,} records)")
        lz4_time = chunks_time = stats_time = stats_cpu = serial_time = float("inf")
        for _ in range(3):  # alternate, so that all see the same machine
            lz4_time = min(lz4_time, lz4_seconds(big))
            chunks_time = min(chunks_time, chunks_seconds(big))
            seconds, cpu, s = stats_seconds(big)
            stats_time, stats_cpu = min(stats_time, seconds), min(stats_cpu, cpu)
            seconds, _, serial = stats_seconds(big, workers=0)
            serial_time = min(serial_time, seconds)
        if serial != s:
            print("bench: the serial and the prefetching scans disagree", file=sys.stderr)
            return 2
        ratio = lz4_time / stats_time
        mb = s.raw_bytes / 1e6
        gib = s.raw_bytes / 2**30
        print(f"trace          {s.raw_bytes / 2**20:>13,.0f} MiB raw, {s.stored_bytes / 2**20:,.0f} MiB "
              f"in the file (ratio {s.ratio:.2f}), {s.records:,} records, {s.chunks:,} chunks")
        print(f"lz4 baseline   {mb / lz4_time:>13,.0f} MB/s raw ({lz4_time / gib:.2f} s/GiB)")
        print(f"log stats      {mb / stats_time:>13,.0f} MB/s raw = {ratio:.2f}x lz4  "
              f"{verdict(ratio >= SCAN_TARGET, f'{SCAN_TARGET}x')}")
        print(f"               prefetch workers: {default_workers()}; CPU {stats_cpu / gib:.2f} s/GiB in all threads, "
              f"wall {stats_time / gib:.2f} s/GiB")
        print(f"  one thread   {mb / serial_time:>13,.0f} MB/s raw = {lz4_time / serial_time:.2f}x lz4 "
              f"(workers=0), of which reading, checksums and decompression {chunks_time / serial_time:.0%},")
        print("               the numpy walk and counting the rest")
        seconds, rss = child_stats(big)
        print(f"log stats rss  {rss:>13,.0f} MB peak in `xenrr log stats` ({seconds:.1f} s wall)  "
              f"{verdict(rss < RSS_TARGET_MB, f'< {RSS_TARGET_MB} MB')}")
    return 0 if write_rate >= WRITE_TARGET and ratio >= SCAN_TARGET and rss < RSS_TARGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
