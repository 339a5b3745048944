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


# ---- every public release, laid out as its download is: folder and file names, label codes, grades, 4-D MSD ----
import nibabel as nib
from medgan_nb.data.io import BRATS_LABELS

TINY = (6, 7, 5)
NII_LPS = np.array([[-1., 0, 0, 0], [0, -1., 0, 239.], [0, 0, 1., 0], [0, 0, 0, 1.]])   # BraTS 2017+ files' affine

@pytest.fixture(scope='module')
def ref_case():
    "Four sequences told apart by their values, and a disk label map with every code 0-4 (meaning set per release)."
    rng = np.random.default_rng(11)
    imgs = {s: rng.integers(10 + 100 * i, 90 + 100 * i, size=TINY).astype(np.int16) for i, s in enumerate(SEQUENCES)}
    codes = np.zeros(TINY, np.uint8); codes[1:5, 1:6, 1:4] = 2; codes[2:4, 2:5, 2:3] = 1; codes[2, 2, 2] = 3; codes[3, 4, 2] = 4
    return imgs, codes

def nii(path: Path, arr, dtype):
    "What BraTS 2017+ ship: the RAS array stored with flipped x and y (affine diag(-1, -1, 1))."
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(np.ascontiguousarray(arr[::-1, ::-1]).astype(dtype), NII_LPS), str(path))

def mha(path: Path, arr):
    "What BraTS 2015/2016 ship: one .mha per folder, ITK's identity (LPS) direction."
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(sitk.GetImageFromArray(np.ascontiguousarray(arr[::-1, ::-1].transpose(2, 1, 0))), str(path), True)

def expect(codes, mapping):
    "The label map in the suite's coding, by the release's documented meaning of each code (written out here)."
    out = np.zeros_like(codes)
    for disk, ours in mapping.items(): out[codes == disk] = ours
    return out

def check(cases, imgs, label, layout, scheme, mapping):
    for c in cases:
        assert (c.layout, c.label_scheme, c.label_map) == (layout, scheme, mapping), c.case_id
        for s in SEQUENCES: np.testing.assert_array_equal(c.images[s], imgs[s].astype(np.float32), err_msg=f"{c.case_id} {s}")
        np.testing.assert_array_equal(c.label, label)
        assert set(np.unique(c.label)) <= set(BRATS_LABELS)

VSD_MAP = {0: 0, 1: 1, 2: 2, 3: 1, 4: 4}          # 1 necrosis, 2 oedema, 3 non-enhancing, 4 enhancing

@pytest.mark.parametrize('release', ['BRATS2015_Training', 'BRATS2016_Training'])
def test_brats2015_2016_vsd(tmp_path, ref_case, release):
    imgs, codes = ref_case
    root = tmp_path/release
    for grade, case, n0 in (('HGG', 'brats_2013_pat0001_1', 54512), ('LGG', 'brats_tcia_pat249_1', 10587)):
        for i, s in enumerate(('Flair', 'T1', 'T1c', 'T2')):
            name = f"VSD.Brain.XX.O.MR_{s}.{n0 + i}"
            mha(root/grade/case/name/f"{name}.mha", imgs[{'Flair': 'FLAIR'}.get(s, s)])
        name = f"VSD.Brain_3more.XX.O.OT.{n0 + 5}"
        mha(root/grade/case/name/f"{name}.mha", codes)
    test_root = tmp_path/'Testing'/'HGG_LGG'/'brats_2013_pat0105_1'                     # the test set has no OT folder
    for i, s in enumerate(('Flair', 'T1', 'T1c', 'T2')):
        mha(test_root/f"VSD.Brain.XX.O.MR_{s}.{40000 + i}"/f"VSD.Brain.XX.O.MR_{s}.{40000 + i}.mha", imgs[{'Flair': 'FLAIR'}.get(s, s)])
    assert detect_brats_layout(root) == 'vsd'
    cases, skipped = load_brats(root, progress=False)
    assert skipped == [] and [(c.case_id, c.grade) for c in cases] == [('brats_2013_pat0001_1', 'HGG'), ('brats_tcia_pat249_1', 'LGG')]
    check(cases, imgs, expect(codes, VSD_MAP), 'vsd', 'vsd', VSD_MAP)
    refs, skipped = find_brats(tmp_path/'Testing')
    assert refs == [] and 'missing label map' in skipped[0][1]
    cases, _ = load_brats(tmp_path/'Testing', require_label=False, progress=False)
    assert cases[0].label is None and cases[0].grade is None

