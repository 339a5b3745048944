"""Breast DCE-MRI as the public Duke-Breast-Cancer-MRI collection (TCIA) downloads, read by `find_breast_dce`.

The fixtures follow the release: `<manifest>/Duke-Breast-Cancer-MRI/Breast_MRI_<nnn>/<study>/<series>/1-<nnn>.dcm`
(study and series folders named by date/number and description, or by UID in NBIA's "classic" download), one MR
series per folder with its Series Description, Series Number, Acquisition Time and Series Time, and the lesion table
`Annotation_Boxes.xlsx` (columns Patient ID, Start Row, End Row, Start Column, End Column, Start Slice, End Slice)
beside the collection folder. Everything is written with `io.write_dicom_series` (pydicom) and pandas, tiny sizes."""
import numpy as np
import pandas as pd
import pydicom
import pytest
from medgan_nb.data import io
from medgan_nb.data.io import DataError
from medgan_nb.data.prep.breast import (CHANNELS, DUKE_BOX_COLUMNS, VOLUMES, breast_channels, check_breast_channels,
                                        detect_breast_layout, find_breast_dce, haarburger2019_patches, iter_breast_dce,
                                        load_breast_case)

SHAPE = (8, 24, 20)                      # (slices, rows, columns) as DICOM stores them
SPACING = (0.66, 0.7, 1.1)               # (row spacing, column spacing, slice distance) in mm
# the release's series of one exam: non-fat-sat T1, then the dynamic series (Series Number, description, time)
DUKE_SERIES = [(2, 'ax t1', '091002'), (3, 'ax dyn pre', '091530'), (4, 'ax dyn 1st pass', '091842'),
               (5, 'ax dyn 2nd pass', '092152'), (6, 'ax dyn 3rd pass', '092502'), (7, 'ax dyn 4th pass', '092812')]
BOX = dict(zip(DUKE_BOX_COLUMNS[1:], (5, 9, 12, 15, 3, 5)))   # rows 5-9, columns 12-15, slices 3-5 (1-based)


def exam(pid, seed=0, descending=True):
    "(slices, rows, columns) uint16 volumes of one exam: tissue, and a lesion in BOX that enhances over the phases."
    rng = np.random.default_rng(seed)
    base = rng.integers(300, 400, SHAPE).astype(np.uint16)
    base[:, :, :3] = 0                                                  # air beside the breast
    s0, s1 = BOX['Start Slice'], BOX['End Slice']                       # Instance Numbers; array index = position
    slices = slice(SHAPE[0] - s1, SHAPE[0] - s0 + 1) if descending else slice(s0 - 1, s1)
    les = np.zeros(SHAPE, bool)
    les[slices, BOX['Start Row'] - 1:BOX['End Row'], BOX['Start Column'] - 1:BOX['End Column']] = True
    vols = {}
    for phase in range(5):                                              # pre, 1st .. 4th pass
        v = base + np.uint16(20 * phase)                                # every phase told apart by its level
        v[les] += np.uint16(300 * min(phase, 2))                        # the lesion enhances
        vols[phase] = v
    return vols


def duke_patient(top, pid, series=DUKE_SERIES, classic=False, descending=True, seed=0, skip_phase=()):
    "One patient folder as TCIA delivers it; instance 1 is the top slice (descending) as on many scanners."
    study = top/pid/('1.3.6.1.4.1.14519.5.2.1.186051521067863971269584893740842397538' if classic else
                     '01-01-1990-NA-MRI BREAST BILATERAL W  WO-97538')
    vols, phase = exam(pid, seed, descending), 0
    for number, desc, time in series:
        name = (f'1.3.6.1.4.1.14519.5.2.1.{number}0000' if classic else
                f"{number}.000000-{desc.replace('/', ' ')}-{number * 7919 % 100000:05d}")
        is_dyn = 'dyn' in desc
        pixels = vols[phase] if is_dyn else vols[0] // 2
        if not (is_dyn and phase in skip_phase):
            io.write_dicom_series(study/name, pixels, desc, SPACING, number, time, pid, descending=descending)
        phase += is_dyn
    return study


def annotation_table(path, rows):
    "Annotation_Boxes.xlsx (or .csv) with the release's header."
    df = pd.DataFrame([[pid, *[b[c] for c in DUKE_BOX_COLUMNS[1:]]] for pid, b in rows], columns=DUKE_BOX_COLUMNS)
    df.to_excel(path, index=False) if path.suffix == '.xlsx' else df.to_csv(path, index=False)


