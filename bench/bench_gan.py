"""Throughput of medgan_nb's GAN trainer against minimal baselines, on this machine.

DCGAN 64x64, batch 64, 1 channel: our `train` (precision and memory layout as its calibration chooses them on
this machine, data in memory as uint8) vs a faithful minimal copy of PyTorch's examples/dcgan training step (fp32,
same architecture: 4x4 filters, ngf = ndf = 64, nz = 100, BCE on sigmoid outputs, Adam 2e-4 (0.5, 0.999), one fake batch per step).

PGGAN at 128x128 and 256x256 (final stage, stable, WGAN-GP + drift, Adam 1e-3 (0, 0.99)): our `train` vs a minimal
port of pytorch_GAN_zoo's PGAN step (fp32; separate real/fake forwards, the gradient penalty backpropagated on its
own, epsilon drift, a fresh latent for G). `--pg-fmap-max` narrows both networks equally so the run fits a shared CPU.

Each measurement runs in its own process (peak memory = its max RSS, or CUDA max allocated); measurements alternate
`--repeats` times and the median images/s is reported. Usage: python bench/bench_gan.py [--quick] [--device cpu]
`--calibrate-only` prints just the precision and memory layout our trainer chooses here, with the seconds per step
it timed for each option (`medgan_nb.train`'s calibration; MEDGAN_PRECISION / MEDGAN_MEMORY_FORMAT /
MEDGAN_CONV_BACKWARD force them).
`--roofline` (DCGAN 64x64 and PGGAN at `--pg-sizes` unless `--skip-pggan`) counts each side's convolution and matmul FLOPs per step (torch's flop formulas, as FlopCounterMode),
times both as above and this device's fp32 matrix product (2048^3, best of 5): the rate each side reaches, and the
most a step of the same FLOPs could gain over the baseline if it ran at the matrix-product rate.
"""
import argparse, json, math, os, resource, statistics, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the trainer's calibration is what is measured here: time it afresh, not take a choice this machine kept
# (medgan_nb.core.remembered_speed); subprocesses inherit it
os.environ.setdefault('MEDGAN_RETIME', '1')

# ---------------------------------------------------------------- baselines (plain fp32 PyTorch)
def baseline_dcgan(device, batch=64, nz=100, ngf=64, ndf=64, nc=1, size=64):
    "examples/dcgan's networks (at 64x64 exactly; every doubling beyond adds one layer of twice the width)."
    import torch, torch.nn as nn
    m = [2 ** k for k in range(int(math.log2(size)) - 3, -1, -1)]            # 64: 8, 4, 2, 1 (the example's)
    g = [nn.ConvTranspose2d(nz, ngf * m[0], 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * m[0]), nn.ReLU(True)]
    for a, b in zip(m, m[1:]): g += [nn.ConvTranspose2d(ngf * a, ngf * b, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * b), nn.ReLU(True)]
    G = nn.Sequential(*g, nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()).to(device)
    d = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
    for a, b in zip(m[::-1], m[::-1][1:]): d += [nn.Conv2d(ndf * a, ndf * b, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * b), nn.LeakyReLU(0.2, True)]
    D = nn.Sequential(*d, nn.Conv2d(ndf * m[0], 1, 4, 1, 0, bias=False), nn.Sigmoid()).to(device)
    crit = nn.BCELoss()
    oD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999)); oG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    data = torch.rand(1024, nc, size, size, device=device) * 2 - 1
    def step(i):
        real = data[(i * batch) % 1024:(i * batch) % 1024 + batch]
        D.zero_grad(); label = torch.full((batch,), 1.0, device=device)
        errD_real = crit(D(real).view(-1), label); errD_real.backward()
        fake = G(torch.randn(batch, nz, 1, 1, device=device)); label.fill_(0.0)
        errD_fake = crit(D(fake.detach()).view(-1), label); errD_fake.backward(); oD.step()
        G.zero_grad(); label.fill_(1.0)
        errG = crit(D(fake).view(-1), label); errG.backward(); oG.step()
        return errD_real.item() + errD_fake.item(), errG.item()    # the example prints these every step
    step.nets = (G, D)
    return step

