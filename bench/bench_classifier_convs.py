"""The Han 2019 classifier's small convolutions (issue 22, item 2): `resnet50_classifier` with its `GemmConv2d` layers
against the same network with torch's own convolutions (`nn.Conv2d`, oneDNN on a CPU), the baseline. Both start from
the same weights and train on the same images, fp32 forced; the two take turns, so that a busy machine slows them
alike. Prints the machine line, then seconds per training step (forward, backward, Adam on one batch) and per
`train_classifier` epoch (training, batch-norm re-estimation and validation), the fastest of `--repeats` rounds,
and the ratio baseline / ours. `--layers` adds one row per distinct convolution of the network at this input: forward
and backward of that layer alone, both ways, and the plan `GemmConv2d` takes for it.

    python bench/bench_classifier_convs.py --threads 1 --repeats 3 --layers
"""
import argparse, copy, time
import torch, torch.nn as nn, torch.nn.functional as F
import medgan_nb  # noqa: F401  (torchvision on the CPU torch)
from medgan_nb.core import machine_line
from medgan_nb.papers import han2019 as h19
from _classifier import quick_options, quick_sets, train_epochs

p = quick_options(argparse.ArgumentParser())
p.add_argument('--steps', type=int, default=5, help='training steps timed a round (after 2 untimed)')
p.add_argument('--repeats', type=int, default=3, help='rounds of the two ways (the fastest of each kept)')
p.add_argument('--layers', action='store_true', help='also time each distinct convolution alone')
args = p.parse_args()
torch.set_num_threads(args.threads)


def torch_convs(model: nn.Module) -> nn.Module:
    "The baseline: every `GemmConv2d` of `model` back to torch's `nn.Conv2d`."
    for m in model.modules():
        if type(m) is h19.GemmConv2d:
            m.__class__ = nn.Conv2d
    return model


def best(f, n: int) -> float:
    "The shortest of `n` timed calls of `f`."
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return min(ts)


train, val, cfg = quick_sets(args, h19, amp='fp32')
torch.manual_seed(0)
start = h19.resnet50_classifier()[0]
nets = {'torch convolutions (baseline)': lambda: torch_convs(copy.deepcopy(start)),
        'GemmConv2d (ours)': lambda: copy.deepcopy(start)}
print(machine_line())
print(f"ResNet-50 from scratch, fp32, {args.threads} thread(s), input {args.size} px, batch {args.batch}; epochs of "
      f"{args.images} training images, batch norm re-estimated on {args.images}, {args.val} validation images")


def epoch_time(make) -> float:  # seconds an epoch
    t0 = time.perf_counter()
    train_epochs(h19, make(), train, val, cfg, args.epochs, 'fp32')
    return (time.perf_counter() - t0) / args.epochs


def step_time(make) -> float:
    model = make().train()
    opt = h19.adam(model.parameters(), cfg.lr)
    xb = h19.model_input(model, train[0][: args.batch], cfg)
    yb = train[1][: args.batch]

    def step():
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step(), step()
    return best(step, args.steps)


rows = {k: {'step': float('inf'), 'epoch': float('inf')} for k in nets}
for _ in range(args.repeats):
    for name, make in nets.items():
        rows[name]['step'] = min(rows[name]['step'], step_time(make))
        rows[name]['epoch'] = min(rows[name]['epoch'], epoch_time(make))
base = rows['torch convolutions (baseline)']
print('\n| network | s a training step | s an epoch | steps / s vs baseline | epochs / s vs baseline |')
print('|---|---|---|---|---|')
for name, r in rows.items():
    print(f"| {name} | {r['step']:.3f} | {r['epoch']:.2f} | {base['step'] / r['step']:.2f}× | "
          f"{base['epoch'] / r['epoch']:.2f}× |")

if args.layers:
    shapes = []
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append((m, tuple(i[0].shape[1:]))))
             for m in start.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        start.eval()(torch.zeros(2, 3, args.size, args.size))
    for hk in hooks:
        hk.remove()
    print('\n| input (C, H, W) | out | kernel, stride | layers | plan | torch ms | GemmConv2d ms | ratio |')
    print('|---|---|---|---|---|---|---|---|')
    seen = {}
    for m, shp in shapes:
        key = (shp, m.out_channels, m.kernel_size, m.stride, m.padding)
        seen[key] = seen.get(key, 0) + 1
    for (shp, out, k, s, pad), count in seen.items():
        ours = h19.GemmConv2d(shp[0], out, k, s, pad, bias=False)
        ref = torch_convs(copy.deepcopy(ours))
        xin = torch.randn(args.batch, *shp, requires_grad=True)
        plan = ours.gemm_plan((args.batch, *shp))

        def fb(m, xin=xin):
            return lambda: m(xin).sum().backward()

        t = [best(fb(m), 5) for m in (ref, ours, ref, ours)]
        tr, to = min(t[0], t[2]), min(t[1], t[3])
        print(f"| {shp} | {out} | {k[0]}×{k[1]}, {s[0]} | {count} | {plan or 'torch'} | {1e3 * tr:.1f} | "
              f"{1e3 * to:.1f} | {tr / to:.2f}× |")
