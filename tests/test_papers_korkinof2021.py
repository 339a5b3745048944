"""End-to-end: the Korkinof 2021 paper notebook with the smoke profile, run headless with papermill.

One run writes a complete run folder (every table beside the paper's values, every figure) within 90 s of notebook
time; a resumed run loads the finished models instead of retraining them; a finished run refuses to be overwritten;
people's answers to the 2AFC kit and a person's artefact review replace the machine readers and the automatic proxy."""
import json
from pathlib import Path
import pandas as pd
import pytest

pm = pytest.importorskip('papermill')
from _papers import paper_tests, check_parameters_cell
KEY = 'korkinof2021'
NB, _run, first_run, _resume, _finished = paper_tests(KEY, threads=1, n_models=2)
FIGS = ('data_examples', 'training_curves', 'synthetic_examples', 'fig3_moment_plots_cc', 'fig3_moment_plots_mlo',
        'fig6_kde_coverage_cc', 'fig6_kde_coverage_mlo', 'artefact_examples', 'fig7_responses')


def test_run_folder(first_run):
    tmp, run = first_run
    for f in ('config.yaml', 'env.json', 'inputs.json', 'metrics.json', 'FINISHED'): assert (run/f).is_file(), f
    assert (tmp/'data'/'mammo_phantom'/'manifest.json').is_file()           # embedded default built on first use
    assert json.loads((run/'inputs.json').read_text())['n_files'] == 8     # smoke: 2 patients × 4 views
    figs = {p.name for p in (run/'figures').iterdir()}
    for stem in FIGS: assert {f'{stem}.png', f'{stem}.pdf'} <= figs, stem
    t1 = pd.read_csv(run/'tables'/'table1_moment_overlap.csv')
    assert len(t1) == 15 and t1['overlap (paper)'].iloc[0] == 0.7681 and t1['overlap (paper)'].iloc[-1] == 0.6057
    assert t1[['overlap (ours, MLO)', 'overlap (ours, CC)']].apply(lambda c: c.between(0, 1.001)).all().all()
    t2 = pd.read_csv(run/'tables'/'table2_moment_mi.csv')
    assert t2['MI (paper)'].tolist() == [0.01772, 0.04087, 0.04096, 0.01138, 0.0] and t2['neighbours (ours, MLO)'].notna().all()
    t3 = pd.read_csv(run/'tables'/'table3_conover_positions.csv')
    tests = pd.read_csv(run/'tables'/'reader_tests.csv').iloc[0]             # χ²: its degrees of freedom are a count
    kw = pd.read_csv(run/'tables'/'reader_tests.csv').iloc[1]            # smoke: every machine answer right,
    assert pd.isna(kw['p (ours)']) and kw['note'].startswith('every answer scored alike')   # so no test, and why
    assert 'ours: none, every answer scored alike' in (run/'tables'/'table3_conover_positions.md').read_text()
    assert f"| {tests['statistic (ours)']:.3f} | {tests['dof (ours)']:.0f} |" in (run/'tables'/'reader_tests.md').read_text()
    assert len(t3) == 45 and t3.set_index(['a', 'b']).loc[(1, 4), 'p (paper)'] == 0.067
    t4 = pd.read_csv(run/'tables'/'table4_success_rates.csv').set_index('group')
    assert t4.loc['All participants', 'mean (paper)'] == 0.492
    assert t4.loc[['machine reader (C2ST)', 'machine reader (moments)'], 'attempts (ours)'].tolist() == [10, 10]
    art = pd.read_csv(run/'tables'/'artefact_rates.csv').set_index('view')
    assert art.loc['MLO', 'rate (paper)'] == 13.6 and art.loc['CC', 'rate (paper)'] == 6.4
    assert art['review (ours)'].str.contains('proxy, not a person').all()
    assert 'no human review' in (run/'tables'/'artefact_rates.md').read_text()
    cov = pd.read_csv(run/'tables'/'fig6_coverage.csv')
    assert len(cov) == 20 and cov['real covered (%)'].dropna().between(0, 100).all() and cov['real covered (%)'].notna().sum() >= 10   # NaN: empty real region on the grid (4 real images)
    m = json.loads((run/'metrics.json').read_text())
    assert m['profile'] == 'smoke' and m['wall_s'] < 90, m['wall_s']                # the smoke budget
    assert m['view_handling'].startswith('separate PGGAN per view')
    assert set(m['training']) == {'pggan_cc', 'pggan_mlo'} and all(v['trained_now'] and v['img_per_s'] > 0 and v['wall_s'] > 0 for v in m['training'].values())
    assert all(v['kimg'] >= 0.08 for v in m['training'].values())                 # 5 phases × 16 images
    sp = pd.DataFrame(m['speed_per_phase'])
    assert len(sp) == 10 and (sp.groupby('view').images.sum() >= 80).all() and sp.img_per_s.gt(0).all()
    assert m['reader'].startswith('machine readers') and m['artefacts']['review'] == 'no human review; automatic proxy only'
    assert len(list((run/'kits').glob('*/kit.json'))) == 1 and not list((run/'kits'/'reader_study_2afc').glob('*key*'))
    kit = json.loads((run/'kits'/'reader_study_2afc'/'kit.json').read_text())
    assert kit['design'] == '2afc' and kit['items_per_reader'] == 10 and len(kit['items']) == 20
    col = pd.read_csv(run/'tables'/'collapse_check.csv').set_index('view')          # the mode-collapse numbers, per view
    assert col.loc[['CC', 'MLO'], ['diversity_ratio', 'coverage']].notna().all().all() and (col.synthetic == 24).all()
    assert m['ema_kimg'] == 0.01 and 'moving average of G, half-life 0.01 kimg' in (run/'tables'/'collapse_check.md').read_text()
    import torch                                                                    # the TrainConfig got ema_kimg, and the EMA G is the one kept
    ck = torch.load(run/'checkpoints'/'pggan_mlo'/'checkpoints'/'latest.pt', map_location='cpu', weights_only=True)
    final = torch.load(run/'checkpoints'/'pggan_mlo'/'final.pt', map_location='cpu', weights_only=True)
    assert ck['config']['ema_kimg'] == 0.01 and all(torch.equal(v, ck['G_ema'][k]) for k, v in final['G'].items())
    flags = json.loads((run/'review'/'auto_review_moment_outliers.json').read_text())['flags']   # no flagged image in the kit
    assert m['kit']['drawn_from'].startswith('automatic proxy') and len(m['kit']['synthetic_ids']) == 20
    flagged_mlo = {i for i, f in flags.items() if f and i.startswith('MLO')}
    assert m['kit']['all_flagged'] and len(flagged_mlo) == 12      # smoke: the proxy flags all 12 MLO review images of the untrained G,
    assert 'so none could be left out' in (run/'tables'/'reader_kit.md').read_text()   # so the kit cannot leave them out, and says so
    # (a kit drawn only from unflagged images: test_papers_korkinof2021_review.py)
    assert 'automatic proxy' in (run/'tables'/'reader_kit.md').read_text()


