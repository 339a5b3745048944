"""The Han 2019 classifier's precision and memory layout (issue 22, items 1 and 2): one `quick`-sized ResNet-50 run of
`train_classifier` with each choice forced (bf16 autocast and the contiguous layout: what `amp=True` gave on bf16
hardware before the choice was timed; fp32 contiguous: the choice without bf16 before layouts were timed; fp32
channels_last) and with the timed choice (`classifier_speed`, its timing included), taking turns in one process on
the same images. Prints the machine line, seconds per epoch (training, batch-norm re-estimation and validation; the
fastest of `--repeats` rounds) and each run's epochs per second against fp32 contiguous. Without bf16 instructions
the bf16 run is left out (`--bf16` runs it anyway: emulated, slow). Was bench_classifier_precision.py.

    python bench/bench_classifier_speed.py --threads 1 --epochs 2 --repeats 2
"""
import argparse, os, time
import torch
import medgan_nb  # noqa: F401  (torchvision on the CPU torch)
from medgan_nb.core import machine_line, bf16_supported
from medgan_nb.papers import han2019 as h19
from _classifier import quick_options, quick_sets, train_epochs

# the timed choice and its cost are what is measured: timed afresh, not taken from this machine's kept choices
os.environ.setdefault('MEDGAN_RETIME', '1')

p = quick_options(argparse.ArgumentParser())
p.add_argument('--repeats', type=int, default=2, help='rounds of the runs (the fastest of each kept)')
p.add_argument('--bf16', action='store_true', help='run bf16 autocast also where the CPU has no bf16 instructions')
args = p.parse_args()
torch.set_num_threads(args.threads)
train, val, cfg = quick_sets(args, h19)
print(machine_line())
print(f"ResNet-50 from scratch, {args.threads} thread(s), input {args.size} px, batch {args.batch}, "
      f"{args.images} training images an epoch, batch norm re-estimated on {args.images}, {args.val} validation "
      f"images; {args.epochs} epochs a run")

runs = [('fp32, contiguous', 'fp32', 'contiguous'), ('fp32, channels_last', 'fp32', 'channels_last')]
if args.bf16 or bf16_supported('cpu'):
    runs.insert(0, ('bf16, contiguous', 'bf16', 'contiguous'))
runs.append(('timed choice', None, None))
rows = {}
for name, prec, fmt in runs * args.repeats:  # the runs take turns, so that a busy machine slows them alike
    torch.manual_seed(0)
    model = h19.resnet50_classifier()[0]
    h19._CLF_SPEED.clear()  # the timed run times again (its timing counted below)
    t0 = time.perf_counter()
    forced = {'precision': (prec, 'forced'), 'memory_format': (fmt, 'forced')}
    chosen = forced if prec else h19.classifier_speed(model, train, cfg)
    t_choice = time.perf_counter() - t0
    train_epochs(h19, model, train, val, cfg, args.epochs, chosen['precision'][0], chosen['memory_format'][0])
    wall = time.perf_counter() - t0
    r = dict(chosen=chosen, choice_s=t_choice, per_epoch=(wall - t_choice) / args.epochs, wall=wall)
    if name not in rows or r['per_epoch'] < rows[name]['per_epoch']:
        rows[name] = r
base = rows['fp32, contiguous']['per_epoch']
print('| run | precision, layout (why) | s to choose | s per epoch | epochs / s vs fp32 contiguous | run wall s |')
print('|---|---|---|---|---|---|')
for name, r in rows.items():
    (pr, _), (fm, why) = r['chosen']['precision'], r['chosen']['memory_format']  # timed: the layouts' timings
    print(f"| {name} | {pr}, {fm} ({why}) | {r['choice_s']:.1f} | {r['per_epoch']:.2f} | "
          f"{base / r['per_epoch']:.2f}× | {r['wall']:.1f} |")
