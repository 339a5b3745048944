"""Cells a reader can take in at a glance (STYLE.md): in every notebook's code cells, lines of at most 110 characters
and one statement a line (no `;` chains). `ruff format` (settings in pyproject.toml) does most of it."""
import io, tokenize
from pathlib import Path
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT/'nbs').glob('**/*.ipynb'))
MAX_LINE = 110


def code_lines(source:str) -> str:
    "A code cell's source without IPython magic and shell lines (not Python to tokenize)."
    return '\n'.join('' if l.lstrip().startswith(('%', '!')) else l for l in source.splitlines())


def style_problems(source:str) -> list:
    "Lines over MAX_LINE characters and `;` statement separators in one cell's source, as (line number, what)."
    out = [(i, f'{len(l)} characters') for i, l in enumerate(source.splitlines(), 1) if len(l) > MAX_LINE]
    toks = tokenize.generate_tokens(io.StringIO(code_lines(source)).readline)
    out += [(t.start[0], "';' chain") for t in toks if t.type == tokenize.OP and t.string == ';']
    return out


def test_style_problems_found():
    assert style_problems("a = 1; b = 2") == [(1, "';' chain")]
    assert style_problems("s = 'a; b'\n%time x = 1; y = 2") == []
    assert style_problems('x = ' + '1' * 120) == [(1, '124 characters')]


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT/'nbs')))
def test_cells_at_a_glance(nb):
    cells = [c for c in nbformat.read(nb, 4).cells if c.cell_type == 'code']
    bad = [(c.get('id'), i, what) for c in cells for i, what in style_problems(c.source)]
    assert not bad, f"{nb.name}: {len(bad)} problem(s), e.g. {bad[:5]}"
