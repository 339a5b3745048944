"""Benchmark (issue 19): peak memory of one PGGAN training step at a paper's widths, whole batch against passes.

Korkinof 2021's `paper` PGGAN (5x4 base doubled 8 times, fmap_base 8192, fmap_max 512, nz 512, WGAN-GP with drift,
one critic step, so G trains on the fakes D just saw) is put at the stable phase of `--stage` and takes `--steps`
training steps of a global batch `--batch`, once with the whole batch in one forward/backward pass and once per
`--micro` value in passes of at most that many images (`TrainConfig.micro_batch`: gradients summed, one optimiser
step: the same update). Each configuration runs in a fresh child process; its peak RSS (getrusage) and seconds per
step are printed as one JSON line, with the machine line first. fp32, contiguous layout, torch's conv backward and
`--threads` are fixed (MEDGAN_PRECISION, MEDGAN_MEMORY_FORMAT, MEDGAN_CONV_BACKWARD) so that no calibration runs steps
of its own.

    python bench/micro_batch_memory.py --stage 5 --batch 16 --micro 0,4    # 160x128; 0: the whole batch
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(a):
    "One configuration: build the networks, place the run at the stage's stable phase, take the steps."
    import torch
    sys.path.insert(0, str(ROOT))
    from medgan_nb.models.pggan import pggan
    from medgan_nb.losses import GANLoss
    from medgan_nb.train import Trainer, TrainConfig, pggan_schedule
    torch.manual_seed(0)
    G, D = pggan(base_shape=(5, 4), n_stages=9, channels=1, nz=512, fmap_base=8192, fmap_max=512)
    h, w = 5 * 2 ** a.stage, 4 * 2 ** a.stage
    data = (torch.rand(max(a.batch, 16), 1, 1280, 1024) * 255).to(torch.uint8)
    cfg = TrainConfig(kimg=1e6, batch_size=a.batch, phase_kimg=1, fade_kimg=1, betas=(0.0, 0.99), lr_g=1e-3,
                      lr_d=1e-3, threads=a.threads, micro_batch=a.micro or None, log_every=10 ** 6)
    tr = Trainer(G, D, data, tempfile.mkdtemp(), loss=GANLoss('wgan-gp', drift=1e-3), cfg=cfg, device='cpu',
                 progress=False)
    sched = pggan_schedule((5, 4), 9, 1, 1)
    tr.st['images'] = int(sched[(sched.stage == a.stage) & (sched.kind == 'stable')].start.iloc[0])
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter(); tr._step(); times.append(time.perf_counter() - t0)
    assert tr.st['stage'] == a.stage and tr.st['alpha'] == 1.0, tr.st
    passes = len(tr._micro_slices(a.batch))
    print(json.dumps({'stage': a.stage, 'size': [h, w], 'batch': a.batch, 'micro_batch': a.micro or None,
                      'passes': passes, 's_per_step': [round(t, 2) for t in times],
                      'peak_rss_gb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20, 2),
                      'loss_d': float(tr.pending[-1]['loss_d'])}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--stage', type=int, default=5, help='PGGAN stage (0: 5x4, 5: 160x128, 8: 1280x1024)')
    ap.add_argument('--batch', type=int, default=16, help='global batch (Korkinof paper profile: 16; 14, 6, 3 late)')
    ap.add_argument('--micro', default='0,4', help='micro_batch values to run, comma-separated (0: whole batch)')
    ap.add_argument('--steps', type=int, default=2)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        a.micro = int(a.micro)
        return child(a)
    sys.path.insert(0, str(ROOT))
    from medgan_nb.core import machine_info, machine_line
    print(machine_line(machine_info('cpu')), flush=True)
    env = {**os.environ, 'MEDGAN_PRECISION': 'fp32', 'MEDGAN_MEMORY_FORMAT': 'contiguous', 'MEDGAN_CONV_BACKWARD': 'torch'}
    for m in a.micro.split(','):
        cmd = [sys.executable, __file__, '--child', '--stage', str(a.stage), '--batch', str(a.batch), '--micro', m,
               '--steps', str(a.steps), '--threads', str(a.threads)]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        print(r.stdout.strip().splitlines()[-1] if r.returncode == 0 else
              json.dumps({'micro_batch': int(m) or None, 'failed': r.returncode, 'stderr': r.stderr[-800:]}), flush=True)


if __name__ == '__main__':
    main()
