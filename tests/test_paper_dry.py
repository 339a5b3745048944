"""The `paper` profile, dry run (`make paper-dry`), for the smallest notebook: Han 2018 at the paper's image
sizes (128 and 64) and networks, on one training and one held-out phantom, every model cut to one G step
(`max_steps_per_phase=1`), end to end, so that a break at the papers' sizes shows in CI. Beyond
bench/paper_dry.yaml (the data, no critic warm-up) it takes batches of 8 (paper: 64), 8 + 8 images a kit and
no Inception metrics, to stay short. Its phantoms are those the session's smoke pass built (the same generator,
seed and 1 mm grid), linked rather than made again."""

import json, os, shutil
import pandas as pd
import pytest

pm = pytest.importorskip('papermill')
from _papers import execute_here, notebook, kernel_threads

DRY = dict(
    n_cases=1,
    heldout_cases=1,
    wgan_warmup=False,
    batch_size=8,
    kit_real=8,
    kit_synthetic=8,
    c2st_folds=2,
    c2st_epochs=1,
)


def test_han2018_paper_dry(tmp_path, monkeypatch, smoke_all):
    monkeypatch.setenv('MEDGAN_PATHS_DATA_DIR', str(tmp_path / 'data'))
    built = smoke_all[0] / 'data' / 'brats_phantom'
    if (built / 'manifest.json').is_file():  # else (the smoke pass ran without the Han papers) the notebook builds them
        shutil.copytree(built, tmp_path / 'data' / 'brats_phantom', copy_function=os.link)
    params = dict(
        profile='paper', max_steps_per_phase=1, out_dir=str(tmp_path / 'out'), run_id='dry', fid_n=0
    )
    nb = notebook('han2018')
    execute_here(nb, tmp_path / 'dry.ipynb', {**params, **DRY, 'threads': kernel_threads(2)})
    run = tmp_path / 'out' / 'han2018' / 'dry'
    if (built / 'manifest.json').is_file():  # the linked phantoms were used, not built again
        assert (tmp_path / 'data' / 'brats_phantom' / 'manifest.json').samefile(built / 'manifest.json')
    m = json.loads((run / 'metrics.json').read_text())
    assert (run / 'FINISHED').is_file() and m['profile'] == 'paper' and m['max_steps_per_phase'] == 1
    t = pd.DataFrame.from_dict(m['training'], orient='index')
    assert len(t) == 12 and t.trained_now.all() and (t.g_iter == 1).all()  # every model, one G step each
    assert sorted(set(t['size'])) == [64, 128]  # the paper's sizes
    for name in t.index:  # one G step: 1 DCGAN step, 5 WGAN critic steps
        steps = [
            r['step']
            for r in map(json.loads, (run / 'checkpoints' / name / 'log.jsonl').open())
            if 'step' in r
        ]
        assert max(steps) == (5 if name.startswith('wgan') else 1), name
    tables = sorted((run / 'tables').glob('*.md'))
    assert {p.stem for p in tables} >= {
        'training',
        'training_cost',
        'table1_visual_turing_test',
        'beyond_objective_metrics',
    }
    for p in tables:
        assert 'DRY RUN: every training phase capped at 1 step(s)' in p.read_text(), p.name
    assert len(list((run / 'figures').glob('*.png'))) == 5 and len(list((run / 'kits').iterdir())) == 12
