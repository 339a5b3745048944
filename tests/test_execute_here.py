"""The in-process notebook executor the paper tests use (`_papers.execute_here`): it must behave as papermill does where
the tests look (parameters injected, outputs written, the first error raised as `PapermillExecutionError` with its
name and value) and leave nothing of the notebook's state behind (working folder, environment, torch threads, the
warnings it raised)."""
import json, os, warnings
import pytest

pm = pytest.importorskip('papermill')
from _papers import execute_here
from medgan_nb.reproduce import _toy_notebook

BODY = """import os, warnings, torch
torch.set_num_threads(1)
os.environ['MEDGAN_TOY'] = profile
os.chdir('/')
warnings.warn('a warning for the reader of the notebook')
print('profile', profile)
if profile == 'bad': raise ValueError(f'stop here, profile {profile!r}')
"""

def test_parameters_outputs_and_state_put_back(tmp_path):
    nb = tmp_path/'toy.ipynb'
    _toy_notebook(nb, BODY)
    here, threads = os.getcwd(), __import__('torch').get_num_threads()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('always')
        execute_here(nb, tmp_path/'out.ipynb', dict(profile='smoke'), tmp_path)
    out = json.loads((tmp_path/'out.ipynb').read_text())
    text = ''.join(t for c in out['cells'] for o in c.get('outputs', []) for t in o.get('text', []))
    assert 'profile smoke' in text and 'a warning for the reader' in text      # the warning is the cell's output
    assert not seen and os.getcwd() == here and 'MEDGAN_TOY' not in os.environ
    assert __import__('torch').get_num_threads() == threads
    assert any('injected-parameters' in c['metadata'].get('tags', []) for c in out['cells'])

def test_first_error_raised_as_papermill_raises_it(tmp_path):
    nb = tmp_path/'toy.ipynb'
    _toy_notebook(nb, BODY)
    with pytest.raises(pm.PapermillExecutionError, match="stop here, profile 'bad'") as e:
        execute_here(nb, tmp_path/'out.ipynb', dict(profile='bad'), tmp_path)
    assert (e.value.ename, e.value.evalue, e.value.exec_count) == ('ValueError', "stop here, profile 'bad'", 3)
    assert (tmp_path/'out.ipynb').is_file() and 'MEDGAN_TOY' not in os.environ
