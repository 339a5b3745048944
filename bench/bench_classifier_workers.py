"""Han 2019's classifiers side by side (issue 22): `train_or_load_classifiers` over `--runs` quick-sized ResNet-50 runs
(input 32, batch 64, 384 training images an epoch, batch norm re-estimated on 384, 400 validation images, `--epochs`
epochs each, `--threads` torch threads a run), once one after another in this process (`workers=1`, what the notebook
did before) and once `--workers` at a time in processes of their own, the two taking turns `--repeats` times. Prints
the machine line, the wall time of each and the ratio, and checks that both give the same predictions, run for run.
What it shows is the gain when cores are free; under `make reproduce` another paper may hold one of them.

    python bench/bench_classifier_workers.py --runs 4 --epochs 2 --workers 2 --threads 1
"""
import argparse, shutil, tempfile, time
from dataclasses import replace
from pathlib import Path
import numpy as np, torch
from medgan_nb.core import machine_line
from medgan_nb.papers import han2019 as h19

p = argparse.ArgumentParser()
p.add_argument('--runs', type=int, default=4, help='classifiers (quick: 12, 4 conditions x 3 seeds)')
p.add_argument('--epochs', type=int, default=2, help='epochs per run (quick: up to 10)')
p.add_argument('--workers', type=int, default=2, help='processes at a time')
p.add_argument('--threads', type=int, default=1, help='torch threads a run (the runner gives each paper 1 of 2 cores)')
p.add_argument('--repeats', type=int, default=1, help='rounds of the two ways (the fastest of each kept)')
args = p.parse_args()
torch.set_num_threads(args.threads)
g = torch.Generator().manual_seed(0)
x = torch.randint(0, 256, (784, 1, 64, 64), dtype=torch.uint8, generator=g)
y = torch.randint(0, 2, (784,), generator=g)
cfg = h19.ClassifierConfig(input_size=32, batch_size=64, max_epochs=args.epochs, patience=10, epoch_images=384,
                           bn_images=384, amp='fp32')  # fp32: the same arithmetic in both ways on any CPU
print(machine_line())
print(f"{args.runs} ResNet-50 runs of {args.epochs} epochs (6 steps of 64 at 32 px, BN on 384, 400 validation images), "
      f"{args.threads} torch thread(s) each; {args.workers} processes at a time vs one after another here")
root = Path(tempfile.mkdtemp(prefix='clf_workers_'))
best, preds = {}, {}
for rep in range(args.repeats):
    for name, workers in (('here, one after another', 1), (f'{args.workers} at a time', args.workers)):
        runs = [dict(folder=root / f'{workers}_{rep}' / f'run{i}', make_model=h19.resnet50_classifier,
                     train=(x[:384], y[:384]), val=(x[384:], y[384:]), test_images=x[384:584], cfg=replace(cfg, seed=i))
                for i in range(args.runs)]
        t0 = time.perf_counter()
        out = h19.train_or_load_classifiers(runs, workers=workers, progress=False)
        best[name] = min(best.get(name, float('inf')), time.perf_counter() - t0)
        preds[name] = [r['p_test'] for r in out]
        print(f"  round {rep + 1}: {name}: {time.perf_counter() - t0:.1f} s", flush=True)
shutil.rmtree(root)
(a, ta), (b, tb) = best.items()
same = all(np.array_equal(p, q) for p, q in zip(*preds.values()))
print(f"{a}: {ta:.1f} s; {b}: {tb:.1f} s; ratio {ta / tb:.2f}x; same predictions run for run: {same}")