@pytest.fixture
def duke(tmp_path):
    "A download of two patients: the collection folder inside NBIA's manifest folder, the table beside it."
    top = tmp_path/'manifest-1654812109500'/'Duke-Breast-Cancer-MRI'
    duke_patient(top, 'Breast_MRI_001')
    duke_patient(top, 'Breast_MRI_002', seed=1)
    annotation_table(tmp_path/'Annotation_Boxes.xlsx', [('Breast_MRI_001', BOX), ('Breast_MRI_002', BOX)])
    return tmp_path


def test_duke_found_and_read(duke):
    assert detect_breast_layout(duke) == 'duke'
    refs, skipped = find_breast_dce(duke)
    assert skipped == []
    assert [(r.patient_id, r.layout, r.source.name) for r in refs] == \
        [('Breast_MRI_001', 'duke', 'Annotation_Boxes.xlsx'), ('Breast_MRI_002', 'duke', 'Annotation_Boxes.xlsx')]
    assert {k: h['description'] for k, h in refs[0].series.items()} == \
        {'T1pre': 'ax dyn pre', 'T1post1': 'ax dyn 1st pass', 'T1post2': 'ax dyn 2nd pass',
         'T1post3': 'ax dyn 3rd pass', 'T1post4': 'ax dyn 4th pass'}           # 'ax t1' (no fat sat) is not used
    case = load_breast_case(refs[0])
    assert case.layout == 'duke' and sorted(case.volumes) == sorted(VOLUMES[1:]) and case.breast is None
    assert case.table.to_dict('records') == [{'lesion_id': 1, 'label': 'malignant'}]
    assert np.allclose(case.spacing, (SPACING[1], SPACING[0], SPACING[2]))  # x = columns, y = rows, z = slices
    assert case.volumes['T1pre'].shape == (SHAPE[2], SHAPE[1], SHAPE[0])
    vols = exam('Breast_MRI_001')
    for phase, name in enumerate(VOLUMES[1:]):                                 # RAS: columns and rows reversed
        assert np.array_equal(case.volumes[name], vols[phase].transpose(2, 1, 0)[::-1, ::-1, :]), name
    assert case.series['T1post3']['description'] == 'ax dyn 3rd pass'


def test_duke_box_lands_on_the_lesion(duke):
    "The box (1-based rows, columns, slices in Instance Number order) covers exactly the enhancing voxels."
    case = next(iter_breast_dce(duke))
    enhancing = (case.volumes['T1post2'] - case.volumes['T1pre']) > 200
    assert case.lesions.dtype == np.uint8 and set(np.unique(case.lesions)) == {0, 1}
    assert np.array_equal(case.lesions == 1, enhancing)
    assert (case.lesions == 1).sum() == 5 * 4 * 3


@pytest.mark.parametrize('descending', [True, False])
def test_duke_slices_follow_instance_numbers(tmp_path, descending):
    "Instances numbered from the top or from the bottom: the box's slices are Instance Numbers, the volume positions."
    top = tmp_path/'Duke-Breast-Cancer-MRI'
    duke_patient(top, 'Breast_MRI_001', descending=descending)
    annotation_table(tmp_path/'Annotation_Boxes.xlsx', [('Breast_MRI_001', BOX)])
    case = next(iter_breast_dce(tmp_path))
    zs = sorted(set(np.argwhere(case.lesions == 1)[:, 2]))
    numbers = range(BOX['Start Slice'], BOX['End Slice'] + 1)
    assert zs == sorted(SHAPE[0] - n if descending else n - 1 for n in numbers)
    assert (zs == list(range(2, 5))) == (not descending)              # file order is not position order


def test_duke_classic_names_csv_table_and_time_order(tmp_path):
    "UID-named folders, the table as .csv, unnumbered dynamic series told apart by Acquisition Time alone."
    top = tmp_path/'Duke-Breast-Cancer-MRI'
    shuffled = [(9, 'ax 3d dyn', '101200'), (3, 'ax 3d dyn', '100000'), (12, 'ax 3d dyn', '100600'),
                (4, 'ax t1', '095500')]                                        # numbers out of time order
    study = duke_patient(top, 'Breast_MRI_003', series=sorted(shuffled, key=lambda s: s[2]), classic=True)
    assert all(p.name.startswith('1.3.6.1.4.1.14519') for p in [study, *study.iterdir()])
    annotation_table(tmp_path/'Annotation_Boxes.csv', [('Breast_MRI_003', BOX)])
    refs, skipped = find_breast_dce(tmp_path)
    assert skipped == [] and refs[0].source.name == 'Annotation_Boxes.csv'
    assert [(k, h['series_number']) for k, h in refs[0].series.items()] == [('T1pre', 3), ('T1post1', 12), ('T1post2', 9)]
    case = load_breast_case(refs[0])
    assert [float(case.volumes[v].min()) for v in ('T1pre', 'T1post1', 'T1post2')] == [0.0, 20.0, 40.0]
    assert breast_channels(refs) == ('T1pre', 'T1post1', 'T1post2', 'Sub')     # as many phases as present


