"""Benchmark (issue 19): peak resident memory (RSS) of Korkinof 2021's data path on on-disk stores as N grows.

For each N, in a fresh child process: preprocessing (`korkinof2021_prep` with `store=`, `--workers` processes)
writes N procedural mammograms to one store per view; then one pass over every image as the trainer reads them
(`ImageData` on the store, `unit_to_pm1`, a DataLoader with `--loader-workers` prefetching seeded batches, each
batch average-pooled to the first PGGAN stage as `stage_reals` does; no network step: a PGGAN step at 1280×1024
takes minutes on this CPU); then the five moments of every image (`image_moments`, streamed). Peak RSS is
measured per stage (Linux VmHWM, reset between stages) and for the whole child (getrusage), and for its worker
processes (getrusage of its children). The stores are deleted after each N.

The images are fed to the prep directly, not as DICOM files: a pool of `--pool` phantoms (`mammo_view`, uint16,
12-bit) is made once, and image i is pool image i mod P rolled by i mod 97 rows, scaled to [0, 1] (a phantom
takes ~0.8 s at 1280×1024 here, so N distinct phantoms per N would take hours).

    python bench/data_rss.py --ns 1000,10000 --size 1280 1024
    python bench/data_rss.py --ns 1000,10000,50000 --size 320 256

`--paper han2019` measures Han 2019's data path instead, N being BraTS cases: `han2019_slices(store=)` writes the kept
T1c slices (256×256 uint8) of N cases, read one at a time from NIfTI files; then one pass over every image as the
PGGAN trainer reads them (`ImageData` over the lazy store, `data.prep.brain.to_side`, batches of `--batch`, a
DataLoader with `--loader-workers`); then one pass as the classifier reads them (`prepare_input` on batches of 192).
`--in-memory` runs the old path instead (`han2019_slices` without a store: every image in memory). The N cases are
`--pool` full-size phantoms (`brain_subject`, 240×240×155, made once) linked repeatedly (symbolic links: the same
per-case reading and work as distinct subjects).

    python bench/data_rss.py --paper han2019 --ns 25,100,400 --pool 4

`--paper han2018` measures Han 2018's: `han2018_slices(store=)` writes sagittal slices #80–#149 of the four
sequences of N cases at 128² and 64² (one store per side); then one pass over Concat 128 as the DCGAN trainer reads
it (`ImageData` over `LazyImages`, batches of `--batch`, a DataLoader with `--loader-workers`); then the
membership-inference distances of every Concat-128 training image to 64 synthetic stand-ins (`membership_auc` over
`MappedRows`, pixel vectors in [0, 1], a chunk at a time), as the notebook's privacy metrics read the set.
`--in-memory` runs the old path (every image in memory, the training set as one float64 pixel matrix).

    python bench/data_rss.py --paper han2018 --ns 10,40,160 --pool 4

`--paper haarburger2019` measures Haarburger 2019's: `haarburger2019_patches(store=)` writes the 7-channel patches of
N patients (the paper's 512×512×32 grid, 64² patches, 984 healthy ones a patient: ~56 MB a patient as int16), read
one patient at a time from NIfTI files; then one pass over every patch as the trainer reads them (`ImageData` over
`WindowedPatches`, batches of `--batch`, in the training process as the notebook does). `--in-memory`: the path
without a store. The N patients are `--pool` breast DCE phantoms (`make_breast_phantoms` at 512×512×32 voxels of
0.7 × 0.7 × 5 mm, made once) linked in turn under new ids, with their lesion table rows copied.

    python bench/data_rss.py --paper haarburger2019 --ns 4,16,64 --pool 4 --batch 64 --loader-workers 0"""
import argparse, json, os, resource, shutil, subprocess, sys, time
from pathlib import Path


def pool_read(path):
    "Image `<pool .npy>#<i>`: pool image i mod P, rolled by i mod 97 rows, in [0, 1] (what `read_dicom` returns)."
    import numpy as np
    f, i = str(path).rsplit('#', 1)
    pool = np.load(f, mmap_mode='r')
    pix = np.roll(np.array(pool[int(i) % len(pool)]), int(i) % 97, axis=0)
    del pool
    return pix.astype(np.float32) / 4095, {}


