"""End-to-end: the Haarburger 2019 notebook on data laid out as the Duke-Breast-Cancer-MRI release, smoke profile.

The suite's embedded breast DCE-MRI phantoms (NIfTI layout, as `medgan-build-data` writes them) are converted to the
Duke layout: one DICOM series per dynamic phase named as Duke names them ('ax dyn pre', 'ax dyn 1st pass', ...), no T2,
and `Annotation_Boxes.csv` with each lesion's bounding box (1-based rows, columns and Instance Numbers, inclusive).
The notebook then runs with `channels` and `fid_rgb` without T2 and names these departures in its captions."""
import json
import numpy as np
import pandas as pd
import pytest

pm = pytest.importorskip('papermill')
from _papers import ROOT, RUN_ID, execute_here
from medgan_nb.data import io
from medgan_nb.data.phantoms.breast import make_breast_phantoms
from medgan_nb.data.prep.breast import DUKE_BOX_COLUMNS, iter_breast_dce, load_breast_case, find_breast_dce

PHASES = {'T1pre': 'ax dyn pre', 'T1post1': 'ax dyn 1st pass', 'T1post2': 'ax dyn 2nd pass',
          'T1post3': 'ax dyn 3rd pass', 'T1post4': 'ax dyn 4th pass'}
CHANNELS = ['T1pre', 'T1post1', 'T1post2', 'T1post3', 'T1post4', 'Sub']
FID_RGB = ['T1pre', 'T1post1', 'T1post2']


def to_dicom(vol):
    "(slices, rows, columns) uint16 of an (x, y, z) RAS volume, for the default orientation (rows +x, columns +y LPS)."
    return np.round(vol).astype(np.uint16)[::-1, ::-1, :].transpose(2, 1, 0)


def duke_box(mask):
    "The release's box of one lesion's (x, y, z) RAS mask: 1-based inclusive rows, columns and Instance Numbers."
    nx, ny, _ = mask.shape
    (x0, y0, z0), (x1, y1, z1) = np.argwhere(mask).min(0), np.argwhere(mask).max(0)
    return dict(zip(DUKE_BOX_COLUMNS[1:], (ny - y1, ny - y0, nx - x1, nx - x0, z0 + 1, z1 + 1)))


def phantoms_as_duke(nifti, duke):
    "Write every phantom patient with lesions as Duke-Breast-Cancer-MRI; returns {Duke patient id: phantom case}."
    cases, rows = {}, []
    for case in iter_breast_dce(nifti):
        if not case.table.size:
            continue                                                     # Duke lists only patients with a lesion
        pid = f'Breast_MRI_{len(cases) + 1:03d}'
        study, sx, sy, sz = duke/'Duke-Breast-Cancer-MRI'/pid/'01-01-1990-NA-MRI BREAST BILATERAL W  WO-12345', *case.spacing
        for number, (name, desc) in enumerate(PHASES.items(), start=3):
            io.write_dicom_series(study/f'{number}.000000-{desc}-{number * 7919 % 100000:05d}', to_dicom(case.volumes[name]),
                                  desc, (sy, sx, sz), number, f'09{10 + 3 * number}00', pid)
        rows += [[pid, *duke_box(case.lesions == i).values()] for i in case.table.lesion_id]
        cases[pid] = case
    pd.DataFrame(rows, columns=DUKE_BOX_COLUMNS).to_csv(duke/'Annotation_Boxes.csv', index=False)
    return cases


@pytest.fixture(scope='module')
def duke(tmp_path_factory):
    "Three embedded phantoms (the smoke data set), those with lesions converted to the Duke layout."
    tmp = tmp_path_factory.mktemp('duke')
    make_breast_phantoms(tmp/'nifti', n_patients=3, seed=0, progress=False)
    return tmp, phantoms_as_duke(tmp/'nifti', tmp/'duke')


