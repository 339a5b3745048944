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
    # Han 2019 is resumed: of the four, the quickest notebook to run again but for its training (Haarburger: ~20 CPU-s)
    key = 'han2019' if 'han2019' in PAPERS else PAPERS[0]
    other = next(k for k in PAPERS if k != key)
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


# Papers at a time (`--jobs`, issue 22), on toy notebooks: a few seconds each, no real paper.
import os, signal, subprocess, sys, time
from medgan_nb import reproduce
from medgan_nb.reproduce import _toy_notebook, parse_overrides, print_summary, RunnerError, THREAD_VARS

_TOY = """import json, os, time
from pathlib import Path
run = Path(out_dir, '{key}', run_id)
t0 = time.time()
(run / 'started').write_text(str(os.getpid()))
{wait}
rec = dict(start=t0, end=time.time())
{probe}
(run / 'times.json').write_text(json.dumps(rec))
(run / 'FINISHED').write_text('x')"""
_PROBE = """import torch
from medgan_nb.core import environment_info
if threads:
    torch.set_num_threads(threads)
rec.update(torch_threads=torch.get_num_threads(), env=environment_info()['thread_env'])"""


def _toys(folder:Path, wait='time.sleep(2)', broken=(), probe=False) -> Path:
    "Toy papers a and b in `folder`: each waits, then records its times (and with `probe` its threads)."
    folder.mkdir(parents=True, exist_ok=True)
    for k in 'ab':
        body = _TOY.format(key=k, wait=wait, probe=_PROBE if probe else '')
        _toy_notebook(folder/f'{k}.ipynb', "raise ValueError('broken on purpose')" if k in broken else body,
                      'threads: int = None')
    return folder


def _run_json(out:Path, state:dict, key:str, name:str) -> dict:
    return json.loads((out/key/state['papers'][key]['run_id']/name).read_text())


def test_jobs_default_two_papers_at_once_with_cores_over_jobs_threads(tmp_path, monkeypatch):
    "Default jobs: one paper per core, at most one per paper (4 cores, 2 papers: 2 at a time, 2 threads each)."
    if __import__('torch').cuda.is_available(): pytest.skip('the default is one paper at a time on a GPU')
    monkeypatch.setattr(reproduce, 'cpu_cores', lambda: 4)
    out = tmp_path/'out'
    state = run_papers('smoke', outputs_dir=out, folder=_toys(tmp_path/'nbs', probe=True), progress=False)
    assert [state['papers'][k]['status'] for k in 'ab'] == ['ok', 'ok'], state
    a, b = (_run_json(out, state, k, 'times.json') for k in 'ab')
    assert max(a['start'], b['start']) < min(a['end'], b['end']), (a, b)   # the two ran at the same time
    for t in (a, b):   # torch's threads and the thread variables, as env.json records them
        assert t['torch_threads'] == 2 and t['env'] == {'MEDGAN_JOBS': '2', **dict.fromkeys(THREAD_VARS, '2')}, t
    event = _run_json(out, state, 'a', 'runner.json')['history'][-1]
    assert (event['event'], event['jobs'], event['threads']) == ('start', 2, 2), event
    saved = json.loads((out/'reproduce_smoke.json').read_text())    # one writer: complete and valid at the end
    assert saved['papers'] == state['papers'] and {v['status'] for v in saved['papers'].values()} == {'ok'}


def test_jobs_threads_given_win(tmp_path, monkeypatch):
    "`-p threads=3` wins over cores // jobs, in torch and in the thread variables."
    monkeypatch.setattr(reproduce, 'cpu_cores', lambda: 4)
    out, ov = tmp_path/'out', parse_overrides(['threads=3'], papers=['a', 'b'])
    nbs = _toys(tmp_path/'nbs', wait='pass', probe=True)
    state = run_papers('smoke', outputs_dir=out, overrides=ov, folder=nbs, progress=False, jobs=2)
    for k in 'ab':
        t = _run_json(out, state, k, 'times.json')
        assert t['torch_threads'] == 3 and t['env']['OMP_NUM_THREADS'] == '3', t
        assert _run_json(out, state, k, 'runner.json')['history'][-1]['threads'] == 3