def make_pool(path: Path, n: int, shape: tuple):
    "`n` procedural mammograms (uint16, CC/MLO, L/R alternating) in one .npy file (kept: made once per shape)."
    import numpy as np
    from medgan_nb.data.phantoms.mammo import mammo_view, mammo_patient_params
    if path.is_file():
        return
    out = np.lib.format.open_memmap(str(path) + '.tmp', 'w+', np.uint16, (n, *shape))
    for i in range(n):
        rng = np.random.default_rng([0, i])
        out[i] = mammo_view(('CC', 'MLO')[i % 2], 'LR'[i // 2 % 2], mammo_patient_params(rng), rng, shape, 300 / shape[0])[0]
    out.flush()
    del out
    os.replace(str(path) + '.tmp', path)


def _hwm_reset():
    "Reset this process's peak RSS (VmHWM) so the next stage's peak is its own."
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')


def _hwm_mb() -> float:
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith('VmHWM:'):
            return round(int(line.split()[1]) / 1024, 1)


def _children_mb() -> float:
    "Largest peak RSS among this process's finished worker processes so far."
    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)


def child(a):
    "Prep, one trainer pass and the moments of N images, in this process; prints one JSON line."
    import torch
    torch.set_num_threads(1)
    from medgan_nb.data import io
    from medgan_nb.data.prep.mammo import korkinof2021_prep
    from medgan_nb.train import ImageData, unit_to_pm1
    from medgan_nb.models.pggan import stage_reals
    from medgan_nb.metrics.moments import image_moments
    size, n, out = tuple(a.size), a.n, dict(n=a.n, size=list(a.size))
    refs = [io.MammogramRef(path=f'{a.pool_file}#{i}', patient_id=f'P{i // 4:06d}', view=('CC', 'MLO')[i % 2],
                            laterality='L', photometric='MONOCHROME2', shape=size, modality='MG') for i in range(n)]
    _hwm_reset()
    t0 = time.time()
    ms = korkinof2021_prep(refs, size=size, store=a.store, workers=a.workers, read=pool_read, progress=False)
    out['prep'] = dict(seconds=round(time.time() - t0, 1), peak_rss_mb=_hwm_mb(),
                       images=int(sum(len(ms.images[v]) for v in ms.images)),
                       store_gb=round(sum(f.stat().st_size for f in Path(a.store).rglob('*.npy')) / 1e9, 2),
                       workers_peak_rss_mb=_children_mb())
    _hwm_reset()
    t0, seen, base = time.time(), 0, (5, 4)  # PGGAN's first stage for 5·2^k × 4·2^k images (the paper's 1280×1024)
    for arr in ms.images.values():
        data = ImageData(arr, seed=0, transform=unit_to_pm1, workers=a.loader_workers)
        batches = [data.indices(p, min(a.batch, data.n - p)) for p in range(0, data.n, a.batch)]  # one epoch
        data.plan = lambda b=batches: (lambda: iter(b))  # what the trainer tells the loader
        for idx in batches:
            x = stage_reals(data.batch(idx)[0], base)
            seen += len(x)
        assert data.prefetched == len(batches) or not a.loader_workers
        data.close()
        del data  # its loader's workers are joined
    out['train_pass'] = dict(seconds=round(time.time() - t0, 1), peak_rss_mb=_hwm_mb(), images=seen,
                             batch=a.batch, stage_shape=list(base), loader_workers=a.loader_workers,
                             workers_peak_rss_mb=_children_mb())  # so far: prep's and the loaders' workers
    _hwm_reset()
    t0 = time.time()
    moms = {v: image_moments(arr, chunk=32) for v, arr in ms.images.items()}
    out['moments'] = dict(seconds=round(time.time() - t0, 1), peak_rss_mb=_hwm_mb(),
                          images=int(sum(len(m) for m in moms.values())))
    out['peak_rss_mb'] = max(out[s]['peak_rss_mb'] for s in ('prep', 'train_pass', 'moments'))  # VmHWM resets also reset ru_maxrss
    out['workers_peak_rss_mb'] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    print(json.dumps(out), flush=True)


def make_brats(root: Path, pool: int, n: int) -> Path:
    "`n` BraTS-layout cases linking `pool` full-size phantoms (made once) in turn; returns the data set folder."
    import numpy as np
    from medgan_nb.data.phantoms.brain import brain_subject, write_brats_case
    src = root / f'brats_pool_{pool}'
    for i in range(pool):
        if not (src / 'HGG' / f'Phantom_HGG_{i:04d}').is_dir():
            write_brats_case(src, f'Phantom_HGG_{i:04d}', 'HGG', *brain_subject(np.random.default_rng([0, i]), 'HGG'))
    cases = sorted((src / 'HGG').glob('Phantom_*'))
    out = root / f'brats_x{n}'
    for j in range(n):
        case = out / 'HGG' / f'Linked_{j:04d}'
        case.mkdir(parents=True, exist_ok=True)  # a real folder (discovery does not follow linked folders)
        for f in cases[j % len(cases)].glob('*.nii.gz'):
            link = case / f"{case.name}_{f.name.rsplit('_', 1)[1]}"
            if not link.exists():
                link.symlink_to(f.resolve())
    return out


def trainer_pass(images, a, fn=lambda x: x) -> dict:
    "One seeded epoch of a Han paper's images as the trainer reads them (`ImageData`, `--loader-workers`), `fn` per batch."
    from medgan_nb.train import ImageData
    _hwm_reset()
    t0, seen = time.time(), 0
    data = ImageData(images, seed=0, workers=0 if a.in_memory else a.loader_workers)
    batches = [data.indices(p, min(a.batch, data.n - p)) for p in range(0, data.n, a.batch)]  # one epoch
    data.plan = lambda b=batches: (lambda: iter(b))
    for idx in batches:
        seen += len(fn(data.batch(idx)[0]))
    data.close()
    del data  # its loader's workers are joined
    return dict(seconds=round(time.time() - t0, 1), peak_rss_mb=_hwm_mb(), images=seen, batch=a.batch,
                loader_workers=a.loader_workers, workers_peak_rss_mb=_children_mb())


def brats_prep(a, slices) -> tuple:  # (the slice set, the prep stage's record)
    "A Han paper's prep (`slices`: its `han201x_slices`) of the N cases in `a.data`, into a store or in memory."
    from medgan_nb.data.prep.brain import iter_brats
    _hwm_reset()
    t0 = time.time()
    ss = slices(iter_brats(a.data, grades='all'), store=None if a.in_memory else a.store)
    return ss, dict(seconds=round(time.time() - t0, 1), peak_rss_mb=_hwm_mb(),
                    store_gb=round(sum(f.stat().st_size for f in Path(a.store).rglob('*.npy')) / 1e9, 2))


def child_han2019(a):
    "Han 2019 prep of N cases (into a store, or in memory), one trainer pass and one classifier pass; one JSON line."
    import torch
    torch.set_num_threads(1)
    from medgan_nb.data.prep.brain import han2019_slices, to_side
    from medgan_nb.papers import han2019 as h19
    from medgan_nb.models.pggan import stage_reals
    out = dict(paper='han2019', cases=a.n, in_memory=a.in_memory)
    ss, out['prep'] = brats_prep(a, han2019_slices)
    out['prep']['images'] = len(ss.index)
    images = to_side(ss.images['slices'], 256)  # the paper's side: no resize, read lazily
    out['train_pass'] = trainer_pass(images, a, lambda x: stage_reals(x, (4, 4)))
    _hwm_reset()
    t0, seen = time.time(), 0
    for i in range(0, len(images), 192):  # as `predict_proba` reads: consecutive batches, centre-cropped to 224
        seen += len(h19.prepare_input(images[i : i + 192], 224))
    out['classifier_pass'] = dict(seconds=round(time.time() - t0, 1), peak_rss_mb=_hwm_mb(), images=seen)
    out['peak_rss_mb'] = max(out[s]['peak_rss_mb'] for s in ('prep', 'train_pass', 'classifier_pass'))
    print(json.dumps(out), flush=True)


def child_han2018(a):
    "Han 2018 prep of N cases (stores, or in memory), one trainer pass, one privacy-metrics pass; one JSON line."
    import torch
    torch.set_num_threads(1)
    from medgan_nb.data.prep.brain import han2018_slices
    from medgan_nb.metrics.privacy import MappedRows, membership_auc
    out = dict(paper='han2018', cases=a.n, in_memory=a.in_memory)
    ss, out['prep'] = brats_prep(a, han2018_slices)
    concat = ss.images[128, 'Concat']
    out['prep']['images_128'] = len(concat)
    out['train_pass'] = trainer_pass(concat, a)
    _hwm_reset()
    t0 = time.time()
    fakes = torch.rand(64, 1, 128, 128, generator=torch.Generator().manual_seed(0)).flatten(1).double().numpy()
    px = lambda x: x.flatten(1).double().numpy() / 255
    train = px(concat) if a.in_memory else MappedRows(concat, px)  # the old path: one float64 matrix
    t1 = ss.images[128, 'T1']  # stands in for the held-out set
    held = px(t1) if a.in_memory else MappedRows(t1, px)
    mia = membership_auc(train, held, fakes, n_boot=20)
    out['privacy_pass'] = dict(seconds=round(time.time() - t0, 1), peak_rss_mb=_hwm_mb(), images=mia['n_train'])
    out['peak_rss_mb'] = max(out[s]['peak_rss_mb'] for s in ('prep', 'train_pass', 'privacy_pass'))
    print(json.dumps(out), flush=True)


def make_breast(root: Path, pool: int, n: int) -> Path:
    "`n` patients in the suite's NIfTI layout linking `pool` breast DCE phantoms (made once) in turn; the folder."
    import pandas as pd
    from medgan_nb.data.phantoms.breast import make_breast_phantoms
    src = root / f'breast_pool_{pool}'
    if not (src / 'lesions.csv').is_file():
        make_breast_phantoms(src, n_patients=pool, shape=(512, 512, 32), spacing=(0.7, 0.7, 5.0), progress=False)
    table, out = pd.read_csv(src / 'lesions.csv'), root / f'breast_x{n}'
    pids, rows = sorted(table.patient_id.unique()), []
    for j in range(n):
        pid, new = pids[j % len(pids)], f'Linked_{j:04d}'
        (out / new).mkdir(parents=True, exist_ok=True)
        for f in (src / pid).glob('*.nii.gz'):
            link = out / new / f.name.replace(pid, new)
            if not link.exists():
                link.symlink_to(f.resolve())
        rows.append(table[table.patient_id == pid].assign(patient_id=new))
    pd.concat(rows).to_csv(out / 'lesions.csv', index=False)
    return out


def child_haarburger2019(a):
    "Haarburger 2019 prep of N patients (a store, or in memory) and one trainer pass; one JSON line."
    import torch
    torch.set_num_threads(1)
    from medgan_nb.data.prep.breast import iter_breast_dce, haarburger2019_patches, CHANNELS
    from medgan_nb.papers.haarburger2019 import WindowedPatches, channel_windows
    out = dict(paper='haarburger2019', patients=a.n, in_memory=a.in_memory)
    _hwm_reset()
    t0 = time.time()
    ps = haarburger2019_patches(iter_breast_dce(a.data), grid=(512, 512, 32), size=64, clear=32,
                                healthy_per_patient=984, store=None if a.in_memory else a.store)
    out['prep'] = dict(seconds=round(time.time() - t0, 1), peak_rss_mb=_hwm_mb(), patches=len(ps.patches),
                       store_gb=round(sum(f.stat().st_size for f in Path(a.store).rglob('*.npy')) / 1e9, 2))
    x = WindowedPatches(ps.patches, channel_windows(CHANNELS))  # the notebook's X: [−1, 1] float16 as read
    out['train_pass'] = trainer_pass(x, a)
    out['peak_rss_mb'] = max(out[s]['peak_rss_mb'] for s in ('prep', 'train_pass'))
    print(json.dumps(out), flush=True)


MACHINE = ('import json; from medgan_nb.core import machine_info, machine_line; m = machine_info(); '
           'print(json.dumps(dict(m, line=machine_line(m))))')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--ns', default='1000,10000', help='comma-separated N (images, CC and MLO alternating)')
    ap.add_argument('--size', type=int, nargs=2, default=[1280, 1024], help='(rows, cols) of the images')
    ap.add_argument('--root', default='/tmp/medgan_data_rss', help='scratch folder (stores deleted after each N)')
    ap.add_argument('--workers', type=int, default=2, help='prep worker processes')
    ap.add_argument('--loader-workers', type=int, default=2, help='DataLoader workers of the trainer pass')
    ap.add_argument('--batch', type=int, default=16, help='trainer batch')
    ap.add_argument('--pool', type=int, default=8, help='distinct phantoms the images are made from')
    ap.add_argument('--paper', default='korkinof2021', choices=['korkinof2021', 'han2019', 'han2018', 'haarburger2019'],
                    help="whose data path: Korkinof 2021's mammograms (N images), a Han paper's BraTS slices (N cases)"
                         " or Haarburger 2019's breast DCE patches (N patients)")
    ap.add_argument('--in-memory', action='store_true', help='not Korkinof: the path without a store (data in memory)')
    ap.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--data', help=argparse.SUPPRESS)
    ap.add_argument('--n', type=int, help=argparse.SUPPRESS)
    ap.add_argument('--store', help=argparse.SUPPRESS)
    ap.add_argument('--pool-file', type=str, help=argparse.SUPPRESS)
    a, _ = ap.parse_known_args(argv)
    if a.child:
        children = {'han2019': child_han2019, 'han2018': child_han2018, 'haarburger2019': child_haarburger2019}
        return children.get(a.paper, child)(a)
    a = ap.parse_args(argv)
    machine = json.loads(subprocess.run([sys.executable, '-c', MACHINE], capture_output=True, text=True, check=True).stdout)
    print(machine.pop('line'), flush=True)
    root = Path(a.root)
    root.mkdir(parents=True, exist_ok=True)
    if a.paper != 'korkinof2021':
        return main_han2019(a, root)
    pool = root / f'pool_{a.pool}_{a.size[0]}x{a.size[1]}.npy'
    t0 = time.time()
    make_pool(pool, a.pool, tuple(a.size))
    print(json.dumps(dict(pool=a.pool, seconds=round(time.time() - t0, 1))), flush=True)
    rows = []
    for n in [int(s) for s in a.ns.split(',')]:
        need = n * a.size[0] * a.size[1] * 2 * 1.02 + 2e9  # float16 images, headers and manifests, a margin
        free = shutil.disk_usage(root).free
        if need > free:
            rows.append(dict(n=n, size=a.size, not_measured=f"needs {need / 1e9:.0f} GB of disk, {free / 1e9:.0f} GB free"))
            print(json.dumps(rows[-1]), flush=True)
            continue
        store = root / f'store_{n}'
        shutil.rmtree(store, ignore_errors=True)
        cmd = [sys.executable, __file__, '--child', '--n', str(n), '--store', str(store), '--pool-file', str(pool),
               '--size', *map(str, a.size), '--workers', str(a.workers), '--loader-workers', str(a.loader_workers),
               '--batch', str(a.batch)]
        t0 = time.time()
        r = subprocess.run(cmd, capture_output=True, text=True)
        shutil.rmtree(store, ignore_errors=True)
        if r.returncode:
            raise RuntimeError(f"N={n}: child failed ({r.returncode}):\n{r.stderr[-3000:]}")
        rows.append(dict(json.loads(r.stdout.strip().splitlines()[-1]), wall_s=round(time.time() - t0, 1)))
        print(json.dumps(rows[-1]), flush=True)
    done = [r for r in rows if 'peak_rss_mb' in r]
    if len(done) > 1:
        print(json.dumps(dict(ratio_peak_rss_largest_to_smallest=round(done[-1]['peak_rss_mb'] / done[0]['peak_rss_mb'], 3))))
    return rows


def main_han2019(a, root: Path) -> list:
    "The rows of the other papers (`--paper`): one child process per N cases (patients)."
    rows = []
    for n in [int(s) for s in a.ns.split(',')]:
        t0 = time.time()
        data = (make_breast if a.paper == 'haarburger2019' else make_brats)(root, a.pool, n)
        store = root / f'h19_store_{n}'
        shutil.rmtree(store, ignore_errors=True)
        cmd = [sys.executable, __file__, '--paper', a.paper, '--child', '--n', str(n), '--store', str(store),
               '--data', str(data), '--loader-workers', str(a.loader_workers), '--batch', str(a.batch)]
        r = subprocess.run(cmd + (['--in-memory'] if a.in_memory else []), capture_output=True, text=True)
        shutil.rmtree(store, ignore_errors=True)
        if r.returncode:
            raise RuntimeError(f"N={n}: child failed ({r.returncode}):\n{r.stderr[-3000:]}")
        rows.append(dict(json.loads(r.stdout.strip().splitlines()[-1]), wall_s=round(time.time() - t0, 1)))
        print(json.dumps(rows[-1]), flush=True)
    return rows


if __name__ == '__main__':
    main()