def test_duke_ge_phase_descriptions(tmp_path):
    "'ax 3d dyn' then 'Ph1/ax 3d dyn' .. 'Ph4/ax 3d dyn': the unnumbered one is the pre-contrast series."
    top = tmp_path/'Duke-Breast-Cancer-MRI'
    series = [(5, 'ax 3d dyn', '1010'), *[(5 + n, f'Ph{n}/ax 3d dyn', f'10{10 + 2 * n}') for n in range(1, 5)]]
    duke_patient(top, 'Breast_MRI_004', series=series)
    annotation_table(tmp_path/'Annotation_Boxes.xlsx', [('Breast_MRI_004', BOX)])
    refs, _ = find_breast_dce(tmp_path)
    assert [h['description'] for h in refs[0].series.values()] == [d for _, d, _ in series]


def test_duke_skipped_patients_are_reported(duke):
    "No table row, a missing phase, an unreadable series, a bad box value, a row without a folder: each named, with why."
    top = duke/'manifest-1654812109500'/'Duke-Breast-Cancer-MRI'
    duke_patient(top, 'Breast_MRI_005')                                             # no row in the table
    duke_patient(top, 'Breast_MRI_006', series=DUKE_SERIES[:2])                     # only 'ax t1' and the pre
    bad = duke_patient(top, 'Breast_MRI_007')                                       # a series with a broken file
    next(bad.glob('4.000000-*/1-001.dcm')).write_bytes(b'\0' * 64)
    duke_patient(top, 'Breast_MRI_008', skip_phase=(0,))                            # no pre-contrast series
    annotation_table(duke/'Annotation_Boxes.xlsx', [(f'Breast_MRI_00{i}', BOX) for i in (1, 2, 6, 7, 8, 9)] +
                     [('Breast_MRI_010', {**BOX, 'End Row': 'n/a'})])
    refs, skipped = find_breast_dce(duke)
    assert [r.patient_id for r in refs] == ['Breast_MRI_001', 'Breast_MRI_002']
    why = dict(skipped)
    assert list(why) == ['Breast_MRI_005', 'Breast_MRI_006', 'Breast_MRI_007', 'Breast_MRI_008', 'Breast_MRI_009',
                         'Breast_MRI_010']
    table = duke/'Annotation_Boxes.xlsx'
    assert why['Breast_MRI_005'] == f"{top/'Breast_MRI_005'}: no row for Breast_MRI_005 in {table}; expected its lesion box"
    assert why['Breast_MRI_006'].startswith(f"{top/'Breast_MRI_006'}: missing phases: no post-contrast series")
    assert 'unreadable DICOM header' in why['Breast_MRI_007'] and '1-001.dcm' in why['Breast_MRI_007']
    assert why['Breast_MRI_008'].startswith(f"{top/'Breast_MRI_008'}: missing phases: no pre-contrast series")
    assert why['Breast_MRI_009'] == f"{table}: Breast_MRI_009 is listed but no folder Breast_MRI_009 was found under {duke}"
    assert why['Breast_MRI_010'] == f"{table}: line 8: End Row 'n/a', expected a whole number >= 1"


def test_duke_box_outside_the_image(duke):
    annotation_table(duke/'Annotation_Boxes.xlsx', [('Breast_MRI_001', {**BOX, 'End Slice': 9}), ('Breast_MRI_002', BOX)])
    report = []
    assert [c.patient_id for c in iter_breast_dce(duke, report)] == ['Breast_MRI_002']
    assert report[0][0] == 'Breast_MRI_001'
    assert report[0][1].startswith(f"{duke/'Annotation_Boxes.xlsx'}: line 2: End Slice 9 of Breast_MRI_001, "
                                   "beyond the 8 slices of its T1pre series")
    with pytest.raises(DataError, match='End Slice 9'):
        list(iter_breast_dce(duke))