B17_MAP = {0: 0, 1: 1, 2: 2, 4: 4}                   # 1 NCR/NET, 2 ED, 4 ET: the suite's coding

def nifti_2017_case(d: Path, imgs, codes, ext='.nii.gz'):
    for s, suffix in (('FLAIR', 'flair'), ('T1', 't1'), ('T1c', 't1ce'), ('T2', 't2')): nii(d/f"{d.name}_{suffix}{ext}", imgs[s], np.int16)
    nii(d/f"{d.name}_seg{ext}", np.where(codes == 3, 1, codes), np.uint8)          # 2017-2021 have no code 3

@pytest.mark.parametrize('release,prefix', [('Brats17TrainingData', 'Brats17'), ('MICCAI_BraTS_2018_Data_Training', 'Brats18')])
def test_brats2017_2018_grade_folders(tmp_path, ref_case, release, prefix):
    imgs, codes = ref_case
    root = tmp_path/release
    nifti_2017_case(root/'HGG'/f"{prefix}_2013_10_1", imgs, codes); nifti_2017_case(root/'LGG'/f"{prefix}_2013_0_1", imgs, codes)
    (root/'survival_data.csv').write_text(f"Brats17ID,Age,Survival\n{prefix}_2013_10_1,60.463,289\n")
    assert detect_brats_layout(root) == 'nifti'
    cases, skipped = load_brats(root, progress=False)
    assert skipped == [] and [(c.case_id, c.grade) for c in cases] == [(f"{prefix}_2013_10_1", 'HGG'), (f"{prefix}_2013_0_1", 'LGG')]
    check(cases, imgs, expect(np.where(codes == 3, 1, codes), B17_MAP), 'nifti', 'brats2017', B17_MAP)

def test_brats2019_grade_folders_and_name_mapping(tmp_path, ref_case):
    imgs, codes = ref_case
    root = tmp_path/'MICCAI_BraTS_2019_Data_Training'
    nifti_2017_case(root/'HGG'/'BraTS19_2013_10_1', imgs, codes); nifti_2017_case(root/'LGG'/'BraTS19_2013_0_1', imgs, codes)
    (root/'name_mapping.csv').write_text('Grade,BraTS_2017_subject_ID,BraTS_2018_subject_ID,TCGA_TCIA_subject_ID,BraTS_2019_subject_ID\n'
                                         'HGG,Brats17_2013_10_1,Brats18_2013_10_1,NA,BraTS19_2013_10_1\n'
                                         'LGG,Brats17_2013_0_1,Brats18_2013_0_1,NA,BraTS19_2013_0_1\n')
    cases, skipped = load_brats(root, progress=False)
    assert skipped == [] and [c.grade for c in cases] == ['HGG', 'LGG']

def test_brats2020_name_mapping_and_misnamed_label(tmp_path, ref_case):
    "2020: one flat folder, grades only in name_mapping.csv; the Kaggle copy stores .nii and misnames case 355's label."
    imgs, codes = ref_case
    root = tmp_path/'MICCAI_BraTS2020_TrainingData'
    for i in (1, 260, 355): nifti_2017_case(root/f"BraTS20_Training_{i:03d}", imgs, codes, ext='.nii')
    c355 = root/'BraTS20_Training_355'
    (c355/'BraTS20_Training_355_seg.nii').rename(c355/'W39_1998.09.19_Segm.nii')
    (root/'name_mapping.csv').write_text(
        'Grade,BraTS_2017_subject_ID,BraTS_2018_subject_ID,TCGA_TCIA_subject_ID,BraTS_2019_subject_ID,BraTS_2020_subject_ID\n'
        'HGG,Brats17_CBICA_AAB_1,Brats18_CBICA_AAB_1,NA,BraTS19_CBICA_AAB_1,BraTS20_Training_001\n'
        'LGG,Brats17_2013_0_1,Brats18_2013_0_1,TCGA-XX-0001,BraTS19_2013_0_1,BraTS20_Training_260\n'
        'HGG,NA,NA,NA,NA,BraTS20_Training_355\n')
    (root/'survival_info.csv').write_text('Brats20ID,Age,Survival_days,Extent_of_Resection\nBraTS20_Training_001,60.463,289,GTR\n')
    assert detect_brats_layout(root) == 'nifti'
    cases, skipped = load_brats(root, progress=False)
    assert [(c.case_id, c.grade) for c in cases] == [('BraTS20_Training_001', 'HGG'), ('BraTS20_Training_260', 'LGG')]
    check(cases, imgs, expect(np.where(codes == 3, 1, codes), B17_MAP), 'nifti', 'brats2017', B17_MAP)
    assert skipped == [('BraTS20_Training_355', f"{c355}: missing label map (expected <case>_seg.nii.gz; "
                                                "other NIfTI files here: W39_1998.09.19_Segm.nii)")]

