"Session fixtures: one smoke-profile runner pass over every paper notebook (plus a broken one), shared by all paper tests."
import os, shutil, sys
from pathlib import Path
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import _papers
from _papers import ROOT, RUN_ID

BROKEN = 'aaa_broken_on_purpose'   # sorts first: the real papers must still run after it fails

@pytest.fixture(scope='session')
def smoke_all(tmp_path_factory):
    "Run `run_papers('smoke')` over a copy of nbs/papers with a failing notebook added; yields (tmp folder, runner state)."
    pytest.importorskip('papermill')
    from medgan_nb.reproduce import run_papers, _toy_notebook
    tmp = tmp_path_factory.mktemp('smoke_all')
    folder = tmp/'papers'; shutil.copytree(ROOT/'nbs'/'papers', folder)
    every = '*' in _papers.REQUESTED or not _papers.REQUESTED      # the runner's tests need all papers
    if every: _toy_notebook(folder/f'{BROKEN}.ipynb', "x = 1\nraise ValueError('broken on purpose')")
    mp = pytest.MonkeyPatch()
    mp.setenv('PYTHONPATH', os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]))
    mp.setenv('MEDGAN_PATHS_DATA_DIR', str(tmp/'data'))
    mp.setenv('MEDGAN_PROGRESS', 'text')
    state = run_papers('smoke', 'all' if every else ','.join(sorted(_papers.REQUESTED)), tmp/'out', {'*': {'threads': 2}}, folder=folder, progress=False, run_id=RUN_ID)
    yield tmp, state
    mp.undo()
