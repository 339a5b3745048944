"README.md, the index notebook's generated cells, nbs/llms.txt and the package docstring follow the package."
import ast
from pathlib import Path
import nbformat
from medgan_nb.map import module_rows, import_edges, stale_cells, readme_text, index_from_readme

ROOT = Path(__file__).resolve().parent.parent
REDO = 'run `python -m medgan_nb.map && nbdev-export && nbdev-clean` (see nbs/92_map.ipynb)'


def _index() -> nbformat.NotebookNode:
    "The index notebook, the source of README.md."
    return nbformat.read(ROOT/'nbs'/'index.ipynb', as_version=4)


def _text(rel:str) -> str:
    "A file of the repository as text."
    return (ROOT/rel).read_text(encoding='utf-8')


def test_readme_is_generated_from_the_index_notebook():
    assert _text('README.md') == readme_text(_index()), f"README.md differs from nbs/index.ipynb: {REDO}"


def test_index_cells_follow_the_package():
    rows, edges = module_rows(ROOT/'medgan_nb'), import_edges(ROOT/'medgan_nb')
    stale = stale_cells(_index(), rows, edges)
    assert stale == [], f"nbs/index.ipynb cells {stale} do not match the modules and imports: {REDO}"


def test_every_module_is_listed_everywhere():
    modules = [r['module'] for r in module_rows(ROOT/'medgan_nb')]
    assert len(modules) > 30 and 'medgan_nb.map' in modules
    package_doc = ast.get_docstring(ast.parse(_text('medgan_nb/__init__.py')))
    for where, text in [('README.md', _text('README.md')), ('nbs/llms.txt', _text('nbs/llms.txt')),
                        ("medgan_nb/__init__.py's docstring", package_doc)]:
        missing = [m for m in modules if f'| `{m}` |' not in text]
        assert missing == [], f"{where} does not list {missing}: {REDO}"


def test_every_module_has_a_one_line_docstring():
    rows = module_rows(ROOT/'medgan_nb')
    assert [r['module'] for r in rows if len(r['doc'].splitlines()) != 1] == []
    inits = sorted((ROOT/'medgan_nb').rglob('__init__.py'))
    docs = {str(p.relative_to(ROOT)): ast.get_docstring(ast.parse(p.read_text(encoding='utf-8'))) or ''
            for p in inits}
    top = docs.pop('medgan_nb/__init__.py').split('\n')[0]
    assert top.startswith('Jupyter-first, reproducible notebook suite') and len(top.splitlines()) == 1
    assert {k: v for k, v in docs.items() if len(v.splitlines()) != 1} == {}


def test_map_figures_are_in_docs_and_the_readme():
    readme = _text('README.md')
    for name in ('map_data_path.png', 'map_modules.png'):
        assert (ROOT/'docs'/name).stat().st_size > 10_000
        assert f'](docs/{name})' in readme


def test_readme_goes_back_into_the_index_unchanged():
    nb = _index()
    assert index_from_readme(nb, _text('README.md')) == []
    assert readme_text(nb) == _text('README.md')
