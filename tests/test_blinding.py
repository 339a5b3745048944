"""A motivated reader against the blinding: with only what a kit ships (images, kit.json, the HTML page) and the public
code, each attacker below tries to tell real from synthetic (or which side of a pair is real) without looking at the
content. Kits of every design the papers use (single image: Han 2018 and Haarburger 2019; 2AFC pair: Korkinof 2021;
two questions: Han 2019) are built through the library calls the paper notebooks make, with >= 200 items. Real images
are smooth, synthetic ones noisy, so a compressed PNG's size would tell them apart; an attacker's accuracy or AUC
must be consistent with chance (binomial, χ² or Mann-Whitney test, p > 0.01). Content a person can see is out of
scope: nothing can hide it."""
import hashlib, json, re
from collections import Counter
import numpy as np
import pytest
from PIL import Image
from scipy import stats
from medgan_nb.reader.study import make_kit, load_key, default_key_path, finding_question
from medgan_nb.reader.html import kit_to_html
from medgan_nb.reader.audit import rank_p, category_p, png_chunks, per_item, kit_truth, audit_kit, METADATA_CHUNKS
import medgan_nb.papers.korkinof2021 as kk

ALPHA, SEEDS = 0.01, range(1001)
N_REAL, N_SYNTH, SIZE = 110, 110, (8, 8)


def _real(n, rng):
    "Smooth images (a ramp plus a little noise): compress well."
    ramp = np.linspace(0.2, 0.7, SIZE[1])[None].repeat(SIZE[0], 0)
    return [ramp + rng.normal(0, 0.01, SIZE) for _ in range(n)]


def _synthetic(n, rng):
    "Noisy images, float32 like a generator's output: compress badly."
    return [rng.uniform(0.2, 0.7, SIZE).astype(np.float32) for _ in range(n)]


def _fixed_secret(monkeypatch):
    "The tests run on a fixed secret (an attacker never knows it), so they give the same answer every run."
    monkeypatch.setattr('secrets.token_hex', lambda n=16: 'a' * 2 * n)


@pytest.fixture(scope='module')
def kits(tmp_path_factory):
    "{design: (kit, key, html text, truth per test item: 1 = real / left is real)}, built as the notebooks do."
    mp = pytest.MonkeyPatch()
    _fixed_secret(mp)
    tmp, rng, out = tmp_path_factory.mktemp('blind'), np.random.default_rng(0), {}
    runs = tmp / 'run' / 'kits'
    # Han 2018 (and Haarburger 2019 without warm-up): a single-image kit
    out['single'] = make_kit(runs / 'han2018', _real(N_REAL, rng), _synthetic(N_SYNTH, rng), seed=0,
                             condition='DCGAN T1', title='Visual Turing test: DCGAN T1')
    # Han 2019: real/synthetic and tumour/non-tumour
    n = N_REAL // 2
    out['two-question'] = make_kit(
        runs / 'vtt', _real(N_REAL, rng), {'PGGAN': _synthetic(N_SYNTH, rng)}, seed=0, finding=finding_question(),
        real_findings=['tumour', 'non-tumour'] * n, synthetic_findings={'PGGAN': ['tumour', 'non-tumour'] * n},
        condition='Han 2019 VTT', title='Real or synthetic? Tumour or non-tumour? Brain MR (T1c)')
    # Korkinof 2021: pairs from a large real pool and few unflagged synthetic images
    reals, review = np.stack(_real(400, rng)), _synthetic(80, rng)
    ids = [f"MLO_{i:04d}" for i in range(len(review))]
    flags = {i: j % 4 == 0 for j, i in enumerate(ids)}         # 60 unflagged
    n_pairs = 200
    if hasattr(kk, 'kit_pairs'):
        real_pick, chosen = kk.kit_pairs(ids, flags, len(reals), n_pairs, prefix='MLO_', seed=6)
    else:                                                        # the code path before balanced draws
        chosen = kk.kit_synthetic(ids, flags, n_pairs, prefix='MLO_', seed=6)
        real_pick = np.random.default_rng(5).integers(0, len(reals), n_pairs)
    out['2afc'] = make_kit(runs / 'reader_study_2afc', list(reals[real_pick]), [review[ids.index(i)] for i in chosen],
                           design='2afc', seed=0, items_per_reader=10, condition='PGGAN MLO',
                           title='Which mammogram is real?')
    mp.undo()
    res = {}
    for design, kit in out.items():
        key = load_key(default_key_path(kit.folder), kit)
        truth = kit_truth(kit, key)
        html = kit_to_html(kit, tmp / f'{design}.html').read_text()
        res[design] = (kit, key, html, truth)
    return res


