"""Han 2019's ResNet-50 classifier with nproc=2: the training runs as a torchrun job (gloo, 2 CPU processes: batch norm
statistics and dropout masks over the whole batch) and gives what one process gives with the same batch; a store's
images go into the job by reference; a run killed after an epoch continues in 2 processes from its checkpoint; the
finished run is read back, not retrained. One torchrun job asserts all of it: its first epoch comes from the killed
run's checkpoint and its second runs in 2 processes, so the weights, losses and test probabilities it ends with equal
one process's only if a 2-process epoch equals a 1-process one (a job of its own for a 2-process run from the start
weights cost another ~15 s of CPU and asserted nothing more)."""
import numpy as np, torch
from medgan_nb.data.prep.brain import to_side
from medgan_nb.data.store import ShardedArray, StoreWriter
import pytest
from medgan_nb.papers.han2019 import ClassifierConfig, resnet50_classifier, train_classifier, train_or_load_classifier

# 13 images in batches of 8: the last batch (5) splits 3 + 2; BN re-estimation and dropout on; fp32 on every machine
CFG = ClassifierConfig(input_size=64, batch_size=8, max_epochs=2, patience=5, bn_images=8, amp=False, seed=0)
g = torch.Generator().manual_seed(0)
X = (torch.rand(13, 1, 16, 16, generator=g) * 120).to(torch.uint8)
Y = torch.tensor([0, 1] * 6 + [1])
X[Y == 1, :, 4:12, 4:12] += 100                              # a bright square: the "tumour"

def make():
    """The same start weights in both runs, in float64: at random weights a ResNet-50 amplifies rounding (a share
    summed in another order) by orders of magnitude, the more the fewer values a batch norm channel sees (at 32² and
    batches of 3: ~1e-4 after one float32 forward pass, 1 % of a gradient after four steps in float64; measured).
    Here (64², batches of 8 and 5) one epoch of 2 processes equals 1 process to ~2e-9 in float64."""
    torch.manual_seed(0)
    m, note = resnet50_classifier()
    return m.double(), note

def gap(a, b) -> float:
    "Largest difference of two tensors relative to the larger of 1 and the first's largest value."
    return float((a.double() - b.double()).abs().max() / max(1.0, float(a.double().abs().max())))

def test_two_processes_give_one_process_result(tmp_path, monkeypatch):
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    torch.set_num_threads(1)
    w = StoreWriter(tmp_path/'store', (1, 16, 16), np.uint8, shard_size=4)
    for x in X[:5].numpy(): w.append(x)
    val = (to_side(ShardedArray(w.finish()), 16), Y[:5])     # validation images on a store (a lazy array)
    args = ((X, Y), val, X[8:13], CFG)
    one = train_or_load_classifier(tmp_path/'one', make, *args, save_weights=True, progress=False, nproc=1)

    class Killed(Exception): pass
    def kill_after_first(ep):
        raise Killed(ep)
    with pytest.raises(Killed):             # killed after epoch 1 (its checkpoint written): what a relaunch finds
        train_classifier(make()[0], (X, Y), val, CFG, progress=False, ckpt=tmp_path/'two'/'last.pt',
                         on_epoch=kill_after_first, ckpt_s=0)
    two = train_or_load_classifier(tmp_path/'two', make, *args, save_weights=True, progress=False, nproc=2)
    assert two['trained_now'] and (one['nproc'], two['nproc']) == (1, 2)
    assert [r['epoch'] for r in two['history']] == [1, 2]          # epoch 1 from the checkpoint, not run again
    assert sorted(f.name for f in (tmp_path/'two').iterdir()) == ['final.pt']       # job.pt and last.pt removed
    a, b = one['model'].state_dict(), two['model'].state_dict()
    worst = max(gap(a[k], b[k]) for k in a if a[k].is_floating_point())
    assert worst < 1e-6, f"epoch 2 in 2 processes differs from 1 process by {worst} (relative)"
    assert all(torch.equal(a[k], b[k]) for k in a if not a[k].is_floating_point())  # BN batch counts
    for key in ('train_loss', 'val_loss'):
        p, q = [r[key] for r in one['history']], [r[key] for r in two['history']]
        assert np.allclose(p, q, rtol=1e-7), (key, p, q)
    assert np.allclose(one['p_test'], two['p_test'], atol=1e-7)
    again = train_or_load_classifier(tmp_path/'two', make, *args, progress=False, nproc=2)
    assert not again['trained_now'] and np.array_equal(again['p_test'], two['p_test'])
