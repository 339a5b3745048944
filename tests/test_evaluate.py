"""End-to-end checks of `medgan-evaluate` (issue 21): small folders in every input format, the 8 real CBIS-DDSM
mammograms against procedural ones through the rendered notebook, two halves of one set (real vs real) and a synthetic
set that copies training images. Small images and few of them: the whole file runs in about a minute on 2 cores."""
import json, os, shutil, subprocess, sys
from pathlib import Path
import numpy as np, pytest
from PIL import Image
import medgan_nb  # noqa: F401  (declares the torchvision op schemas first)
from medgan_nb.data.io import write_dicom_mg, write_mha, write_nifti
from medgan_nb.data.phantoms.mammo import make_mammo_phantoms
from medgan_nb.evaluate import main

ROOT = Path(__file__).resolve().parents[1]
FAST = ['--n-boot', '100', '--n-boot-fid', '5', '--n-boot-moments', '2', '--c2st-epochs', '1', '--size', '32']
N_PATIENTS = 6

def _smooth(rng, shape) -> np.ndarray:
    "A smooth random image or volume in [0, 1]."
    from scipy import ndimage as ndi
    x = ndi.gaussian_filter(rng.uniform(size=shape), 2)
    return (x - x.min()) / (x.max() - x.min())

def _write(fmt:str, folder:Path, seed:int) -> int:
    "Write N_PATIENTS patients in one format; returns the number of files."
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for p in range(N_PATIENTS):
        if fmt in ('nifti', 'mha'):
            vol = _smooth(rng, (24, 20, 12)).astype(np.float32) * 1000
            if fmt == 'nifti': write_nifti(folder/f'p{p}.nii.gz', vol)
            else: write_mha(folder/f'p{p}.mha', vol)
            continue
        for i in range(2):
            img = _smooth(rng, (40, 36))
            name = folder/f'p{p}'/f'{i}'
            name.parent.mkdir(exist_ok=True)
            if fmt == 'dicom': write_dicom_mg(name.with_suffix('.dcm'), (img * 4095).astype(np.uint16), 'CC', 'L',
                                              window=(2048, 4096), patient_id=f'P{p}')
            elif fmt == 'png8': Image.fromarray((img * 255).astype(np.uint8)).save(name.with_suffix('.png'))
            elif fmt == 'png16': Image.fromarray((img * 65535).astype(np.uint16)).save(name.with_suffix('.png'))
            elif fmt == 'tiff':
                import tifffile
                tifffile.imwrite(name.with_suffix('.tif'), (img * 65535).astype(np.uint16))
            elif fmt == 'npy': np.save(name.with_suffix('.npy'), img.astype(np.float32))
    return len([f for f in folder.rglob('*') if f.is_file()])

def _check_records(plane:dict):
    "Every metric record carries a value, its N and an interval (or says why it has none)."
    recs = [r for group in ('metrics', 'privacy') for space in plane[group].values() for r in space.values()]
    recs += list(plane['images'].values())
    for r in recs:
        assert 'value' in r and ('n_real' in r or 'n' in r) and 'ci_method' in r, r
        assert ('ci_low' in r and 'ci_high' in r) or 'sd' in r or r['ci_method'].startswith('none'), r

FORMATS = {'nifti': ('NIfTI', 'axial', 'percentiles'), 'mha': ('MetaImage', 'axial', 'percentiles'),
           'dicom': ('DICOM', '2d', 'DICOM VOI'), 'png8': ('PNG', '2d', 'dtype range [0, 255]'),
           'png16': ('PNG', '2d', 'dtype range [0, 65535]'), 'tiff': ('TIFF', '2d', 'dtype range [0, 65535]'),
           'npy': ('NPY', '2d', 'percentiles')}

@pytest.mark.parametrize('fmt', list(FORMATS))
def test_every_input_format(tmp_path, fmt):
    n_files = _write(fmt, tmp_path/'real', 0)
    _write(fmt, tmp_path/'synth', 1)
    out = tmp_path/'out'
    assert main([str(tmp_path/'real'), str(tmp_path/'synth'), '--out', str(out), '--no-notebook', '--features', 'pixels',
                 '--slices', '2', *FAST]) == 0
    card = json.loads((out/'card.json').read_text())
    kind, key, policy = FORMATS[fmt]
    assert card['data']['real']['formats'] == {kind: n_files}
    assert all(policy in k for k in card['data']['real']['intensity']), card['data']['real']['intensity']
    plane = card['planes'][key]
    assert plane['n_real'] == plane['n_synth'] == 2 * N_PATIENTS and plane['n_real_patients'] == N_PATIENTS
    _check_records(plane)
    assert any('only 12 images' in w for w in card['warnings']) and (out/'card.md').is_file()

