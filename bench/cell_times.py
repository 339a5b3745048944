"""Per-cell wall times of a `make reproduce` run's output notebooks (papermill's metadata), as markdown tables.

Usage: python bench/cell_times.py OUTPUTS_DIR   (the six longest cells of each paper's latest notebook)"""
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
for nb_path in sorted(out.glob('*/*/*.ipynb')):
    nb = json.loads(nb_path.read_text())
    rows = []
    for c in nb['cells']:
        d = c.get('metadata', {}).get('papermill', {}).get('duration')
        if d is None or c['cell_type'] != 'code':
            continue
        src = ''.join(c['source']).strip().split('\n')
        first = next((l for l in src if l and not l.startswith('#')), src[0] if src else '')
        rows.append((d, c.get('id'), first[:70]))
    tot = sum(r[0] for r in rows)
    env = nb_path.parent / 'env.json'   # the run's machine, as `medgan_nb.core.machine_line` wrote it there
    machine = json.loads(env.read_text()).get('machine', 'machine not recorded') if env.is_file() else 'no env.json'
    print(f"\n**{nb_path.parent.parent.name}** ({nb_path.parent.name}; {machine}): {tot:.0f} s in cells\n")
    print('| cell | s | share | first line |\n|---|---|---|---|')
    for d, i, f in sorted(rows, reverse=True)[:6]:
        print(f"| {i} | {d:.0f} | {100 * d / tot:.0f} % | `{f.replace('|', '/')}` |")