DESIGNS = ('single', 'two-question', '2afc')


def test_kits_are_large_enough(kits):
    for design in DESIGNS:
        kit, key, html, truth = kits[design]
        assert len(kit) >= 200 and 0.3 < truth.mean() < 0.7, (design, len(kit), truth.mean())


@pytest.mark.parametrize('design', DESIGNS)
def test_seed_replay(kits, design):
    "Replay the kit builder's shuffles from every seed 0–1000: the best seed must not beat chance (Bonferroni)."
    kit, key, html, truth = kits[design]
    n_real = sum(t['origin'] == 'real' for t in key.values()) if design != '2afc' else len(kit)
    n_synth = len(key) - n_real if design != '2afc' else len(kit)
    best_p, best = 1.0, None
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        rng.permutation(n_real), rng.permutation(n_synth)
        if design == '2afc':
            guess = np.array([rng.random() < 0.5 for _ in range(len(kit))], int)   # the real image's side, pair by pair
        else:
            rng.permutation(0)                                   # the (empty) warm-up
            guess = np.r_[np.ones(n_real), np.zeros(n_synth)][rng.permutation(n_real + n_synth)].astype(int)
        k = int((guess == truth).sum())
        p = stats.binomtest(k, len(truth), 0.5).pvalue
        if p < best_p:
            best_p, best = p, (seed, k / len(truth))
    assert best_p * len(SEEDS) > ALPHA, f"{design}: seed {best[0]} replays the kit with accuracy {best[1]:.2f}"


@pytest.mark.parametrize('design', DESIGNS)
def test_file_size(kits, design):
    kit, key, html, truth = kits[design]
    sizes = per_item(kit, lambda p: p.stat().st_size)
    assert rank_p(sizes, truth) > ALPHA, f"{design}: file size tells the origin"


@pytest.mark.parametrize('design', DESIGNS)
def test_bytes_and_chunks(kits, design):
    "Chunks, header fields and the compressed stream's header bytes say nothing; no text/time/EXIF chunk at all."
    kit, key, html, truth = kits[design]
    paths = [[kit.image_path(n) for n in r['images']] for r in kit.items]
    for feature in (png_chunks, lambda p: p.read_bytes()[41:43], lambda p: p.read_bytes()[:8]):
        cats = [tuple(feature(q) for q in p) for p in paths]
        assert category_p(cats, truth) > ALPHA, f"{design}: {feature} tells the origin"
    for p in sum(paths, []):
        assert not METADATA_CHUNKS & {c[:4] for c in png_chunks(p)}, p


@pytest.mark.parametrize('design', DESIGNS)
def test_dimensions_and_mode(kits, design):
    kit, key, html, truth = kits[design]
    looks = [tuple((im.size, im.mode, im.info.get('bits')) for im in map(Image.open, map(kit.image_path, r['images'])))
             for r in kit.items]
    assert category_p(looks, truth) > ALPHA
    assert len(set(looks)) == 1, f"{design}: images of several shapes or modes {set(looks)}"


@pytest.mark.parametrize('design', DESIGNS)
def test_mtime(kits, design):
    kit, key, html, truth = kits[design]
    mtimes = per_item(kit, lambda p: p.stat().st_mtime_ns)
    assert rank_p(mtimes, truth) > ALPHA, f"{design}: modification times tell the origin"


