"""Fréchet distance side by side with pytorch-fid 0.3.0 (issue 21, item 5), in one process, at N = 1k, 10k, 50k.

Per N and d: two feature sets shaped like Inception pool3 features (non-negative, correlated, float32), then
  reference  pytorch-fid's own route: np.mean / np.cov (its `calculate_activation_statistics`) and
             `calculate_frechet_distance` (scipy `sqrtm`);
  ours       `FeatureStats` (streamed float64 mean / covariance) and `frechet_distance`, and `fid_from_features`
             (which takes the N1×N2 route when N < d).
The (μ, Σ) step is timed on the same statistics for both. Reference and ours alternate (which goes first alternates
between repeats), so both see the same machine load. Peak memory per side is numpy's traced allocations
(tracemalloc), the feature arrays themselves excluded.

    python bench/bench_frechet.py --ns 1000,10000,50000 --d 2048 --threads 1
"""
import argparse, os, subprocess, time, tracemalloc
from pathlib import Path
import numpy as np
from threadpoolctl import threadpool_limits
import medgan_nb  # noqa: F401  (declares the torchvision op schemas before pytorch_fid imports torchvision)
from medgan_nb.core import machine_line
from medgan_nb.metrics.fid import FeatureStats, frechet_distance, fid_from_features
from pytorch_fid.fid_score import calculate_frechet_distance

def make_features(n:int, d:int, seed:int, shift:float) -> np.ndarray:
    "N×d float32 non-negative correlated features (ReLU of a random linear map), like pool3 activations."
    rng = np.random.default_rng(seed)
    mix = np.random.default_rng(123).normal(size=(d, d)).astype(np.float32) / np.sqrt(d)
    out = np.empty((n, d), np.float32)
    for s in range(0, n, 5000):
        z = rng.normal(shift, 1.0, size=(min(5000, n - s), d)).astype(np.float32)
        out[s:s+len(z)] = np.maximum(z @ mix, 0) + 0.05 * np.abs(z)
    return out

def timed(fn):
    "(result, seconds, peak traced MiB) of fn()."
    tracemalloc.start()
    t = time.perf_counter()
    res = fn()
    sec = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return res, sec, peak

def reference_stats(x):
    "pytorch-fid's calculate_activation_statistics on activations already in memory."
    return np.mean(x, axis=0), np.cov(x, rowvar=False)

def ours_stats(x):
    "Our streamed statistics (4096-row float64 chunks)."
    return FeatureStats().update(x).stats()

def run(n:int, d:int, repeats:int) -> list:
    a, b = make_features(n, d, 1, 0.0), make_features(n, d, 2, 0.1)
    rows = []
    for r in range(repeats):
        res = {}
        order = ['ref', 'ours'] if r % 2 == 0 else ['ours', 'ref']
        for side in order:
            if side == 'ref':
                (s1, s2), t_cov, m_cov = timed(lambda: (reference_stats(a), reference_stats(b)))
                fd, t_fd, m_fd = timed(lambda: calculate_frechet_distance(*s1, *s2))
                res['ref'] = dict(stats=t_cov, step=t_fd, total=t_cov + t_fd, mem=max(m_cov, m_fd), fid=float(fd), s=(s1, s2))
            else:
                (o1, o2), t_cov, m_cov = timed(lambda: (ours_stats(a), ours_stats(b)))
                fd, t_fd, m_fd = timed(lambda: frechet_distance(*o1, *o2))
                ff, t_ff, m_ff = timed(lambda: fid_from_features(a, b))
                res['ours'] = dict(stats=t_cov, step=t_fd, total=t_cov + t_fd, mem=max(m_cov, m_fd), fid=fd,
                                   fff=ff, t_fff=t_ff, m_fff=m_ff)
        (s1, s2) = res['ref']['s']
        ours_same, t_ours_same, _ = timed(lambda: frechet_distance(*s1, *s2))   # (μ, Σ) step on the reference's stats
        rows.append(dict(n=n, d=d, repeat=r, order=order, ref=res['ref'], ours=res['ours'],
                         step_same_stats=dict(ours=t_ours_same, fid=ours_same)))
    return rows