def test_brats2021_no_grades(tmp_path, ref_case):
    imgs, codes = ref_case
    root = tmp_path/'RSNA_ASNR_MICCAI_BraTS2021_TrainingData_16July2021'
    for i in (0, 2): nifti_2017_case(root/f"BraTS2021_{i:05d}", imgs, codes)
    assert detect_brats_layout(root) == 'nifti'
    cases, skipped = load_brats(root, progress=False)
    assert skipped == [] and [(c.case_id, c.grade) for c in cases] == [('BraTS2021_00000', None), ('BraTS2021_00002', None)]
    check(cases, imgs, expect(np.where(codes == 3, 1, codes), B17_MAP), 'nifti', 'brats2017', B17_MAP)

def b23_case(root: Path, case_id: str, imgs, codes, skip=()):
    for s, suffix in (('T1c', 't1c'), ('T1', 't1n'), ('FLAIR', 't2f'), ('T2', 't2w')): nii(root/case_id/f"{case_id}-{suffix}.nii.gz", imgs[s], np.int16)
    if 'seg' not in skip: nii(root/case_id/f"{case_id}-seg.nii.gz", codes, np.uint8)

B23_MAP = {0: 0, 1: 1, 2: 2, 3: 4}                   # 1 NCR/NETC, 2 ED/SNFH, 3 ET
GLI_MAP = {**B23_MAP, 4: 0}                          # 2024+: 4 RC, the resection cavity
PED24_MAP = {0: 0, 1: 4, 2: 1, 3: 1, 4: 2}           # 2024+ PED: 1 ET, 2 NET, 3 CC, 4 ED

@pytest.mark.parametrize('release,challenge,case_ids,codes4,scheme,mapping', [
    ('ASNR-MICCAI-BraTS2023-GLI-Challenge-TrainingData', 'GLI', ['BraTS-GLI-00000-000', 'BraTS-GLI-00000-001'], False, 'gli2024', GLI_MAP),
    ('BraTS2024-BraTS-GLI-TrainingData/training_data1_v2', 'GLI', ['BraTS-GLI-02073-100', 'BraTS-GLI-02073-101'], True, 'gli2024', GLI_MAP),
    ('ASNR-MICCAI-BraTS2023-MEN-Challenge-TrainingData', 'MEN', ['BraTS-MEN-00004-000', 'BraTS-MEN-00008-000'], False, 'brats2023', B23_MAP),
    ('ASNR-MICCAI-BraTS2023-MET-Challenge-TrainingData', 'MET', ['BraTS-MET-00001-000', 'BraTS-MET-00002-000'], False, 'brats2023', B23_MAP),
    ('ASNR-MICCAI-BraTS2023-SSA-Challenge-TrainingData_V2', 'SSA', ['BraTS-SSA-00002-000', 'BraTS-SSA-00007-000'], False, 'brats2023', B23_MAP)])
