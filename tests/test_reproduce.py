"""The runner end to end on the smoke profile: every paper notebook runs (a broken one fails with its cell and
the others still run), the report holds every table of every paper, the summary notebook shows them, an
interrupted run is continued in its own run folder without retraining, and every kit it wrote passes the audit."""
import json, shutil
from pathlib import Path
import pytest

pm = pytest.importorskip('papermill')
from _papers import ROOT, RUN_ID, REQUESTED
REQUESTED.add('*')   # the runner's pass covers every paper notebook
from conftest import BROKEN
from medgan_nb.reproduce import paper_notebooks, run_papers, main, papermill_options
from medgan_nb.report import write_report, latest_runs
from medgan_nb.figures import is_count
import pandas as pd
PAPERS = list(paper_notebooks())


def test_every_paper_ran_and_the_broken_one_is_reported(smoke_all):
    tmp, state = smoke_all
    assert len(PAPERS) >= 2 and set(state['papers']) == {BROKEN, *PAPERS}
    bad = state['papers'][BROKEN]
    assert bad['status'] == 'failed' and 'broken on purpose' in bad['error'] and bad['cell_index'] == 2
    assert bad['cell_source'] == 'x = 1'
    for k in PAPERS:
        rec = state['papers'][k]
        assert rec['status'] == 'ok', (k, rec.get('error'), rec.get('cell_source'))
        assert rec['run_id'] == RUN_ID and (tmp/'out'/k/RUN_ID/'FINISHED').exists() and Path(rec['notebook']).exists()
    saved = json.loads((tmp/'out'/'reproduce_smoke.json').read_text())
    assert saved['papers'][BROKEN]['status'] == 'failed'


def _cells(md:Path) -> list: return ['| ' + c.strip() + ' |' for l in md.read_text().splitlines() for c in l.split('|')[1:-1]]


def test_report_contains_every_table(smoke_all):
    tmp, state = smoke_all
    md, page = write_report(tmp/'out', 'smoke')
    txt, html = md.read_text(), page.read_text()
    runs = latest_runs(tmp/'out', 'smoke')
    assert set(runs) == set(PAPERS)
    for k, run in runs.items():
        tables = sorted((run/'tables').glob('*.md'))
        assert tables, k
        for t in tables:
            assert f'### {t.stem}' in txt and f'<h3>{t.stem}</h3>' in html, (k, t.stem)
            cap = next(l for l in t.read_text().splitlines() if l.startswith('*'))
            assert cap in txt, (k, t.stem)
            assert t.read_text().split('\n\n*')[0] in txt, (k, t.stem)   # the run's own .md prints as the report does
            tab = pd.read_csv(t.with_suffix('.csv'))
            for c in [c for c in tab.columns if is_count(c) and tab[c].dtype == float and (tab[c].dropna() % 1 == 0).all()]:
                assert not {f'| {v:.3f} |' for v in tab[c].dropna()} & {*_cells(t)}, (k, t.stem, c)   # 133, not 133.000
        assert f'- **run**: {run.name}' in txt
    assert 'base64' not in html and 'src="http' not in html and (tmp/'out'/'report_files').is_dir()


def test_summary_notebook_shows_every_table(smoke_all):
    tmp, state = smoke_all
    nb = ROOT/'nbs'/'papers'/'summary.ipynb'
    out = pm.execute_notebook(str(nb), str(tmp/'summary.ipynb'), parameters=dict(profile='smoke', outputs_dir=str(tmp/'out')),
                              cwd=str(nb.parent), progress_bar=False, kernel_name='python3', **papermill_options())
    shown = json.dumps([o for c in out['cells'] for o in c.get('outputs', [])])
    for k, run in latest_runs(tmp/'out', 'smoke').items():
        for t in (run/'tables').glob('*.md'): assert t.stem in shown, (k, t.stem)
    assert BROKEN in shown and 'failed in cell 2' in shown          # the runner's summary is printed first


def test_interrupted_run_is_continued(smoke_all):
    "A paper killed mid-run (state 'running', no FINISHED) is resumed in its own folder; finished ones are left alone."
    tmp, state = smoke_all
    key, other = PAPERS[:2]
    out = tmp/'out_interrupted'                      # a copy, so the per-paper tests keep their first runs
    for k in (key, other): shutil.copytree(tmp/'out'/k/RUN_ID, out/k/RUN_ID, symlinks=True)
    run = out/key/RUN_ID
    finals = {p: p.stat().st_mtime_ns for p in run.glob('**/final.pt')}
    assert finals, key
    st = {'profile': 'smoke', 'papers': {k: dict(state['papers'][k]) for k in (key, other)}}
    st['papers'][key]['status'] = 'running'; (out/'reproduce_smoke.json').write_text(json.dumps(st))
    (run/'FINISHED').unlink(); (run/'metrics.json').unlink()
    before = (out/other/RUN_ID/'metrics.json').read_bytes()
    s2 = run_papers('smoke', f'{key},{other}', out, {'*': {'threads': 1}}, folder=tmp/'papers', progress=False)
    rec = s2['papers'][key]
    assert (rec['status'], rec['run_id'], rec['resumed']) == ('ok', RUN_ID, True), rec
    assert (run/'FINISHED').exists() and {p: p.stat().st_mtime_ns for p in finals} == finals   # nothing retrained
    assert not any(v['trained_now'] for v in json.loads((run/'metrics.json').read_text())['training'].values())
    assert s2['papers'][other].get('skipped') == 'finished earlier'
    assert (out/other/RUN_ID/'metrics.json').read_bytes() == before


def test_cli_skips_papers_without_data(tmp_path, capsys):
    (tmp_path/'data'/'brats').mkdir(parents=True)
    code = main(['--profile', 'smoke', '--outputs-dir', str(tmp_path/'out'), '--data-dir', str(tmp_path/'data'),
                 '--papers', ','.join(k for k in PAPERS if 'han20' not in k)])
    out = capsys.readouterr().out
    assert code == 0 and out.count('skipped') == len([k for k in PAPERS if 'han20' not in k]) and 'expected' in out


def test_runner_kits_survive_the_audit(smoke_all):
    "Every kit the runner's paper runs wrote (the `make reproduce` path) passes `medgan-audit-kit`'s file checks."
    from medgan_nb.reader.audit import audit_kit
    tmp, state = smoke_all
    kits = sorted(tmp.glob(f'out/*/{RUN_ID}/kits/*/kit.json'))
    assert {k.parts[-5] for k in kits} >= {'han2018', 'haarburger2019', 'korkinof2021', 'han2019'}, kits
    for k in kits:
        a = audit_kit(k.parent).set_index('attack')
        # what holds by construction whatever the secret draw: one value for every item (the order-based attacks'
        # p-values depend on the draw, and the small smoke kits are tested for them in test_blinding.py at size)
        same = ['file size', 'modification time', 'PNG chunk layout', 'compressed stream header',
                'dimensions, mode, bit depth', 'times an image is shown']
        assert (a.loc[same, 'distinct'] == 1).all() and not a.attrs['metadata_chunks'], (k, a.to_string())
