"""End-to-end: the Haarburger 2019 paper notebook with the smoke profile, run headless with papermill.

One run writes a complete run folder (Tables 1-3 beside the paper's values, Fig. 1-5 as PNG + PDF, metrics.json with
its `labels`); after a simulated crash (FINISHED and metrics.json removed) a resumed run loads both finished models
instead of retraining them; a finished run refuses to be resumed or overwritten."""
import json, os
from pathlib import Path
import pandas as pd
import pytest

pm = pytest.importorskip('papermill')
from _papers import paper_tests, check_resume_after_a_kill, check_parameters_cell
NB, _run, first_run, _, _finished = paper_tests('haarburger2019', threads=1)


def test_run_folder(first_run):
    tmp, run = first_run
    for f in ('config.yaml', 'env.json', 'inputs.json', 'metrics.json', 'FINISHED'): assert (run/f).is_file(), f
    assert (tmp/'data'/'breast_dce_phantom'/'manifest.json').is_file()         # embedded default built on first use
    assert len(list((tmp/'data'/'cache'/'haarburger2019').glob('*.npz'))) == 1  # patches cached for the next run
    figs = {p.name for p in (run/'figures').iterdir()}
    for stem in ('fig1_contrasts', 'fig2_dcgan_malignant_t1', 'fig3_wgan_malignant_t1', 'fig4_dcgan_series', 'fig5_wgan_series',
                 'training_curves'):
        assert {f'{stem}.png', f'{stem}.pdf'} <= figs, stem
    t1 = pd.read_csv(run/'tables'/'table1_dataset.csv')
    assert t1.source.tolist() == ['paper', 'ours (embedded default)'] and t1.subjects.tolist() == [408, 3]
    assert t1.loc[1, ['patches benign', 'patches malignant', 'patches healthy']].min() > 0   # every class present
    t2 = pd.read_csv(run/'tables'/'table2_fid_1nn.csv')
    assert t2[['class', 'model']].values.tolist() == [[c, m] for c in ('benign', 'malignant', 'no findings') for m in ('DCGAN', 'WGAN')]
    assert t2['FIDmin (paper)'].tolist() == [27.14, 33.90, 20.23, 24.51, 21.03, 29.48]
    for c in ('FIDmin (ours)', '1-NN real (ours)', '1-NN fake (ours)'): assert t2[c].notna().all(), c
    assert (t2['FIDmin (ours)'] > 0).all() and t2['1-NN real (ours)'].between(0, 1).all()
    t3 = pd.read_csv(run/'tables'/'table3_reader_test.csv')
    t3 = t3.set_index('reader')
    assert sorted(t3.index) == ['layperson', 'machine reader (C2ST)', 'radiologist']       # paper's readers beside ours
    assert t3.loc['radiologist', ['real (paper)', 'DCGAN (paper)', 'WGAN (paper)']].tolist() == [73.3, 75.0, 76.7]
    ours = t3.loc['machine reader (C2ST)']
    assert ours[['real (ours)', 'DCGAN (ours)', 'WGAN (ours)']].between(0, 100).all() and pd.isna(ours['real (paper)'])
    assert t3.loc['radiologist', ['real (ours)', 'DCGAN (ours)', 'WGAN (ours)']].isna().all()  # no invented human results
    md = (run/'tables'/'table3_reader_test.md').read_text()
    assert 'Profile: smoke, seed 0' in md and 'machine reader (C2ST)' in md
    assert f"| {ours['AUC (ours)']:.3f} |" in md               # the AUC to 3 decimals, not the percentages' 1
    m = json.loads((run/'metrics.json').read_text())
    assert m['profile'] == 'smoke' and m['labels']['table3'] == 'machine reader (C2ST)' and m['reader'] == 'machine reader (C2ST)'
    assert set(m['training']) == {'DCGAN', 'WGAN'} and all(v['trained_now'] and v['train_img_per_s'] > 0 and 0 < v['fid_s'] < v['wall_s'] for v in m['training'].values())
    assert m['training']['WGAN']['g_iter'] >= 1                               # the critic had its 5 steps, then G moved
    for gan in ('DCGAN', 'WGAN'):
        fids = [r['fid_malignant'] for r in m['fid_by_checkpoint'][gan]]
        assert len(fids) == 2 and m['fid_min'][gan]['malignant']['fid'] == min(fids)   # FIDmin = best of the checkpoints
    assert all(v['img_per_s'] > 0 for v in m['training'].values()) and m['dataset'] == 'breast DCE-MRI phantoms (embedded default)'
    cost = pd.read_csv(run/'tables'/'training_cost.csv')
    assert cost.model.tolist() == ['DCGAN', 'WGAN'] and (cost.wall_s > 0).all() and (cost.img_per_s > 0).all()
    for f in [*(run/'tables').glob('*.md'), *(run/'tables').glob('*.csv'), run/'metrics.json']:   # no temporary paths in what readers see
        assert str(tmp) not in f.read_text() and '/tmp' not in f.read_text(), f
    kit = json.loads((run/'kits'/'reader_test'/'kit.json').read_text())
    assert len(kit['warmup']) == 4 and all(len(i['images']) == 10 for i in kit['items'])   # 2 + 2 warm-up; 10 panels per item
    assert not list((run/'kits'/'reader_test').rglob('*key*'))              # the answer key lies beside the kit


def test_resume_after_a_kill_gives_the_same_tables(first_run):
    "Killed while the WGAN trained (no checkpoint yet): resumed, the WGAN trains again and every table is as before."
    tmp, run = first_run
    check_resume_after_a_kill(run, lambda: _run(tmp, 'run2.ipynb', resume=True, threads=1), n_models=2)


test_finished_run_is_not_overwritten = _finished


def test_progress_bars_render_in_the_output_notebook(first_run):
    "Papermill records only a widget's first frame; with MEDGAN_PROGRESS=text the trainer's bar is finished text."
    _, run = first_run
    nb = json.loads((run/f'{run.parent.name}.ipynb').read_text())   # the runner's executed notebook
    streams = ''.join(''.join(o.get('text', '')) for c in nb['cells'] for o in c.get('outputs', []) if o.get('output_type') == 'stream')
    assert '100%' in streams and 'kimg' in streams
    widgets = [o for c in nb['cells'] for o in c.get('outputs', []) if 'application/vnd.jupyter.widget-view+json' in o.get('data', {})]
    assert not widgets, 'a progress bar was drawn as a widget, which papermill stores at 0 %'


def test_parameters_cell_parses():
    "Every parameter is visible to papermill and commented (fid_rgb: the FID's R, G, B, not in `channels` only)."
    check_parameters_cell('haarburger2019', {'profile', 'data_dir', 'out_dir', 'run_id', 'resume', 'seed', 'device', 'threads',
                                             'responses', 'reader_kit', 'reuse_run', 'channels', 'fid_rgb', 'sub_window'})