def test_unreadable_files_are_skipped_and_named(tmp_path):
    "A generator's folder with a torn PNG and a colour one: judged on the rest, the card names both and why."
    _write('png8', tmp_path/'real', 0)
    _write('png8', tmp_path/'synth', 1)
    (tmp_path/'synth'/'torn.png').write_bytes((tmp_path/'synth'/'p0'/'0.png').read_bytes()[:50])
    Image.fromarray(np.random.default_rng(2).integers(0, 255, (40, 36, 3), dtype=np.uint8)).save(tmp_path/'synth'/'rgb.png')
    out = tmp_path/'out'
    assert main([str(tmp_path/'real'), str(tmp_path/'synth'), '--out', str(out), '--no-notebook', '--features', 'pixels',
                 *FAST]) == 0
    card = json.loads((out/'card.json').read_text())
    assert card['planes']['2d']['n_synth'] == 2 * N_PATIENTS                   # every readable image judged
    assert sorted(card['data']['synth']['skipped']) == ['rgb.png', 'torn.png']
    assert 'synth: 2 file(s) skipped, not judged (data.synth.skipped says why)' in card['warnings']
    md = (out/'card.md').read_text()
    assert '- skipped `torn.png`: not a readable PNG file' in md and '- skipped `rgb.png`: colour image' in md

def test_cbis_ddsm_against_procedural_through_the_notebook(tmp_path):
    "The command itself (papermill front end) on the embedded data: 8 real CBIS-DDSM vs 8 procedural mammograms."
    out = tmp_path/'mammo'
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]))
    cmd = [sys.executable, '-m', 'medgan_nb.evaluate', 'embedded:cbis-ddsm', 'embedded:mammo-phantoms', '--out', str(out),
           '--features', 'radiomics,pixels', *FAST[:-2], '--size', '96']
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    card = json.loads((out/'card.json').read_text())
    plane = card['planes']['2d']
    assert (plane['n_real'], plane['n_synth'], plane['n_real_patients']) == (8, 8, 2)
    assert card['data']['real']['formats'] == {'DICOM': 8} and card['data']['synth']['formats'] == {'DICOM': 8}
    _check_records(plane)
    assert plane['metrics']['radiomics']['fid']['value'] > plane['metrics']['radiomics']['fid_floor']['value']
    assert any('only 8 images' in w for w in card['warnings']) and any('only 2 real patients' in w for w in card['warnings'])
    assert (out/'evaluate.ipynb').is_file() and (out/'card.md').is_file() and list((out/'figures').glob('closest_pairs_*.png'))
    assert 'FLAG' in run.stdout or 'card:' in run.stdout

def test_brats_download_is_judged_one_sequence_a_case(tmp_path, capsys):
    """A BraTS 2020 download as released (a release folder, a folder a case, its four sequences and a label map) against
    a generator's T1c volumes: the command asks for the sequence, then judges the T1c of each case as that case's
    patient (not the release folder's), and the card says which sequence it read."""
    rng = np.random.default_rng(5)
    release = tmp_path/'BraTS2020'/'MICCAI_BraTS2020_TrainingData'
    for i in range(1, 4):
        case = release/f'BraTS20_Training_{i:03d}'
        for seq in ('t1', 't1ce', 't2', 'flair'):
            write_nifti(case/f'{case.name}_{seq}.nii.gz', (_smooth(rng, (24, 20, 12)) * 1000).astype(np.int16))
        write_nifti(case/f'{case.name}_seg.nii.gz', np.zeros((24, 20, 12), np.uint8))
    (release/'name_mapping.csv').write_text('Grade,BraTS_2020_subject_ID\n' +
                                             ''.join(f'HGG,BraTS20_Training_{i:03d}\n' for i in range(1, 4)))
    for i in range(3): write_nifti(tmp_path/'synth'/f'g{i}.nii.gz', (_smooth(rng, (24, 20, 12)) * 1000).astype(np.float32))
    args = [str(tmp_path/'BraTS2020'), str(tmp_path/'synth'), '--no-notebook', '--features', 'pixels', '--slices', '2', *FAST]
    assert main([*args, '--out', str(tmp_path/'no_seq')]) == 2
    assert "'nifti' layout (each case holds several sequences" in capsys.readouterr().err
    flat = [str(tmp_path/'synth'), str(tmp_path/'synth'), *args[2:], '--out', str(tmp_path/'flat'), '--sequence', 'T2']
    assert main(flat) == 2 and "neither" in capsys.readouterr().err    # no brain data set: the option is refused
    assert main([*args, '--out', str(tmp_path/'out'), '--sequence', 'T1c']) == 0
    card = json.loads((tmp_path/'out'/'card.json').read_text())
    real = card['data']['real']
    assert real['n_files'] == 3 and real['n_patients'] == {'axial': 3} and real['patient_source'] == {'nifti case': 3}
    assert real['sequence'] == 'T1c of each case (nifti layout)' and 'sequence T1c of each case' in (tmp_path/'out'/'card.md').read_text()
    split = (tmp_path/'out'/'split.csv').read_text().splitlines()[1:]
    assert len(split) == 3 and all(r.split(',')[0].endswith('_t1ce.nii.gz') for r in split), split

