"medgan_nb.metrics.moments against scipy.stats and scikit-learn."
import numpy as np, pytest
from scipy import stats
from sklearn.feature_selection import mutual_info_classif
import medgan_nb  # noqa: F401
from medgan_nb.metrics.moments import pixel_moments, ross_mi

@pytest.mark.parametrize('dtype', [np.uint8, np.uint16, np.int32, np.float32, np.float64])
def test_moments_match_scipy(dtype):
    rng = np.random.default_rng(0)
    img = (rng.gamma(2.0, 300.0, (80, 60)).clip(0, 255 if dtype == np.uint8 else 60000)).astype(dtype)
    mask = rng.random(img.shape) < 0.7
    for m in (None, mask):
        x = (img if m is None else img[m]).astype(np.float64).ravel()
        ref = [x.mean(), x.var(), stats.skew(x), stats.kurtosis(x, fisher=False), stats.moment(x, 5) / x.var() ** 2.5]
        assert pixel_moments(img, m) == pytest.approx(ref, rel=1e-9 if np.issubdtype(dtype, np.integer) or dtype == np.float64 else 1e-5)

@pytest.mark.parametrize('n0,n1,k,shift', [(100, 100, 3, 0.3), (80, 130, 3, 1.0), (60, 60, 5, 0.0), (50, 90, 1, 2.0)])
def test_ross_mi_equals_sklearn_1d(n0, n1, k, shift):
    rng = np.random.default_rng(n0 + n1 + k)
    x = np.r_[rng.normal(size=n0), rng.normal(shift, 1.5, size=n1)]
    y = np.r_[np.zeros(n0, int), np.ones(n1, int)]
    ours = ross_mi(x, y, k=k)['mi']
    ref = mutual_info_classif(x[:, None], y, n_neighbors=k, random_state=0)[0]
    assert ours == pytest.approx(ref, abs=1e-6)
