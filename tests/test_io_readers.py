"Readers of medgan_nb.data.io: round trips in several storage orientations, and every validation error naming the file."
import gzip
from pathlib import Path
import numpy as np, pytest
import SimpleITK as sitk, pydicom
from medgan_nb.data.io import (DataError, read_nifti, write_nifti, read_mha, write_mha, read_dicom, write_dicom_mg, read_image)

VOL = np.random.default_rng(3).normal(size=(8, 7, 6)).astype(np.float32)
PX = np.random.default_rng(4).integers(0, 65535, size=(32, 24), dtype=np.uint16)

def test_nifti_permuted_axes(tmp_path):
    "A file storing (z, x, y) with a matching affine reads back in (x, y, z) RAS order, spacing permuted too."
    aff = np.zeros((4, 4)); aff[0, 1], aff[1, 2], aff[2, 0], aff[3, 3] = 0.5, 0.7, 2.0, 1  # stored axes: z, x, y
    write_nifti(tmp_path/'p.nii.gz', VOL.transpose(2, 0, 1), affine=aff)
    arr, meta = read_nifti(tmp_path/'p.nii.gz')
    np.testing.assert_array_equal(arr, VOL)
    assert meta['spacing'] == pytest.approx((0.5, 0.7, 2.0))

def test_mha_permuted_direction_matches_nifti(tmp_path):
    "ITK direction cosines (LPS) and NIfTI affines (RAS) of the same geometry give the same array."
    img = sitk.GetImageFromArray(np.ascontiguousarray(VOL[::-1].transpose(1, 0, 2)))   # any 3-D data will do
    img.SetDirection((0, 0, 1,  1, 0, 0,  0, 1, 0))   # columns: index i runs along LPS (0,1,0)=P, j along S, k along L
    sitk.WriteImage(img, str(tmp_path/'d.mha'))
    arr, _ = read_mha(tmp_path/'d.mha')
    # expected: the data indexed [i, j, k] lies along P, S, L; in RAS order that is [reversed k, reversed i, j]
    raw = sitk.GetArrayFromImage(img).transpose(2, 1, 0)          # [i, j, k]
    np.testing.assert_array_equal(arr, raw.transpose(2, 0, 1)[::-1, ::-1, :])

@pytest.mark.parametrize('name', ['v.mha', 'v.mhd', 'v.nii', 'v.nii.gz'])
def test_volume_round_trip(tmp_path, name):
    path = (write_mha if 'mh' in name else write_nifti)(tmp_path/name, VOL, spacing=(0.9, 1.1, 3.0))
    arr, meta = read_image(path)
    np.testing.assert_array_equal(arr, VOL)
    assert arr.dtype == np.float32 and meta['spacing'] == pytest.approx((0.9, 1.1, 3.0))

@pytest.mark.parametrize('photometric', ['MONOCHROME1', 'MONOCHROME2'])
@pytest.mark.parametrize('compress', [False, True])
def test_dicom_round_trip_window(tmp_path, photometric, compress):
    p = write_dicom_mg(tmp_path/'m.dcm', PX, 'CC', 'L', photometric, window=(30000, 20001), compress=compress)
    arr, meta = read_dicom(p)
    y = np.clip((PX.astype(float) - 29999.5) / 20000 + 0.5, 0, 1)
    np.testing.assert_allclose(arr, y if photometric == 'MONOCHROME2' else 1 - y, atol=1e-6)
    assert (meta['view'], meta['laterality'], meta['window']) == ('CC', 'L', (30000., 20001.))
    ds = pydicom.dcmread(p)
    assert ds.file_meta.TransferSyntaxUID == ('1.2.840.10008.1.2.5' if compress else '1.2.840.10008.1.2.1')
    np.testing.assert_array_equal(ds.pixel_array, PX)   # lossless