def test_conversion_reads_back(duke):
    "The Duke reader gives back the phantoms' volumes, and its boxes cover exactly each lesion's bounding box."
    tmp, cases = duke
    refs, skipped = find_breast_dce(tmp/'duke')
    assert skipped == [] and [r.patient_id for r in refs] == list(cases) and len(refs) >= 2
    for ref in refs:
        back, orig = load_breast_case(ref), cases[ref.patient_id]
        assert back.layout == 'duke' and sorted(back.volumes) == sorted(PHASES)
        for name in PHASES:
            assert np.array_equal(back.volumes[name], orig.volumes[name]), (ref.patient_id, name)
        assert np.allclose(back.spacing, orig.spacing)
        boxes = np.zeros(orig.lesions.shape, bool)
        for i in orig.table.lesion_id:
            (x0, y0, z0), (x1, y1, z1) = np.argwhere(orig.lesions == i).min(0), np.argwhere(orig.lesions == i).max(0)
            boxes[x0:x1 + 1, y0:y1 + 1, z0:z1 + 1] = True
        assert np.array_equal(back.lesions > 0, boxes), ref.patient_id
        assert set(np.unique(back.lesions)) == {0, *orig.table.lesion_id}
        assert (back.table.label == 'malignant').all()                  # every annotated Duke lesion is a cancer


def test_notebook_finishes_on_duke(duke, monkeypatch):
    "Smoke run on the Duke layout without T2: it finishes, and its tables and captions name the data set and departures."
    tmp, cases = duke
    monkeypatch.setenv('MEDGAN_PATHS_DATA_DIR', str(tmp/'data'))
    nb = ROOT/'nbs'/'papers'/'haarburger2019.ipynb'
    execute_here(nb, tmp/'out.ipynb', dict(profile='smoke', data_dir=str(tmp/'duke'), out_dir=str(tmp/'out'),
                                           run_id=RUN_ID, threads=1, channels=CHANNELS, fid_rgb=FID_RGB))
    run = tmp/'out'/'haarburger2019'/RUN_ID
    assert (run/'FINISHED').is_file()
    t1 = pd.read_csv(run/'tables'/'table1_dataset.csv')
    assert t1.source.tolist() == ['paper', 'ours (user data)'] and t1.subjects.tolist() == [408, len(cases)]
    assert t1.loc[1, 'lesions benign'] == 0 and t1.loc[1, 'lesions malignant'] == sum(len(c.table) for c in cases.values())
    md = {p.stem: p.read_text() for p in (run/'tables').glob('*.md')}
    assert {'table1_dataset', 'table2_fid_1nn', 'table3_reader_test', 'training', 'training_cost'} <= set(md)
    dataset = "Data: Duke-Breast-Cancer-MRI, user data (folder 'duke')."
    assert all(dataset in text for text in md.values()), [k for k, t in md.items() if dataset not in t]
    fid = 'FID with T1pre, T1post1, T1post2 as R, G, B (fid_rgb; the paper: T2, T1pre, T1post1).'
    assert fid in md['table1_dataset'] and fid in md['table2_fid_1nn']
    assert 'Generator channels T1pre, T1post1, T1post2, T1post3, T1post4, Sub (channels;' in md['table1_dataset']
    assert 'Panels: T1pre, T1post1, T1post2, T1post3, T1post4, Sub1, Sub2, Sub3, Sub4 (' in md['table3_reader_test']
    t2 = pd.read_csv(run/'tables'/'table2_fid_1nn.csv')
    ours = t2.dropna(subset=['FIDmin (ours)'])
    assert set(ours['class']) == {'malignant', 'no findings'} and (ours['FIDmin (ours)'] > 0).all()
    t3 = pd.read_csv(run/'tables'/'table3_reader_test.csv').set_index('reader')
    assert t3.loc['machine reader (C2ST)', ['real (ours)', 'DCGAN (ours)', 'WGAN (ours)']].between(0, 100).all()
    kit = json.loads((run/'kits'/'reader_test'/'kit.json').read_text())
    assert all(len(i['images']) == 9 for i in kit['items'])          # no T2 panel
    figs = {p.name for p in (run/'figures').iterdir()}
    assert {'fig4_dcgan_series.png', 'fig5_wgan_series.png', 'training_curves.png'} <= figs
    m = json.loads((run/'metrics.json').read_text())
    assert m['dataset'].startswith('Duke-Breast-Cancer-MRI')
    assert m['differences_from_paper']['fid_rgb'] == [['T2', 'T1pre', 'T1post1'], FID_RGB]
    assert m['differences_from_paper']['channels'][1] == CHANNELS
    out = json.loads((tmp/'out.ipynb').read_text())
    captions = ''.join(''.join(o.get('text', '')) for c in out['cells'] for o in c.get('outputs', []) if 'text' in o)
    assert 'data layout: duke' in captions
