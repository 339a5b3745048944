"medgan_nb.metrics.samples against brute-force implementations of the published definitions (random data, ties)."
import numpy as np, pytest
import medgan_nb  # noqa: F401
from medgan_nb.metrics.samples import nn_accuracy, precision_recall, density_coverage, memorisation

def _dist(a, b): return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))

def brute_nn(real, fake):
    x = np.vstack([real, fake]); lab = np.r_[np.zeros(len(real)), np.ones(len(fake))]
    d = _dist(x, x); np.fill_diagonal(d, np.inf)
    score = []
    for i in range(len(x)):
        own = d[i, lab == lab[i]].min(); other = d[i, lab != lab[i]].min()
        score.append(1.0 if own < other else 0.5 if own == other else 0.0)
    score = np.array(score)
    return score[:len(real)].mean(), score[len(real):].mean()

@pytest.mark.parametrize('seed', [0, 1, 2])
def test_nn_accuracy_matches_brute_force_with_ties(seed):
    rng = np.random.default_rng(seed)
    real, fake = rng.integers(0, 4, (25, 2)).astype(float), rng.integers(0, 4, (20, 2)).astype(float)  # many ties
    res = nn_accuracy(real, fake, chunk=7)
    assert (res['acc_real'], res['acc_fake']) == pytest.approx(brute_nn(real, fake), abs=1e-12)

def brute_prdc(real, fake, k_pr=3, k_dc=5):
    def radii(x, k):
        d = _dist(x, x); np.fill_diagonal(d, np.inf); return np.sort(d, 1)[:, k - 1]
    drf = _dist(real, fake)
    rr, rf = radii(real, k_pr), radii(fake, k_pr)
    precision = np.mean([(drf[:, j] <= rr).any() for j in range(len(fake))])
    recall = np.mean([(drf[i, :] <= rf).any() for i in range(len(real))])
    r5 = radii(real, k_dc)
    density = sum((drf[:, j] <= r5).sum() for j in range(len(fake))) / (k_dc * len(fake))
    coverage = np.mean(drf.min(1) <= r5)
    return precision, recall, density, coverage

@pytest.mark.parametrize('seed', [0, 1])
def test_prdc_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    real, fake = rng.normal(size=(60, 4)), rng.normal(0.4, 1.3, size=(50, 4))
    pr, dc = precision_recall(real, fake, chunk=16), density_coverage(real, fake, chunk=16)
    assert (pr['precision'], pr['recall'], dc['density'], dc['coverage']) == pytest.approx(brute_prdc(real, fake), abs=1e-12)

def test_memorisation_ratio_is_distance_ratio():
    rng = np.random.default_rng(3)
    fake, train, held = rng.normal(size=(10, 6)), rng.normal(size=(30, 6)), rng.normal(size=(30, 6))
    res = memorisation(fake, train, held, chunk=4)
    assert np.allclose(res['d_train'], _dist(fake, train).min(1)) and np.allclose(res['ratio'], _dist(fake, train).min(1) / _dist(fake, held).min(1))