def baseline_pggan(device, size, fmap_max, batch, nz=512, nc=1, base=(4, 4)):
    "GAN zoo's PGAN at its last stage; `size` is the final height, `base` the first stage's (H, W)."
    import torch, torch.nn as nn, torch.nn.functional as F
    class EqC(nn.Module):  # GAN zoo's ConstrainedLayer around a conv / linear
        def __init__(s, mod): super().__init__(); s.m = mod; nn.init.normal_(mod.weight); nn.init.zeros_(mod.bias); s.c = math.sqrt(2 / mod.weight[0].numel())
        def forward(s, x): return s.m(x) * s.c
    pn = lambda x: x * torch.rsqrt(x.pow(2).mean(1, keepdim=True) + 1e-8)
    bh, bw = base; n_up = int(math.log2(size // bh)); ch = [min(8192 // 2 ** (s + 1), fmap_max) for s in range(n_up + 1)]
    lrelu = nn.LeakyReLU(0.2)
    class Gen(nn.Module):
        def __init__(s):
            super().__init__(); s.fmt = EqC(nn.Linear(nz, bh * bw * ch[0])); s.c0 = EqC(nn.Conv2d(ch[0], ch[0], 3, padding=1))
            s.g = nn.ModuleList([nn.ModuleList([EqC(nn.Conv2d(ch[i], ch[i + 1], 3, padding=1)), EqC(nn.Conv2d(ch[i + 1], ch[i + 1], 3, padding=1))]) for i in range(n_up)])
            s.rgb = EqC(nn.Conv2d(ch[-1], nc, 1))
        def forward(s, z):
            x = pn(lrelu(s.fmt(pn(z)))).view(-1, ch[0], bh, bw); x = pn(lrelu(s.c0(x)))
            for a, b in s.g: x = F.interpolate(x, scale_factor=2); x = pn(lrelu(a(x))); x = pn(lrelu(b(x)))
            return s.rgb(x)
    class Dis(nn.Module):
        def __init__(s):
            super().__init__(); s.rgb = EqC(nn.Conv2d(nc, ch[-1], 1))
            s.g = nn.ModuleList([nn.ModuleList([EqC(nn.Conv2d(ch[i + 1], ch[i + 1], 3, padding=1)), EqC(nn.Conv2d(ch[i + 1], ch[i], 3, padding=1))]) for i in reversed(range(n_up))])
            s.c = EqC(nn.Conv2d(ch[0] + 1, ch[0], 3, padding=1)); s.l1 = EqC(nn.Linear(bh * bw * ch[0], ch[0])); s.l2 = EqC(nn.Linear(ch[0], 1))
        def forward(s, x):
            x = lrelu(s.rgb(x))
            for a, b in s.g: x = F.avg_pool2d(lrelu(b(lrelu(a(x)))), 2)
            n = x.shape[0]; g = min(4, n); y = x.view(g, -1, *x.shape[1:])
            y = torch.sqrt((y - y.mean(0, keepdim=True)).pow(2).mean(0) + 1e-8).mean((1, 2, 3)).view(-1, 1, 1, 1).repeat(g, 1, bh, bw)
            x = lrelu(s.c(torch.cat([x, y], 1))); return s.l2(lrelu(s.l1(x.flatten(1))))
    G, D = Gen().to(device), Dis().to(device)
    oG = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.0, 0.99)); oD = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.0, 0.99))
    data = torch.rand(64, nc, size, size * bw // bh, device=device) * 2 - 1
    def step(i):
        real = data[(i * batch) % 64:(i * batch) % 64 + batch]
        oD.zero_grad()
        pred_real = D(real); loss_d = -pred_real.sum(0)[0]            # GAN zoo's WGANGP criterion (sums)
        fake = G(torch.randn(batch, nz, device=device)).detach()
        loss_d = loss_d + D(fake).sum(0)[0]
        eps = torch.rand(batch, 1, 1, 1, device=device)
        interp = (eps * real + (1 - eps) * fake).requires_grad_(True)
        grad = torch.autograd.grad(D(interp)[:, 0].sum(), interp, create_graph=True, retain_graph=True)[0]
        gp = ((grad.view(batch, -1).norm(2, dim=1) - 1) ** 2).sum() * 10.0; gp.backward(retain_graph=True)
        loss_d = loss_d + (pred_real[:, 0] ** 2).sum() * 0.001
        loss_d.backward(retain_graph=True); oD.step()
        oG.zero_grad(); oD.zero_grad()
        loss_g = -D(G(torch.randn(batch, nz, device=device))).sum(0)[0]; loss_g.backward(); oG.step()
        return loss_d.item(), loss_g.item()                          # GAN zoo logs per step
    step.nets = (G, D)
    return step

# ---------------------------------------------------------------- ours: medgan_nb.train's own step (and flush)
def ours(kind, device, size=64, fmap_max=512, batch=64, tmp=None, base=(4, 4), nz=None, width=64, fused_scale=True):
    """Our trainer's step on the same networks (`width`: DCGAN ngf = ndf; `nz`: latent size, default as the baseline's;
    `fused_scale`: PGGAN D pooling inside its convolutions, our default, or after the activation as the baseline)."""
    import torch
    sys.path.insert(0, str(ROOT))
    from medgan_nb.train import Trainer, TrainConfig
    from medgan_nb.losses import GANLoss
    if kind == 'dcgan':
        from medgan_nb.models.dcgan import dcgan
        G, D = dcgan('radford', kernel=4, size=size, channels=1, ngf=width, ndf=width, nz=nz or 100)   # = examples/dcgan's
        loss, extra = GANLoss('ns'), {}
        data = (torch.rand(1024, 1, size, size) * 255).to(torch.uint8)
    else:
        from medgan_nb.models.pggan import pggan
        G, D = pggan(base_shape=base, n_stages=int(math.log2(size // base[0])) + 1, channels=1, fmap_max=fmap_max, nz=nz or 512,
                     fused_scale=fused_scale)
        loss, extra = GANLoss('wgan-gp', drift=1e-3), dict(phase_kimg=0, fade_kimg=0, betas=(0.0, 0.99), lr_g=1e-3, lr_d=1e-3)
        data = (torch.rand(64, 1, size, size * base[1] // base[0]) * 255).to(torch.uint8)
    cfg = TrainConfig(kimg=1e6, batch_size=batch, log_every=10, n_samples=8, **extra)
    tr = Trainer(G, D, data, tmp, loss=loss, cfg=cfg, device=str(device), progress=False)
    def step(i):
        tr._step()
        if tr.st['step'] % cfg.log_every == 0: tr._flush()                 # exactly what train()'s loop does per step
    step.speed = tr.speed                                                    # the precision / layout it chose, and why
    step.nets = (tr.G, tr.D)
    return step

def _sync(device):
    import torch
    if device.type == 'cuda': torch.cuda.synchronize()

def alternate(fns, per_step, device, warmup, steps, repeats):
    "Images per second of each step function: `warmup` untimed calls each, then alternating timed blocks of `steps`."
    for f in fns.values():
        for i in range(warmup): f(i)
    t = dict.fromkeys(fns, 0.0)
    for rep in range(repeats):
        for k, f in fns.items():
            _sync(device); t0 = time.perf_counter()
            for i in range(steps): f(i)
            _sync(device); t[k] += time.perf_counter() - t0
    return {k: per_step * steps * repeats / t[k] for k in fns}

def pair(args):
    "Baseline and ours in one process, alternating blocks of steps so both see the same machine load."
    import torch
    torch.set_num_threads(args.threads); device = torch.device(args.device)
    model, size = args.pair.split(':'); size = int(size)
    tmp = tempfile.mkdtemp()
    if model == 'dcgan': fns, batch = {'base': baseline_dcgan(device), 'ours': ours('dcgan', device, tmp=tmp)}, 64
    else:
        batch = args.pg_batch
        fns = {'base': baseline_pggan(device, size, args.pg_fmap_max, batch), 'ours': ours('pggan', device, size, args.pg_fmap_max, batch, tmp, fused_scale=args.pg_fused_scale)}
    ips = alternate(fns, batch, device, args.warmup, args.steps, args.repeats)
    print(json.dumps({'model': model, 'size': size, 'batch': batch, 'base_img_per_s': ips['base'], 'ours_img_per_s': ips['ours'],
                      'ratio': ips['ours'] / ips['base'], 'threads': args.threads, 'device': args.device,
                      'speed': fns['ours'].speed}))

def one(args):
    "Peak memory of one implementation alone (max RSS on CPU, max allocated on CUDA) over a few steps."
    import torch
    torch.set_num_threads(args.threads); device = torch.device(args.device)
    name, size = args.one.split(':'); size = int(size); model, impl = name.split('-')
    batch = 64 if model == 'dcgan' else args.pg_batch
    if impl == 'base': f = baseline_dcgan(device) if model == 'dcgan' else baseline_pggan(device, size, args.pg_fmap_max, batch)
    else: f = ours(model, device, size, args.pg_fmap_max, batch, tempfile.mkdtemp(), fused_scale=args.pg_fused_scale)
    for i in range(2): f(i)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == 'cuda' else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({'name': name, 'size': size, 'peak_mib': peak}))

def _sub(args, flag, value, extra=()):
    cmd = [sys.executable, __file__, flag, value, '--device', args.device, '--threads', str(args.threads), '--pg-fmap-max', str(args.pg_fmap_max),
           '--pg-batch', str(args.pg_batch), '--pg-fused-scale', str(args.pg_fused_scale), *extra]
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, 'PYTHONPATH': os.pathsep.join(filter(None, [str(ROOT), os.environ.get('PYTHONPATH')]))})
    if out.returncode: raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])

