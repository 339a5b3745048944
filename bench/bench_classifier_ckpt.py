"""Han 2019's ResNet-50 classifier, its last epoch checkpointed (`keep_last=True`, as `fit_classifier` did before
this change) or not (`keep_last=False`, what `fit_classifier` does now: its final.pt follows at once). Each run trains
a fresh classifier for `--epochs` epochs on `bench/_classifier.py`'s images into a folder of its own; the two settings
alternate within each repeat, and every run's files stay until the end, so that each writes into pages the system
had not just freed (as a long run's checkpoints do). Reports, per setting, the median wall and system CPU of a run
and the MB it wrote (`getrusage`'s blocks out). Filling new pages costs system CPU (here, a virtual machine, ~8 s a
GB; a file rewritten into just-freed pages a tenth of that), so the figure depends on the machine.

    python bench/bench_classifier_ckpt.py --images 16 --val 8 --batch 8 --repeats 3
"""
import argparse, resource, statistics, tempfile, time
from dataclasses import replace
from pathlib import Path
import torch
import medgan_nb  # noqa: F401  (torchvision on the CPU torch)
from medgan_nb.core import machine_line
from medgan_nb.papers import han2019 as h19
from _classifier import quick_options, quick_sets

p = quick_options(argparse.ArgumentParser())
p.add_argument('--repeats', type=int, default=3)
args = p.parse_args()
torch.set_num_threads(args.threads)
train, val, cfg = quick_sets(args, h19, amp=False)
cfg = replace(cfg, max_epochs=args.epochs)  # a run ends at its last epoch: where keep_last decides


def one(keep_last: bool, folder: Path) -> tuple:  # (wall s, system CPU s, MB written)
    torch.manual_seed(0)
    model = h19.resnet50_classifier()[0]
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    h19.train_classifier(model, train, val, cfg, progress=False, ckpt=folder / 'last.pt', precision='fp32',
                         memory_format='contiguous', keep_last=keep_last)
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter() - t0, r1.ru_stime - r0.ru_stime, (r1.ru_oublock - r0.ru_oublock) * 512 / 2**20


res = {True: [], False: []}
with tempfile.TemporaryDirectory() as d:
    for r in range(args.repeats):
        for keep in (True, False):
            folder = Path(d) / f'{keep}-{r}'
            folder.mkdir()
            res[keep].append(one(keep, folder))  # kept until the end: each run writes into new pages
print(machine_line())
print(f"ResNet-50 classifier, {args.epochs} epochs of {args.images} images at {args.size} px, batch {args.batch}, "
      f"{args.threads} thread(s); medians of {args.repeats}")
print('| last epoch | wall s | system CPU s | MB written |\n|---|---|---|---|')
for keep, label in ((True, 'checkpointed (before)'), (False, 'not checkpointed (fit_classifier now)')):
    wall, sys_s, mb = (statistics.median(v) for v in zip(*res[keep]))
    print(f"| {label} | {wall:.2f} | {sys_s:.2f} | {mb:.0f} |")
