"Shared helpers for the paper-notebook tests: run a paper notebook headless with papermill on the smoke profile."
import os
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN_ID = 'smoke-test'

def notebook(key:str) -> Path:
    "The paper notebook `nbs/papers/<key>.ipynb`."
    return ROOT/'nbs'/'papers'/f'{key}.ipynb'

def run_paper(key:str, tmp:Path, out_nb:str, threads:int=1, **params):
    "Execute paper `key` with the smoke profile into tmp/out (its embedded data built into tmp/data by the fixture)."
    import papermill as pm
    nb = notebook(key)
    params = dict(profile='smoke', out_dir=str(tmp/'out'), run_id=RUN_ID, threads=threads, **params)
    return pm.execute_notebook(str(nb), str(tmp/out_nb), parameters=params, cwd=str(nb.parent), progress_bar=False, kernel_name='python3')

def first_run_fixture(key:str, threads:int=1):
    "A module-scoped fixture: one smoke run of paper `key`; yields (tmp folder, run folder)."
    @pytest.fixture(scope='module')
    def first_run(tmp_path_factory):
        tmp = tmp_path_factory.mktemp(key)
        mp = pytest.MonkeyPatch()
        mp.setenv('PYTHONPATH', os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]))
        mp.setenv('MEDGAN_PATHS_DATA_DIR', str(tmp/'data'))
        mp.setenv('MEDGAN_PROGRESS', 'text')
        run_paper(key, tmp, 'run1.ipynb', threads)
        yield tmp, tmp/'out'/key/RUN_ID
        mp.undo()
    return first_run

def check_resume_loads_models(run:Path, rerun, n_models:int):
    "Simulate a crash after training (FINISHED and metrics.json removed), call `rerun()` with resume, and check no model was retrained."
    import json
    finals = sorted((run/'checkpoints').glob('*/final.pt'))
    assert len(finals) == n_models, [p.parent.name for p in finals]
    stamps = {p: p.stat().st_mtime_ns for p in finals}
    logs = {p: p.read_bytes() for p in (run/'checkpoints').glob('*/log.jsonl')}
    (run/'FINISHED').unlink(); (run/'metrics.json').unlink()
    rerun()
    m = json.loads((run/'metrics.json').read_text())
    assert not any(v['trained_now'] for v in m['training'].values())
    assert {p: p.stat().st_mtime_ns for p in finals} == stamps
    assert {p: p.read_bytes() for p in logs} == logs

def check_finished_run_refuses(run:Path, rerun):
    "A finished run refuses to be resumed: `rerun()` fails with RunFinishedError and metrics.json is unchanged."
    import papermill as pm
    before = (run/'metrics.json').read_bytes()
    with pytest.raises(pm.PapermillExecutionError, match='RunFinishedError'): rerun()
    assert (run/'metrics.json').read_bytes() == before
