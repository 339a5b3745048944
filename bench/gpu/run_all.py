"""The GPU check (issue 19, item 6): each heavy step of the suite beside its baseline, in one run on one device.

    bench/gpu/run_all.sh                      # on a GPU machine: the paper sizes, then a section in bench/RESULTS.md
    bench/gpu/run_all.sh --smoke --device cpu --out /tmp/check.md   # tiny sizes, seconds on a CPU (what CI runs)

Rows (images per second, baseline and ours, measured in alternating blocks so both see the same machine):
- DCGAN 128x128, batch 64: examples/dcgan's training step (one layer more per doubling) vs our `train` step.
- PGGAN 1280x1024, the Korkinof 2021 `paper` networks (5x4 base, 9 stages, fmap_max 512, nz 512) at their last
  stage, batch 3: a port of pytorch_GAN_zoo's PGAN step vs ours (bench/bench_gan.py's two step functions).
- ResNet-50 training at 224x224, batch 192 (Han 2019 `paper`): a plain fp32 torchvision loop vs
  `medgan_nb.papers.han2019`'s epoch (bf16 autocast where the device has it).
- FID Inception features of 50,000 images (64x64x3 uint8, in memory): pytorch-fid's InceptionV3 forward with the
  same weights vs `medgan_nb.metrics.fid.fid_features`; the features must agree to 1e-3 (plain fp32 on both: no
  bf16, and TF32 convolutions switched off for the row).
Budget: about 5 minutes on one H100 or H200. Nothing is downloaded: the FID weights come from the suite's files."""
import argparse, datetime, importlib.util, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np, torch

BENCH = Path(__file__).resolve().parents[1]
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]
from _baselines import pytorch_fid_model  # noqa: E402


