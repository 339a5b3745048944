"A store writer killed with SIGKILL part way resumes from its last complete shard and ends with the whole data set."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
from medgan_nb.data.store import StoreWriter, ShardedArray, MANIFEST

ROOT = Path(__file__).resolve().parents[1]
WRITER = r'''
import sys, time, numpy as np
from medgan_nb.data.store import StoreWriter
w = StoreWriter(sys.argv[1], (8, 8), np.uint16, shard_size=3, meta=dict(test='kill'))
for i in range(w.done, 40):
    w.append(np.full((8, 8), i, np.uint16), dict(i=i))
    time.sleep(0.02)   # slow enough to be killed part way
w.finish()
'''


def _shards(folder: Path) -> int:
    try:
        return len(json.loads((folder / MANIFEST).read_text())['shards'])
    except (FileNotFoundError, json.JSONDecodeError):
        return 0


def test_sigkill_then_resume(tmp_path):
    folder = tmp_path / 'store'
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]))
    p = subprocess.Popen([sys.executable, '-c', WRITER, str(folder)], env=env)
    t0 = time.time()
    while _shards(folder) < 2 and time.time() - t0 < 60:
        time.sleep(0.01)
    time.sleep(0.03)  # most likely inside an open shard now
    p.send_signal(signal.SIGKILL)
    p.wait()
    m = json.loads((folder / MANIFEST).read_text())
    assert 2 <= len(m['shards']) < 14 and not m['finished'], m
    w = StoreWriter(folder, (8, 8), np.uint16, meta=dict(test='kill'))
    assert w.done == 3 * len(m['shards'])
    assert not [f for f in folder.iterdir() if f.name.endswith('.tmp')]  # the torn shard is gone
    for i in range(w.done, 40):
        w.append(np.full((8, 8), i, np.uint16), dict(i=i))
    a = ShardedArray(w.finish())
    assert a.shape == (40, 8, 8)
    np.testing.assert_array_equal(a[:, 0, 0], np.arange(40))
    assert [it['i'] for it in a.items()] == list(range(40))
