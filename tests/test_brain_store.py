"""Han 2019's slices in an on-disk store: the same data set as in memory, resumed after a SIGKILL, rebuilt when the
store is damaged or moved, and a build whose peak memory does not grow with the number of cases."""
import json, os, shutil, signal, subprocess, sys, time
from pathlib import Path
import numpy as np, pandas as pd, pytest, torch
from medgan_nb.data import io
from medgan_nb.data.cache import han2019_data
from medgan_nb.data.phantoms.brain import make_brain_phantoms
from medgan_nb.data.prep.brain import iter_brats, han2019_slices
from medgan_nb.data.store import ShardedArray, StoreError, MANIFEST

ROOT = Path(__file__).resolve().parents[1]
SIZE = (60, 60, 39)  # 4 mm grid, as tests/test_data_brain.py
N_CASES = 8
# loose rules: most slices #8..#32 kept, so every case adds images
RULES = dict(first=8, last=32, side=64, min_tumour_px=15, max_tumour_px=400, gap_slices=1, min_brain_px=100)
KW = dict(grades='all', shard_size=5, **RULES)  # 5 images a shard: a case spans shards


@pytest.fixture(scope='module')
def brats(tmp_path_factory):
    root = tmp_path_factory.mktemp('brats')
    make_brain_phantoms(root, n=N_CASES, seed=3, size=SIZE, hgg_fraction=0.6, progress=False)
    return root


@pytest.fixture(scope='module')
def in_memory(brats):
    ss, status = han2019_data(brats, None, **KW)
    assert status == 'uncached' and isinstance(ss.images['slices'], torch.Tensor)
    return ss


def same_set(store_ss, mem_ss):
    "The store-backed SliceSet is the in-memory one: images, index (labels, split, order) and counts."
    arr = store_ss.images['slices']
    assert isinstance(arr, ShardedArray), type(arr)
    np.testing.assert_array_equal(arr[:], mem_ss.images['slices'].numpy())
    pd.testing.assert_frame_equal(store_ss.index, mem_ss.index, check_exact=True)
    pd.testing.assert_frame_equal(store_ss.counts, mem_ss.counts, check_exact=True)
    assert store_ss.counts.attrs == mem_ss.counts.attrs


def test_store_equals_memory(brats, in_memory, tmp_path):
    ss = han2019_slices(iter_brats(brats, grades='all'), store=tmp_path / 's', seed=0, shard_size=5, **RULES)
    same_set(ss, in_memory)
    assert len(ss.images['slices'].m['shards']) > N_CASES  # many shards, cases across their edges
    cached, status = han2019_data(brats, tmp_path / 'cache', **KW)
    assert status == 'built'
    same_set(cached, in_memory)
    again, status = han2019_data(brats, tmp_path / 'cache', **KW)
    assert status == 'reused'
    same_set(again, in_memory)
    for seed in (1, 2):  # another split seed: the same images, the split as in memory
        mem = han2019_slices(iter_brats(brats, grades='all'), seed=seed, **RULES)
        same_set(han2019_data(brats, tmp_path / 'cache', seed=seed, **KW)[0], mem)


BUILD = r'''
import sys, time
from medgan_nb.data import io
from medgan_nb.data.cache import han2019_data
load = io.load_brats_case
def slow(ref):
    time.sleep(0.25)   # slow enough to be killed part way
    return load(ref)
io.load_brats_case = slow
han2019_data(sys.argv[1], sys.argv[2], **eval(sys.argv[3]))
'''


def _shards(cache: Path) -> int:
    try:
        return len(json.loads(next(cache.glob('han2019/*/slices/' + MANIFEST)).read_text())['shards'])
    except (StopIteration, FileNotFoundError, json.JSONDecodeError):
        return 0


