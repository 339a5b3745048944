"""Benchmarks of medgan_nb.metrics against the reference implementations, measured side by side in one run.

    python bench/bench_metrics.py                      # issue-5 sizes (minutes on a laptop CPU)
    python bench/bench_metrics.py --fd-n 1000 --img-n 100 --moment-n 50   # smaller
    python bench/bench_metrics.py --fd-n --moment-n 0  # feature extraction only (1,000 images, 64²×3 and 128²×1)

Feature extraction runs pytorch-fid's own loop (`get_activations` over PNG files: PIL decode, ToTensor, its
InceptionV3 with the same weights) and ours (`fid_features` on the uint8 arrays) on alternating blocks of one batch,
so both see the same machine load; wall and CPU seconds are summed per side.

Prints times, speed ratios (reference / ours) and the accuracy of ours against the reference. No assertions:
timings depend on the machine; the tests check correctness."""
import argparse, os, tempfile, time
p = argparse.ArgumentParser()
p.add_argument('--fd-n', type=int, nargs='*', default=[1000, 10000], help='feature counts N for the Fréchet distance (d=2048)')
p.add_argument('--img-n', type=int, default=1000, help='images per feature-extraction run (0: skip)')
p.add_argument('--moment-n', type=int, default=1000, help='uint16 1280x1024 images for the moments (0: skip)')
p.add_argument('--batch', type=int, default=50, help='images per forward pass, both sides (pytorch-fid default 50)')
p.add_argument('--threads', type=int, default=1, help='torch/BLAS threads for both sides')
args = p.parse_args()
for v in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ[v] = str(args.threads)
import numpy as np, torch
import medgan_nb  # noqa: F401  (torchvision importable)
from scipy import stats
import pytorch_fid.inception as pfi, pytorch_fid.fid_score as pfs
from pytorch_fid.fid_score import calculate_frechet_distance, get_activations
from medgan_nb.metrics.fid import fid_from_features, frechet_distance, feature_stats, load_fid_inception, fid_features
from medgan_nb.metrics.moments import pixel_moments
from medgan_nb.core import machine_line
from _baselines import pytorch_fid_model   # bench/ is on sys.path when this script runs
print(machine_line(), flush=True)
torch.set_num_threads(args.threads)

def timed(fn, *a, **k):
    t = time.perf_counter(); out = fn(*a, **k); return out, time.perf_counter() - t

def timed_cpu(fn, *a, **k): # (result, wall s, process CPU s)
    t, c = time.perf_counter(), time.process_time(); out = fn(*a, **k)
    return out, time.perf_counter() - t, time.process_time() - c

def report(name, t_ref, t_ours, acc):
    print(f'{name:<52} reference {t_ref:9.3f} s   ours {t_ours:9.3f} s   ratio {t_ref / t_ours:7.2f}x   {acc}', flush=True)

def bench_frechet(n, d=2048, seed=0):
    rng = np.random.default_rng(seed)
    a = np.abs(rng.normal(size=(n, d))).astype(np.float32)               # ReLU-like features
    b = np.abs(rng.normal(0.05, 1.1, size=(n, d))).astype(np.float32)
    def ref_pipeline(x, y):  # pytorch-fid: np.mean/np.cov then calculate_frechet_distance (scipy sqrtm)
        return calculate_frechet_distance(x.mean(0), np.cov(x, rowvar=False), y.mean(0), np.cov(y, rowvar=False))
    ref, t_ref = timed(ref_pipeline, a, b)
    ours, t_ours = timed(fid_from_features, a, b)
    report(f'Fréchet distance from features N={n} d={d}', t_ref, t_ours, f'rel diff {abs(ours - ref) / abs(ref):.2e}')
    s1, s2 = feature_stats(a), feature_stats(b)
    ref2, t_ref2 = timed(calculate_frechet_distance, *s1, *s2)
    ours2, t_ours2 = timed(frechet_distance, *s1, *s2)
    report(f'Fréchet distance from (mu, sigma) d={d} [N={n}]', t_ref2, t_ours2, f'rel diff {abs(ours2 - ref2) / abs(ref2):.2e}')

def bench_features(n, size, channels, model, ref_model, batch):
    from PIL import Image
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (n, channels, size, size), dtype=np.uint8)
    pfs.tqdm = lambda x, **k: x  # one progress bar per block would flood the output
    with tempfile.TemporaryDirectory() as d:
        files = []
        for i, im in enumerate(imgs):  # pytorch-fid's loop reads image files
            f = f'{d}/{i:05d}.png'; Image.fromarray(im[0] if channels == 1 else im.transpose(1, 2, 0)).save(f); files.append(f)
        ref_block = lambda s: get_activations(files[s:s+batch], ref_model, batch_size=batch, dims=2048, device='cpu', num_workers=0)
        ours_block = lambda s: fid_features(imgs[s:s+batch], model, batch_size=batch)
        ref_block(0), ours_block(0)  # warm-up, untimed (allocator; ours folds its batch norms once per model)
        ref, ours, t = [], [], np.zeros((2, 2))  # rows ref/ours, columns wall/CPU
        for b, s in enumerate(range(0, n, batch)):  # alternate blocks, and which side goes first
            for side in ((0, 1) if b % 2 == 0 else (1, 0)):
                out, wall, cpu = timed_cpu(ref_block if side == 0 else ours_block, s)
                (ref if side == 0 else ours).append(out); t[side] += wall, cpu
    ref, ours = np.concatenate(ref), np.concatenate(ours)
    diff = np.abs(ours - ref).max()
    name = f'FID features {n} images {size}x{size}x{channels}'
    report(name + ' (wall)', t[0, 0], t[1, 0], f'max abs diff {diff:.2e} ({"ok" if diff <= 1e-4 else "FAIL"}: ≤ 1e-4)')
    report(name + ' (CPU)', t[0, 1], t[1, 1], f'{n / t[0, 0]:.2f} vs {n / t[1, 0]:.2f} img/s (wall)')

def bench_moments(n, h=1280, w=1024):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:h, :w]
    pool = [np.clip(20000 + 15000 * np.sin(xx / (50 + 10 * i)) * np.cos(yy / 70) + rng.normal(0, 3000, (h, w)), 0, 65535)
            .astype(np.uint16) for i in range(8)]
    def ref_moments(im):
        x = im.astype(np.float64)
        var = x.var()
        return np.array([x.mean(), var, stats.skew(x, axis=None), stats.kurtosis(x, axis=None, fisher=False),
                         stats.moment(x, 5, axis=None) / var ** 2.5])
    t_ref = t_ours = 0.0; worst = 0.0
    for i in range(n):
        im = pool[i % len(pool)]
        r, t = timed(ref_moments, im); t_ref += t
        o, t = timed(pixel_moments, im); t_ours += t
        worst = max(worst, np.max(np.abs(o - r) / np.abs(r)))
    report(f'Moments of {n} uint16 images {h}x{w}', t_ref, t_ours, f'max rel diff {worst:.2e}')

print(f'threads={args.threads} torch {torch.__version__} load average {os.getloadavg()}', flush=True)
for n in args.fd_n: bench_frechet(n)
if args.img_n:
    model = load_fid_inception()
    ref_model = pytorch_fid_model(model)
    bench_features(args.img_n, 64, 3, model, ref_model, args.batch)
    bench_features(args.img_n, 128, 1, model, ref_model, args.batch)
if args.moment_n: bench_moments(args.moment_n)
print(f'load average at the end {os.getloadavg()}', flush=True)
