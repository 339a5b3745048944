"""The Han 2019 classifier's optimizer: torch's Adam as a for-loop over tensors (torch's CPU default), `foreach`, and
fused (`medgan_nb.papers.han2019.adam`), one step on ResNet-50's 25.6 M weights, beside the forward + backward pass
of a `quick` classifier step (batch 64 at 32 px) for scale. The variants alternate within each repeat; medians.

    python bench/bench_adam.py --threads 1 --repeats 7
"""
import argparse, statistics, time
import torch
import medgan_nb  # noqa: F401  (torchvision on the CPU torch)
from medgan_nb.core import machine_line
from medgan_nb.papers.han2019 import adam, resnet50_classifier

p = argparse.ArgumentParser()
p.add_argument('--threads', type=int, default=1)
p.add_argument('--repeats', type=int, default=7)
p.add_argument('--batch', type=int, default=64)
p.add_argument('--size', type=int, default=32)
args = p.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)
model = resnet50_classifier()[0]
x, y = torch.randn(args.batch, 3, args.size, args.size), torch.randint(0, 2, (args.batch,))
opts = {'for-loop (CPU default)': torch.optim.Adam(model.parameters(), lr=1e-3, foreach=False),
        'foreach': torch.optim.Adam(model.parameters(), lr=1e-3, foreach=True),
        'fused (ours)': adam(model.parameters(), 1e-3)}
times = {k: [] for k in ['forward + backward', *opts]}
for r in range(args.repeats + 1):   # the first round warms up
    t = time.perf_counter()
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    fb = time.perf_counter() - t
    for k, opt in opts.items():
        t = time.perf_counter()
        opt.step()
        if r:
            times[k].append(time.perf_counter() - t)
    if r:
        times['forward + backward'].append(fb)
print(machine_line())
print(f"ResNet-50, {args.threads} thread(s); forward + backward at batch {args.batch}, {args.size} px; medians of "
      f"{args.repeats}")
print('| part | s |\n|---|---|')
for k, v in times.items():
    print(f"| {k} | {statistics.median(v):.4f} |")
loop, fused = (statistics.median(times[k]) for k in ('for-loop (CPU default)', 'fused (ours)'))
print(f"\nfused vs for-loop: {loop / fused:.2f}x")