def test_12_bit_mammograms_in_16_bit_pngs(tmp_path):
    """Mammograms exported as 16-bit PNGs hold 12-bit values (0-4095). A generator's 8-bit PNGs of the same images are
    near-copies of them, and the card says so: read by the 16-bit type range the real ones lay in [0, 1/16] and
    looked nothing like them."""
    rng = np.random.default_rng(6)
    for p in range(N_PATIENTS):
        img = _smooth(rng, (48, 40))
        Image.fromarray((img * 4095).astype(np.uint16)).save((tmp_path/'real').mkdir(exist_ok=True) or tmp_path/'real'/f'p{p}.png')
        Image.fromarray((img * 255).astype(np.uint8)).save((tmp_path/'synth').mkdir(exist_ok=True) or tmp_path/'synth'/f'p{p}.png')
    out = tmp_path/'out'
    assert main([str(tmp_path/'real'), str(tmp_path/'synth'), '--out', str(out), '--no-notebook', '--features', 'pixels',
                 *FAST]) == 0
    card = json.loads((out/'card.json').read_text())
    assert list(card['data']['real']['intensity']) == ['12-bit values in 16-bit files: range [0, 4095] (largest in the folder: 4095)']
    assert card['planes']['2d']['privacy']['pixels']['copy_share']['value'] == 1.0
    assert any('near-copies' in f for f in card['flags']), card['flags']

@pytest.fixture(scope='module')
def halves(tmp_path_factory):
    "One procedural set, one mammogram per patient, split into two folders of 16; the CSV marks 8 of A's as training."
    tmp = tmp_path_factory.mktemp('halves')
    make_mammo_phantoms(tmp/'A', n_patients=32, seed=3, shape=(160, 128), progress=False)
    (tmp/'B').mkdir()
    for i, d in enumerate(sorted((tmp/'A').iterdir())):
        for f in sorted(d.iterdir())[1:]: f.unlink()          # one view per patient: images independent
        if i >= 16: shutil.move(str(d), tmp/'B'/d.name)
    rows = ['file,patient,split'] + [f'{f.relative_to(tmp/"A").as_posix()},{f.parent.name},'
                                     f'{"train" if i < 8 else "heldout"}'
                                     for i, d in enumerate(sorted((tmp/'A').iterdir())) for f in sorted(d.iterdir())]
    (tmp/'patients.csv').write_text('\n'.join(rows) + '\n')
    return tmp

def test_real_vs_real_sits_at_the_floor(halves):
    out = halves/'rvr'
    assert main([str(halves/'A'), str(halves/'B'), '--out', str(out), '--no-notebook', '--patients',
                 str(halves/'patients.csv'), '--features', 'inception,pixels', *FAST[:-2], '--size', '64']) == 0
    card = json.loads((out/'card.json').read_text())
    plane = card['planes']['2d']
    inc = plane['metrics']['inception']
    print({k: round(v['value'], 3) for k, v in inc.items()}, plane['privacy']['inception']['membership_auc'])
    assert plane['split_source'] == 'csv' and plane['n_real'] == plane['n_synth'] == 16
    assert len(card['feature_spaces']['inception']['sha256']) == 64 and any('N = 16 < d = 2048' in w for w in card['warnings'])
    assert inc['fid_half']['value'] < 1.5 * inc['fid_floor']['value']          # near its small-sample floor
    for space in ('inception', 'pixels'):
        mia = plane['privacy'][space]['membership_auc']
        assert mia['ci_low'] <= 0.5 <= mia['ci_high'] and abs(mia['value'] - 0.5) < 0.3, mia
    assert not card['flags'], card['flags']

def test_copying_synthetic_set_is_flagged(halves):
    copies = halves/'copies'
    for d in sorted((halves/'A').iterdir())[:8]: shutil.copytree(d, copies/d.name)   # the eight training patients
    out = halves/'copy_out'
    assert main([str(halves/'A'), str(copies), '--out', str(out), '--no-notebook', '--patients',
                 str(halves/'patients.csv'), '--features', 'pixels', *FAST]) == 0
    card = json.loads((out/'card.json').read_text())
    priv = card['planes']['2d']['privacy']['pixels']
    assert priv['copy_share']['value'] == 1.0 and priv['closer_to_train']['value'] == 1.0
    from medgan_nb.metrics.uncertainty import lies_above
    assert lies_above(priv['membership_auc'], 0.5)   # its interval, or (AUC 1 in every resample) no interval
    text = ' '.join(card['flags'])
    assert 'near-copies' in text and 'memorisation' in text and 'membership-inference' in text

