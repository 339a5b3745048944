"""End-to-end: the Han 2018 paper notebook with the smoke profile, run headless with papermill.

One run writes a complete run folder; after a simulated crash (FINISHED and metrics.json removed) a resumed run loads
every finished model instead of retraining it; a finished run refuses to be resumed or overwritten."""
import json, os, sys
from pathlib import Path
import pandas as pd
import pytest

pm = pytest.importorskip('papermill')
from _papers import paper_tests, check_parameters_cell
NB, _run, first_run, _resume, _finished = paper_tests('han2018', threads=2, n_models=12)


def test_run_folder(first_run):
    tmp, run = first_run
    for f in ('config.yaml', 'env.json', 'inputs.json', 'metrics.json', 'FINISHED'): assert (run/f).is_file(), f
    assert (tmp/'data'/'brats_phantom'/'manifest.json').is_file()   # the data builder's part, built on first use
    assert not (tmp/'data'/'brain_phantoms').exists()                # no second phantom folder
    inputs = json.loads((run/'inputs.json').read_text())
    assert inputs['n_files'] == 10 and sum(k.endswith('_t1.nii.gz') for k in inputs['files']) == 2   # 1 train + 1 held-out case
    figs = {p.name for p in (run/'figures').iterdir()}
    for stem in ('fig2_real_examples', 'fig3_dcgan_samples', 'fig4_wgan_samples', 'training_curves', 'beyond_memorisation'):
        assert {f'{stem}.png', f'{stem}.pdf'} <= figs, stem
    t1 = pd.read_csv(run/'tables'/'table1_visual_turing_test.csv')
    assert t1[['type', 'GAN']].values.tolist()[:2] == [['T1 128', 'DCGAN'], ['T1 128', 'WGAN']]
    assert len(t1) == 12 and t1['accuracy (paper)'].tolist()[:2] == [70, 64]
    for c in ('accuracy (ours)', 'real as real (ours)', 'synthetic as synthetic (ours)'): assert t1[c].notna().all(), c
    assert set(t1['reader (ours)']) == {'machine reader (C2ST)'}
    assert ((t1['real as real (ours)'] + t1['real as synthetic (ours)']) == 8).all()   # smoke kits: 8 real + 8 synthetic
    md = (run/'tables'/'table1_visual_turing_test.md').read_text()
    assert 'Profile: smoke, seed 0' in md and 'machine reader (C2ST)' in md
    m = json.loads((run/'metrics.json').read_text())
    assert m['profile'] == 'smoke' and len(m['training']) == 12 and all(v['trained_now'] for v in m['training'].values())
    assert all(v['kimg'] >= 0.032 and v['img_per_s'] > 0 for v in m['training'].values())
    b = pd.read_csv(run/'tables'/'beyond_objective_metrics.csv')   # medgan_nb.evaluate's records, one row per model and metric
    assert b.model.nunique() == 12 and (b.groupby('model').size() == 4).all() and len(m['beyond']) == len(b)
    assert b.metric.str.startswith(('1-NN accuracy', 'near-copy share', 'closer to train', 'membership-inference AUC')).all()
    flat = b.interval.str.startswith('none: all')   # every resample gave one value: no interval, not a zero-width one
    assert (b['N synthetic'] == 8).all() and ((b['CI low'] <= b['CI high']) | flat).all()
    assert flat.any() and b[flat][['CI low', 'CI high']].isna().all().all()
    exact = b[b.interval.str.startswith('exact binomial')]
    assert len(exact) == 24 and ((exact['CI low'] <= exact.value) & (exact.value <= exact['CI high'])).all()
    caption = (run/'tables'/'beyond_objective_metrics.md').read_text()
    assert 'not in the paper' in caption and 'Intervals at 95 %' in caption and 'FID/KID skipped (fid_n = 0)' in caption
    assert len(list((run/'kits').glob('*/kit.json'))) == 12 and not list((run/'kits').glob('*/*key*'))  # keys outside kits
    assert len(list((run/'keys').glob('*.key.json'))) == 12 and not list((run/'kits').glob('*key*'))     # in keys/, beside kits/
    cost = pd.read_csv(run/'tables'/'training_cost.csv')
    assert len(cost) == 12 and (cost.wall_s > 0).all() and (cost.img_per_s > 0).all()
    assert m['dataset'] == 'BraTS-layout brain phantoms (embedded default)'
    for f in [*(run/'tables').glob('*.md'), *(run/'tables').glob('*.csv'), run/'metrics.json']:   # no temporary paths in what readers see
        assert str(tmp) not in f.read_text() and '/tmp' not in f.read_text(), f


test_resume_after_a_kill_gives_the_same_tables, test_finished_run_is_not_overwritten = _resume, _finished   # after test_run_folder: they rerun the notebook


def test_human_responses_fill_table1(first_run):
    "People answer the kits of a finished run; a new run reusing its models and kits scores them (no retraining)."
    from medgan_nb.reader.study import Kit, ResponseLog
    tmp, run = first_run
    answers = tmp/'answers'
    for kit_dir in sorted((run/'kits').glob('*/')):
        if not (kit_dir/'kit.json').exists(): continue
        kit = Kit(kit_dir)
        log = ResponseLog(answers/kit_dir.name/'reader1.jsonl', kit, 'reader1', 'radiologist')
        for iid in kit.order_for('reader1'): log.append(iid, {'origin': 'real'}, 1.0)   # calls everything real
    _run(tmp, 'run4.ipynb', run_id='humans', reuse_run=str(run), responses=str(answers))
    new = tmp/'out'/'han2018'/'humans'
    t1 = pd.read_csv(new/'tables'/'table1_visual_turing_test.csv')
    assert set(t1['reader (ours)']) == {'human readers (n = 1)'}
    assert (t1['accuracy (ours)'] == 50).all() and (t1['real as real (ours)'] == 8).all() and (t1['synthetic as real (ours)'] == 8).all()
    m = json.loads((new/'metrics.json').read_text())
    assert not any(v['trained_now'] for v in m['training'].values())


def test_parameters_cell_parses():
    "Every parameter is visible to papermill (the runner passes run_id/resume/out_dir only when declared)."
    check_parameters_cell('han2018', {'profile', 'data_dir', 'out_dir', 'run_id', 'resume', 'seed', 'device', 'responses', 'reuse_run',
                                                'size_large', 'size_small', 'epochs', 'kimg', 'lr_dcgan', 'lr_wgan', 'betas', 'n_critic', 'clip'})