def test_brats2023_2025(tmp_path, ref_case, release, challenge, case_ids, codes4, scheme, mapping):
    imgs, codes = ref_case
    codes = codes if codes4 else np.where(codes == 4, 0, codes).astype(np.uint8)       # only 2024+ GLI has code 4
    root = tmp_path/release.split('/')[0]
    for cid in case_ids: b23_case(tmp_path/release, cid, imgs, codes)
    b23_case(tmp_path/'Validation', case_ids[0].replace('-0000', '-0100'), imgs, codes, skip=('seg',))   # validation: no seg
    assert detect_brats_layout(root) == 'brats2023'
    cases, skipped = load_brats(root, progress=False)
    assert skipped == [] and [(c.case_id, c.grade) for c in cases] == [(i, None) for i in case_ids]
    check(cases, imgs, expect(codes, mapping), 'brats2023', scheme, mapping)
    val, skipped = load_brats(tmp_path/'Validation', require_label=False, progress=False)
    assert skipped == [] and val[0].label is None and val[0].images['FLAIR'].max() == imgs['FLAIR'].max()

def test_brats_ped_needs_the_release_named(tmp_path, ref_case):
    imgs, codes = ref_case
    root = tmp_path/'BraTS-PEDs'
    b23_case(root, 'BraTS-PED-00001-000', imgs, codes)
    with pytest.raises(DataError, match=r"BraTS-PED label codes changed in 2024.*label_scheme='ped2024'"): find_brats(root)
    cases, _ = load_brats(root, label_scheme='ped2024', progress=False)
    check(cases, imgs, expect(codes, PED24_MAP), 'brats2023', 'ped2024', PED24_MAP)
    with pytest.raises(DataError, match=r"label values \[4\] not in the expected \(0, 1, 2, 3\)"):
        load_brats_case(find_brats(root, label_scheme='brats2023')[0][0])                 # a 2024 file read as 2023 fails loudly

def test_msd_task01_as_downloaded(tmp_path, ref_case):
    "Task01_BrainTumour.tar: dataset.json, 4-D imagesTr, labelsTr, imagesTs, and macOS '._' files beside every image."
    imgs, codes = ref_case
    task = tmp_path/'Task01_BrainTumour'
    msd_codes = np.select([codes == 2, np.isin(codes, (1, 3)), codes == 4], [1, 2, 3], 0).astype(np.uint8)  # 1 ED, 2 NET, 3 ET
    for i in (1, 2):
        write_nifti(task/'imagesTr'/f"BRATS_{i:03d}.nii.gz", np.stack([imgs[s] for s in ('FLAIR', 'T1', 'T1c', 'T2')], -1).astype(np.float32))
        write_nifti(task/'labelsTr'/f"BRATS_{i:03d}.nii.gz", msd_codes)
        (task/'imagesTr'/f"._BRATS_{i:03d}.nii.gz").write_bytes(b'\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ')
    write_nifti(task/'imagesTs'/'BRATS_485.nii.gz', np.stack([imgs[s] for s in ('FLAIR', 'T1', 'T1c', 'T2')], -1).astype(np.float32))
    (task/'dataset.json').write_text(json.dumps({
        "name": "BRATS", "description": "Gliomas segmentation tumour and oedema in on brain images", "reference": "https://www.med.upenn.edu/sbia/brats2017.html",
        "licence": "CC-BY-SA 4.0", "release": "2.0 04/05/2018", "tensorImageSize": "4D",
        "modality": {"0": "FLAIR", "1": "T1w", "2": "t1gd", "3": "T2w"},
        "labels": {"0": "background", "1": "edema", "2": "non-enhancing tumor", "3": "enhancing tumour"},
        "numTraining": 2, "numTest": 1,
        "training": [{"image": f"./imagesTr/BRATS_{i:03d}.nii.gz", "label": f"./labelsTr/BRATS_{i:03d}.nii.gz"} for i in (1, 2)],
        "test": ["./imagesTs/BRATS_485.nii.gz"]}))
    assert detect_brats_layout(tmp_path) == 'msd'
    cases, skipped = load_brats(tmp_path, progress=False)
    assert skipped == [] and [(c.case_id, c.grade) for c in cases] == [('BRATS_001', None), ('BRATS_002', None)]
    mapping = {0: 0, 1: 2, 2: 1, 3: 4}
    check(cases, {s: imgs[s] for s in SEQUENCES}, expect(msd_codes, mapping), 'msd', 'msd', mapping)
    with pytest.raises(ValueError, match='MSD labels are named in dataset.json'): find_brats(tmp_path, label_scheme='brats2017')

