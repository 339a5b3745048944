"""Data-parallel training under torchrun (gloo, 2 CPU processes) against one process with the same global batch."""
import os, subprocess, sys, textwrap
from pathlib import Path
import torch

ROOT = Path(__file__).resolve().parents[1]

WORKER = textwrap.dedent('''
    import sys, torch, torch.distributed as dist
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    import medgan_nb
    from medgan_nb.train import train, TrainConfig, dist_info
    from medgan_nb.losses import GANLoss
    from medgan_nb.models.pggan import pggan
    from medgan_nb.models.dcgan import dcgan
    torch.set_num_threads(1)
    out = Path(sys.argv[1])
    imgs = (torch.rand(32, 1, 16, 16, generator=torch.Generator().manual_seed(5)) * 255).to(torch.uint8)
    cfg = TrainConfig(kimg=0.048, batch_size=8, log_every=2, ckpt_kimg=1, sample_kimg=1, n_samples=8, amp=False,
                      ema_kimg=0.01, phase_kimg=0.016, fade_kimg=0.016, betas=(0.0, 0.99), lr_g=1e-3, lr_d=1e-3)
    torch.manual_seed(0); G, D = pggan(base_shape=(4, 4), n_stages=3, nz=8, fmap_base=32, fmap_max=8, mbstd_group=2)
    pg = train(G, D, imgs, out/'pg', GANLoss('wgan-gp', drift=1e-3), cfg, device='cpu', progress=False)
    torch.manual_seed(1 + dist_info()[0])   # different init per rank: the trainer must broadcast rank 0's weights
    G, D = dcgan('radford', size=16 * 2, channels=1, ngf=4, ndf=4, nz=8)
    dc = train(G, D, torch.nn.functional.interpolate(imgs.float(), scale_factor=2).to(torch.uint8), out/'dc', GANLoss('ns'),
               TrainConfig(kimg=0.032, batch_size=8, log_every=2, ckpt_kimg=1, sample_kimg=1, n_samples=8, amp=False), device='cpu', progress=False)
    rank, world = dist_info()
    torch.save({'world': world, 'pg_G': pg.G.state_dict(), 'pg_D': pg.D.state_dict(), 'pg_ema': pg.G_ema.state_dict(), 'pg_state': pg.state,
                'dc_G': dc.G.state_dict(), 'dc_D': dc.D.state_dict()}, out/f'rank{rank}_of{world}.pt')
''')

def _run(tmp, nproc):
    script = tmp/'worker.py'; script.write_text(WORKER)
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(ROOT)}
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={nproc}', str(script), str(tmp/f'n{nproc}'), str(ROOT)] \
          if nproc > 1 else [sys.executable, str(script), str(tmp/'n1'), str(ROOT)]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]

def _close(a, b, tol=1e-5):
    for k in a:
        if a[k].is_floating_point(): assert torch.allclose(a[k], b[k], atol=tol, rtol=tol), (k, (a[k] - b[k]).abs().max())
        else: assert torch.equal(a[k], b[k]), k

def test_two_gloo_ranks_match_one_process(tmp_path):
    _run(tmp_path, 2); _run(tmp_path, 1)
    r0, r1 = (torch.load(tmp_path/'n2'/f'rank{r}_of2.pt', weights_only=True) for r in (0, 1))
    one = torch.load(tmp_path/'n1'/'rank0_of1.pt', weights_only=True)
    assert r0['world'] == 2 and one['world'] == 1
    # PGGAN + WGAN-GP (no BatchNorm, fade-in crossed): both ranks hold the 1-process weights (global batch 8 = 2 × 4)
    for key in ('pg_G', 'pg_D', 'pg_ema'):
        _close(r0[key], r1[key], 0); _close(r0[key], one[key])
    st0, st1 = dict(r0['pg_state']), dict(one['pg_state'])
    d0, d1 = st0.pop('div_peak'), st1.pop('div_peak')
    assert abs(d0 - d1) <= 1e-4 * max(1.0, abs(d1))             # sample diversity of near-equal weights: float noise only
    assert st0 == st1 and st0['stage'] == 1
    # DCGAN with BatchNorm: parameters stay identical across ranks (broadcast + averaged gradients) …
    for key in ('dc_G', 'dc_D'):
        params = [k for k in r0[key] if 'running' not in k and 'num_batches' not in k]
        _close({k: r0[key][k] for k in params}, {k: r1[key][k] for k in params}, 0)
    # … while BatchNorm statistics are per rank (each normalises its own half batch): running means differ
    rm = [k for k in r0['dc_D'] if k.endswith('running_mean')]
    assert rm and any(not torch.equal(r0['dc_D'][k], r1['dc_D'][k]) for k in rm)
