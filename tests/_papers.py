"""Shared helpers for the paper-notebook tests.

One runner pass (`medgan_nb.reproduce.run_papers`, smoke profile) executes every paper notebook once per test
session (fixture `smoke_all` in conftest.py); each paper's tests then work on a copy of its run folder, in a folder of
their own that sees the shared data."""
import os, shutil, sys, traceback, warnings
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN_ID = 'smoke-test'
REQUESTED = set()   # paper keys whose tests were collected ('*': all, for the runner's own tests)

def kernel_threads(n:int) -> int:
    "`n` torch threads per notebook kernel, or 1 when pytest-xdist runs workers side by side (one per core)."
    return 1 if int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1')) > 1 else n

def notebook(key:str) -> Path:
    "The paper notebook `nbs/papers/<key>.ipynb`."
    return ROOT/'nbs'/'papers'/f'{key}.ipynb'

def execute_here(nb_path:Path, out_path:Path, parameters:dict, cwd:Path|None=None):
    """Run a notebook as papermill does, but in this process.

    As papermill: its parameters injected after the `parameters` cell, cells in order, the executed notebook written
    to `out_path`, the first error raised as `PapermillExecutionError` with its name, value and traceback. Unlike
    papermill, a fresh IPython shell (execnb's `CaptureShell`, as nbdev's tests use) instead of a kernel: the imports
    a kernel pays again (~9 s on the 2-core machine) are paid once per pytest worker. The working folder, environment,
    torch's thread count and open figures are put back afterwards; warnings go to the cell's output, as in a kernel.
    The runner's own path (a papermill kernel per notebook) is what the session's smoke pass and test_reproduce.py
    run. `cwd`: the folder the cells run in (None: the notebook's own, as the runner does)."""
    import nbformat, torch, matplotlib.pyplot as plt
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook
    from execnb.shell import CaptureShell
    nb = parameterize_notebook(load_notebook_node(str(nb_path)), parameters)
    env, here, threads = dict(os.environ), os.getcwd(), torch.get_num_threads()
    sh = CaptureShell(mpl_format='png')
    with warnings.catch_warnings():   # to the cell's stderr, as in a kernel, not to pytest's summary
        warnings.simplefilter('default')
        warnings.showwarning = _warning_to_stderr
        try:
            os.chdir(cwd or nb_path.parent)
            return _run_cells(sh, nb)
        finally:
            sh.close()
            os.chdir(here)
            os.environ.clear()
            os.environ.update(env)
            torch.set_num_threads(threads)
            plt.close('all')
            nbformat.write(nb, str(out_path))

def _warning_to_stderr(message, category, filename, lineno, file=None, line=None):
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

def _run_cells(sh, nb):
    "Run `nb`'s code cells in `sh`, outputs stored in the cells; the first error raised as papermill raises it."
    import nbformat, papermill as pm
    count = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != 'code': continue
        count += 1
        outs = sh.run(cell.source)
        cell.outputs, cell.execution_count = [nbformat.from_dict(dict(o)) for o in outs], count
        if sh.exc is not None:
            e = sh.exc
            tb = traceback.format_exception(type(e), e, e.__traceback__)
            raise pm.PapermillExecutionError(i, count, cell.source, type(e).__name__, str(e), tb)
    return nb

def run_paper(key:str, tmp:Path, out_nb:str, threads:int=1, **params):
    """Execute paper `key` with the smoke profile into tmp/out (its embedded data in tmp/data, shared by the session),
    in this process (`execute_here`)."""
    nb = notebook(key)
    params = {**dict(profile='smoke', out_dir=str(tmp/'out'), run_id=RUN_ID, threads=kernel_threads(threads)), **params}   # run_id etc. may be overridden
    return execute_here(nb, tmp/out_nb, params)

def first_run_fixture(key:str, threads:int=1):
    "A module-scoped fixture: paper `key`'s smoke run from the session's runner pass; yields (its tmp folder, run folder)."
    REQUESTED.add(key)   # at collection time: the session's runner pass runs only the papers whose tests were collected
    @pytest.fixture(scope='module')
    def first_run(smoke_all, tmp_path_factory):
        shared, state = smoke_all
        rec = state['papers'].get(key)
        if rec is None: pytest.fail(f"the runner did not run {key}")
        if rec['status'] != 'ok': pytest.fail(f"{key} smoke run failed in cell {rec.get('cell_index')} ({rec.get('cell_source')!r}): {rec.get('error')}")
        tmp = tmp_path_factory.mktemp(key)
        (tmp/'data').symlink_to(shared/'data', target_is_directory=True)
        shutil.copytree(shared/'out'/key, tmp/'out'/key, symlinks=True)   # its own copy: the runner's tests read the original
        yield tmp, tmp/'out'/key/RUN_ID
    return first_run