def test_no_layout_names_every_layout(tmp_path):
    (tmp_path/'patient01').mkdir()
    write_nifti(tmp_path/'patient01'/'T1_post_contrast.nii.gz', np.zeros(TINY))            # a scan named by no release
    with pytest.raises(DataError, match=r"no brain data set found .*BraTS 2015/2016.*BraTS 2017-2021.*BraTS 2023-2025"
                                        r".*BraTS-MEN-RT.*MSD"):
        find_brats(tmp_path)

MENRT_MAP = {0: 0, 1: 1}                             # 1 GTV (the target volume): one label, no subregions

def menrt_case(root: Path, case_id: str, t1c, gtv=None, spacing=(1., 1., 1.)):
    "What BraTS-MEN-RT (2024) ships: <case>/<case>_t1c.nii.gz and <case>_gtv.nii.gz, each case on its native grid."
    affine = np.diag([-spacing[0], -spacing[1], spacing[2], 1.])
    for name, arr, dtype in (('t1c', t1c, np.int16), ('gtv', gtv, np.uint8)):
        if arr is None: continue
        path = root/case_id/f"{case_id}_{name}.nii.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        nib.save(nib.Nifti1Image(np.ascontiguousarray(arr[::-1, ::-1]).astype(dtype), affine), str(path))

@pytest.fixture
def men_rt(tmp_path):
    "A BraTS-MEN-RT training folder: two cases on different native grids, one without its GTV, a macOS '._' file."
    rng, root, data = np.random.default_rng(5), tmp_path/'BraTS2024-MEN-RT-TrainingData'/'BraTS-MEN-RT-Train-v2', {}
    for cid, shape, spacing in (('BraTS-MEN-RT-0000-1', (9, 8, 5), (0.5, 0.5, 1.5)),
                                ('BraTS-MEN-RT-0004-1', (6, 7, 4), (1., 1., 1.))):
        t1c, gtv = rng.integers(1, 500, shape).astype(np.int16), np.zeros(shape, np.uint8)
        gtv[2:4, 2:5, 1:3] = 1
        menrt_case(root, cid, t1c, gtv, spacing)
        data[cid] = t1c, gtv, spacing
    menrt_case(root, 'BraTS-MEN-RT-0009-1', rng.integers(1, 500, (6, 7, 4)))                       # its GTV is missing
    (root/'BraTS-MEN-RT-0000-1'/'._BraTS-MEN-RT-0000-1_t1c.nii.gz').write_bytes(b'\x00\x05\x16\x07Mac OS X')
    return tmp_path/'BraTS2024-MEN-RT-TrainingData', data

def test_brats2024_men_rt(men_rt):
    "T1c alone and a one-label GTV, each case on its own grid and spacing: read as they are, the coding stored."
    root, data = men_rt
    assert detect_brats_layout(root) == 'men-rt'
    cases, skipped = load_brats(root, progress=False)
    assert [c.case_id for c in cases] == list(data)
    case9 = root/'BraTS-MEN-RT-Train-v2'/'BraTS-MEN-RT-0009-1'
    assert skipped == [('BraTS-MEN-RT-0009-1', f"{case9}: missing label map (expected <case>_gtv.nii.gz)")]
    for c in cases:
        t1c, gtv, spacing = data[c.case_id]
        assert (c.layout, c.label_scheme, c.label_map, c.grade) == ('men-rt', 'men-rt', MENRT_MAP, None)
        assert list(c.images) == ['T1c'] and c.shape == t1c.shape and np.allclose(c.spacing, spacing)
        np.testing.assert_array_equal(c.images['T1c'], t1c.astype(np.float32))
        np.testing.assert_array_equal(c.label, gtv)
    assert load_brats_case(case9.parent/'BraTS-MEN-RT-0004-1').layout == 'men-rt'      # one case folder alone

