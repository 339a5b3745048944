"""Korkinof 2021: the review of real mammograms for clips, pacemakers, implants and other foreign bodies.

Cheap on purpose: the library path (review file → exclusions → preprocessing → data table) on a handful of small
phantom DICOMs, and the paper notebook only up to its stop before training (no training run)."""
import json
import pydicom
import pytest

from medgan_nb.data.cache import korkinof2021_data
from medgan_nb.data.phantoms.mammo import make_mammo_phantoms
from medgan_nb.papers import korkinof2021 as kk
from medgan_nb.papers.common import load_profile
from medgan_nb.reader.review import ReviewLog
from _papers import check_parameters_cell, run_paper


@pytest.fixture(scope='module')
def mammo(tmp_path_factory):
    "Eight small phantom mammograms (2 patients × CC/MLO × L/R), the first one tagged Breast Implant Present YES."
    root = tmp_path_factory.mktemp('mg')
    make_mammo_phantoms(root / 'data', n_patients=2, seed=0, shape=(200, 160), progress=False)
    ids, files = kk.review_ids(root / 'data')
    ds = pydicom.dcmread(files[0])
    ds.BreastImplantPresent = 'YES'
    ds.save_as(files[0])
    return root, ids, files


def finished_review(path, ids, flagged: dict) -> ReviewLog:
    "A finished review as the grid writes it: every image seen, `flagged` {id: reason}."
    log = ReviewLog(path, ids, kk.FOREIGN_BODY_QUESTION, reviewer='tester', reasons=kk.FOREIGN_BODY_REASONS)
    log.mark_seen(ids)
    for i, why in flagged.items():
        log.flag(i, reason=why)
    return log


def test_profiles_name_the_review():
    "The paper profile reviews (the paper's method); smoke and quick name 'none' so they run unattended."
    got = {p: load_profile('korkinof2021', p)['foreign_body_review'] for p in ('paper', 'quick', 'smoke')}
    assert got == {'paper': 'review', 'quick': 'none', 'smoke': 'none'}
    check_parameters_cell('korkinof2021', {'foreign_body_review', 'foreign_body_file', 'exclude_ids'})


def test_review_round_trip_and_flagged_images_excluded(mammo, tmp_path):
    "Flags with reasons survive the file; the flagged images are not trained on and are counted per reason."
    root, ids, files = mammo
    path = tmp_path / 'fb.json'
    finished_review(path, ids, {ids[2]: 'postoperative clip', ids[5]: 'pacemaker'})
    back = ReviewLog(path, ids, kk.FOREIGN_BODY_QUESTION, reasons=kk.FOREIGN_BODY_REASONS)  # a new session
    assert back.flagged_why == {ids[2]: 'postoperative clip', ids[5]: 'pacemaker'} and back.complete
    assert back.reviewer == 'tester'
    ex, note = kk.foreign_body_exclusions('review', path, ids, root / 'data')
    assert ex == {ids[2]: 'review: postoperative clip', ids[5]: 'review: pacemaker'}
    assert note == 'excluded after review by tester (human review: 1 pacemaker, 1 postoperative clip)'
    ms, _ = korkinof2021_data(root / 'data', tmp_path / 'cache', size=(20, 16), exclude=ex)
    used = {p for v in ('CC', 'MLO') for p in ms.index[v].path}
    assert used == {str(f) for f in files} - {str(files[i]) for i in (0, 2, 5)}
    table = kk.exclusion_counts(ms).set_index('view')
    view = {str(f): pydicom.dcmread(f, stop_before_pixels=True).ViewPosition for f in files}
    want_tag = {v: int(view[str(files[0])] == v) for v in ('CC', 'MLO')}
    want_review = {v: sum(view[str(files[i])] == v for i in (2, 5)) for v in ('CC', 'MLO')}
    assert table['excluded (implants tag)'].to_dict() == want_tag
    assert table['excluded (review: clips/foreign bodies)'].to_dict() == want_review
    assert table.images.sum() == 5


def test_unfinished_or_torn_review_stops_with_the_file(mammo, tmp_path):
    "An unfinished, missing or torn review stops the run; the message names the file and what to do."
    root, ids, _ = mammo
    path = tmp_path / 'fb.json'
    with pytest.raises(RuntimeError, match=f'no review file {path}') as stop:
        kk.foreign_body_exclusions('review', path, ids, root / 'data', run_id='r1')
    assert 'foreign_body_widget(' in str(stop.value) and '-p run_id r1' in str(stop.value)
    finished_review(path, ids[:-1] + ['other.dcm'], {})  # a review of other images
    with pytest.raises(RuntimeError, match='1 of the images were not reviewed'):
        kk.foreign_body_exclusions('review', path, ids)
    path.write_text(json.dumps(dict(question='exclude')))
    with pytest.raises(RuntimeError, match=f"{path}: field 'ids' missing"):
        kk.foreign_body_exclusions('review', path, ids)
    path.write_text('{"question": "exclude", "ids": ["a.dcm"')  # torn mid-write
    with pytest.raises(RuntimeError, match=f'{path}: not a readable review file') as stop:
        kk.foreign_body_exclusions('review', path, ids)
    assert isinstance(stop.value.__cause__, ValueError)
    with pytest.raises(ValueError, match=f'{path}: not a readable review file'):
        ReviewLog(path, ids, kk.FOREIGN_BODY_QUESTION, reasons=kk.FOREIGN_BODY_REASONS)  # the grid, too


def test_paper_notebook_stops_before_training(mammo, tmp_path, monkeypatch):
    """foreign_body_review='review' without a finished review: the notebook stops in its data section with the
    instructions, and the review grid has started the file it names."""
    pm = pytest.importorskip('papermill')
    root, ids, _ = mammo
    monkeypatch.setenv('MEDGAN_PATHS_DATA_DIR', str(tmp_path / 'suite_data'))
    path = tmp_path / 'reviews' / 'fb.json'
    with pytest.raises(pm.PapermillExecutionError, match='needs every real mammogram reviewed') as stop:
        run_paper('korkinof2021', tmp_path, 'stop.ipynb', data_dir=str(root / 'data'), run_id='fb',
                  foreign_body_review='review', foreign_body_file=str(path))
    assert str(path) in str(stop.value) and '-p run_id fb' in str(stop.value)
    assert f'{len(ids)} of the images were not reviewed' in str(stop.value)
    assert json.loads(path.read_text())['ids'] == ids                       # the grid's empty review, to continue
    assert not list((tmp_path / 'out' / 'korkinof2021' / 'fb').glob('checkpoints/*/*.pt'))  # nothing trained
