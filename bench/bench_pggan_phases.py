"""Seconds per kimg of the Korkinof 2021 PGGAN, phase by phase, on this machine (made for a lent GPU).

The profile's architecture (5×4 base doubled up to 1280×1024 in `paper`), minibatch per stage, WGAN-GP + drift loss,
Adam settings and EMA come from medgan_nb/profiles/korkinof2021.yaml and are trained by `medgan_nb.train.train`, the
same call the notebook makes (bf16 autocast and channels_last on CUDA). Only the phase lengths differ: the `paper`
profile's 600k + 600k images per doubling take days, so every fade-in and stable phase is cut to `--phase-kimg`
thousand images, long enough to time it. Speed per phase comes from the training log (`phase_speed`, intervals split
pro rata), so the first interval of each phase (new layers, cuDNN autotuning) is included, as it is in a real run.

Usage: python bench/bench_pggan_phases.py --data .gpu/mammo1280.npz --phase-kimg 2 --out OUT_DIR
       python bench/bench_pggan_phases.py --from-log OUT_DIR/pggan --out OUT_DIR   # table of a killed run's log
Writes OUT_DIR/phase_speed.csv, OUT_DIR/phase_speed.md and OUT_DIR/bench.json.
"""
import argparse, json, math, platform, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Published training speeds at 1024×1024 quoted by issue 8 (the figures our 1280×1024 phases are set against).
PUBLISHED = [dict(source='PGGAN (Karras et al. 2018), average over training', gpu='1× V100', resolution='1024×1024', img_per_s=10.0),
             dict(source='StyleGAN2-ADA (Karras et al. 2020), 1024×1024 config', gpu='1× A100', resolution='1024×1024', img_per_s=11.0)]

def load_images(path:Path, size:tuple):
    "uint8 (N, 1, H, W) training images from an .npz (`images`), checked against the profile's final size."
    import numpy as np, torch
    with np.load(path) as z:
        if 'images' not in z: raise KeyError(f"{path}: no array 'images'; expected uint8 (N, 1, H, W) mammograms")
        x = torch.from_numpy(z['images'])
    if x.dtype != torch.uint8 or x.ndim != 4 or tuple(x.shape[-2:]) != tuple(size):
        raise ValueError(f"{path}: images {x.dtype} {tuple(x.shape)}; expected uint8 (N, 1, {size[0]}, {size[1]})")
    return x

def phantom_images(data_dir:Path, P:dict, n_patients:int, size:tuple, seed:int=0):
    "uint8 (N, 1, H, W) CC + MLO images of the embedded procedural mammograms, built and preprocessed as the notebook does."
    import torch
    from medgan_nb.data.build import build_part, FOLDERS
    from medgan_nb.data.cache import korkinof2021_data
    build_part(data_dir, 'mammo', seed=seed, verify='size', n_patients=n_patients, shape=tuple(P['phantom_shape']))
    ms, _ = korkinof2021_data(Path(data_dir)/FOLDERS['mammo'], Path(data_dir)/'cache', size=tuple(size), views=('CC', 'MLO'))
    return torch.cat([ms.images[v] for v in ('CC', 'MLO')]).float().mul(255).round().to(torch.uint8)

def train_config(P:dict, kimg:float, phase_kimg:float, seed:int, ema_kimg=None):
    "The notebook's TrainConfig for profile `P`, with every phase cut to `phase_kimg` and one checkpoint / sample grid at the end (the notebook: every quarter), so the log times training."
    from medgan_nb.train import TrainConfig
    return TrainConfig(kimg=kimg, batch_size=P['batch_size'], optimizer='adam', lr_g=P['lr'], lr_d=P['lr'], betas=tuple(P['betas']),
                       phase_kimg=phase_kimg, fade_kimg=phase_kimg, ema_kimg=ema_kimg,
                       stage_batch={int(k): v for k, v in (P['stage_batch'] or {}).items()} or None,
                       seed=seed, ckpt_kimg=kimg, sample_kimg=kimg, n_samples=8, log_every=10)

def speed_table(log_dir:Path, P:dict, n_stages:int, phase_kimg:float):
    "Per-phase images, seconds, img/s and s/kimg of a run's log."
    from medgan_nb.train import read_log
    from medgan_nb.train import pggan_schedule, phase_speed
    sched = pggan_schedule(tuple(P['base_shape']), n_stages, phase_kimg, phase_kimg)
    out = phase_speed(read_log(Path(log_dir)/'log.jsonl'), sched)
    bs = {int(k): v for k, v in (P['stage_batch'] or {}).items()}
    return out.assign(batch=[bs.get(s, P['batch_size']) for s in out.stage])[out.images > 0]

