"""Every library notebook's tests, one pytest test per notebook, run as `nbdev-test` runs them (nbdev's own `test_nb`,
the same notebooks, skip flags and cell timeout from pyproject.toml), so that `make test` spreads notebooks and the
other tests over both cores with pytest-xdist. A failing notebook's test shows the cell and the traceback nbdev
prints; `nbdev-test` still runs them on its own."""
import pytest
from nbdev.config import get_config
from nbdev.doclinks import nbglob
from nbdev.test import test_nb as run_notebook_tests

CFG = get_config()
NOTEBOOKS = [p.absolute() for p in sorted(nbglob(as_path=True)) if not (p.parent/'.notest').exists()]
SKIP_FLAGS = CFG.tst_flags.split() if isinstance(CFG.tst_flags, str) else list(CFG.tst_flags)

def test_the_notebooks_are_those_nbdev_test_runs():
    assert len(NOTEBOOKS) >= 30 and all(p.parent == CFG.nbs_path for p in NOTEBOOKS), NOTEBOOKS
    assert not [p.name for p in NOTEBOOKS if p.name.startswith(('_', '.'))] and SKIP_FLAGS == ['notest', 'slow', 'gpu']

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook(nb):
    ok, _ = run_notebook_tests(nb, skip_flags=SKIP_FLAGS, basepath=CFG.config_path, cell_timeout=CFG.cell_timeout or None)
    assert ok, f"{nb.name}: a cell failed (its traceback is in the captured stderr)"
