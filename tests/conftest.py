"""Shared pytest set-up.

- Tests marked `slow` are deselected unless `--runslow` is given or MEDGAN_SLOW=1 is set.
- `smoke_all`: one smoke-profile runner pass over the paper notebooks (plus a broken one), shared by all paper tests;
  under pytest-xdist the first worker that needs it runs it and the others wait for it (a file lock in the session's
  shared temporary folder).
- `make test` runs pytest-xdist with one worker more than the machine has cores (`-n 3` on 2 cores) and `--dist
  loadscope --no-loadscope-reorder`; with `loadscope` each test module
  is one unit of work here (its module fixtures are built once, a paper module's tests run in order on one copy of
  its run folder) and each library notebook another. Units go out in collection order, which puts first the
  longest paper module (its worker runs the runner pass while the other works through the other tests and the
  notebooks, longest first) and the remaining paper modules last, longest first."""
import json, os, shutil, sys, tempfile
from pathlib import Path
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import _papers
from _papers import ROOT, RUN_ID
from medgan_nb.reproduce import _skip_slow_iri_checker

# nbformat validates with jsonschema, whose IRI format checker builds a grammar at import (~1.5 s a process): the
# workers skip it, as the runner's own processes do (nothing here checks IRIs)
_skip_slow_iri_checker()

BLAS_THREADS = ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS')
BROKEN = 'aaa_broken_on_purpose'   # sorts first: the real papers must still run after it fails

@pytest.fixture(scope='session')
def smoke_all(tmp_path_factory):
    "Run `run_papers('smoke')` over a copy of nbs/papers with a failing notebook added; yields (tmp folder, runner state)."
    pytest.importorskip('papermill')
    from filelock import FileLock
    from medgan_nb.reproduce import run_papers, _toy_notebook
    base = tmp_path_factory.getbasetemp()
    if os.environ.get('PYTEST_XDIST_WORKER'): base = base.parent       # the folder all workers of this session share
    tmp = base/'smoke_all'
    mp = pytest.MonkeyPatch()
    mp.setenv('PYTHONPATH', os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]))
    mp.setenv('MEDGAN_PATHS_DATA_DIR', str(tmp/'data'))
    mp.setenv('MEDGAN_PROGRESS', 'text')
    with FileLock(str(base/'smoke_all.lock')):
        if not (tmp/'state.json').is_file():
            folder = tmp/'papers'; shutil.copytree(ROOT/'nbs'/'papers', folder)
            every = '*' in _papers.REQUESTED or not _papers.REQUESTED      # the runner's tests need all papers
            if every: _toy_notebook(folder/f'{BROKEN}.ipynb', "x = 1\nraise ValueError('broken on purpose')")
            papers = 'all' if every else ','.join(sorted(_papers.REQUESTED))
            # 1 torch thread and 1 BLAS thread, as the stored smoke tables were written (store_smoke_tables.py): one
            # thread a kernel keeps the results independent of what the other worker runs, and two threads beside a
            # busy worker only oversubscribe the two cores
            with pytest.MonkeyPatch.context() as blas:
                for var in BLAS_THREADS: blas.setenv(var, '1')
                # one paper at a time (jobs=1): the other pytest worker already has the second core
                state = run_papers('smoke', papers, tmp/'out', {'*': {'threads': 1}}, folder=folder,
                                   progress=False, run_id=RUN_ID, jobs=1)
            (tmp/'state.json').write_text(json.dumps(state))
    yield tmp, json.loads((tmp/'state.json').read_text())
    mp.undo()

def pytest_addoption(parser):
    parser.addoption('--runslow', action='store_true', default=False,
                     help='also run the tests marked slow (same as MEDGAN_SLOW=1)')

def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: minutes on a CPU; deselected unless --runslow or MEDGAN_SLOW=1')
    if (getattr(config.option, 'numprocesses', None) or 0) > 1 or int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1')) > 1:
        for var in BLAS_THREADS:               # one thread per worker, one worker per core (set before they start)
            os.environ.setdefault(var, '1')
    if 'MEDGAN_CACHE_DIR' not in os.environ:   # an empty cache of the session's own (core.cache_dir): no run is
        own = tempfile.mkdtemp(prefix='medgan-cache-')   # faster for an earlier one, and nothing goes into ~/.cache
        os.environ['MEDGAN_CACHE_DIR'] = config._medgan_own_cache = own   # the workers inherit it