def markdown(df) -> str:
    cols = ['phase', 'batch', 'images', 'seconds', 'img_per_s', 's_per_kimg']
    rows = ['| ' + ' | '.join(cols) + ' |', '|' + '---|' * len(cols)]
    for r in df[cols].itertuples(index=False):
        rows.append(f"| {r.phase} | {r.batch} | {r.images} | {r.seconds:.2f} | {r.img_per_s:.1f} | {r.s_per_kimg:.2f} |")
    rows += ['', '| published | GPU | resolution | img/s | s/kimg |', '|---|---|---|---|---|']
    rows += [f"| {p['source']} | {p['gpu']} | {p['resolution']} | {p['img_per_s']:g} | {1000 / p['img_per_s']:.0f} |" for p in PUBLISHED]
    return '\n'.join(rows) + '\n'

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--profile', default='paper'); ap.add_argument('--phase-kimg', type=float, default=2.0, help='thousand images per fade-in and per stable phase')
    ap.add_argument('--stages', type=int, default=None, help='train stages 0..N-1 only (default: all of the profile, 9 = 1280×1024 in paper)')
    ap.add_argument('--data', type=Path, default=None, help='.npz with uint8 images (N, 1, H, W) at the profile size; default: build phantoms')
    ap.add_argument('--data-dir', type=Path, default=ROOT/'data', help='where phantoms are built when --data is not given')
    ap.add_argument('--ema-kimg', type=float, default=None, help="EMA half-life of G in kimg; 0: no EMA (default: the profile's ema_kimg, if any)")
    ap.add_argument('--n-patients', type=int, default=4); ap.add_argument('--device', default='auto'); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', type=Path, required=True); ap.add_argument('--from-log', type=Path, default=None, help='only tabulate this run folder')
    a = ap.parse_args()
    import torch, yaml
    from medgan_nb.core import get_device, machine_info, machine_line
    machine = machine_info(get_device(a.device) if a.from_log is None else 'cpu')
    print(machine_line(machine), flush=True)
    P = yaml.safe_load((ROOT/'medgan_nb/profiles/korkinof2021.yaml').read_text())[a.profile]
    size = tuple(P['size']); n_all = int(math.log2(size[0] / P['base_shape'][0])) + 1
    n_stages = min(a.stages or n_all, n_all)
    a.out.mkdir(parents=True, exist_ok=True); run_dir = a.from_log or a.out/'pggan'
    ema = (P.get('ema_kimg') if a.ema_kimg is None else a.ema_kimg) or None   # as the notebook: 0 / None mean no EMA
    info = dict(profile=a.profile, phase_kimg=a.phase_kimg, ema_kimg=ema, n_stages=n_stages, torch=torch.__version__, python=platform.python_version(),
                machine=machine)
    if a.from_log is None:
        from medgan_nb.losses import GANLoss
        from medgan_nb.models.pggan import pggan
        from medgan_nb.train import train
        dev = get_device(a.device)
        x = load_images(a.data, size) if a.data else phantom_images(a.data_dir, P, a.n_patients, size, a.seed)
        if n_stages < n_all: x = torch.nn.functional.avg_pool2d(x.float(), 2 ** (n_all - n_stages)).round().to(torch.uint8)
        G, D = pggan(base_shape=tuple(P['base_shape']), n_stages=n_stages, channels=1, nz=P['nz'], fmap_base=P['fmap_base'], fmap_max=P['fmap_max'],
                     fused_scale=P.get('fused_scale', True))
        loss = GANLoss(P['loss'], n_critic=P['n_critic'], gp_lambda=P['gp_lambda'], drift=P['drift'])
        kimg = a.phase_kimg * (2 * n_stages - 1)
        info.update(device=str(dev), gpu=torch.cuda.get_device_name(dev) if dev.type == 'cuda' else None, images=len(x), kimg=kimg,
                    params_G=sum(p.numel() for p in G.parameters()), params_D=sum(p.numel() for p in D.parameters()))
        print(json.dumps(info), flush=True)
        t0 = time.perf_counter()
        train(G, D, x, run_dir, loss=loss, cfg=train_config(P, kimg, a.phase_kimg, a.seed, ema), device=dev, progress=False)
        info.update(wall_s=time.perf_counter() - t0, peak_gib=torch.cuda.max_memory_allocated(dev) / 2**30 if dev.type == 'cuda' else None)
    df = speed_table(run_dir, P, n_stages, a.phase_kimg)
    df.to_csv(a.out/'phase_speed.csv', index=False); (a.out/'phase_speed.md').write_text(markdown(df))
    (a.out/'bench.json').write_text(json.dumps(dict(info, phases=df.to_dict('records'), published=PUBLISHED), indent=1, default=str))
    print(markdown(df)); print(json.dumps(info))

if __name__ == '__main__': main()
