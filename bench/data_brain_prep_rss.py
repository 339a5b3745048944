"""Benchmark: generate N brain phantoms (if absent), then run papers B and D preprocessing streaming over them;
report wall time and peak resident memory (RSS) of each stage as JSON.

    python bench/data_brain_prep_rss.py --root data/bench_brats --n 220 --workers 2
    python bench/data_brain_prep_rss.py --root data/bench_brats --n 20 --cases 220   # 220 cases = 20 subjects, each linked 11×

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
held = sum({t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in ds.images.values()}.values())  # views counted once
print(json.dumps(dict(stage=stage, seconds=round(time.time() - t0, 1), patients=int(ds.index.case_id.nunique()),
                      images=int(len(ds.index)), output_mb=round(held / 2**20, 1), skipped=len(skipped),
                      peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))))
'''

# this machine's `machine_info` and line, from a child process: this one stays free of torch
MACHINE = 'import json; from medgan_nb.core import machine_info, machine_line; m = machine_info(); print(json.dumps(dict(m, line=machine_line(m))))'


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--root', required=True); ap.add_argument('--n', type=int, default=220)
    ap.add_argument('--seed', type=int, default=0); ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--hgg-fraction', type=float, default=1.0, help="1.0: all HGG, like the papers' 220 patients")
    ap.add_argument('--cases', type=int, default=None, help="preprocess this many cases, linking the --n generated ones repeatedly "
                    "(same per-case work and memory as distinct subjects; the files are symbolic links)")
    a = ap.parse_args(argv)
    out = [generate(a.root, a.n, a.seed, a.workers, a.hgg_fraction)]
    gen_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out[0]['peak_rss_mb_per_worker'] = round(gen_rss, 1)
    # after the workers' RSS is read (the child imports torch); still the first line printed
    machine = json.loads(subprocess.run([sys.executable, '-c', MACHINE], capture_output=True, text=True, check=True).stdout)
    print(machine.pop('line'), flush=True)
    out.insert(0, dict(machine=machine))
    root = a.root
    if a.cases and a.cases != a.n:
        src = sorted(p for p in Path(a.root).glob('HGG/Phantom_*'))
        root = f"{a.root.rstrip('/')}_x{a.cases}"; (Path(root) / 'HGG').mkdir(parents=True, exist_ok=True)
        for j in range(a.cases):
            case = Path(root) / 'HGG' / f'Linked_{j:04d}'; case.mkdir(exist_ok=True)  # real folder (discovery does not follow linked folders)
            for f in src[j % len(src)].glob('*.nii.gz'):
                link = case / f"{case.name}_{f.name.rsplit('_', 1)[1]}"
                if not link.exists(): link.symlink_to(f.resolve())
    for stage in ('han2018', 'han2019'):
        r = subprocess.run([sys.executable, '-c', STAGE, root, stage], capture_output=True, text=True, check=True)
        out.append(json.loads(r.stdout.strip().splitlines()[-1]))
    for o in out: print(json.dumps(o))
    return out


if __name__ == '__main__': main()