# Metric math (KDEs, Fréchet / matrix roots, nearest-neighbour searches, MI estimators, covariances) lives in
# medgan_nb.metrics, where `medgan-evaluate` takes it from; the papers call those functions (issue 21 item 7).
METRIC_MATH = {'gaussian_kde', 'sqrtm', 'eigvalsh', 'eigh', 'svd', 'cov', 'KDTree', 'NearestNeighbors', 'cdist',
               'mutual_info_classif', 'pairwise_distances', 'BallTree'}

def _metric_math_in(source:str) -> set:
    "Names from METRIC_MATH that `source` calls (as `f(...)` or `mod.f(...)`)."
    import ast
    tree = ast.parse('\n'.join(l for l in source.splitlines() if not l.lstrip().startswith(('%', '!'))))
    calls = (n.func for n in ast.walk(tree) if isinstance(n, ast.Call))
    return {getattr(f, 'attr', getattr(f, 'id', None)) for f in calls} & METRIC_MATH

def test_metric_math_check_sees_a_kde():
    "The scan below is not blind: it finds what Korkinof's module used to compute itself."
    assert _metric_math_in("from scipy import stats\nk = stats.gaussian_kde(x)\nd = torch.cdist(a, b)") == \
        {'gaussian_kde', 'cdist'}
    assert _metric_math_in("x = moment_overlaps(r, f)\ny = np.cov") == set()

def test_papers_compute_no_metric_of_their_own():
    "No paper module and no paper notebook carries its own metric math: their tables use medgan_nb.metrics."
    import nbformat
    found = {}
    for py in sorted((ROOT/'medgan_nb'/'papers').glob('*.py')):
        if hits := _metric_math_in(py.read_text()): found[py.name] = hits
    for nb_path in sorted((ROOT/'nbs'/'papers').glob('*.ipynb')):
        nb = nbformat.read(nb_path, as_version=4)
        src = '\n'.join(c.source for c in nb.cells if c.cell_type == 'code')
        if hits := _metric_math_in(src): found[nb_path.name] = hits
    assert not found, f"metric math outside medgan_nb.metrics: {found}"

def test_patients_that_differ_are_not_memorisation(tmp_path):
    """Two training and two held-out patients who differ in brightness, and synthetic images from a "generator" that
    saw none of them (grey noise, brighter than the held-out patients): over its images every synthetic image is
    nearer a training patient (binomial p ~ 1e-5), but of the 6 ways the 4 patients could have been split, 3 give
    the same. No memorisation or membership finding; a warning that so few patients cannot show it."""
    rng = np.random.default_rng(0)
    real, synth, rows = tmp_path/'real', tmp_path/'synth', ['file,patient,split']
    real.mkdir(); synth.mkdir()
    for pid, split, level in (('t1', 'train', 0.62), ('t2', 'train', 0.58), ('h1', 'heldout', 0.3),
                              ('h2', 'heldout', 0.4)):
        for i in range(8):
            img = np.clip(level + 0.02 * rng.normal(size=(32, 32)), 0, 1)
            Image.fromarray((img * 255).astype(np.uint8)).save(real/f'{pid}_{i}.png')
            rows.append(f'{pid}_{i}.png,{pid},{split}')
    for i in range(16):
        img = np.clip(0.63 + 0.02 * rng.normal(size=(32, 32)), 0, 1)
        Image.fromarray((img * 255).astype(np.uint8)).save(synth/f'sample_{i}.png')
    (tmp_path/'patients.csv').write_text('\n'.join(rows) + '\n')
    assert main([str(real), str(synth), '--out', str(tmp_path/'card'), '--no-notebook', '--patients',
                 str(tmp_path/'patients.csv'), '--features', 'pixels', *FAST]) == 0
    card = json.loads((tmp_path/'card'/'card.json').read_text())
    ct = card['planes']['2d']['privacy']['pixels']['closer_to_train']
    assert ct['value'] == 1.0 and ct['p_binomial'] < 1e-4 and ct['ci_low'] > 0.5    # over the synthetic images
    assert (ct['n_splits'], ct['p_value']) == (6, 0.5)                             # over the patients' splits
    flags = ' '.join(card['flags'])
    assert 'memorisation' not in flags and 'membership' not in flags, card['flags']
    assert any('memorisation cannot be shown with so few patients' in w for w in card['warnings']), card['warnings']
