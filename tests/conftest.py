"Shared pytest options: tests marked `slow` are deselected unless `--runslow` is given or MEDGAN_SLOW=1 is set."
import os
import pytest

def pytest_addoption(parser):
    parser.addoption('--runslow', action='store_true', default=False,
                     help='also run the tests marked slow (same as MEDGAN_SLOW=1)')

def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: minutes on a CPU; deselected unless --runslow or MEDGAN_SLOW=1')

def pytest_collection_modifyitems(config, items):
    if config.getoption('--runslow') or os.environ.get('MEDGAN_SLOW'): return
    slow = [item for item in items if item.get_closest_marker('slow')]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker('slow')]
