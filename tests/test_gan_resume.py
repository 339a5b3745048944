"""Kill tests: a tiny CPU training run killed with SIGKILL at random points (inside a step, in the middle of
writing `latest.pt`, with the temporary file written but not yet renamed, between the generator snapshot and
`latest.pt`, right after the rename, and from outside at a random moment), resumed after each kill, ends with
the uninterrupted run's weights, EMA, counters, log and snapshots, bit for bit.

One worker process imports torch and medgan_nb once and forks a child per attempt; a child arms its kill point
(`os.kill(getpid(), SIGKILL)`: the process dies as under `kill -9`, with no clean-up) or is killed by the
parent. The kill points are drawn afresh each run; a failure prints the seed, and `MEDGAN_KILL_SEED=<seed>`
repeats it."""
import json, os, random, subprocess, sys, textwrap
from pathlib import Path
import torch

ROOT = Path(__file__).resolve().parents[1]

WORKER = textwrap.dedent('''
    import io, json, os, random, signal, sys, time, traceback
    from pathlib import Path
    sys.path.insert(0, sys.argv[3])
    import torch
    torch.set_num_threads(1)
    from medgan_nb.core import atomic_torch_save
    from medgan_nb.train import train, TrainConfig, Trainer
    from medgan_nb.losses import GANLoss
    from medgan_nb.models.dcgan import dcgan

    out, rng = Path(sys.argv[1]), random.Random(int(sys.argv[2]))
    imgs = (torch.rand(40, 1, 32, 32, generator=torch.Generator().manual_seed(7)) * 255).to(torch.uint8)
    # 40 steps of 8 images, a log line every 4; a checkpoint (snapshot + latest.pt) every 3 steps and a timed
    # save of latest.pt after each step between them (ckpt_minutes tiny): most resumes start mid log interval
    cfg = TrainConfig(kimg=0.32, batch_size=8, log_every=4, ckpt_kimg=0.024, sample_kimg=0.08, n_samples=8,
                      deterministic=True, ema_kimg=0.02, ckpt_minutes=1e-9)

    def die(): os.kill(os.getpid(), signal.SIGKILL)

    def child(folder, resume, kind, after):
        "Train (resuming) into `folder`, the kill point `kind` armed after `after` steps; save the result."
        steps = [0]
        armed = lambda k: kind == k and steps[0] >= after
        step, replace, save = Trainer._step, os.replace, torch.save
        def slow_step(self):
            step(self)
            steps[0] += 1
            time.sleep(0.02)                     # leaves the parent time to kill from outside
            if armed('step'): die()              # between two steps, mid log interval
        def hooked_replace(src, dst, *a, **kw):
            name = Path(dst).name
            if armed('tmp-written') and name == 'latest.pt': die()          # temp file complete, not renamed
            replace(src, dst, *a, **kw)
            if armed('snapshot-only') and name.startswith('network-'): die() # snapshot renamed, no latest.pt
            if armed('after-latest') and name == 'latest.pt': die()        # renamed, folder not yet synced
        def hooked_save(obj, f, *a, **kw):
            fd = f'/proc/self/fd/{f.fileno()}' if armed('mid-write') else None
            if fd and '.latest.pt.' in os.readlink(fd):
                buf = io.BytesIO()
                save(obj, buf, *a, **kw)
                f.write(buf.getvalue()[:len(buf.getvalue()) // 2])      # half of latest.pt's temp file
                f.flush()
                die()
            return save(obj, f, *a, **kw)
        Trainer._step, os.replace, torch.save = slow_step, hooked_replace, hooked_save
        torch.manual_seed(0)
        G, D = dcgan('radford', size=32, channels=1, ngf=4, ndf=4, nz=8)
        r = train(G, D, imgs, folder, GANLoss('ns'), cfg, device='cpu', progress=False, resume=resume)
        Trainer._step, os.replace, torch.save = step, replace, save
        nets = {'G': r.G.state_dict(), 'D': r.D.state_dict(), 'ema': r.G_ema.state_dict()}
        atomic_torch_save({**nets, 'state': r.state}, folder/'result.pt')

    def spawn(folder, resume, kind=None, after=0, kill_after=None):
        "Run `child` in a fork; 'killed' (SIGKILL), 'done' or 'error'."
        pid = os.fork()
        if pid == 0:
            try:
                child(folder, resume, kind, after)
                os._exit(0)
            except BaseException:
                traceback.print_exc()
                os._exit(1)
        if kill_after is not None:
            time.sleep(kill_after)
            try: os.kill(pid, signal.SIGKILL)
            except ProcessLookupError: pass
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL: return 'killed'
        return 'done' if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else 'error'

    plan = ['step', 'mid-write', 'tmp-written', 'snapshot-only', 'after-latest', 'external', 'external']
    rng.shuffle(plan)
    log = [('straight', None, spawn(out/'a', False))]
    for kind in plan:
        if kind == 'external':
            log.append((kind, None, spawn(out/'b', True, kill_after=rng.uniform(0.1, 0.5))))
        else:
            after = rng.randint(1, 3)
            log.append((kind, after, spawn(out/'b', True, kind, after)))
    log.append(('final', None, spawn(out/'b', True)))
    print(json.dumps(log))
''')


def test_sigkill_anywhere_then_resume_matches_straight_run(tmp_path):
    seed = int(os.environ.get('MEDGAN_KILL_SEED', random.SystemRandom().randrange(10**6)))
    script = tmp_path/'worker.py'
    script.write_text(WORKER)
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    cmd = [sys.executable, str(script), str(tmp_path), str(seed), str(ROOT)]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    where = f"MEDGAN_KILL_SEED={seed}"
    assert r.returncode == 0, (where, r.stderr[-3000:])
    log = json.loads(r.stdout.strip().splitlines()[-1])
    outcomes = {kind: outcome for kind, _, outcome in log}
    assert 'error' not in outcomes.values(), (where, log, r.stderr[-3000:])
    assert outcomes['straight'] == 'done' and outcomes['final'] == 'done', (where, log)
    killed = [kind for kind, _, outcome in log if outcome == 'killed']
    internal = {'step', 'mid-write', 'tmp-written', 'snapshot-only', 'after-latest'}
    assert internal <= set(killed), (where, log)                  # every internal kill point was hit
    a, b = (torch.load(tmp_path/x/'result.pt', weights_only=True) for x in ('a', 'b'))
    for net in ('G', 'D', 'ema'):
        for k in a[net]: assert torch.equal(a[net][k], b[net][k]), (where, net, k, log)
    assert a['state'] == b['state'], where
    lines = lambda x: (tmp_path/x/'log.jsonl').read_text().splitlines()
    rows = lambda x: [{k: v for k, v in json.loads(l).items() if k != 'img_per_s'} for l in lines(x)]
    assert rows('b') == rows('a'), where                          # the log continued: no gap, no duplicate
    snaps = lambda x: sorted(p.name for p in (tmp_path/x/'checkpoints').iterdir())
    assert snaps('b') == snaps('a'), where                        # no temporary file left behind
    for name in snaps('a'):
        if name.startswith('network-'):
            sa, sb = (torch.load(tmp_path/x/'checkpoints'/name, weights_only=True)['G'] for x in ('a', 'b'))
            assert all(torch.equal(sa[k], sb[k]) for k in sa), (where, name)
