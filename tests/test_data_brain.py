"Brain phantoms through the real reader, then papers B and D preprocessing on them (small grid, few subjects)."
import numpy as np, pytest, torch
from medgan_nb.data.phantoms.brain import make_brain_phantoms
from medgan_nb.data.prep.brain import iter_brats, han2018_slices, han2019_slices
from medgan_nb.data.io import load_brats

SIZE = (60, 60, 39)  # 4 mm grid; the 1-mm slice ranges scale by 1/4


@pytest.fixture(scope='module')
def brats(tmp_path_factory):
    root = tmp_path_factory.mktemp('brats')
    make_brain_phantoms(root, n=6, seed=7, size=SIZE, hgg_fraction=0.6, progress=False)
    return root


def test_phantoms_pass_reader_validation(brats):
    cases, skipped = load_brats(brats, progress=False)
    assert skipped == [] and len(cases) == 6
    assert {c.grade for c in cases} <= {'HGG', 'LGG'}
    for c in cases:
        assert c.shape == SIZE and c.label.dtype == np.uint8
        brain = c.images['T1'] > 0
        assert (c.label > 0).any() and brain[c.label > 0].all()       # tumour present, inside the brain
        for s in ('T1c', 'T2', 'FLAIR'): assert ((c.images[s] > 0) == brain).mean() > 0.99  # same skull stripping
        if c.grade == 'HGG': assert (c.label == 4).any() and (c.label == 1).any()


def test_han2018_streams_hgg_only(brats):
    n_hgg = sum(1 for c in iter_brats(brats, grades=('HGG',)))
    ds = han2018_slices(iter_brats(brats, grades=('HGG',)), sizes=(32,), first=20, last=37)
    assert ds.images[32, 'T1'].shape == (n_hgg * 18, 1, 32, 32) and ds.images[32, 'T1'].dtype == torch.uint8
    assert ds.images[32, 'Concat'].shape[0] == 4 * n_hgg * 18
    assert set(ds.index.grade) == {'HGG'}


def test_han2019_split_and_labels(brats):
    ds = han2019_slices(iter_brats(brats), first=8, last=32, side=64, seed=1,
                        min_tumour_px=15, max_tumour_px=400, gap_slices=1, min_brain_px=100)
    idx = ds.index
    assert idx.groupby('case_id').split.nunique().max() == 1               # no patient in two splits
    assert set(idx.split) == {'train', 'val', 'test'}
    assert (idx[idx.label == 'non-tumour'].tumour_px == 0).all()
    assert (idx[idx.label == 'tumour'].tumour_px.between(15, 400)).all()
    assert ds.counts.images.sum() == len(idx) == len(ds.images['slices'])
