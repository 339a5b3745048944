"""Han 2019 with the hand review (discard='review'): a fresh smoke run whose discard is decided by a person's flags.

A module of its own so that pytest-xdist can run it beside the other Han 2019 tests (it needs only the session's
data, not the first run)."""
import json
import pandas as pd
import pytest

pm = pytest.importorskip('papermill')
from _papers import paper_tests
KEY = 'han2019'
NB, _run, first_run, _, _ = paper_tests(KEY, threads=1)


def test_hand_review_discards_flagged(first_run):
    "discard='review' stops the run with instructions until the review is done; then its flags decide what is discarded."
    from medgan_nb.reader.review import ReviewLog
    tmp, _ = first_run
    new = tmp/'out'/KEY/'hand'
    with pytest.raises(pm.PapermillExecutionError, match='needs every synthetic candidate reviewed') as stop:
        _run(tmp, 'run5a.ipynb', run_id='hand', discard='review')
    assert "-p run_id hand" in str(stop.value) and "discard='auto'" in str(stop.value)
    for cls, k in (('tumour', 3), ('non-tumour', 2)):   # smoke: 16 candidates per class, the first k flagged
        (new/'review'/f'{cls}.json').unlink()              # the empty review the widget started
        log = ReviewLog(new/'review'/f'{cls}.json', [f'{cls}_{i:06d}' for i in range(16)], question='discard', reviewer='tester')
        for i in range(16): log.flags[f'{cls}_{i:06d}'] = i < k
        log.save()
    _run(tmp, 'run5.ipynb', run_id='hand', discard='review', resume=True)
    rates = pd.read_csv(new/'tables'/'discard_rates.csv').set_index('group')
    assert rates.loc['tumour', 'flagged'] == 3 and rates.loc['non-tumour', 'flagged'] == 2 and rates.loc['all', 'reviewed'] == 32
    m = json.loads((new/'metrics.json').read_text())
    assert m['discard']['method'] == 'by hand (tester)' and 'discarded by hand (tester)' in (new/'tables'/'table1_tumour_detection.md').read_text()
    n = pd.read_csv(new/'tables'/'table1_per_seed.csv').set_index('condition').train_images
    assert n['PGGAN DA'] - n['no DA'] == 13 + 14                      # only the kept images augment
