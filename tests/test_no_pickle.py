"""No pickle anywhere: the package, its notebooks and the tests never load a file with pickle (every
`torch.load` says `weights_only=True`, no `np.load(allow_pickle=True)`, no pickle/dill/joblib/shelve module),
so opening a checkpoint, a cache entry or a weights file from someone else cannot run their code."""
import json, re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = [
    (re.compile(r'weights_only\s*=\s*False'), 'weights_only=False'),
    (re.compile(r'allow_pickle\s*=\s*True'), 'allow_pickle=True'),
    (re.compile(r'^\s*(import|from)\s+(c?pickle|_pickle|dill|cloudpickle|joblib|shelve)\b', re.M),
     'a pickle module imported'),
    (re.compile(r'\b(c?pickle|dill|cloudpickle|joblib)\.(loads?|dumps?|Unpickler|Pickler)\b'), 'pickle used'),
    (re.compile(r'\b(read_pickle|to_pickle)\('), 'pandas pickle'),
]
TORCH_LOAD = re.compile(r'torch\.load\(')


def _statement(src:str, start:int) -> str:
    "The text of the call that opens at `start` (up to its closing parenthesis)."
    depth = 0
    for i in range(src.index('(', start), len(src)):
        depth += {'(': 1, ')': -1}.get(src[i], 0)
        if depth == 0: return src[start:i + 1]
    return src[start:]


def problems(src:str) -> list:
    "Every forbidden pattern in `src`, and every `torch.load(` call without `weights_only=True`."
    out = [what for rx, what in FORBIDDEN if rx.search(src)]
    for m in TORCH_LOAD.finditer(src):
        call = _statement(src, m.start())
        if not re.search(r'weights_only\s*=\s*True', call): out.append(f'unsafe call {call[:60]!r}')
    return out


def _code(path:Path) -> str:
    "A .py file's text, or the code cells of a notebook."
    if path.suffix == '.py': return path.read_text()
    cells = json.loads(path.read_text())['cells']
    return '\n'.join(''.join(c['source']) for c in cells if c['cell_type'] == 'code')


def test_the_scanner_catches_each_kind():
    unsafe = problems("x = torch.load(p, map_location='cpu')\n")
    assert unsafe == ['unsafe call "torch.load(p, map_location=\'cpu\')"']
    assert problems("x = torch.load(p,\n    weights_only=True)") == []
    assert problems("torch.load(p, weights_only=False)")[0] == 'weights_only=False'
    assert problems("import pickle\n") == ['a pickle module imported']
    assert problems("np.load(f, allow_pickle=True)") == ['allow_pickle=True']
    assert problems("df = pd.read_pickle(p)") == ['pandas pickle']
    assert problems("joblib.load(p)") == ['pickle used']
    assert problems("'only tensors, no pickle'") == []


def test_no_pickle_in_package_notebooks_or_tests():
    files = [*sorted((ROOT/'medgan_nb').rglob('*.py')), *sorted((ROOT/'nbs').rglob('*.ipynb')),
             *sorted((ROOT/'tests').glob('*.py'))]
    files = [f for f in files if f.name != Path(__file__).name and '.ipynb_checkpoints' not in f.parts]
    assert len(files) > 50
    found = {str(f.relative_to(ROOT)): p for f in files if (p := problems(_code(f)))}
    assert not found, found
