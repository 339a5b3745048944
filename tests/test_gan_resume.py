"""A training process killed with SIGKILL after a checkpoint and resumed ends with the uninterrupted run's weights."""
import os, signal, subprocess, sys, textwrap, time
from pathlib import Path
import torch

ROOT = Path(__file__).resolve().parents[1]

WORKER = textwrap.dedent('''
    import sys, time, torch
    from pathlib import Path
    sys.path.insert(0, sys.argv[3])
    import medgan_nb
    from medgan_nb.train import train, TrainConfig
    from medgan_nb.losses import GANLoss
    from medgan_nb.models.dcgan import dcgan
    torch.set_num_threads(1)
    out, mode = Path(sys.argv[1]), sys.argv[2]
    imgs = (torch.rand(40, 1, 32, 32, generator=torch.Generator().manual_seed(7)) * 255).to(torch.uint8)
    cfg = TrainConfig(kimg=0.16, batch_size=8, log_every=2, ckpt_kimg=0.024, sample_kimg=0.08, n_samples=8, deterministic=True, ema_kimg=0.02)
    torch.manual_seed(0); G, D = dcgan('radford', size=32, channels=1, ngf=4, ndf=4, nz=8)
    slow = (lambda p, st: time.sleep(0.4)) if mode == 'slow' else None      # leaves time to kill it mid-run
    r = train(G, D, imgs, out, GANLoss('ns'), cfg, device='cpu', progress=False, resume=(mode == 'resume'), on_checkpoint=slow)
    torch.save({'G': r.G.state_dict(), 'D': r.D.state_dict(), 'ema': r.G_ema.state_dict(), 'state': r.state}, out/'final.pt')
''')

def _cmd(script, out, mode): return [sys.executable, str(script), str(out), mode, str(ROOT)]

def test_sigkill_then_resume_matches_straight_run(tmp_path):
    script = tmp_path/'worker.py'; script.write_text(WORKER)
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    straight = subprocess.run(_cmd(script, tmp_path/'a', 'straight'), env=env, capture_output=True, text=True, timeout=600)
    assert straight.returncode == 0, straight.stderr[-3000:]
    p = subprocess.Popen(_cmd(script, tmp_path/'b', 'slow'), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ckpt = tmp_path/'b'/'checkpoints'/'latest.pt'
    t0 = time.time()
    while not ckpt.exists() and p.poll() is None and time.time() - t0 < 300: time.sleep(0.05)
    time.sleep(0.6)                               # past the first checkpoint, into later steps
    assert p.poll() is None, 'the run finished before it could be killed'
    p.send_signal(signal.SIGKILL); p.wait()
    assert not (tmp_path/'b'/'final.pt').exists()
    killed_at = torch.load(ckpt, weights_only=False)['st']['images']
    assert 0 < killed_at < 160
    resumed = subprocess.run(_cmd(script, tmp_path/'b', 'resume'), env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    a, b = (torch.load(tmp_path/x/'final.pt', weights_only=False) for x in ('a', 'b'))
    for net in ('G', 'D', 'ema'):
        for k in a[net]: assert torch.equal(a[net][k], b[net][k]), (net, k, killed_at)
    assert a['state'] == b['state']