def test_dicom_signed_rescaled_no_window(tmp_path):
    "CT-like signed 12-bit data without a window: modality LUT, then the bit range ('bits' policy)."
    ds = pydicom.dcmread(write_dicom_mg(tmp_path/'m.dcm', PX, 'CC', 'L'))
    stored = (PX.astype(np.int32) // 16 - 2048).astype(np.int16)
    ds.PixelRepresentation, ds.BitsStored, ds.HighBit = 1, 12, 11
    ds.PixelData = stored.tobytes(); ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    del ds.WindowCenter, ds.WindowWidth
    ds.save_as(tmp_path/'ct.dcm')
    arr, meta = read_dicom(tmp_path/'ct.dcm')
    assert meta['voi'] == 'bits'
    np.testing.assert_allclose(arr, (stored.astype(float) + 2048) / 4095, atol=1e-6)

def test_dicom_sigmoid(tmp_path):
    ds = pydicom.dcmread(write_dicom_mg(tmp_path/'m.dcm', PX, 'CC', 'L', window=(30000, 8000)))
    ds.VOILUTFunction = 'SIGMOID'; ds.save_as(tmp_path/'s.dcm')
    np.testing.assert_allclose(read_dicom(tmp_path/'s.dcm')[0], 1 / (1 + np.exp(-4 * (PX - 30000.) / 8000)), atol=1e-6)

# ---- validation: one broken file per (reader, problem); the message must start with the file's path ----
def _empty(p): p.write_bytes(b'')
def _garbage(p): p.write_bytes(b'\x13\x37 definitely not medical image data ' * 30)

def _nifti_truncated(p):
    write_nifti(p.with_name('ok.nii'), VOL); p.write_bytes(p.with_name('ok.nii').read_bytes()[:500])
def _nifti_nan(p): write_nifti(p, np.where(VOL > 0, np.nan, VOL))
def _mha_truncated(p): write_mha(p, VOL, compress=False); p.write_bytes(p.read_bytes()[:-100])
def _mha_inf(p): write_mha(p, np.where(VOL > 0, -np.inf, VOL))
def _dcm_no_pixels(p):
    ds = pydicom.dcmread(write_dicom_mg(p, PX, 'CC', 'L')); del ds.PixelData; ds.save_as(p)
def _dcm_truncated(p): write_dicom_mg(p, PX, 'CC', 'L'); p.write_bytes(p.read_bytes()[:-64])
def _dcm_tail_corrupt(p):
    "pydicom parses nothing (only warns) when the encapsulated pixel data has no delimiter."
    write_dicom_mg(p, PX, 'CC', 'L', compress=True); b = bytearray(p.read_bytes()); b[-300:] = b'\xff' * 300; p.write_bytes(bytes(b))
def _dcm_rle_corrupt(p):
    "RLE header of the first fragment puts its second segment past the fragment's end (no decoder can read it)."
    write_dicom_mg(p, PX, 'CC', 'L', compress=True); b = bytearray(p.read_bytes())
    item = b.find(b'\xfe\xff\x00\xe0', b.find(b'\xe0\x7f\x10\x00') + 12)   # basic offset table item
    frag = b.find(b'\xfe\xff\x00\xe0', item + 8)                             # first fragment item
    b[frag + 16:frag + 20] = (10 ** 6).to_bytes(4, 'little'); p.write_bytes(bytes(b))   # header: count, offset 1, offset 2

CASES = [
    (read_nifti, 'x.nii.gz', _empty, 'empty file'), (read_nifti, 'x.nii.gz', _garbage, 'unreadable NIfTI header'),
    (read_nifti, 'x.nii', _nifti_truncated, 'pixel data missing or unreadable'), (read_nifti, 'x.nii.gz', _nifti_nan, 'non-finite'),
    (read_mha, 'x.mha', _empty, 'empty file'), (read_mha, 'x.mha', _garbage, 'unreadable MetaImage header'),
    (read_mha, 'x.mha', _mha_truncated, 'pixel data missing or unreadable'), (read_mha, 'x.mha', _mha_inf, 'non-finite'),
    (read_dicom, 'x.dcm', _empty, 'empty file'), (read_dicom, 'x.dcm', _garbage, 'unreadable DICOM header'),
    (read_dicom, 'x.dcm', _dcm_no_pixels, 'pixel data missing'), (read_dicom, 'x.dcm', _dcm_truncated, 'pixel data missing or undecodable'),
    (read_dicom, 'x.dcm', _dcm_rle_corrupt, 'pixel data missing or undecodable'),
    (read_dicom, 'x.dcm', _dcm_tail_corrupt, 'unreadable DICOM header'),
    (read_nifti, 'missing.nii.gz', lambda p: None, 'file not found'),
]

@pytest.mark.filterwarnings('ignore:End of file reached before delimiter')   # pydicom's warning on _dcm_tail_corrupt
@pytest.mark.parametrize('reader,name,make,problem', CASES, ids=[f"{r.__name__}-{m.__name__.strip('_')}" for r, _, m, _ in CASES])
def test_validation_error_names_file(tmp_path, reader, name, make, problem):
    path = tmp_path/name
    make(path)
    with pytest.raises(DataError) as e: reader(path)
    assert str(e.value).startswith(f"{path}: ") and problem in str(e.value), str(e.value)

# ---- an independent reader (ITK's GDCM) agrees with what write_dicom_mg stores ----
@pytest.mark.parametrize('photometric', ['MONOCHROME1', 'MONOCHROME2'])
@pytest.mark.parametrize('compress', [False, True])
def test_written_dicom_readable_by_gdcm(tmp_path, photometric, compress):
    p = write_dicom_mg(tmp_path/'m.dcm', PX, 'MLO', 'R', photometric, window=(1000, 500), patient_id='P7', compress=compress)
    r = sitk.ImageFileReader(); r.SetFileName(str(p)); r.LoadPrivateTagsOn(); img = r.Execute()
    # ITK presents MONOCHROME1 inverted (max - value), the same display convention read_dicom applies
    np.testing.assert_array_equal(sitk.GetArrayFromImage(img)[0], PX if photometric == 'MONOCHROME2' else 65535 - PX)
    tags = {k: r.GetMetaData(k).strip() for k in ('0008|0060', '0018|5101', '0020|0062', '0028|0004', '0010|0020', '0028|1050')}
    assert tags == {'0008|0060': 'MG', '0018|5101': 'MLO', '0020|0062': 'R', '0028|0004': photometric,
                    '0010|0020': 'P7', '0028|1050': '1000'}


# ---- compressed transfer syntaxes: pydicom's own test files (pydicom-data), decoded with the pylibjpeg plugins ----
import re, warnings
from pydicom.data import get_testdata_file
from pydicom.data.data_manager import DATA_ROOT, DataTypes, external_data_sources, _check_data_hash

def _pydicom_test_files() -> list:
    """pydicom's test files on this machine: those it ships and pydicom-data's (hash-checked, as pydicom does).
    Not `get_testdata_files`: it also tries to download every file of pydicom's list that is not here, which
    offline is seconds of failed network calls in each process that collects this module."""
    files = [str(p) for p in (Path(DATA_ROOT)/'test_files').glob('*')]
    for lib, source in external_data_sources().items():
        files += [p for p in source.get_paths('*', DataTypes.DATASET) if lib != 'pydicom-data' or _check_data_hash(p)]
    return files

BROKEN = {'JPEG-lossy.dcm': 'non-conformant JPEG (pydicom ships JPGExtended.dcm as its fixed version)',
          'JPEG2000-embedded-sequence-delimiter.dcm': '4 bytes of the J2K stream replaced by a sequence delimiter',
          'emri_small_jpeg_2k_lossless_too_short.dcm': 'truncated file'}

def _compressed():
    "(name, transfer syntax) of every pydicom-data file with compressed pixel data."
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        out = {}
        for f in _pydicom_test_files():
            try: ds = pydicom.dcmread(f, stop_before_pixels=True)
            except Exception: continue
            ts = getattr(getattr(ds, 'file_meta', None), 'TransferSyntaxUID', None)
            if ts is not None and ts.is_compressed:
                out[Path(f).name] = ts.name
    return out

COMPRESSED = _compressed()

def test_test_files_listed_without_the_network(monkeypatch):
    "Listing pydicom's test files (at every collection) asks for no download: these machines are offline."
    import pydicom.data.data_manager as dm
    calls = []
    monkeypatch.setattr(dm, 'data_path_with_download', lambda name, *a, **kw: calls.append(name))
    names = {Path(f).name for f in _pydicom_test_files()}
    assert not calls, f"{len(calls)} download attempts, e.g. {calls[:3]}"
    assert set(COMPRESSED) <= names

def test_every_compressed_transfer_syntax_is_there():
    "The files below cover every compressed syntax the issue names (plus JPEG Baseline)."
    want = {'JPEG Baseline (Process 1)', 'JPEG Extended (Process 2 and 4)', 'RLE Lossless',
            'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])',
            'JPEG-LS Lossless Image Compression', 'JPEG-LS Lossy (Near-Lossless) Image Compression',
            'JPEG 2000 Image Compression (Lossless Only)', 'JPEG 2000 Image Compression'}
    assert want <= set(COMPRESSED.values()), want - set(COMPRESSED.values())

@pytest.mark.filterwarnings('ignore')
@pytest.mark.parametrize('name', sorted(n for n in COMPRESSED if n not in BROKEN))
def test_pydicom_decodes_compressed(name):
    "Every valid compressed file of pydicom-data decodes (colour ones too, at pydicom's level)."
    ds = pydicom.dcmread(get_testdata_file(name))
    if 'PixelData' not in ds: pytest.skip(f"{name}: no pixel data")
    arr = ds.pixel_array
    assert arr.size == int(ds.get('NumberOfFrames', 1) or 1) * ds.Rows * ds.Columns * ds.SamplesPerPixel

TWINS = [('MR_small_RLE.dcm', 'MR_small.dcm'), ('MR_small_jp2klossless.dcm', 'MR_small.dcm'),
         ('MR_small_jpeg_ls_lossless.dcm', 'MR_small.dcm'), ('693_J2KR.dcm', '693_UNCR.dcm'), ('693_J2KI.dcm', '693_UNCI.dcm'),
         ('MR2_J2KR.dcm', 'MR2_UNCR.dcm'), ('MR2_J2KI.dcm', 'MR2_UNCI.dcm'), ('RG1_J2KR.dcm', 'RG1_UNCR.dcm'),
         ('RG3_J2KR.dcm', 'RG3_UNCR.dcm'), ('JPEG2000.dcm', 'JPEG2000_UNC.dcm'), ('rtdose_rle_1frame.dcm', 'rtdose_1frame.dcm')]

@pytest.mark.filterwarnings('ignore')
@pytest.mark.parametrize('compressed,plain', TWINS, ids=[t[0] for t in TWINS])
def test_read_dicom_compressed_equals_uncompressed_twin(compressed, plain):
    "read_dicom on a compressed file returns exactly what it returns on the uncompressed copy (the lossy J2KI twins hold the decoded values)."
    a, meta = read_dicom(get_testdata_file(compressed))
    b, _ = read_dicom(get_testdata_file(plain))
    assert meta['transfer_syntax'] == COMPRESSED[compressed]
    np.testing.assert_array_equal(a, b)

@pytest.mark.filterwarnings('ignore')
@pytest.mark.parametrize('name', ['JPEG-LL.dcm', 'JPGLosslessP14SV1_1s_1f_8b.dcm', 'JPGExtended.dcm', 'JPEGLSNearLossless_08.dcm',
                                  'JPEGLSNearLossless_16.dcm', 'J2K_pixelrep_mismatch.dcm', 'RG3_J2KI.dcm', 'RG1_J2KI.dcm'])
def test_read_dicom_compressed_without_twin(name):
    arr, meta = read_dicom(get_testdata_file(name), voi='minmax')
    assert arr.dtype == np.float32 and arr.min() == 0 and arr.max() == 1 and meta['transfer_syntax'] == COMPRESSED[name]

def test_lossy_jpeg_extended_close_to_lossless():
    "JPGExtended.dcm and JPEG-LL.dcm are the same NM scan (WG04 NM1), lossy 12-bit JPEG and lossless JPEG."
    a = pydicom.dcmread(get_testdata_file('JPGExtended.dcm')).pixel_array.astype(float)
    b = pydicom.dcmread(get_testdata_file('JPEG-LL.dcm')).pixel_array.astype(float)
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.98 and np.abs(a - b).mean() < 0.02 * (b.max() - b.min())

@pytest.mark.filterwarnings('ignore')
@pytest.mark.parametrize('name', ['JPEG-lossy.dcm', 'JPEG2000-embedded-sequence-delimiter.dcm'])
def test_broken_compressed_names_file_and_syntax(name):
    path = get_testdata_file(name)
    with pytest.raises(DataError) as e: read_dicom(path)
    assert str(e.value).startswith(f"{path}: pixel data missing or undecodable (transfer syntax {COMPRESSED[name]}; "), str(e.value)

@pytest.mark.filterwarnings('ignore')
@pytest.mark.parametrize('name,problem', [('SC_rgb_jpeg.dcm', 'SamplesPerPixel=3 (RGB), expected grayscale'),
                                          ('OBXXXX1A_rle.dcm', 'PhotometricInterpretation PALETTE COLOR, expected MONOCHROME1')])
def test_colour_refused(name, problem):
    path = get_testdata_file(name)
    with pytest.raises(DataError, match=re.escape(f"{path}: {problem}")): read_dicom(path)