def test_jobs_failing_paper_does_not_stop_the_other(tmp_path, capsys):
    out = tmp_path/'out'
    state = run_papers('smoke', outputs_dir=out, folder=_toys(tmp_path/'nbs', broken='a'), progress=False, jobs=5)
    bad, good = state['papers']['a'], state['papers']['b']                 # 5 jobs for 2 papers: fine
    assert bad['status'] == 'failed' and 'broken on purpose' in bad['error'] and bad['cell_index'] == 2, bad
    assert good['status'] == 'ok' and (out/'b'/good['run_id']/'FINISHED').exists(), good
    assert json.loads((out/'reproduce_smoke.json').read_text())['papers'] == state['papers']
    print_summary(state)
    assert "failed in cell 2" in capsys.readouterr().out


@pytest.mark.parametrize('jobs', ['0', '-1', 'two', '1.5'])
def test_jobs_bad_value_refused(tmp_path, capsys, jobs):
    assert main(['--profile', 'smoke', '--outputs-dir', str(tmp_path/'out'), '--jobs', jobs]) == 2
    err = capsys.readouterr().err
    assert f"--jobs={jobs!r}: expected a whole number of papers at a time" in err, err
    assert not (tmp_path/'out').exists()
    with pytest.raises(RunnerError, match=r"jobs=0: expected a whole number"):
        run_papers('smoke', outputs_dir=tmp_path/'out', folder=_toys(tmp_path/'nbs'), jobs=0)


def test_jobs_longest_first_by_the_last_runs_times(tmp_path, monkeypatch):
    """With 2 jobs the papers start longest first: by the wall times of the state file's last run where every paper
    has one (b before a here, against the notebooks' order), else in `TYPICAL_ORDER` (toys: the notebooks' order)."""
    started = []
    def parallel(todo, plans, outputs_dir, state, *a):   # what would start, in order; nothing runs
        started.append(list(todo))
        state['papers'].update({k: {'status': 'failed', 'run_id': plans[k]['run_id']} for k in todo})
    monkeypatch.setattr(reproduce, '_run_parallel', parallel)
    out, nbs = tmp_path/'out', _toys(tmp_path/'nbs')
    run = lambda: run_papers('smoke', outputs_dir=out, folder=nbs, progress=False, jobs=2)
    run()
    out.joinpath('reproduce_smoke.json').write_text(json.dumps({'profile': 'smoke', 'papers': {
        k: {'status': 'ok', 'run_id': None, 'notebook': None, 'resumed': False, 'wall_s': s}
        for k, s in (('a', 1.5), ('b', 7.0))}}))
    run()
    assert started == [['a', 'b'], ['b', 'a']], started


