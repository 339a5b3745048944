"""The Han 2019 classifier's precision (issue 22, item 1): one `quick`-sized ResNet-50 run of `train_classifier` with
bf16 autocast forced (what `amp=True` gave on bf16 hardware before the choice was timed), with fp32 forced, and with
the timed choice (`classifier_precision`, its timing included), one after the other in one process on the same
images. Prints the machine line, seconds per epoch (training, batch-norm re-estimation and validation; the fastest of `--repeats` runs,
the three taking turns) and the ratios to bf16. On a CPU without bf16 instructions all three are fp32.

    python bench/bench_classifier_precision.py --threads 1 --epochs 2 --repeats 2
"""
import argparse, time
from dataclasses import replace
import torch
import medgan_nb  # noqa: F401  (torchvision on the CPU torch)
from medgan_nb.core import machine_line
from medgan_nb.papers import han2019 as h19
from _classifier import quick_options, quick_sets, train_epochs

p = quick_options(argparse.ArgumentParser())
p.add_argument('--repeats', type=int, default=2, help='rounds of the three runs (the fastest of each kept)')
args = p.parse_args()
torch.set_num_threads(args.threads)
train, val, cfg = quick_sets(args, h19)
print(machine_line())
print(f"ResNet-50 from scratch, {args.threads} thread(s), input {args.size} px, batch {args.batch}, "
      f"{args.images} training images an epoch, batch norm re-estimated on {args.images}, {args.val} validation "
      f"images; {args.epochs} epochs a run")


rows = {}
runs = [('bf16 forced', 'bf16'), ('fp32 forced', 'fp32'), ('timed choice', True)]
for name, amp in runs * args.repeats:  # the three take turns, so that a busy machine slows them alike
    torch.manual_seed(0)
    model = h19.resnet50_classifier()[0]
    h19._CLF_PRECISION.clear()  # the timed run times again (its timing counted below)
    t0 = time.perf_counter()
    chosen = h19.classifier_precision(model, train, replace(cfg, amp=amp))
    t_choice = time.perf_counter() - t0
    train_epochs(h19, model, train, val, replace(cfg, amp=amp), args.epochs, chosen[0])
    wall = time.perf_counter() - t0
    r = dict(chosen=chosen, choice_s=t_choice, per_epoch=(wall - t_choice) / args.epochs, wall=wall)
    if name not in rows or r['per_epoch'] < rows[name]['per_epoch']:
        rows[name] = r
base = rows['bf16 forced']['per_epoch']
print('| run | precision (why) | s to choose | s per epoch | epochs / s vs bf16 forced | run wall s |')
print('|---|---|---|---|---|---|')
for name, r in rows.items():
    print(f"| {name} | {r['chosen'][0]} ({r['chosen'][1]}) | {r['choice_s']:.1f} | {r['per_epoch']:.2f} | "
          f"{base / r['per_epoch']:.2f}× | {r['wall']:.1f} |")
