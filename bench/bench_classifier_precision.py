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

p = argparse.ArgumentParser()
p.add_argument('--threads', type=int, default=1)
p.add_argument('--epochs', type=int, default=2, help='epochs per run (quick: up to 10)')
p.add_argument('--size', type=int, default=32, help='input side (quick: 32; paper: 224)')
p.add_argument('--batch', type=int, default=64, help='batch (quick: 64; paper: 192)')
p.add_argument('--images', type=int, default=384, help='images per epoch and for batch norm (quick: 384)')
p.add_argument('--val', type=int, default=400, help='validation images')
p.add_argument('--repeats', type=int, default=2, help='rounds of the three runs (the fastest of each kept)')
args = p.parse_args()
torch.set_num_threads(args.threads)
g = torch.Generator().manual_seed(0)
n = args.images + args.val
x = torch.randint(0, 256, (n, 1, 64, 64), dtype=torch.uint8, generator=g)
y = torch.randint(0, 2, (n,), generator=g)
train, val = (x[: args.images], y[: args.images]), (x[args.images :], y[args.images :])
# max_epochs as quick's (10), so that the run is long enough to be timed; patience stops nothing before --epochs
cfg = h19.ClassifierConfig(input_size=args.size, batch_size=args.batch, max_epochs=10, patience=10,
                           epoch_images=args.images, bn_images=args.images, seed=0)
print(machine_line())
print(f"ResNet-50 from scratch, {args.threads} thread(s), input {args.size} px, batch {args.batch}, "
      f"{args.images} training images an epoch, batch norm re-estimated on {args.images}, {args.val} validation "
      f"images; {args.epochs} epochs a run")


class Stop(Exception):
    pass


def stop_after(ep):
    if ep >= args.epochs:
        raise Stop


rows = {}
runs = [('bf16 forced', 'bf16'), ('fp32 forced', 'fp32'), ('timed choice', True)]
for name, amp in runs * args.repeats:  # the three take turns, so that a busy machine slows them alike
    torch.manual_seed(0)
    model = h19.resnet50_classifier()[0]
    h19._CLF_PRECISION.clear()  # the timed run times again (its timing counted below)
    t0 = time.perf_counter()
    chosen = h19.classifier_precision(model, train, replace(cfg, amp=amp))
    t_choice = time.perf_counter() - t0
    hist = []
    try:
        h19.train_classifier(model, train, val, replace(cfg, amp=amp), progress=False, precision=chosen[0],
                             on_epoch=lambda ep: (hist.append(ep), stop_after(ep)))
    except Stop:
        pass
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