def test_men_rt_label_outside_its_coding_names_the_file(men_rt, tmp_path):
    root, _ = men_rt
    gtv = np.zeros((6, 7, 4), np.uint8)
    gtv[1, 1, 1] = 2
    menrt_case(tmp_path/'bad', 'BraTS-MEN-RT-0010-1', np.ones((6, 7, 4)), gtv)
    path = tmp_path/'bad'/'BraTS-MEN-RT-0010-1'/'BraTS-MEN-RT-0010-1_gtv.nii.gz'
    with pytest.raises(DataError, match=rf"{path}: label values \[2\] not in the expected \(0, 1\)"):
        load_brats_case(tmp_path/'bad'/'BraTS-MEN-RT-0010-1')

def test_han_papers_say_why_men_rt_cannot_feed_them(men_rt):
    "Han 2018 needs four sequences, Han 2019 the skull-stripped 1 mm BraTS grid: each stops naming the case and why."
    from medgan_nb.data.prep.brain import han2018_slices, han2019_slices, iter_brats
    root, _ = men_rt
    with pytest.raises(DataError, match=r"BraTS-MEN-RT-0000-1: men-rt cases hold T1c only; Han 2018 needs T1, T2, FLAIR"):
        han2018_slices(iter_brats(root))
    with pytest.raises(DataError, match=r"BraTS-MEN-RT-0000-1: .*native acquisition space.*not skull-stripped"):
        han2019_slices(iter_brats(root))


def test_han2018_takes_the_files_slices_80_to_149(tmp_path):
    """Han 2018's sagittal slices #80-#149 are the BRATS 2015/2016 files' slices, whatever the reader's turn to RAS.

    Each of the file's 240 sagittal slices (its first axis, as ITK stores it) holds its own random 0/100 pattern, so
    every output image names the file slice it came from; the RAS reader reverses x (and y), which without native
    numbering would shift the window to the files' slices 90-159."""
    from medgan_nb.data.prep.brain import han2018_slices, iter_brats, ras_slice_numbers
    rng = np.random.default_rng(3)
    native = (rng.random((240, 16, 16)) < 0.5).astype(np.int16) * 100         # the file's (x, y, z) array
    native[:, 0, 0] = 100                                                       # no empty slice
    case = tmp_path/'BRATS2016_Training'/'HGG'/'brats_tcia_pat123_0001'
    for i, s in enumerate(('Flair', 'T1', 'T1c', 'T2')):
        name = f"VSD.Brain.XX.O.MR_{s}.{1000 + i}"
        mha(case/name/f"{name}.mha", native[::-1, ::-1])                        # `mha` reverses x and y back: the file holds `native`
    name = 'VSD.Brain_3more.XX.O.OT.1005'
    mha(case/name/f"{name}.mha", np.zeros(native.shape, np.uint8))
    stored = sitk.GetArrayFromImage(sitk.ReadImage(str(next((case/'VSD.Brain.XX.O.MR_T1.1001').glob('*.mha')))))
    np.testing.assert_array_equal(stored.transpose(2, 1, 0), native)           # file slice n is native[n]
    loaded = next(iter_brats(tmp_path/'BRATS2016_Training'))
    assert loaded.native_axes[0] == (0, True, 240)                              # RAS x is the file's x reversed
    np.testing.assert_array_equal(loaded.images['T1'][ras_slice_numbers(loaded.native_axes, 80, 149)][:, ::-1], native[80:150])

    def source(img, window):                                                    # the file slice an image shows (any in-plane flip)
        views = lambda a: [a, a[::-1], a[:, ::-1], a[::-1, ::-1]]
        hits = [n for n in window if any(np.array_equal(img, v) for v in views((native[n].T > 0).astype(np.uint8) * 255))]
        assert len(hits) == 1, hits
        return hits[0]

    for slice_index, want in (('native', range(80, 150)), ('ras', range(159, 89, -1))):
        ds = han2018_slices(iter_brats(tmp_path/'BRATS2016_Training'), sizes=(16,), first=80, last=149,
                            aspect='stretch', sequences=('T1',), slice_index=slice_index)
        assert ds.index.slice.tolist() == list(range(80, 150))
        got = [source(ds.images[16, 'T1'][k, 0].numpy(), range(240)) for k in range(70)]
        assert got == list(want), (slice_index, got[:5])