def test_sigkill_then_resume(brats, in_memory, tmp_path, monkeypatch):
    cache = tmp_path / 'cache'
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]))
    p = subprocess.Popen([sys.executable, '-c', BUILD, str(brats), str(cache), repr(KW)], env=env)
    t0 = time.time()
    while _shards(cache) < 10 and time.time() - t0 < 120 and p.poll() is None:  # ~2 of 8 cases (~21 images each)
        time.sleep(0.01)
    time.sleep(0.1)  # most likely inside a case now
    p.send_signal(signal.SIGKILL)
    p.wait()
    store = next(cache.glob('han2019/*/slices'))
    m = json.loads((store / MANIFEST).read_text())
    assert 10 <= len(m['shards']) and not m['finished'], m
    assert not list(cache.glob('han2019/*.json'))  # no cache entry yet
    sealed = {s['file']: (store / s['file']).stat().st_mtime_ns for s in m['shards']}
    read = []
    load = io.load_brats_case
    monkeypatch.setattr(io, 'load_brats_case', lambda ref: read.append(ref.case_id) or load(ref))
    ss, status = han2019_data(brats, cache, **KW)
    assert status == 'built'
    same_set(ss, in_memory)
    assert 0 < len(read) < N_CASES, read  # the cases held whole by sealed shards were not read again
    assert {f: (store / f).stat().st_mtime_ns for f in sealed} == sealed  # nor their shards written again
    assert ss.images['slices'].folder == store


def test_damaged_or_moved_store_is_rebuilt(brats, in_memory, tmp_path):
    cache = tmp_path / 'cache'
    ss, _ = han2019_data(brats, cache, **KW)
    shard = ss.images['slices'].folder / 'shard_00001.npy'
    shard.write_bytes(shard.read_bytes()[:-100])  # cut short (a copy or a disk that ran out): rebuilt
    ss, status = han2019_data(brats, cache, **KW)
    assert status == 'built'
    same_set(ss, in_memory)
    raw = bytearray(shard.read_bytes())
    raw[-1] ^= 0xFF  # one pixel flipped: refused when read, naming the shard and what to do
    shard.write_bytes(bytes(raw))
    ss, status = han2019_data(brats, cache, **KW)
    with pytest.raises(StoreError, match=f"{shard}: SHA-256 differs.*delete the store"):
        ss.images['slices'][:]
    shutil.rmtree(ss.images['slices'].folder)  # deleted as it says: built again
    ss, status = han2019_data(brats, cache, **KW)
    assert status == 'built'
    same_set(ss, in_memory)
    moved = tmp_path / 'moved'
    cache.rename(moved)  # the entry names its store by its old absolute path
    ss, status = han2019_data(brats, moved, **KW)
    assert status == 'built' and ss.images['slices'].folder.is_relative_to(moved)
    same_set(ss, in_memory)
    (ss.images['slices'].folder / 'cases.jsonl').unlink()  # the case log lost: the entry still reads (stores only)
    assert han2019_data(brats, moved, **KW)[1] == 'reused'


PEAK = r'''
import gc, sys, tracemalloc
from medgan_nb.data.prep.brain import iter_brats, han2019_slices
root, runs = sys.argv[1], sys.argv[2:]
rules = dict(first=8, last=32, side=512, min_tumour_px=15, max_tumour_px=400, gap_slices=1, min_brain_px=100)
tracemalloc.start()
for run in runs:  # one interpreter for every measurement: each peak is reset first, each set freed after
    n, store = run.split(':', 1)
    gc.collect()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    ss = han2019_slices(iter_brats(root, max_cases=int(n), grades='all'), store=None if store == '-' else store, **rules)
    print(tracemalloc.get_traced_memory()[1] - base, len(ss.index))
    del ss
'''


def _peaks(root, *runs) -> list:  # [(peak bytes numpy and Python allocated above the start, images)] per run
    "Each (cases, store folder or None) run's peak, measured one after the other in one fresh interpreter."
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]))
    args = [f"{n}:{'-' if store is None else store}" for n, store in runs]
    out = subprocess.run([sys.executable, '-c', PEAK, str(root), *args], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return [(int(out[i]), int(out[i + 1])) for i in range(0, len(out), 2)]


def test_peak_memory_flat_in_cases(brats, tmp_path):
    "Measured with tracemalloc (numpy's buffers count): 2 cases vs 8 at 512×512 (256 KiB an image)."
    (m2, n2), (m8, n8), (s2, _), (s8, _) = _peaks(brats, (2, None), (N_CASES, None), (2, tmp_path / 'a'),
                                                  (N_CASES, tmp_path / 'b'))
    img = 512 * 512
    assert m8 - m2 >= 0.9 * (n8 - n2) * img, (m2, m8)  # in memory: grows by the images (the check can see it)
    assert s8 - s2 < 0.1 * (n8 - n2) * img, (s2, s8)  # in a store: does not
    print(f"peak MiB: memory {m2 / 2**20:.1f} ({n2} images) -> {m8 / 2**20:.1f} ({n8}); "
          f"store {s2 / 2**20:.1f} -> {s8 / 2**20:.1f}")