def pytest_unconfigure(config):
    own = getattr(config, '_medgan_own_cache', None)
    if own: shutil.rmtree(own, ignore_errors=True)

def _is_paper_module(items:list) -> bool: return any('smoke_all' in i.fixturenames for i in items)

def pytest_collection_modifyitems(config, items):
    if not (config.getoption('--runslow') or os.environ.get('MEDGAN_SLOW')):
        slow = [item for item in items if item.get_closest_marker('slow')]
        if slow:
            config.hook.pytest_deselected(items=slow)
            items[:] = [item for item in items if not item.get_closest_marker('slow')]
    modules = {}
    for item in items: modules.setdefault(item.path, []).append(item)
    papers = sorted((m for m in modules.values() if _is_paper_module(m)), key=_cost, reverse=True)
    rest = sorted((m for m in modules.values() if not _is_paper_module(m)), key=_cost, reverse=True)
    for m in rest:
        if m[0].path.name == NOTEBOOKS: m.sort(key=lambda i: -NOTEBOOK_COST.get(i.name.partition('[')[2][:-1], 0))
    items[:] = [i for m in papers[:1] + rest + papers[1:] for i in m]

# Seconds a module's tests took on the 2-core machine (pytest-xdist, 2 workers, junit times of a full run at da0911e,
# 2026-12-06), rounded: units go out longest first (within the paper modules and within the rest), so that short ones
# fill the end of the run. A module not listed counts as short; the notebooks, one unit each, come right after the
# listed modules of at least 20 s. test_papers_han2019 holds the runner's smoke pass (~130 s) that every paper module
# waits for: it goes first.
COST = {'test_papers_han2019.py': 151, 'test_reproduce.py': 84, 'test_classifier_nproc.py': 52, 'test_installed.py': 43,
        'test_train_nproc.py': 30, 'test_evaluate.py': 29, 'test_paper_dry.py': 26, 'test_reader_html.py': 26,
        'test_papers_haarburger2019_duke.py': 26, 'test_papers_korkinof2021.py': 25, 'test_foundation.py': 21,
        'test_papers_han2019_review.py': 18, 'test_gan_resume.py': 18, 'test_bench_gpu.py': 17,
        'test_papers_han2018.py': 16, 'test_papers_haarburger2019.py': 15, 'test_brain_store.py': 15,
        'test_gan_ddp.py': 14, 'test_papers_korkinof2021_review.py': 13, 'test_metrics_fid.py': 11,
        'test_papers_brain_grades.py': 10, 'test_data_build.py': 9, 'test_io_readers.py': 8}

NOTEBOOK_COST = {'54_papers.han2019': 40, '30_metrics.fid': 22, 'evaluate': 14, '90_reproduce': 12,
                 '31_metrics.samples': 11, '32_metrics.moments': 11, '23_train': 10, '19_data.build': 7,
                 '14_data.prep.mammo': 7}   # the longest library notebooks (same run), seconds

def _cost(module_items:list) -> float:
    "A module's expected seconds (COST; a little under the listed ones for the notebooks, 1 for the rest)."
    return COST.get(module_items[0].path.name, 20 if module_items[0].path.name == NOTEBOOKS else 1)

NOTEBOOKS = 'test_notebooks.py'
try: from xdist.scheduler import LoadScopeScheduling
except ImportError: LoadScopeScheduling = None
if LoadScopeScheduling is not None:
    class ModuleScheduling(LoadScopeScheduling):
        "pytest-xdist's `loadscope`, with each test module one unit of work and each library notebook another."
        def _split_scope(self, nodeid:str) -> str:
            return nodeid if nodeid.startswith(f'tests/{NOTEBOOKS}::test_notebook[') else nodeid.split('::', 1)[0]

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(config, log):
        if config.getvalue('dist') == 'loadscope': return ModuleScheduling(config, log)
