"""Run an nbdev notebook's code cells in plain Python, in order, in one namespace — for machines without Jupyter.

Cells tagged `#| slow`, `#| gpu` or `#| notest` are skipped unless their flag is given (`notest` never runs), as
`nbdev-test --flags` does; so are `#| eval: false` cells and IPython magics / shell lines. Used to run the `#| gpu` cells on a lent GPU machine, whose image has PyTorch but no Jupyter:
`python tests/run_notebook.py nbs/21_models.pggan.ipynb --flags gpu`. Exit status 1 names the failing cell.
"""
import argparse, json, re, sys, time, traceback
from pathlib import Path

def cell_flags(src:str) -> set:
    "The `#| flag` directives of a cell that are test flags."
    return {m.group(1) for m in re.finditer(r'^#\|\s*(slow|gpu|notest)\b', src, re.M)}

def runnable(src:str, flags:set) -> str|None:
    "The cell's code to run under `flags`, or None when it is skipped; lines of IPython magic (`%`, `!`) are dropped."
    f = cell_flags(src)
    if 'notest' in f or not f <= flags or re.search(r'^#\|\s*eval:\s*false\b', src, re.M): return None
    return '\n'.join(l for l in src.splitlines() if not l.lstrip().startswith(('%', '!')))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('notebooks', nargs='+', type=Path); ap.add_argument('--flags', default='', help='comma-separated: slow,gpu')
    a = ap.parse_args(); flags = set(filter(None, a.flags.split(',')))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    for nb in a.notebooks:
        cells = [''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code']
        ns, t0, ran = {'__name__': '__main__'}, time.perf_counter(), 0
        for i, src in enumerate(cells):
            code = runnable(src, flags)
            if code is None: continue
            try: exec(compile(code, f'{nb}#cell{i}', 'exec'), ns); ran += 1
            except Exception:
                traceback.print_exc(); print(f"FAILED: {nb}, code cell {i}:\n{src[:800]}"); sys.exit(1)
        print(f"ok: {nb} ({ran} of {len(cells)} code cells, flags {sorted(flags)}, {time.perf_counter() - t0:.1f} s)")

if __name__ == '__main__': main()
