"""Han 2019's ResNet-50 classifier, its last epoch checkpointed (`keep_last=True`, as `fit_classifier` did before
this change) or not (`keep_last=False`, what `fit_classifier` does now: its final.pt follows at once). Each run trains
a fresh classifier for `--epochs` short epochs (16 images of 32 px, batch 8) into a folder of its own; the two
settings alternate within each repeat, and every run's files stay until the end, so that each writes into pages the
system had not just freed (as a long run's checkpoints do). Reports, per setting, the median wall and system CPU of a
run and the MB it wrote (`getrusage`'s blocks out). Filling new pages costs system CPU (here, a virtual machine, ~8 s
a GB; a file rewritten into just-freed pages a tenth of that), so the figure depends on the machine.

    python bench/bench_classifier_ckpt.py --repeats 3
"""
import argparse, resource, statistics, tempfile, time
from pathlib import Path
import torch
from medgan_nb.core import machine_line
from medgan_nb.papers.han2019 import ClassifierConfig, resnet50_classifier, train_classifier

p = argparse.ArgumentParser()
p.add_argument('--repeats', type=int, default=3)
p.add_argument('--epochs', type=int, default=2)
p.add_argument('--threads', type=int, default=1)
args = p.parse_args()
torch.set_num_threads(args.threads)
g = torch.Generator().manual_seed(0)
X, Y = (torch.rand(16, 1, 32, 32, generator=g) * 255).to(torch.uint8), torch.tensor([0, 1] * 8)
cfg = ClassifierConfig(input_size=32, batch_size=8, max_epochs=args.epochs, patience=5, bn_images=8, amp=False)


def one(keep_last: bool, folder: Path) -> tuple:  # (wall s, system CPU s, MB written)
    torch.manual_seed(0)
    model = resnet50_classifier()[0]
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    train_classifier(model, (X, Y), (X[:8], Y[:8]), cfg, progress=False, ckpt=folder / 'last.pt',
                     precision='fp32', memory_format='contiguous', keep_last=keep_last)
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
print(f"ResNet-50 classifier, {args.epochs} epochs of 16 images at 32 px, {args.threads} thread(s); medians of "
      f"{args.repeats}")
print('| last epoch | wall s | system CPU s | MB written |\n|---|---|---|---|')
for keep, label in ((True, 'checkpointed (before)'), (False, 'not checkpointed (fit_classifier now)')):
    wall, sys_s, mb = (statistics.median(v) for v in zip(*res[keep]))
    print(f"| {label} | {wall:.2f} | {sys_s:.2f} | {mb:.0f} |")