def _gone(pid:int) -> bool:
    "The process has ended (a zombie counts as ended)."
    try: return Path(f'/proc/{pid}/stat').read_text().split(')')[-1].split()[0] == 'Z'
    except (FileNotFoundError, ProcessLookupError): return True


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=['ctrl-c', 'kill', 'kill-9'])
def test_jobs_interrupted_runner_leaves_papers_resumable(tmp_path, sig):
    """Ctrl-C, a kill or a kill -9 of the runner stops both jobs and their kernels; the state says running; a rerun
    continues (the runner's lock freed with it). While it ran, a second runner of the same outputs was refused."""
    out, nbs = tmp_path/'out', _toys(tmp_path/'nbs', wait="while not Path(out_dir, 'go').exists(): time.sleep(0.1)")
    code = (f"from medgan_nb.reproduce import run_papers\n"
            f"run_papers('smoke', outputs_dir={str(out)!r}, folder={str(nbs)!r}, progress=False, jobs=2)")
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')])}
    err = open(tmp_path/'runner.err', 'w')
    sigint = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)   # as from a terminal, even if pytest ignores it
    runner = subprocess.Popen([sys.executable, '-c', code], env=env, stdout=err, stderr=subprocess.STDOUT,
                              preexec_fn=sigint)
    t0 = time.time()
    while len(list(out.glob('*/*/started'))) < 2:
        assert runner.poll() is None and time.time() - t0 < 120, 'the two toy papers did not start'
        time.sleep(0.2)
    kernels = [int(p.read_text()) for p in out.glob('*/*/started')]
    # a second runner on the same outputs and profile (another terminal, `make reproduce` again) is refused at once:
    # it would continue the 'running' papers in the same folders beside their kernels
    with pytest.raises(RunnerError, match=rf"another medgan-reproduce is running .*\(pid {runner.pid} on "):
        run_papers('smoke', outputs_dir=out, folder=nbs, progress=False, jobs=2)
    assert sorted(int(p.read_text()) for p in out.glob('*/*/started')) == sorted(kernels)   # no kernel of its own
    runner.send_signal(sig)
    try: assert runner.wait(90) != 0
    except subprocess.TimeoutExpired:
        logs = [p.read_text()[-1500:] for p in [tmp_path/'runner.err', *out.glob('*/*/runner.log')]]
        subprocess.run(['ps', '-o', 'pid,ppid,stat,etime,args', '--ppid', str(runner.pid)])
        runner.kill()
        raise AssertionError('the runner did not stop within 90 s of the signal:\n' + '\n----\n'.join(logs))
    t0 = time.time()
    while not all(map(_gone, kernels)) and time.time() - t0 < 30: time.sleep(0.2)
    assert all(map(_gone, kernels)), 'a kernel outlived the interrupted runner'
    state = json.loads((out/'reproduce_smoke.json').read_text())
    assert [state['papers'][k]['status'] for k in 'ab'] == ['running', 'running'], state
    (out/'go').write_text('')
    again = run_papers('smoke', outputs_dir=out, folder=nbs, progress=False, jobs=1)   # another jobs count: fine
    for k in 'ab':
        rec = again['papers'][k]
        assert (rec['status'], rec['resumed'], rec['run_id']) == ('ok', True, state['papers'][k]['run_id']), rec


def test_jobs_signals_noted_not_raised():
    "The runner's handler (main thread) notes SIGTERM, puts the handlers back, and leaves an ignored SIGINT ignored."
    from medgan_nb.reproduce import _signals_to_flag
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with _signals_to_flag() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.1)
    assert stop == [signal.SIGTERM]
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with _signals_to_flag():
            assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before[0])


def test_kernel_that_dies_at_start_is_started_again(tmp_path, monkeypatch, capsys):
    """A real kernel dies before it replies: its shell port is one this test holds open ("Address already in use", as
    when another kernel took the port jupyter_client had picked for it; seen on a fresh clone running two papers at
    once). Nothing ran, so the runner starts another kernel, which runs the notebook; the log says so."""
    import socket
    import medgan_nb.reproduce as rp
    from medgan_nb.reproduce import _run_notebook, _toy_notebook
    nb = tmp_path/'toy.ipynb'
    _toy_notebook(nb, "x = 6 * 7\nprint('answer', x)")
    real, starts = rp.papermill_options, []
    with socket.socket() as held:
        held.bind(('127.0.0.1', 0)); held.listen()
        def taken_once():                   # the first kernel is told to bind the held port
            opts = real()
            if not starts:                 # (cache_ports off: else jupyter_client picks ports of its own)
                opts['config'].KernelManager.update(shell_port=held.getsockname()[1], cache_ports=False)
            starts.append(1)
            return opts
        monkeypatch.setattr(rp, 'papermill_options', taken_once)
        rec = _run_notebook(nb, tmp_path/'out.ipynb', {}, tmp_path/'outputs', False, {})
    assert rec['status'] == 'ok' and len(starts) == 2, rec
    assert 'toy: Kernel died before replying to kernel_info (start 1 of 3); starting it again' in capsys.readouterr().err
    outputs = [o for c in json.loads((tmp_path/'out.ipynb').read_text())['cells'] for o in c.get('outputs', [])]
    assert any('answer 42' in ''.join(o.get('text', '')) for o in outputs)
