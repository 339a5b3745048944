"""Benchmark: peak resident memory (RSS) of `medgan-evaluate` as the number of images grows.

For each N, in a fresh child process: `evaluate_folders` on a real and a synthetic folder of N 8-bit PNGs each
(`--side`² grey images: smooth random blobs, made once per N and side in `--work`), resized to `--size`, in the
pixel feature space (no network: the Inception's memory does not grow with N, it sees `batch_size` images at a
time), with the card's image metrics (moment overlap, C2ST at one epoch, MS-SSIM). Peak RSS is the child's
`ru_maxrss`. "held" is what the two sets' images take as the card holds them: 2 N × size² float32.

    python bench/evaluate_rss.py --ns 500,2000 --size 256

Run it on two commits (e.g. with `git worktree add /tmp/old <commit>` and `--root /tmp/old`) to compare them."""
import argparse, json, os, resource, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_folder(folder: Path, n: int, side: int, seed: int):
    "N smooth grey 8-bit PNGs (kept: made once per N, side and seed)."
    import numpy as np
    from PIL import Image
    from scipy import ndimage as ndi
    done = folder / '.done'
    if done.is_file():
        return
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        x = ndi.gaussian_filter(rng.uniform(size=(side // 8, side // 8)), 1.5)
        x = np.kron(x, np.ones((8, 8)))
        x = (x - x.min()) / (x.max() - x.min() + 1e-12)
        Image.fromarray((x * 255).astype(np.uint8)).save(folder / f'p{i // 2:05d}_{i % 2}.png')
    done.write_text('')


def child(args) -> dict:
    "One evaluation in this process; its peak RSS."
    import torch
    torch.set_num_threads(args.threads)
    from medgan_nb.evaluate import evaluate_folders
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    card, _ = evaluate_folders(str(args.real), str(args.synth), features='pixels', size=args.size, n_boot=20,
                               n_boot_fid=2, n_boot_moments=2, c2st_epochs=1, work=str(args.out))
    plane = card['planes']['2d']
    return dict(n=plane['n_real'], peak_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                imports_mib=base, seconds=time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ns', default='500,2000')
    ap.add_argument('--size', type=int, default=256)
    ap.add_argument('--side', type=int, default=512)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--work', type=Path, default=Path('/tmp/evaluate_rss'))
    ap.add_argument('--root', type=Path, default=ROOT, help='checkout whose medgan_nb is measured')
    ap.add_argument('--child', action='store_true')
    ap.add_argument('--real', type=Path)
    ap.add_argument('--synth', type=Path)
    ap.add_argument('--out', type=Path)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    sys.path.insert(0, str(ROOT))
    from medgan_nb.core import machine_line
    print(machine_line())
    git = lambda *a: subprocess.run(['git', *a], cwd=args.root, capture_output=True, text=True).stdout.strip()
    commit = git('rev-parse', '--short', 'HEAD') + (' with uncommitted changes' if git('status', '--porcelain') else '')
    print(f"medgan_nb of {args.root} at {commit}; size {args.size}, {args.threads} thread(s)")
    print('| N a side | held MiB | peak RSS MiB | imports MiB | peak − imports, per image KiB | s |')
    print('|---|---|---|---|---|---|')
    for n in (int(v) for v in args.ns.split(',')):
        real, synth = args.work / f'real_{n}_{args.side}', args.work / f'synth_{n}_{args.side}'
        make_folder(real, n, args.side, 0)
        make_folder(synth, n, args.side, 1)
        out = args.work / f'out_{n}_{time.time_ns()}'
        env = dict(os.environ, PYTHONPATH=str(args.root), MEDGAN_PROGRESS='text', OMP_NUM_THREADS=str(args.threads))
        cmd = [sys.executable, __file__, '--child', '--real', str(real), '--synth', str(synth), '--out', str(out),
               '--size', str(args.size), '--threads', str(args.threads)]
        run = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if run.returncode:
            print(run.stderr[-3000:])
            raise SystemExit(run.returncode)
        r = json.loads(run.stdout.strip().splitlines()[-1])
        held = 2 * n * args.size ** 2 * 4 / 2 ** 20
        per = (r['peak_mib'] - r['imports_mib']) * 1024 / (2 * n)
        print(f"| {n:,} | {held:,.0f} | {r['peak_mib']:,.0f} | {r['imports_mib']:,.0f} | {per:,.0f} | "
              f"{r['seconds']:.0f} |", flush=True)


if __name__ == '__main__':
    main()