test_resume_after_a_kill_gives_the_same_tables, test_finished_run_is_not_overwritten = _resume, _finished   # after test_run_folder: they rerun the notebook


def test_people_replace_the_machine(first_run):
    "People answer the kit and review the artefacts of a finished run; a new run reusing its models scores them."
    from medgan_nb.reader.study import Kit, ResponseLog, load_key, default_key_path
    from medgan_nb.reader.review import ReviewLog
    tmp, run = first_run
    kit = Kit(run/'kits'/'reader_study_2afc'); key = load_key(default_key_path(kit.folder), kit)
    answers, expected = tmp/'answers', {}
    for i in range(24):
        rid, group = f'reader{i:02d}', ('radiologist', 'nonradiologist')[i % 2]
        log = ResponseLog(answers/f'{rid}.jsonl', kit, rid, group)
        order = kit.order_for(rid)
        for iid in order: log.append(iid, {'real_is': 'left'}, 2.0)           # always picks the left image
        expected.setdefault(group, []).append(sum(key[iid]['real_is'] == 'left' for iid in order) / len(order))
    ids = [f'{v}_{i:04d}' for v in ('CC', 'MLO') for i in range(12)]
    review = ReviewLog(tmp/'review.json', ids, 'artefact', reviewer='tester')
    review.mark_seen(ids)
    for i in ids[:3] + ids[12:18]: review.flag(i)                            # 3 of 12 CC, 6 of 12 MLO
    _run(tmp, 'run4.ipynb', run_id='people', reuse_run=str(run), responses=str(answers), artefact_review=str(tmp/'review.json'))
    new = tmp/'out'/KEY/'people'
    m = json.loads((new/'metrics.json').read_text())
    assert not any(v['trained_now'] for v in m['training'].values())
    assert m['reader'] == 'human readers (n = 24)'
    t4 = pd.read_csv(new/'tables'/'table4_success_rates.csv').set_index('group')
    for g, rates in expected.items():
        assert t4.loc[g, 'attempts (ours)'] == 12 and abs(t4.loc[g, 'mean (ours)'] - sum(rates) / 12) < 1e-9, g
    assert not t4.index.str.startswith('machine').any()
    art = pd.read_csv(new/'tables'/'artefact_rates.csv')
    hum = art[art['review (ours)'] == 'human review (tester)'].set_index('view')
    assert hum.loc['CC', 'rate (ours)'] == 25.0 and hum.loc['MLO', 'rate (ours)'] == 50.0
    assert m['artefacts']['review'] == 'human review and automatic proxy'
    tests = pd.read_csv(new/'tables'/'reader_tests.csv')
    assert tests['p (ours)'].notna().all()                                   # χ² and Kruskal–Wallis on 24 people


def test_parameters_cell_parses():
    "Every parameter is visible to papermill and commented."
    check_parameters_cell('korkinof2021', {'profile', 'data_dir', 'out_dir', 'run_id', 'resume', 'seed', 'device', 'responses', 'artefact_review', 'reuse_run',
            'size', 'phase_kimg', 'fade_kimg', 'ema_kimg', 'lr', 'batch_size', 'items_per_reader'})


def test_paper_profile_has_pggan_ema():
    from medgan_nb.papers.common import load_profile
    assert load_profile('korkinof2021', 'paper')['ema_kimg'] == 10 and load_profile('korkinof2021', 'quick')['ema_kimg'] > 0
