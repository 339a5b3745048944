"""End-to-end: the Han 2019 paper notebook with the smoke profile, run headless with papermill.

One run writes a complete run folder with every table and figure beside the paper's values; after a simulated crash
(FINISHED and metrics.json removed) a resumed run loads both PGGANs and every classifier instead of retraining them;
a finished run refuses to be resumed; human answers to the Visual Turing Test kit replace the machine reader."""
import json, shutil
from pathlib import Path
import pandas as pd
import pytest

pm = pytest.importorskip('papermill')
from _papers import paper_tests, check_parameters_cell, tables, check_same_tables
KEY = 'han2019'
NB, _run, first_run, _, _ = paper_tests(KEY, threads=1)   # its own resume test below also checks the classifiers


def test_run_folder(first_run):
    tmp, run = first_run
    for f in ('config.yaml', 'env.json', 'inputs.json', 'metrics.json', 'FINISHED'): assert (run/f).is_file(), f
    assert (tmp/'data'/'brats_phantom'/'manifest.json').is_file()          # embedded default built on first use
    assert json.loads((run/'inputs.json').read_text())['n_files'] == 4 * 5   # 4 phantom cases × (4 sequences + labels)
    figs = {p.name for p in (run/'figures').iterdir()}
    for stem in ('fig2_real_examples', 'fig4_classical_da', 'fig5_synthetic_success_failure', 'fig6_tsne'):
        assert {f'{stem}.png', f'{stem}.pdf'} <= figs, stem
    counts = pd.read_csv(run/'tables'/'data_counts.csv')
    assert counts['images (paper)'].sum() == 5036 + 3853 + 793 + 640 + 1575 + 1082 and counts['images (ours)'].sum() > 0
    wall = json.loads((run/'metrics.json').read_text())['wall_s']
    assert wall < 300, f"smoke run took {wall:.0f} s"   # target < 90 s (kernel start excluded); the looser bound tolerates a loaded machine


def test_table1_beside_paper(first_run):
    tmp, run = first_run
    t1 = pd.read_csv(run/'tables'/'table1_tumour_detection.csv')
    assert t1.condition.tolist() == ['no DA', 'classical DA', 'PGGAN DA', 'classical + PGGAN DA']
    assert t1['accuracy (paper)'].tolist() == [90.06, 90.70, 62.02, 91.08] and t1['specificity (paper)'].tolist()[2] == 6.84
    for c in ('accuracy (ours)', 'sensitivity (ours)', 'auc (ours)', 'accuracy 95% CI (ours)'): assert t1[c].notna().all(), c
    assert t1['accuracy (ours)'].between(0, 100).all()
    md = (run/'tables'/'table1_tumour_detection.md').read_text()
    assert 'from scratch' in md and 'input 28×28' in md and 'Profile: smoke, seed 0' in md and 'critic score' in md
    ci = [c for c in t1.columns if c.endswith('95% CI (ours)')]             # the smoke test set is one patient:
    assert (t1[ci] == 'none (1 patient)').all().all(), t1[ci]                # no interval, not a zero-width one
    assert "no interval for accuracy (its test slices are one patient's)" in md
    seeds = pd.read_csv(run/'tables'/'table1_per_seed.csv')
    assert len(seeds) == 4 and seeds.trained_now.all() and (seeds.img_per_s > 0).all()
    n = seeds.set_index('condition').train_images          # real + 2 × 16 per augmentation kind
    assert n['classical DA'] - n['no DA'] == 32 and n['classical + PGGAN DA'] - n['no DA'] == 64


def test_table2_and_metrics(first_run):
    tmp, run = first_run
    t2 = pd.read_csv(run/'tables'/'table2_visual_turing_test.csv')
    assert t2.question.tolist() == ['real/synthetic', 'tumour/non-tumour'] and t2['accuracy (paper)'].tolist() == [78.5, 90.5]
    assert (t2[['A as A (ours)', 'A as B (ours)', 'B as A (ours)', 'B as B (ours)']].sum(axis=1) == 16).all()   # 4 per category
    assert set(t2['reader (ours)']) == {'machine reader (C2ST + ResNet-50 no DA)'}
    auc = t2.set_index('question').loc['real/synthetic', 'AUC (ours)']      # 3 decimals, not the percentages' 1
    assert f'| {auc:.3f} |' in (run/'tables'/'table2_visual_turing_test.md').read_text()
    assert (run/'kits'/'vtt'/'kit.json').is_file() and not list((run/'kits'/'vtt').glob('*key*'))
    kit = json.loads((run/'kits'/'vtt'/'kit.json').read_text())
    assert [q['name'] for q in kit['questions']] == ['origin', 'finding']
    m = json.loads((run/'metrics.json').read_text())
    assert set(m['training']) == {'pggan_tumour', 'pggan_non-tumour'} and all(v['wall_s'] > 0 and v['img_per_s'] > 0 for v in m['training'].values())
    stages = {(r['model'], r['stage']) for r in m['pggan_speed_per_phase']}
    assert {s for _, s in stages} == {0, 1, 2, 3} and all(r['img_per_s'] > 0 for r in m['pggan_speed_per_phase'])   # 4×4 … 32×32
    assert m['discard']['method'].startswith('automatic') and m['labels']['table2'].startswith('machine reader')
    rates = pd.read_csv(run/'tables'/'discard_rates.csv').set_index('group')
    assert rates.loc['all', 'flagged'] == round(0.25 * rates.loc['tumour', 'reviewed']) * 2


