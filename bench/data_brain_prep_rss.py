"""Benchmark: generate N brain phantoms (if absent), then run papers B and D preprocessing streaming over them;
report wall time and peak resident memory (RSS) of each stage as JSON.

    python bench/data_brain_prep_rss.py --root data/bench_brats --n 220 --workers 2

Generation runs in `--workers` processes (subject i always comes from the seed stream (seed, i), so the data set
is the same for any worker count). Preprocessing runs in fresh child processes so each stage's peak RSS is its own."""
import argparse, json, resource, subprocess, sys, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def _subject(args):
    root, seed, i, hgg_fraction = args
    import numpy as np
    from medgan_nb.data.phantoms.brain import brain_subject, write_brats_case
    rng = np.random.default_rng([seed, i]); grade = 'HGG' if rng.random() < hgg_fraction else 'LGG'
    imgs, lab = brain_subject(rng, grade)
    return str(write_brats_case(root, f'Phantom_{grade}_{i:04d}', grade, imgs, lab))


def generate(root, n, seed, workers, hgg_fraction):
    done = {p.name for p in Path(root).glob('*/Phantom_*') if len(list(p.glob('*.nii.gz'))) == 5}
    todo = [(root, seed, i, hgg_fraction) for i in range(n) if not any(d.endswith(f'_{i:04d}') for d in done)]
    t0 = time.time()
    with ProcessPoolExecutor(workers) as ex: list(ex.map(_subject, todo))
    return dict(stage='generate', subjects=n, generated=len(todo), seconds=round(time.time() - t0, 1))


STAGE = r'''
import json, resource, sys, time, torch
torch.set_num_threads(1)
from medgan_nb.data.prep.brain import iter_brats, han2018_slices, han2019_slices
root, stage = sys.argv[1], sys.argv[2]; t0 = time.time(); skipped = []
if stage == 'han2018': ds = han2018_slices(iter_brats(root, grades=('HGG',), report=skipped))
else: ds = han2019_slices(iter_brats(root, grades=('HGG',), report=skipped))
held = sum(t.numel() * t.element_size() for t in ds.images.values())
print(json.dumps(dict(stage=stage, seconds=round(time.time() - t0, 1), patients=int(ds.index.case_id.nunique()),
                      images=int(len(ds.index)), output_mb=round(held / 2**20, 1), skipped=len(skipped),
                      peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))))
'''


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--root', required=True); ap.add_argument('--n', type=int, default=220)
    ap.add_argument('--seed', type=int, default=0); ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--hgg-fraction', type=float, default=1.0, help="1.0: all HGG, like the papers' 220 patients")
    a = ap.parse_args(argv)
    out = [generate(a.root, a.n, a.seed, a.workers, a.hgg_fraction)]
    gen_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out[0]['peak_rss_mb_per_worker'] = round(gen_rss, 1)
    for stage in ('han2018', 'han2019'):
        r = subprocess.run([sys.executable, '-c', STAGE, a.root, stage], capture_output=True, text=True, check=True)
        out.append(json.loads(r.stdout.strip().splitlines()[-1]))
    for o in out: print(json.dumps(o))
    return out


if __name__ == '__main__': main()
