"""Benchmark: reading rows of an on-disk store as training does (batches of random rows) and as the metrics do
(consecutive chunks), beside the same rows from a tensor in memory and from a memory map opened per read (how
`ShardedArray` read before 2026-12-05: `np.load(mmap_mode='r')`, fancy index, close).

    python bench/bench_store_read.py [--side 128] [--rows 8960] [--reads 2000]

Prints the CPU line (`medgan_nb.core.machine_line`) and microseconds per read for: a batch of 16 random rows (a
GAN step), the same through `LazyImages` over four parts (Han 2018's Concat: one part per sequence), and a chunk
of 1,024 consecutive rows (the privacy metrics, the moments)."""
import argparse, tempfile, time
from pathlib import Path
import numpy as np, torch


def mmap_take(arr, idx: np.ndarray) -> np.ndarray:
    "The reference: each shard of the rows opened as a read-only memory map, rows copied out, map closed."
    out = np.empty((len(idx), *arr.shape[1:]), arr.dtype)
    which = np.searchsorted(arr.offsets, idx, side='right') - 1
    for k in np.unique(which):
        sel = np.flatnonzero(which == k)
        mm = np.load(arr.folder / arr.m['shards'][k]['file'], mmap_mode='r')
        out[sel] = mm[idx[sel] - arr.offsets[k]]
        del mm
    return out


def per_read(fn, reads: list) -> float:  # microseconds per read (after one warm-up read)
    fn(reads[0])
    t0 = time.perf_counter()
    for r in reads:
        fn(r)
    return (time.perf_counter() - t0) / len(reads) * 1e6


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--side', type=int, default=128, help='image side (uint8, one channel)')
    ap.add_argument('--rows', type=int, default=8960, help='rows in the store (Han 2018: 280 a case and side)')
    ap.add_argument('--reads', type=int, default=2000, help='reads timed per row kind')
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    from medgan_nb.core import machine_line
    from medgan_nb.data.store import StoreWriter, ShardedArray
    from medgan_nb.data.prep.brain import LazyImages
    print(machine_line())
    x = np.random.default_rng(0).integers(0, 256, (a.rows, 1, a.side, a.side), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as d:
        w = StoreWriter(Path(d), x.shape[1:], np.uint8, shard_size=a.rows // 3 + 1)  # three shards
        for r in x:
            w.append(r)
        arr, t = ShardedArray(w.finish()), torch.from_numpy(x)
        quarter = a.rows // 4
        concat = LazyImages([(arr, np.arange(q * quarter, (q + 1) * quarter)) for q in range(4)])
        g = np.random.default_rng(1)
        batches = [np.sort(g.choice(a.rows, 16, replace=False)) for _ in range(a.reads)]
        chunks = [np.arange(s, s + 1024) for s in g.integers(0, a.rows - 1024, max(a.reads // 20, 5))]
        assert np.array_equal(arr[batches[0]], mmap_take(arr, batches[0])) and np.array_equal(arr[chunks[0]], x[chunks[0]])
        print(f"| rows read ({a.side}², uint8) | tensor in memory | store: memory map a read (before) | store: pread (now) | ratio before/now |")
        print('|---|---|---|---|---|')
        for name, reads in (('16 random', batches), ('1,024 consecutive', chunks)):
            mem = per_read(lambda i: t[torch.from_numpy(i)], reads)
            old = per_read(lambda i: mmap_take(arr, i), reads)
            new = per_read(lambda i: arr[i], reads)
            print(f"| {name} | {mem:.0f} µs | {old:.0f} µs | {new:.0f} µs | {old / new:.2f}× |")
        lazy = per_read(lambda i: concat[i], batches)
        print(f"| 16 random through `LazyImages` of 4 parts (now) | – | – | {lazy:.0f} µs | – |")


if __name__ == '__main__':
    main()
