"""Images/s of one PGGAN training step at one stage of the Korkinof `paper` profile under speed switches, on a GPU.

Steps are the trainer's own (`medgan_nb.train.Trainer._step`, as `train` runs them); each variant builds fresh
networks, warms up, then times `--steps` steps between CUDA synchronisations. Variants: the trainer's defaults
(bf16 autocast, channels_last on CUDA) with `conv2d_gradfix` on the device (also on a CPU), torch's plain conv2d instead, cuDNN autotuning on,
channels_last off, autocast off. With `--profile-top N`
the defaults' step is also run under torch.profiler and the N most expensive CUDA kernels are printed.
Usage: python bench/pggan_step_variants.py --stage 7 --steps 20
"""
import argparse, json, math, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VARIANTS = {'defaults': {}, 'plain_conv2d': dict(plain=True), 'cudnn_benchmark': dict(benchmark=True),
            'no_channels_last': dict(channels_last=False), 'no_autocast': dict(amp=False)}

def trainer(P:dict, stage:int, device, amp=True, channels_last=None, benchmark=False, plain=False, seed=0):
    "A `Trainer` on random uint8 reals at the profile's final size, fixed at `stage` (stable)."
    import torch, yaml
    from medgan_nb.losses import GANLoss
    from medgan_nb.models.pggan import pggan
    from medgan_nb.train import Trainer, TrainConfig
    torch.backends.cudnn.benchmark = benchmark
    # plain: EqConv2d with torch's own F.conv2d (its generic double backward) instead of `conv2d_gradfix` on this device
    conv_backward = 'torch' if plain else 'gradfix'
    n_all = int(math.log2(P['size'][0] / P['base_shape'][0])) + 1
    G, D = pggan(base_shape=tuple(P['base_shape']), n_stages=stage + 1, channels=1, nz=P['nz'], fmap_base=P['fmap_base'], fmap_max=P['fmap_max'],
                 fused_scale=P.get('fused_scale', True))
    shape = tuple(b * 2 ** stage for b in P['base_shape'])
    data = (torch.rand(32, 1, *shape) * 255).to(torch.uint8)
    batch = {int(k): v for k, v in (P['stage_batch'] or {}).items()}.get(stage, P['batch_size'])
    cfg = TrainConfig(kimg=1e6, batch_size=batch, betas=tuple(P['betas']), lr_g=P['lr'], lr_d=P['lr'], phase_kimg=0, fade_kimg=0,
                      ema_kimg=10, amp=amp, channels_last=channels_last, conv_backward=conv_backward, log_every=10,
                      n_samples=4, seed=seed)
    loss = GANLoss(P['loss'], n_critic=P['n_critic'], gp_lambda=P['gp_lambda'], drift=P['drift'])
    return Trainer(G, D, data, tempfile.mkdtemp(), loss=loss, cfg=cfg, device=str(device), progress=False), batch

def timed(tr, steps:int, warmup:int) -> float:
    "Images/s over `steps` trainer steps after `warmup` (flushing the log every `log_every`, as `train` does)."
    import torch
    def go(n):
        for _ in range(n):
            tr._step()
            if tr.st['step'] % tr.cfg.log_every == 0: tr._flush()
    sync = torch.cuda.synchronize if tr.device.type == 'cuda' else (lambda: None)
    go(warmup); sync(); t0 = time.perf_counter(); go(steps); sync()
    return steps * tr._batch_size() / (time.perf_counter() - t0)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--profile', default='paper'); ap.add_argument('--stage', type=int, default=7)
    ap.add_argument('--steps', type=int, default=20); ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--variants', default=','.join(VARIANTS)); ap.add_argument('--profile-top', type=int, default=0)
    ap.add_argument('--device', default='cuda')
    a = ap.parse_args()
    import torch, yaml
    from medgan_nb.core import machine_info, machine_line
    P = yaml.safe_load((ROOT/'medgan_nb/profiles/korkinof2021.yaml').read_text())[a.profile]
    dev = torch.device(a.device)
    machine = machine_info(dev)
    print(machine_line(machine), flush=True)
    print(json.dumps(dict(machine=machine)), flush=True)
    for name in a.variants.split(','):
        tr, batch = trainer(P, a.stage, dev, **VARIANTS[name])
        print(json.dumps(dict(variant=name, stage=a.stage, batch=batch, img_per_s=round(timed(tr, a.steps, a.warmup), 2), speed=tr.speed)), flush=True)
        del tr; torch.cuda.empty_cache()
    if a.profile_top:
        tr, _ = trainer(P, a.stage, dev); timed(tr, 2, a.warmup)
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof: timed(tr, 3, 0)
        print(prof.key_averages().table(sort_by='cuda_time_total', row_limit=a.profile_top, max_name_column_width=90))

if __name__ == '__main__': main()