def test_augmented_sets_are_stores_on_disk(first_run):
    "Synthetic candidates and classical copies go to finished stores in the run folder, not to memory."
    from medgan_nb.data.store import ShardedArray
    tmp, run = first_run
    stores = {p.name: ShardedArray(p) for p in sorted((run/'augmented').iterdir())}
    assert sorted(stores) == ['classical_non-tumour', 'classical_tumour', 'pggan_non-tumour', 'pggan_tumour']
    rates = pd.read_csv(run/'tables'/'discard_rates.csv').set_index('group')
    for cls in ('tumour', 'non-tumour'):
        assert len(stores[f'pggan_{cls}']) == rates.loc[cls, 'reviewed']      # every candidate reviewed, from disk
        meta = stores[f'classical_{cls}'].m['meta']
        assert meta['kind'] == 'classical DA' and meta['cls'] == cls and len(stores[f'classical_{cls}']) == meta['n']
        assert stores[f'pggan_{cls}'].dtype == 'uint8' and stores[f'pggan_{cls}'].shape[1] == 1


def test_resume_after_a_kill_gives_the_same_tables(first_run):
    """Killed while the second classifier (classical DA, seed 0) trained, before its first checkpoint: resumed, it alone
    trains again, from the start weights the uninterrupted run gave it, and every table is as before; PGGANs, the other
    classifiers and the augmented stores are loaded, not made again. The resumed run trains it in a process of its own
    (clf_workers=2), which gives what training in the notebook gave. A finished run then refuses to be resumed."""
    tmp, run = first_run
    finals = sorted(run.glob('checkpoints/**/final.pt'))
    assert len(finals) == 2 + 4
    gone = run/'checkpoints'/'resnet50'/'classical_DA_seed0'
    stamps = {p: p.stat().st_mtime_ns for p in finals if p.parent != gone}
    shards = {p: p.stat().st_mtime_ns for p in run.glob('augmented/*/shard_*.npy')}
    assert len(shards) >= 4
    before = tables(run)
    (run/'FINISHED').unlink(); (run/'metrics.json').unlink(); shutil.rmtree(gone)   # as if killed in its first epoch
    _run(tmp, 'run2.ipynb', resume=True, threads=1, clf_workers=2)
    m = json.loads((run/'metrics.json').read_text())
    assert not any(v['trained_now'] for v in m['training'].values())
    assert [(r['condition'], r['seed']) for r in m['classifiers'] if r['trained_now']] == [('classical DA', 0)]
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert {p: p.stat().st_mtime_ns for p in shards} == shards             # augmented stores reused, not written again
    check_same_tables(before, tables(run))
    assert (gone/'fit.log').is_file() and not (gone/'job.pt').exists()           # trained in a process of its own
    with pytest.raises(pm.PapermillExecutionError, match='RunFinishedError'): _run(tmp, 'run3.ipynb', resume=True)


def test_human_responses_fill_table2(first_run):
    "People answer the kit of a finished run; a new run reusing its models and kit scores them (nothing retrained)."
    from medgan_nb.reader.study import Kit, ResponseLog
    tmp, run = first_run
    kit = Kit(run/'kits'/'vtt'); answers = tmp/'answers'
    log = ResponseLog(answers/'reader1.jsonl', kit, 'reader1', 'physician')
    for iid in kit.order_for('reader1'): log.append(iid, {'origin': 'real', 'finding': 'tumour'}, 1.0)
    _run(tmp, 'run4.ipynb', run_id='humans', reuse_run=str(run), responses=str(answers))
    new = tmp/'out'/KEY/'humans'
    t2 = pd.read_csv(new/'tables'/'table2_visual_turing_test.csv').set_index('question')
    assert set(t2['reader (ours)']) == {'human readers (n = 1)'}
    assert t2.loc['real/synthetic', 'accuracy (ours)'] == 50 and t2.loc['real/synthetic', 'A as A (ours)'] == 8 and t2.loc['real/synthetic', 'B as A (ours)'] == 8
    assert t2.loc['tumour/non-tumour', 'A as A (ours)'] == 8 and t2.loc['tumour/non-tumour', 'B as A (ours)'] == 8
    m = json.loads((new/'metrics.json').read_text())
    assert not any(v['trained_now'] for v in m['training'].values()) and not any(r['trained_now'] for r in m['classifiers'])


def test_parameters_cell_parses():
    "Every parameter is visible to papermill and commented."
    check_parameters_cell('han2019', {'profile', 'data_dir', 'out_dir', 'run_id', 'resume', 'seed', 'device', 'responses', 'reuse_run', 'resnet_weights',
            'side', 'input_size', 'da_per_class', 'discard', 'discard_fraction', 'n_seeds', 'tsne_perplexity'})


def test_paper_profile_without_imagenet_weights_stops_before_training(tmp_path, monkeypatch):
    "The paper's ImageNet ResNet-50 is never replaced silently: without the file the run stops before any training."
    from _papers import run_paper
    monkeypatch.setenv('MEDGAN_PATHS_WEIGHTS_DIR', str(tmp_path/'weights'))   # kernels inherit it: no weights there
    with pytest.raises(pm.PapermillExecutionError, match=r"ImageNet ResNet-50 weights: no resnet50-\*\.pth.*download"):
        run_paper(KEY, tmp_path, 'paper.ipynb', profile='paper', run_id='paper')
    assert not (tmp_path/'out'/KEY/'paper').exists()    # stopped before the run folder, the data and the training