def test_layout_named_explicitly(duke):
    "layout='duke' reads the same refs as 'auto'; a NIfTI reading of a Duke folder names the missing lesions.csv."
    assert [r.patient_id for r in find_breast_dce(duke, layout='duke')[0]] == ['Breast_MRI_001', 'Breast_MRI_002']
    with pytest.raises(DataError, match=r"lesions.csv: lesion table file not found"):
        find_breast_dce(duke, layout='nifti')
    with pytest.raises(ValueError, match=r"layout='dicom': expected 'auto' or one of nifti, duke"):
        find_breast_dce(duke, layout='dicom')


def test_duke_without_table_and_no_data(tmp_path, duke):
    (duke/'Annotation_Boxes.xlsx').unlink()
    with pytest.raises(DataError, match=r"Duke-Breast-Cancer-MRI patient folders \(Breast_MRI_001, ...\) but no "
                                        r"Annotation_Boxes.xlsx or Annotation_Boxes.csv"):
        find_breast_dce(duke)
    (tmp_path/'empty').mkdir()
    with pytest.raises(DataError, match='no breast DCE-MRI data set found'):
        find_breast_dce(tmp_path/'empty')


def test_nifti_layout_stays_the_default(tmp_path):
    from medgan_nb.data.phantoms.breast import make_breast_phantoms
    make_breast_phantoms(tmp_path, n_patients=1, seed=0, shape=(32, 32, 8), progress=False)
    assert detect_breast_layout(tmp_path) == 'nifti'
    refs, skipped = find_breast_dce(tmp_path)
    assert skipped == [] and [(r.layout, r.source.name) for r in refs] == [('nifti', 'lesions.csv')]
    assert breast_channels(refs) == CHANNELS
    case = load_breast_case(refs[0])
    assert case.layout == 'nifti' and sorted(case.volumes) == sorted(VOLUMES) and case.series == {}


def test_haarburger_channels_on_duke(duke):
    "The default channels (with T2) stop with the data set, the channel and a value that works; that value runs."
    refs, _ = find_breast_dce(duke)
    with pytest.raises(DataError) as e:
        check_breast_channels(refs, list(CHANNELS), duke)
    assert str(e.value) == (f"{duke}: channels ['T2'] are not in the Duke-Breast-Cancer-MRI data set (T2 in none of "
                            "its 2 patients); run with channels=['T1pre', 'T1post1', 'T1post2', 'T1post3', 'T1post4', "
                            "'Sub'] (the requested channels it has)")
    works = [c for c in CHANNELS if c != 'T2']
    ps = haarburger2019_patches(iter_breast_dce(duke), grid=(32, 32, 8), size=8, clear=4,
                                channels=check_breast_channels(refs, works, duke), healthy_per_patient=4)
    assert ps.channels == tuple(works) and ps.patches.shape[1] == 6
    assert set(ps.index.label) == {'malignant', 'no findings'}
    assert ps.counts.set_index('label').loc['malignant', 'lesions'] == 2


def test_haarburger_notebook_stops_clearly_on_duke(duke, tmp_path, monkeypatch):
    """The paper notebook (default channels, FID with T2 as R) stops in its data cell, naming the data set, T2 and values
    that work (channels and fid_rgb), before any prep; with those values it runs (test_papers_haarburger2019_duke.py)."""
    pm = pytest.importorskip('papermill')
    from _papers import ROOT, execute_here
    monkeypatch.setenv('MEDGAN_PATHS_DATA_DIR', str(tmp_path/'data'))
    nb = ROOT/'nbs'/'papers'/'haarburger2019.ipynb'
    with pytest.raises(pm.PapermillExecutionError) as e:
        execute_here(nb, tmp_path/'out.ipynb', dict(profile='smoke', data_dir=str(duke), out_dir=str(tmp_path/'out'),
                                                   threads=1))
    assert e.value.ename == 'DataError'
    assert e.value.evalue == (f"{duke}: channels ['T2'] are not in the Duke-Breast-Cancer-MRI data set (T2 in none of "
                              "its 2 patients); run with channels=['T1pre', 'T1post1', 'T1post2', 'T1post3', 'T1post4', "
                              "'Sub'] (the requested channels it has) and fid_rgb=['T1pre', 'T1post1', 'T1post2'] "
                              "(FID's R, G, B among them)")
    assert not (tmp_path/'data'/'cache').exists()                       # stopped before any preprocessing