def _bench_gan():
    "bench/bench_gan.py as a module (its baselines and our trainer's step)."
    spec = importlib.util.spec_from_file_location('bench_gan', BENCH / 'bench_gan.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


SIZES = {  # the paper sizes, and the smoke sizes CI runs on a CPU
    'full': dict(dc_size=128, dc_width=64, dc_batch=64, pg_size=1280, pg_fmap=512, pg_nz=512, pg_batch=3,
                 rn_size=224, rn_batch=192, rn_steps=2, fid_n=50_000, fid_batch=200, warmup=3, steps=10, repeats=3),
    'smoke': dict(dc_size=32, dc_width=8, dc_batch=8, pg_size=10, pg_fmap=8, pg_nz=16, pg_batch=4,
                  rn_size=16, rn_batch=2, rn_steps=1, fid_n=4, fid_batch=2, warmup=1, steps=1, repeats=1),
}


BG = _bench_gan()
alternate, _sync = BG.alternate, BG._sync   # one timing loop for every row


def gan_rows(s: dict, device) -> list:
    "DCGAN and PGGAN training steps: baseline vs ours."
    bg, tmp = BG, tempfile.mkdtemp()
    dc = {'base': bg.baseline_dcgan(device, batch=s['dc_batch'], size=s['dc_size'], ngf=s['dc_width'], ndf=s['dc_width']),
          'ours': bg.ours('dcgan', device, size=s['dc_size'], batch=s['dc_batch'], tmp=tmp + '/dc', width=s['dc_width'])}
    rows = [(f"DCGAN {s['dc_size']}x{s['dc_size']} training step, batch {s['dc_batch']}",
             'examples/dcgan (fp32)', alternate(dc, s['dc_batch'], device, s['warmup'], s['steps'], s['repeats']),
             _speed_note(dc['ours'].speed))]
    del dc
    base, w = (5, 4), s['pg_size'] * 4 // 5
    pg = {'base': bg.baseline_pggan(device, s['pg_size'], s['pg_fmap'], s['pg_batch'], nz=s['pg_nz'], base=base),
          'ours': bg.ours('pggan', device, size=s['pg_size'], fmap_max=s['pg_fmap'], batch=s['pg_batch'],
                          tmp=tmp + '/pg', base=base, nz=s['pg_nz'])}
    rows.append((f"PGGAN {s['pg_size']}x{w} last stage (5x4 base, fmap_max {s['pg_fmap']}), batch {s['pg_batch']}",
                 'pytorch_GAN_zoo PGAN port (fp32)',
                 alternate(pg, s['pg_batch'], device, s['warmup'], max(1, s['steps'] // 2), s['repeats']),
                 _speed_note(pg['ours'].speed)))
    return rows


def _speed_note(speed: dict) -> str:
    return f"ours: {speed['precision']}, {speed['memory_format']}"


def resnet_row(s: dict, device) -> tuple:
    "ResNet-50 training: a plain fp32 loop vs the Han 2019 classifier's epoch (same network, data and optimiser)."
    from medgan_nb.papers import han2019 as h19
    from medgan_nb.core import default_choice
    n, side = s['rn_steps'] * s['rn_batch'], round(s['rn_size'] * 256 / 224)   # an epoch: rn_steps batches
    x = torch.randint(0, 256, (n, 1, side, side), dtype=torch.uint8)
    y = torch.arange(n) % 2
    cfg = h19.ClassifierConfig(input_size=s['rn_size'], batch_size=s['rn_batch'], epoch_images=n)
    nets = {k: h19.resnet50_classifier()[0].to(device) for k in ('base', 'ours')}
    opts = {k: torch.optim.Adam(m.parameters(), lr=cfg.lr) for k, m in nets.items()}
    g = torch.Generator().manual_seed(0)

    def base(i):
        nets['base'].train()
        for b in torch.randperm(n, generator=g).split(cfg.batch_size):
            loss = torch.nn.functional.cross_entropy(
                nets['base'](h19.prepare_input(x[b], cfg.input_size).to(device)), y[b].to(device))
            opts['base'].zero_grad(set_to_none=True)
            loss.backward()
            opts['base'].step()
        loss.item()

    def ours(i):
        h19._epoch(nets['ours'], opts['ours'], x, y, cfg, g, device)

    ips = alternate({'base': base, 'ours': ours}, n, device, 1, 1, s['repeats'])
    prec = default_choice(device)['precision'][0] if cfg.amp else 'fp32'
    return (f"ResNet-50 training at {s['rn_size']}x{s['rn_size']}, batch {s['rn_batch']}", 'torchvision, plain fp32 loop',
            ips, 'ours: bf16 autocast' if prec == 'bf16' else 'ours: fp32 (no bf16 here)')


def fid_row(s: dict, device) -> tuple:
    "FID Inception features of `fid_n` images: pytorch-fid's InceptionV3 vs `fid_features`, same weights."
    from medgan_nb.core import load_settings
    from medgan_nb.metrics.fid import load_fid_inception, fid_features
    ours = load_fid_inception(load_settings().paths.weights_dir, device=device)
    ref = pytorch_fid_model(ours).to(device)   # a copy of the weights, taken before `fid_features` uses `ours`
    imgs = np.random.default_rng(0).integers(0, 256, (s['fid_n'], 3, 64, 64), dtype=np.uint8)
    bs = s['fid_batch']

    @torch.inference_mode()
    def ref_features(lo, hi):  # pytorch-fid's get_activations on tensors: [0, 1] floats, its own resize inside
        out = [ref(torch.from_numpy(imgs[i:i + bs]).to(device).float() / 255)[0].flatten(1).cpu()
               for i in range(lo, hi, bs)]
        return torch.cat(out).numpy()

    half = max(bs, (s['fid_n'] // 2) // bs * bs)
    tf32 = torch.backends.cudnn.allow_tf32          # CUDA convolutions default to TF32 (10-bit mantissa): off here,
    torch.backends.cudnn.allow_tf32 = False         # so both sides compute the features in plain fp32
    try:
        ref_features(0, bs), fid_features(imgs[:bs], ours, batch_size=bs, device=device)   # warm-up, untimed
        t, feats = {}, {}
        for k, lo, hi in (('base', 0, half), ('ours', 0, half), ('ours', half, s['fid_n']), ('base', half, s['fid_n'])):
            _sync(device)
            t0 = time.perf_counter()
            f = ref_features(lo, hi) if k == 'base' else fid_features(imgs[lo:hi], ours, batch_size=bs, device=device)
            _sync(device)
            t[k] = t.get(k, 0.0) + time.perf_counter() - t0
            feats.setdefault(k, []).append(f)
    finally:
        torch.backends.cudnn.allow_tf32 = tf32
    diff = float(np.abs(np.concatenate(feats['base']) - np.concatenate(feats['ours'])).max())
    ok = 'agree' if diff <= 1e-3 else 'DIFFER'
    return (f"FID Inception features, {s['fid_n']:,} images 64x64x3", 'pytorch-fid InceptionV3 (same weights)',
            {k: s['fid_n'] / v for k, v in t.items()}, f'fp32 (TF32 off) on both; max abs feature diff {diff:.1e} ({ok})')


def table(rows: list, header: str) -> str:
    "The rows as a Markdown section: step, baseline, its img/s, ours, ratio, notes."
    lines = [header, '', '| step | baseline | baseline img/s | ours img/s | ratio | notes |', '|---|---|---|---|---|---|']
    for name, base, ips, note in rows:
        lines.append(f"| {name} | {base} | {ips['base']:,.1f} | {ips['ours']:,.1f} | "
                     f"**{ips['ours'] / ips['base']:.2f}x** | {note} |")
    return '\n'.join(lines) + '\n'


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--device', default='cuda', help="'cuda' (default) or 'cpu'")
    ap.add_argument('--smoke', action='store_true', help='tiny sizes: checks that every row runs (CI, on a CPU)')
    ap.add_argument('--out', default=str(BENCH / 'RESULTS.md'), help='Markdown file the section is appended to')
    ap.add_argument('--skip', default='', help='comma-separated rows to leave out: gan, resnet, fid')
    args = ap.parse_args(argv)
    from medgan_nb.core import get_device, machine_info, machine_line
    try:
        device = get_device(args.device)
    except RuntimeError as e:
        print(f'run_all: {e} (without a GPU: --device cpu, with --smoke for a quick check)', file=sys.stderr)
        return 2
    line = machine_line(machine_info(device))
    print(line, flush=True)
    s, skip = SIZES['smoke' if args.smoke else 'full'], set(filter(None, args.skip.split(',')))
    t0, rows = time.perf_counter(), []
    for name, fn in (('gan', gan_rows), ('resnet', resnet_row), ('fid', fid_row)):
        if name not in skip:
            t1 = time.perf_counter()
            got = fn(s, device)
            rows += got if isinstance(got, list) else [got]
            print(f'{name}: {time.perf_counter() - t1:.1f} s', flush=True)
    commit = subprocess.run(['git', '-C', str(ROOT), 'rev-parse', '--short', 'HEAD'], capture_output=True,
                            text=True).stdout.strip() or 'not a git checkout'
    when = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    header = (f"# bench/gpu/run_all.sh{' --smoke' if args.smoke else ''} ({when}, commit {commit})\n\n"
              f"`{line}`, torch {torch.__version__}; {time.perf_counter() - t0:.0f} s in all.")
    text = table(rows, header)
    print(text, flush=True)
    with open(args.out, 'a') as f:
        f.write('\n' + text)
    return 0 if all('DIFFER' not in r[3] for r in rows) else 1


if __name__ == '__main__':
    sys.exit(main())
