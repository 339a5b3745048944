"""Shared helpers for the paper-notebook tests.

One runner pass (`medgan_nb.reproduce.run_papers`, smoke profile) executes every paper notebook once per test
session (fixture `smoke_all` in conftest.py); each paper's tests then work on its run folder, in a folder of their
own that sees the shared outputs and data."""
import os
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN_ID = 'smoke-test'
REQUESTED = set()   # paper keys whose tests were collected ('*': all, for the runner's own tests)

def notebook(key:str) -> Path:
    "The paper notebook `nbs/papers/<key>.ipynb`."
    return ROOT/'nbs'/'papers'/f'{key}.ipynb'

def run_paper(key:str, tmp:Path, out_nb:str, threads:int=1, **params):
    "Execute paper `key` with the smoke profile into tmp/out (its embedded data in tmp/data, shared by the session)."
    import papermill as pm
    nb = notebook(key)
    params = dict(profile='smoke', out_dir=str(tmp/'out'), run_id=RUN_ID, threads=threads, **params)
    return pm.execute_notebook(str(nb), str(tmp/out_nb), parameters=params, cwd=str(nb.parent), progress_bar=False, kernel_name='python3')

def first_run_fixture(key:str, threads:int=1):
    "A module-scoped fixture: paper `key`'s smoke run from the session's runner pass; yields (its tmp folder, run folder)."
    REQUESTED.add(key)   # at collection time: the session's runner pass runs only the papers whose tests were collected
    @pytest.fixture(scope='module')
    def first_run(smoke_all):
        shared, state = smoke_all
        rec = state['papers'].get(key)
        if rec is None: pytest.fail(f"the runner did not run {key}")
        if rec['status'] != 'ok': pytest.fail(f"{key} smoke run failed in cell {rec.get('cell_index')} ({rec.get('cell_source')!r}): {rec.get('error')}")
        tmp = shared/'per_paper'/key; tmp.mkdir(parents=True)
        for name in ('out', 'data'): (tmp/name).symlink_to(shared/name, target_is_directory=True)
        yield tmp, tmp/'out'/key/RUN_ID
    return first_run