def tables(run:Path) -> dict:
    "Every table of a run folder (its CSV files), by name."
    import pandas as pd
    return {f.name: pd.read_csv(f) for f in sorted((run/'tables').glob('*.csv'))}

def check_same_tables(before:dict, after:dict):
    "Two runs' tables agree: the same tables, columns and rows, every value equal (timing columns aside)."
    import pandas as pd
    from test_smoke_tables import without_timing
    assert sorted(after) == sorted(before)
    for name, t in before.items():   # equal up to the last bits of a sum (a BLAS thread count may differ)
        pd.testing.assert_frame_equal(without_timing(after[name]), without_timing(t), rtol=1e-9, atol=1e-12, obj=name)

def check_resume_after_a_kill(run:Path, rerun, n_models:int, lost:int=1):
    """Simulate a kill while the `lost`-th model (0-based, in training order) trained, before its first checkpoint:
    FINISHED and metrics.json removed, that model's folder gone. `rerun()` resumes: only that model trains again, from
    the start weights the uninterrupted run gave it; the others are loaded untouched; and every table equals the
    uninterrupted run's (timing columns aside)."""
    import json
    finals = sorted((run/'checkpoints').glob('*/final.pt'), key=lambda p: p.stat().st_mtime_ns)   # training order
    assert len(finals) == n_models, [p.parent.name for p in finals]
    gone = finals.pop(lost).parent
    stamps = {p: p.stat().st_mtime_ns for p in finals}
    logs = {p: p.read_bytes() for p in (run/'checkpoints').glob('*/log.jsonl') if p.parent != gone}
    before = tables(run)
    (run/'FINISHED').unlink(); (run/'metrics.json').unlink(); shutil.rmtree(gone)
    rerun()
    m = json.loads((run/'metrics.json').read_text())
    assert sum(v['trained_now'] for v in m['training'].values()) == 1 and (gone/'final.pt').is_file(), gone.name
    assert {p: p.stat().st_mtime_ns for p in finals} == stamps
    assert {p: p.read_bytes() for p in logs} == logs
    check_same_tables(before, tables(run))

def check_finished_run_refuses(run:Path, rerun):
    "A finished run refuses to be resumed: `rerun()` fails with RunFinishedError and metrics.json is unchanged."
    import papermill as pm
    before = (run/'metrics.json').read_bytes()
    with pytest.raises(pm.PapermillExecutionError, match='RunFinishedError'): rerun()
    assert (run/'metrics.json').read_bytes() == before

def check_parameters_cell(key:str, required:set):
    "Every parameter of paper `key` is visible to papermill (no parse warning), commented, and `required` are all declared."
    import warnings, papermill as pm
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        declared = pm.inspect_notebook(str(notebook(key)))
    assert required <= set(declared), sorted(required - set(declared))
    assert all(v['help'] for v in declared.values()), [k for k, v in declared.items() if not v['help']]

def paper_tests(key:str, threads:int=1, n_models:int|None=None):
    "A paper test module's common parts: (notebook, rerun(tmp, out_nb, **params), first-run fixture, resume test, finished-run test)."
    rerun = lambda tmp, out_nb, threads=threads, **params: run_paper(key, tmp, out_nb, threads=threads, **params)
    def test_resume_after_a_kill_gives_the_same_tables(first_run):
        tmp, run = first_run   # 1 thread, as the session's runner pass trained the others
        check_resume_after_a_kill(run, lambda: rerun(tmp, 'run2.ipynb', resume=True, threads=1), n_models=n_models)
    def test_finished_run_is_not_overwritten(first_run):
        tmp, run = first_run
        check_finished_run_refuses(run, lambda: rerun(tmp, 'run3.ipynb', resume=True))
    return (notebook(key), rerun, first_run_fixture(key, threads=threads), test_resume_after_a_kill_gives_the_same_tables,
            test_finished_run_is_not_overwritten)