@pytest.mark.parametrize('design', DESIGNS)
def test_file_and_item_names(kits, design):
    kit, key, html, truth = kits[design]
    names = per_item(kit, lambda p: int(p.stem, 16))
    assert rank_p(names, truth) > ALPHA, f"{design}: file names tell the origin"
    assert rank_p([int(r['item_id'], 16) for r in kit.items], truth) > ALPHA, f"{design}: item ids tell it"
    sorted_pos = {n: i for i, n in enumerate(sorted(n for r in kit.items for n in r['images']))}
    assert rank_p(per_item(kit, lambda p: sorted_pos[p.name]), truth) > ALPHA


@pytest.mark.parametrize('design', DESIGNS)
def test_order_in_kit_and_html(kits, design):
    "Where an item stands in kit.json and in the HTML page's source, first half or second half, says nothing."
    kit, key, html, truth = kits[design]
    data = json.loads(re.search(r"id='kit'>(.*?)</script>", html, re.S).group(1).replace('<\\/', '</'))
    pos = {it['item_id']: html.index(it['images'][0]) for it in data['items']}
    where = [pos[r['item_id']] for r in kit.items]
    assert rank_p(where, truth) > ALPHA, f"{design}: the order in the HTML source tells the origin"
    assert rank_p(np.arange(len(kit)), truth) > ALPHA, f"{design}: the order in kit.json tells the origin"
    halves = (np.arange(len(kit)) < len(kit) / 2).astype(int)
    assert category_p(list(halves), truth) > ALPHA


@pytest.mark.parametrize('design', DESIGNS)
def test_repeats(kits, design):
    "An image seen more than once must be as likely real as synthetic (or on either side)."
    kit, key, html, truth = kits[design]
    pixels = lambda p: hashlib.sha256(np.asarray(Image.open(p)).tobytes()).hexdigest()
    seen = Counter(pixels(kit.image_path(n)) for r in kit.items for n in r['images'])
    times = per_item(kit, lambda p: seen[pixels(p)])
    assert rank_p(times, truth) > ALPHA, f"{design}: repeated images tell the origin"


@pytest.mark.parametrize('design', DESIGNS)
def test_audit_finds_nothing(kits, design):
    "`medgan-audit-kit`'s attacks (the ones above, less the seed replay) agree: no attack beats chance."
    kit, key, html, truth = kits[design]
    a = audit_kit(kit, key, html)
    assert len(a) == 12 and not a.beats_chance.any() and not a.attrs['metadata_chunks'], a.to_string()


def test_designed_repeats(tmp_path, monkeypatch):
    "Designed repeats (make_kit repeats=k) are balanced: no attack beats chance; repeats of one origin are caught."
    _fixed_secret(monkeypatch)
    rng = np.random.default_rng(3)
    kit = make_kit(tmp_path/'kits'/'rep', _real(N_REAL, rng), _synthetic(N_SYNTH, rng), seed=0, repeats=40)
    key = load_key(default_key_path(kit.folder), kit)
    assert len(kit) == N_REAL + N_SYNTH + 40 and sum('repeat_of' in t for t in key.values()) == 40
    a = audit_kit(kit, key, kit_to_html(kit, tmp_path/'rep.html').read_text()).set_index('attack')
    assert not a.beats_chance.any() and not a.attrs['metadata_chunks'], a.to_string()
    assert a.loc['times an image is shown', 'distinct'] == 2                       # repeats are there ...
    assert a.loc['times an image is shown', 'p'] > 0.5                             # ... as often real as synthetic
    synth = _synthetic(N_SYNTH // 2, rng)
    leaky = make_kit(tmp_path/'kits'/'leaky', _real(N_REAL, rng), synth + synth, seed=0)   # synthetic images twice
    b = audit_kit(leaky).set_index('attack')
    assert b.loc['times an image is shown', 'beats_chance'], b.to_string()
