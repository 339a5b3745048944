"BraTS / MSD discovery end to end on tiny synthetic trees: all layouts agree, broken cases are reported, not fatal."
import json
from pathlib import Path
import numpy as np, pytest
import SimpleITK as sitk
from medgan_nb.data.io import (SEQUENCES, DataError, write_nifti, find_brats, load_brats, load_brats_case,
                               detect_brats_layout)

SH = (8, 8, 6)
LPS = np.diag([-1., -1., 1., 1.])

@pytest.fixture(scope='module')
def case():
    rng = np.random.default_rng(7)
    imgs = {s: (rng.normal(size=SH) + 10 * i).astype(np.float32) for i, s in enumerate(SEQUENCES)}
    lab = np.zeros(SH, np.uint8); lab[1:7, 1:7, 1:5] = 2; lab[2:5, 2:5, 2:4] = 4; lab[3, 3, 3] = 1
    return imgs, lab

def nifti_case(d: Path, imgs, lab, skip=()):
    names = {'T1': 't1', 'T1c': 't1ce', 'T2': 't2', 'FLAIR': 'flair', 'label': 'seg'}
    for k, a in {**imgs, 'label': lab}.items():
        if k not in skip: write_nifti(d/f"{d.name}_{names[k]}.nii.gz", a[::-1, ::-1], affine=LPS)

def vsd_case(d: Path, imgs, lab):
    for i, (k, a) in enumerate({**imgs, 'label': np.where(lab == 1, 3, lab).astype(np.uint8)}.items()):
        name = f"VSD.Brain_3more.XX.O.OT.{i}" if k == 'label' else f"VSD.Brain.XX.O.MR_{k.replace('FLAIR', 'Flair')}.{i}"
        (d/name).mkdir(parents=True)
        sitk.WriteImage(sitk.GetImageFromArray(np.ascontiguousarray(a[::-1, ::-1].transpose(2, 1, 0))), str(d/name/f"{name}.mha"))

def msd_task(d: Path, imgs, lab, ids, training=True):
    spec = {"modality": {"0": "FLAIR", "1": "T1w", "2": "t1gd", "3": "T2w"},
            "labels": {"0": "background", "1": "edema", "2": "non-enhancing tumor", "3": "enhancing tumour"}}
    for i in ids:
        write_nifti(d/'imagesTr'/f"{i}.nii.gz", np.stack([imgs[s] for s in ('FLAIR', 'T1', 'T1c', 'T2')], -1))
        write_nifti(d/'labelsTr'/f"{i}.nii.gz", np.select([lab == 2, lab == 1, lab == 4], [1, 2, 3], 0).astype(np.uint8))
    if training: spec['training'] = [{"image": f"./imagesTr/{i}.nii.gz", "label": f"./labelsTr/{i}.nii.gz"} for i in ids]
    (d/'dataset.json').write_text(json.dumps(spec))

def test_three_layouts_load_identically(tmp_path, case):
    imgs, lab = case
    nifti_case(tmp_path/'n'/'C1', imgs, lab); vsd_case(tmp_path/'v'/'HGG'/'C1', imgs, lab); msd_task(tmp_path/'m', imgs, lab, ['C1'])
    loaded = {}
    for layout in ('nifti', 'vsd', 'msd'):
        root = tmp_path/layout[0]
        assert detect_brats_layout(root) == layout
        cases, skipped = load_brats(root, progress=False)
        assert skipped == [] and len(cases) == 1
        loaded[layout] = cases[0]
    for c in loaded.values():
        assert c.case_id == 'C1' and c.shape == SH and c.label.dtype == np.uint8
        np.testing.assert_array_equal(c.label, lab)
        for s in SEQUENCES: np.testing.assert_array_equal(c.images[s], imgs[s])
    assert loaded['vsd'].grade == 'HGG' and loaded['nifti'].grade is None

def test_mixed_layouts_refused(tmp_path, case):
    nifti_case(tmp_path/'a'/'C1', *case); vsd_case(tmp_path/'b'/'C2', *case)
    with pytest.raises(DataError, match='several layouts found'): find_brats(tmp_path)
    refs, _ = find_brats(tmp_path, layout='vsd')
    assert [r.case_id for r in refs] == ['C2']

def test_name_mapping_grade_and_missing_label(tmp_path, case):
    imgs, lab = case
    nifti_case(tmp_path/'BraTS20_Training_001', imgs, lab); nifti_case(tmp_path/'BraTS20_Training_002', imgs, lab, skip=('label',))
    (tmp_path/'name_mapping.csv').write_text('Grade,BraTS_2017_subject_ID,BraTS_2020_subject_ID\n'
                                             'LGG,Brats17_x,BraTS20_Training_001\nHGG,Brats17_y,BraTS20_Training_002\n')
    refs, skipped = find_brats(tmp_path)
    assert [(r.case_id, r.grade) for r in refs] == [('BraTS20_Training_001', 'LGG')]
    assert skipped[0][0] == 'BraTS20_Training_002' and 'missing label map' in skipped[0][1]
    cases, skipped = load_brats(tmp_path, require_label=False, progress=False)
    assert skipped == [] and [c.grade for c in cases] == ['LGG', 'HGG'] and cases[1].label is None

def test_msd_without_training_list_skips_resource_forks(tmp_path, case):
    msd_task(tmp_path, *case, ['BRATS_001', 'BRATS_002'], training=False)
    (tmp_path/'imagesTr'/'._BRATS_001.nii.gz').write_bytes(b'\x00\x05\x16\x07 mac')
    cases, skipped = load_brats(tmp_path, max_cases=1, progress=False)
    assert [c.case_id for c in cases] == ['BRATS_001']
    assert len(skipped) == 1 and '._BRATS_001.nii.gz: hidden file' in skipped[0][1]

def test_msd_unknown_label_name_names_dataset_json(tmp_path, case):
    msd_task(tmp_path, *case, ['BRATS_001'])
    spec = json.loads((tmp_path/'dataset.json').read_text()); spec['labels']['3'] = 'cyst'
    (tmp_path/'dataset.json').write_text(json.dumps(spec))
    with pytest.raises(DataError, match=f"{tmp_path/'dataset.json'}: label name 'cyst'"): find_brats(tmp_path)

def test_label_shape_mismatch_names_label_file(tmp_path, case):
    imgs, lab = case
    nifti_case(tmp_path/'C1', imgs, lab[:, :, :5])
    with pytest.raises(DataError, match='C1_seg.nii.gz: shape \\(8, 8, 5\\) of the label map'): load_brats_case(tmp_path/'C1')

def test_vsd_two_files_in_sequence_folder(tmp_path, case):
    vsd_case(tmp_path/'C1', *case)
    t1 = next((tmp_path/'C1').glob('*MR_T1.*'))
    (t1/'extra.mha').write_bytes((next(t1.glob('*.mha'))).read_bytes())
    refs, skipped = find_brats(tmp_path)
    assert refs == [] and skipped[0][0] == 'C1' and f"{t1}: expected one .mha/.mhd file for T1, found 2" in skipped[0][1]
