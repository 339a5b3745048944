"Parity of medgan_nb.metrics.fid with pytorch-fid 0.3.0 (same weights, no download). Slow cases: MEDGAN_SLOW=1."
import os, tempfile
import numpy as np, pytest, torch
import medgan_nb  # noqa: F401  (makes torchvision importable before pytorch_fid imports it)
from medgan_nb.metrics.fid import load_fid_inception, fid_features, fid_from_features, feature_stats, frechet_distance
import pytorch_fid.inception as pfi
from pytorch_fid.fid_score import calculate_frechet_distance

slow = pytest.mark.skipif(not os.environ.get('MEDGAN_SLOW'), reason='slow: set MEDGAN_SLOW=1')

@pytest.fixture(scope='module')
def models(monkeypatch_module=None):
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as d:
        ours = load_fid_inception(d)
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

def test_uint16_is_not_quantised(models):
    ours, _ = models
    x = np.full((1, 1, 32, 32), 30000, np.uint16); y = x + 1  # differ by 1/65535: lost by any 8-bit step
    assert np.abs(fid_features(x, ours) - fid_features(y, ours)).max() > 0

@pytest.mark.parametrize('n,d', [(300, 256)])
def test_frechet_matches_pytorch_fid_small(n, d):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(n, d)), rng.normal(0.3, 1.5, size=(n, d)) @ rng.normal(size=(d, d)) / np.sqrt(d)
    ours = frechet_distance(*feature_stats(a), *feature_stats(b))
    ref = calculate_frechet_distance(*feature_stats(a), *feature_stats(b))
    print(f'N={n} d={d}: ours {ours!r} pytorch-fid {ref!r} rel {abs(ours-ref)/abs(ref):.3g}')
    assert abs(ours - ref) <= 1e-6 * abs(ref)
    assert ours == pytest.approx(fid_from_features(a, b), rel=1e-9)

@slow
def test_frechet_matches_pytorch_fid_2048():
    rng = np.random.default_rng(0)
    n, d = 2100, 2048
    a = np.abs(rng.normal(size=(n, d))).astype(np.float32)
    b = np.abs(rng.normal(0.1, 1.2, size=(n, d))).astype(np.float32)
    ours = fid_from_features(a, b)
    ref = calculate_frechet_distance(*feature_stats(a), *feature_stats(b))
    print(f'N={n} d={d}: ours {ours!r} pytorch-fid {ref!r} rel {abs(ours-ref)/abs(ref):.3g}')
    assert abs(ours - ref) <= 1e-6 * abs(ref)
    assert abs(fid_from_features(a, a)) <= 1e-9
