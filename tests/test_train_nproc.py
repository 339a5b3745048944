"""`train_or_load` with nproc=2: the training runs as a torchrun job (gloo, 2 CPU processes) and gives what one process
gives with the same global batch, whether the images are in memory or on an on-disk store (named in the job, read
lazily by every rank); the metric hook runs on the job's snapshots; a finished job is read back, a killed one
continued; two machines (node ranks of a c10d rendezvous over localhost) give the same. The one-process run every
test compares with is trained once (fixture `one`)."""
import numpy as np, pytest, torch
from medgan_nb.core import load_torch
from medgan_nb.data.store import ShardedArray, StoreWriter
from medgan_nb.losses import GANLoss
from medgan_nb.models.pggan import pggan
from medgan_nb.papers.common import train_or_load
from medgan_nb.train import ImageData, TrainConfig, best_network

CFG = TrainConfig(kimg=0.048, batch_size=8, log_every=2, ckpt_kimg=0.016, sample_kimg=1, n_samples=8, amp=False,
                  ema_kimg=0.01, phase_kimg=0.016, fade_kimg=0.016, betas=(0.0, 0.99), lr_g=1e-3, lr_d=1e-3, threads=1)
IMGS = (torch.rand(32, 1, 16, 16, generator=torch.Generator().manual_seed(5)) * 255).to(torch.uint8)
LOSS = GANLoss('wgan-gp', drift=1e-3)

def nets():
    torch.manual_seed(0)
    return pggan(base_shape=(4, 4), n_stages=3, nz=8, fmap_base=32, fmap_max=8, mbstd_group=2)

def weight_sum(g, st):
    "A metric that tells networks apart: the sum of the generator's weights."
    return {'wsum': float(sum(p.detach().double().sum() for p in g.parameters())), 'at': st['images']}

def history(folder):
    return [(e['event'], e.get('processes')) for e in load_torch(folder/'final.pt')['run']['history']]

@pytest.fixture(scope='module')
def one(tmp_path_factory):
    "One process, the images in memory: the result every multi-process run must give."
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp('one')
    return train_or_load(*nets(), IMGS, folder, LOSS, CFG, progress=False, metric_fn=weight_sum, nproc=1)

def gap(one, other) -> float:
    "Largest difference between two runs' generator weights."
    a, b = one['G'].state_dict(), other['G'].state_dict()
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)

def test_two_processes_give_one_process_result(tmp_path, monkeypatch, one):
    """Images on an on-disk store (as the papers cache them) go into the torchrun job by reference: every rank reads
    the same store lazily, with prefetching workers, and the result is one process's on the images in memory."""
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    torch.set_num_threads(1)
    w = StoreWriter(tmp_path/'store', IMGS.shape[1:], np.uint8, shard_size=10)     # 4 shards
    for x in IMGS.numpy(): w.append(x)
    lazy = ImageData(ShardedArray(w.finish()), seed=CFG.seed, workers=1)
    fit = lambda: train_or_load(*nets(), lazy, tmp_path/'two', LOSS, CFG, progress=False, metric_fn=weight_sum, nproc=2)
    two = fit()
    assert two['trained_now'] and two['nproc'] == 2 and history(tmp_path/'two') == [('start', 2)]
    job = torch.load(tmp_path/'two'/'job.pt', weights_only=True)
    assert job['data']['spec'] == {'store': str((tmp_path/'store').resolve()), 'digest': lazy.images.digest}
    assert job['data']['kind'] == 'medgan_nb.data.store.ShardedArray'          # a reference, not the images
    assert (worst := gap(one, two)) < 1e-5, f"2 processes on a store differ from 1 in memory by {worst}"
    assert [m['images'] for m in one['metrics']] == [m['images'] for m in two['metrics']] == [16, 32, 48]
    assert all(abs(p['wsum'] - q['wsum']) < 1e-4 for p, q in zip(one['metrics'], two['metrics']))
    assert best_network(tmp_path/'two', 'at', 'max')[1]['images'] == 48          # the snapshots' rows are in the log
    stamp = (tmp_path/'two'/'trained.pt').stat().st_mtime_ns
    again = fit()
    assert not again['trained_now'] and (tmp_path/'two'/'trained.pt').stat().st_mtime_ns == stamp
    assert again['metrics'] == two['metrics'] and again['nproc'] == 2
    for f in ('trained.pt', 'final.pt'):
        (tmp_path/'two'/f).unlink()                             # as if killed after the last checkpoint
    resumed = fit()
    assert resumed['kimg'] == 0.048 and history(tmp_path/'two') == [('start', 2), ('resume', 2)]   # not restarted
    b = two['G'].state_dict()
    assert all(torch.equal(v, resumed['G'].state_dict()[k]) for k, v in b.items())


def test_two_machines_give_one_process_result(tmp_path, monkeypatch, capsys, one):
    """Two machines (node ranks 0 and 1 of a c10d rendezvous over localhost, one process each), as a user runs them:
    the notebook's machine launches rank 0 and prints the other machine's line; that line, run as printed, joins."""
    import shlex, socket, subprocess, threading, time
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    torch.set_num_threads(1)
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    monkeypatch.setenv('MEDGAN_NNODES', '2'); monkeypatch.setenv('MEDGAN_NODE_RANK', '0')
    monkeypatch.setenv('MEDGAN_RDZV_ENDPOINT', f'127.0.0.1:{port}')
    other, seen = {}, []
    def second_machine():                    # reads rank 0's output until it prints the other machine's line
        for _ in range(600):
            seen.append(capsys.readouterr().out)
            line = [l for l in ''.join(seen).splitlines() if '--node-rank=1' in l]
            if line: break
            time.sleep(0.2)
        other['line'] = line[0].strip() if line else None
        if line: other['run'] = subprocess.run(shlex.split(line[0]), capture_output=True, text=True, timeout=300)
    t = threading.Thread(target=second_machine); t.start()
    two = train_or_load(*nets(), IMGS, tmp_path/'two', LOSS, CFG, progress=False, metric_fn=weight_sum, nproc=1)
    t.join(timeout=300)
    assert other['line'] and f'--rdzv-endpoint=127.0.0.1:{port}' in other['line'], ''.join(seen)[-2000:]
    assert other['run'].returncode == 0, other['run'].stdout[-2000:] + other['run'].stderr[-2000:]
    assert two['trained_now'] and two['nproc'] == 2
    assert (worst := gap(one, two)) < 1e-5, f"2 machines differ from 1 process by {worst}"
    assert [m['images'] for m in two['metrics']] == [16, 32, 48]