def step_only(n:int, d:int, repeats:int) -> list:
    "The (μ, Σ) step alone on full-rank covariances (the issue's d = 2048, N = 3000 case), alternating sides."
    s1, s2 = reference_stats(make_features(n, d, 1, 0.0)), reference_stats(make_features(n, d, 2, 0.1))
    rows = []
    for r in range(repeats):
        t = {}
        for side in (('ref', 'ours') if r % 2 == 0 else ('ours', 'ref')):
            fn = calculate_frechet_distance if side == 'ref' else frechet_distance
            t[side], t[side + '_s'], _ = timed(lambda: fn(*s1, *s2))
        rows.append(t)
        print(f"   step-only N={n:,} d={d} repeat {r}: pytorch-fid {t['ref_s']:.2f} s, ours {t['ours_s']:.2f} s, "
              f"ratio {t['ref_s'] / t['ours_s']:.1f}×, rel diff {abs(t['ours'] - t['ref']) / abs(t['ref']):.1e}; "
              f"load {os.getloadavg()}", flush=True)
    return rows

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--ns', default='1000,10000,50000', help='comma-separated N per side')
    ap.add_argument('--d', type=int, default=2048, help='feature dimension')
    ap.add_argument('--threads', type=int, default=1, help='BLAS/LAPACK threads for both sides (0: every core)')
    ap.add_argument('--repeats', type=int, default=1, help='alternating repeats per N')
    ap.add_argument('--step-n', type=int, default=0, help='also time the (μ, Σ) step alone at this N (0: skip)')
    ap.add_argument('--step-repeats', type=int, default=3, help='alternating repeats of the step-only timing')
    args = ap.parse_args()
    args.threads = args.threads or os.cpu_count()
    print(machine_line(), flush=True)
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()
    print(f"numpy {np.__version__}, threads {args.threads}, commit {commit}, load average {os.getloadavg()}")
    hdr = ('| N per side | d | ref stats s | ref sqrtm s | ref total s | ours stats s | ours step s | ours total s '
           '| ratio total | ratio step | fid_from_features s | ratio vs fid_from_features | rel diff | peak MiB ref / ours |')
    lines = [hdr, '|' + '---|' * (hdr.count('|') - 1)]
    with threadpool_limits(args.threads):
        if args.step_n: step_only(args.step_n, args.d, args.step_repeats)
        for n in [int(v) for v in args.ns.split(',') if v]:
            for row in run(n, args.d, args.repeats):
                ref, ours, same = row['ref'], row['ours'], row['step_same_stats']
                rel = abs(ours['fid'] - ref['fid']) / abs(ref['fid'])
                rel_same = abs(same['fid'] - ref['fid']) / abs(ref['fid'])
                line = (f"| {n:,} | {args.d} | {ref['stats']:.2f} | {ref['step']:.2f} | {ref['total']:.2f} | "
                        f"{ours['stats']:.2f} | {ours['step']:.2f} | {ours['total']:.2f} | {ref['total'] / ours['total']:.2f}× | "
                        f"{ref['step'] / same['ours']:.2f}× | {ours['t_fff']:.2f} | {ref['total'] / ours['t_fff']:.2f}× | "
                        f"{max(rel, rel_same):.1e} | {ref['mem']:.0f} / {ours['mem']:.0f} |")
                lines.append(line)
                print(line, flush=True)
                print(f"   FID ref {ref['fid']!r} ours {ours['fid']!r} ours(ref stats) {same['fid']!r} "
                      f"fid_from_features {ours['fff']!r}; (μ,Σ) step on ref stats: ref {ref['step']:.2f}s ours {same['ours']:.2f}s; "
                      f"order {row['order']}; load {os.getloadavg()}", flush=True)
    print('\n'.join(lines))

if __name__ == '__main__':
    main()
