"Mammogram and breast DCE-MRI phantoms through the readers and the papers' preprocessing (small images, few patients)."
import numpy as np, pytest, torch
from medgan_nb.data.io import find_mammograms, read_dicom
from medgan_nb.data.phantoms.mammo import make_mammo_phantoms, cbis_ddsm_folder, VIEWS
from medgan_nb.data.prep.mammo import korkinof2021_prep
from medgan_nb.data.phantoms.breast import make_breast_phantoms
from medgan_nb.data.prep.breast import iter_breast_dce, haarburger2019_patches, resample_labels, CHANNELS, CLASSES


def test_mammo_dicom_tags_and_prep(tmp_path):
    make_mammo_phantoms(tmp_path, n_patients=3, seed=11, shape=(160, 128), monochrome1_fraction=0.5, progress=False)
    refs, skipped = find_mammograms(tmp_path)
    assert skipped == [] and len(refs) == 12
    assert sorted((r.laterality, r.view) for r in refs) == sorted(VIEWS * 3)
    for r in refs:
        arr, meta = read_dicom(r.path)
        assert meta['modality'] == 'MG' and meta['window'] is not None and meta['photometric'] == r.photometric
        assert 0 <= arr.min() and arr.max() <= 1
    ms = korkinof2021_prep(tmp_path, size=(80, 64))
    assert {v: len(x) for v, x in ms.images.items()} == {'CC': 6, 'MLO': 6}
    for v, x in ms.images.items():   # aligned: chest wall at the left edge in every image
        x = x.float(); assert (x[..., :32].mean((1, 2, 3)) > x[..., 32:].mean((1, 2, 3))).all(), v


def test_cbis_ddsm_through_same_prep():
    ms = korkinof2021_prep(cbis_ddsm_folder(), size=(64, 52))    # same 5:4-ish target, aspect preserved
    assert ms.counts.images.tolist() == [4, 4] and ms.skipped == []
    assert ms.images['CC'].shape == (4, 1, 64, 52) and ms.images['CC'].dtype == torch.float16


def test_breast_patches(tmp_path):
    table = make_breast_phantoms(tmp_path, n_patients=3, seed=5, shape=(96, 96, 16), spacing=(3.7, 3.7, 10.), progress=False)
    assert set(table.label) <= {'benign', 'malignant'}
    ps = haarburger2019_patches(iter_breast_dce(tmp_path), grid=(128, 128, 8), size=16, clear=8, healthy_per_patient=10, seed=2)
    assert ps.patches.shape[1:] == (len(CHANNELS), 16, 16) and ps.patches.dtype == torch.int16
    assert (ps.index.label == 'no findings').sum() == 30
    lesions = {c.patient_id: resample_labels(c.lesions, (128, 128, 8)) for c in iter_breast_dce(tmp_path)}
    for r in ps.index.itertuples():
        les = lesions[r.patient_id]
        if r.lesion_id == 0: assert not les[max(r.cx - 4, 0):r.cx + 4, max(r.cy - 4, 0):r.cy + 4, r.z].any()
        else: assert les[:, :, r.z].__eq__(r.lesion_id).any()   # the lesion is on that slice
    counted = ps.counts.set_index('label')
    assert counted.loc[['benign', 'malignant'], 'lesions'].sum() == len(table)
    assert ps.labels.tolist() == [CLASSES.index(l) for l in ps.index.label]
