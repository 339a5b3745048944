"""Korkinof 2021: a person's artefact review given before anyone answered the kit redraws the kit (a run reusing the
first run's models).

A module of its own so that pytest-xdist can run it beside the other Korkinof 2021 tests."""
import json
import pytest

pm = pytest.importorskip('papermill')
from _papers import paper_tests
KEY = 'korkinof2021'
NB, _run, first_run, _, _ = paper_tests(KEY, threads=1, n_models=2)


def test_kit_redrawn_from_a_persons_review(first_run):
    "A person's artefact review given before anyone answered the kit: the kit is drawn again, from the images the person did not flag."
    from medgan_nb.reader.review import ReviewLog
    tmp, run = first_run
    ids = [f'{v}_{i:04d}' for v in ('CC', 'MLO') for i in range(12)]
    review = ReviewLog(tmp/'review_kit.json', ids, 'artefact', reviewer='tester')
    review.mark_seen(ids)
    for i in ids[12:22]: review.flag(i)                                      # 10 of the 12 MLO images flagged
    _run(tmp, 'run5.ipynb', run_id='reviewed', reuse_run=str(run), artefact_review=str(tmp/'review_kit.json'))
    m = json.loads((tmp/'out'/KEY/'reviewed'/'metrics.json').read_text())
    assert m['kit']['drawn_from'] == 'human review (tester)' and len(m['kit']['synthetic_ids']) == 20
    assert set(m['kit']['synthetic_ids']) <= {'MLO_0010', 'MLO_0011'} and len(m['kit']['flagged_left_out']) == 10 and not m['kit']['all_flagged']
    old_kit = json.loads((run/'kits'/'reader_study_2afc'/'kit.json').read_text())['kit_id']
    assert json.loads((tmp/'out'/KEY/'reviewed'/'kits'/'reader_study_2afc'/'kit.json').read_text())['kit_id'] != old_kit