def calibrate(args, pairs):
    "Only the trainer's choice of precision and memory layout for each model, with the seconds per step it timed."
    import torch
    torch.set_num_threads(args.threads)
    for model, size in pairs:
        batch = 64 if model == 'dcgan' else args.pg_batch
        f = ours(model, torch.device(args.device), size, args.pg_fmap_max, batch, tempfile.mkdtemp(), fused_scale=args.pg_fused_scale)
        print(json.dumps({'model': model, 'size': size, 'batch': batch, 'threads': args.threads, **f.speed}), flush=True)

def gemm_gflops(device, n=2048, reps=5):
    "This device's fp32 matrix-multiply rate at the current thread count (best of `reps` n x n x n products): a ceiling."
    import torch
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    best = math.inf
    for _ in range(reps + 1):
        _sync(device); t0 = time.perf_counter(); a @ b; _sync(device); best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9

def roofline(args):
    "DCGAN 64x64 and PGGAN at `--pg-sizes`: the convolution / matmul FLOPs of one step of each side, the rate each reaches, and the ceiling."
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry
    class Flops(TorchDispatchMode):   # FlopCounterMode's count without its module hooks, which break autograd.grad
        total = 0
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            count = flop_registry.get(func._overloadpacket)
            if count is not None: self.total += count(*args, **(kwargs or {}), out_val=out)
            return out
    torch.set_num_threads(args.threads); device = torch.device(args.device)
    peak = gemm_gflops(device)
    pairs = [('dcgan', 64)] + ([] if args.skip_pggan else [('pggan', int(s)) for s in args.pg_sizes.split(',')])
    for model, size in pairs:
        if model == 'dcgan': fns, batch = {'base': baseline_dcgan(device), 'ours': ours('dcgan', device, tmp=tempfile.mkdtemp())}, 64
        else:
            batch = args.pg_batch
            fns = {'base': baseline_pggan(device, size, args.pg_fmap_max, batch),
                   'ours': ours('pggan', device, size, args.pg_fmap_max, batch, tempfile.mkdtemp(), fused_scale=args.pg_fused_scale)}
        flops = {}
        for k, f in fns.items():
            f(0)
            with Flops() as fc: f(1)
            flops[k] = fc.total
        steps = args.steps if model == 'dcgan' else max(1, args.steps // 2)
        ips = alternate(fns, batch, device, args.warmup, steps, args.repeats)
        rate = {k: flops[k] * ips[k] / batch / 1e9 for k in fns}
        print(json.dumps({'model': model, 'size': size, 'batch': batch, 'threads': args.threads, 'speed': fns['ours'].speed,
                          'gflop_per_step': {k: flops[k] / 1e9 for k in fns}, 'img_per_s': ips, 'gflop_per_s': rate,
                          'gemm_fp32_gflop_per_s': peak, 'share_of_gemm': {k: rate[k] / peak for k in fns},
                          'ratio': ips['ours'] / ips['base'],
                          'ratio_ceiling_at_gemm_rate': peak / rate['base'] * flops['base'] / flops['ours']}), flush=True)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--device', default='cpu'); ap.add_argument('--threads', type=int, default=1, help='torch threads (1 is steadiest on a shared CPU)')
    ap.add_argument('--repeats', type=int, default=3); ap.add_argument('--steps', type=int, default=3); ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--pg-fmap-max', type=int, default=512); ap.add_argument('--pg-batch', type=int, default=16)
    ap.add_argument('--pg-fused-scale', type=int, choices=(0, 1), default=1,
                    help="ours: PGGAN D pools inside its convolutions (1, our default and the PGGAN code's) or after the activation (0, as the baseline)")
    ap.add_argument('--pg-sizes', default='128,256'); ap.add_argument('--skip-pggan', action='store_true'); ap.add_argument('--skip-memory', action='store_true')
    ap.add_argument('--calibrate-only', action='store_true', help="only time the trainer's precision / memory-layout options")
    ap.add_argument('--roofline', action='store_true', help="FLOPs per step, GFLOP/s of each side and the fp32 GEMM ceiling (DCGAN, and PGGAN at --pg-sizes)")
    ap.add_argument('--one', default=None, help=argparse.SUPPRESS); ap.add_argument('--pair', default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one: return one(args)
    if args.pair: return pair(args)
    sys.path.insert(0, str(ROOT))
    from medgan_nb.core import get_device, machine_info, machine_line
    print(machine_line(machine_info(get_device(args.device))), flush=True)
    pairs = [('dcgan', 64)] + ([] if args.skip_pggan else [('pggan', int(s)) for s in args.pg_sizes.split(',')])
    if args.calibrate_only: return calibrate(args, pairs)
    if args.roofline: return roofline(args)
    print(f"{'model':6} {'size':>5} {'batch':>5} {'baseline img/s':>15} {'ours img/s':>11} {'ratio':>6} {'peak MiB base/ours':>19}", flush=True)
    for model, size in pairs:
        steps = args.steps if model == 'dcgan' else max(1, args.steps // 2)
        r = _sub(args, '--pair', f'{model}:{size}', ['--repeats', str(args.repeats), '--steps', str(steps), '--warmup', str(args.warmup)])
        mem = ('-', '-') if args.skip_memory else tuple(f"{_sub(args, '--one', f'{model}-{impl}:{size}')['peak_mib']:.0f}" for impl in ('base', 'ours'))
        print(f"{model:6} {size:5d} {r['batch']:5d} {r['base_img_per_s']:15.2f} {r['ours_img_per_s']:11.2f} {r['ratio']:6.2f} {mem[0]:>9}/{mem[1]}", flush=True)

if __name__ == '__main__': main()
