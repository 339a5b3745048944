"""The `paper` profile, dry run (`make paper-dry`): every paper notebook at the papers' image sizes and
architectures on a small generated data set, every training phase cut to `--cap` steps
(`max_steps_per_phase`), so that every stage, table, figure and reader-kit cell runs on a 2-core CPU. The data
sizes and evaluation counts are those of bench/paper_dry.yaml.

The small data set (the smoke-size brain and breast phantoms; Korkinof's notebook builds its mammograms itself
at the paper profile's DICOM size) goes to its own folder (`--data-dir`, default data/paper-dry), the runs to
their own outputs folder and run id (default outputs/paper-dry, `dry-<UTC time>`), so that a dry run never
touches the data or the runs of a real one. Each notebook runs through the runner (`medgan-reproduce --profile
paper`) in a process of its own; its wall time and the peak RSS of its largest process (the notebook's kernel)
are printed, and with `--record` appended to bench/RESULTS.md with the machine, the command and the commit."""

import argparse, datetime, json, os, resource, shlex, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / 'bench' / 'paper_dry.yaml'
ORDER = ('han2018', 'haarburger2019', 'han2019', 'korkinof2021')  # smallest first


def measured(cmd: list, env: dict, timeout: float | None) -> dict:
    "Run `cmd` in a process of its own: wall time (s), exit status, peak RSS (MiB) of its largest process."
    child = [sys.executable, __file__, '--measure', json.dumps([cmd, timeout])]
    t0 = time.perf_counter()
    out = subprocess.run(child, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    return {**json.loads(out.stdout.strip().splitlines()[-1]), 'wall_s': time.perf_counter() - t0}


def _measure(arg: str):
    "Child side of `measured`: run the command, print its exit status and its largest process's peak RSS."
    import psutil

    cmd, timeout = json.loads(arg)
    proc = subprocess.Popen(cmd, stdout=sys.stderr)
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:  # the runner and its notebook kernel: the whole tree
        tree = psutil.Process(proc.pid).children(recursive=True) + [psutil.Process(proc.pid)]
        hwm = max(map(_peak_kib, tree))  # the kernel, orphaned by the kill, would not be counted below
        for p in tree:
            p.kill()
        psutil.wait_procs(tree)
        proc.wait()
        rc = 'timeout'
    peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, hwm if rc == 'timeout' else 0)
    print(json.dumps({'rc': rc, 'peak_rss_mib': peak / 1024}))


def _peak_kib(p) -> int:
    "A running process's peak RSS so far (VmHWM, KiB), 0 if it is gone."
    try:
        return next(int(x.split()[1]) for x in open(f'/proc/{p.pid}/status') if x.startswith('VmHWM'))
    except (OSError, StopIteration):
        return 0


def last_cell(outputs: Path, key: str, run_id: str) -> str:
    "Where a run stopped: the runner's record of the failed cell, else the cell running when it was stopped."
    state = outputs / 'reproduce_paper.json'
    rec = json.loads(state.read_text())['papers'].get(key, {}) if state.is_file() else {}
    if rec.get('status') == 'failed':
        return f"cell {rec.get('cell_index')} ({rec.get('cell_source')!r}): {rec.get('error')}"
    nb = outputs / key / run_id / f'{key}.ipynb'
    cells = json.loads(nb.read_text())['cells'] if nb.is_file() else []
    for i, c in enumerate(cells):
        pm = c.get('metadata', {}).get('papermill', {})
        if pm.get('status') == 'running':
            first = ''.join(c['source']).strip().splitlines()[0][:60]
            return (
                f"cell {i} (id {c.get('id')}, {first!r}) running since {pm.get('start_time', '?')[11:19]} UTC"
            )
    return ''


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--cap', type=int, default=2, help='max_steps_per_phase (default 2)')
    ap.add_argument('--papers', default='all', help="'all' or comma-separated paper keys")
    ap.add_argument('--data-dir', default='data/paper-dry', help='folder of the small data set')
    ap.add_argument('--outputs-dir', default='outputs/paper-dry')
    ap.add_argument('--run-id', default=None, help='default: dry-<UTC time>')
    ap.add_argument('--timeout', type=float, default=None, help='seconds per notebook (default: none)')
    ap.add_argument('--record', action='store_true', help='append the figures to bench/RESULTS.md')
    ap.add_argument('--measure', help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.measure:
        return _measure(a.measure)
    papers = ORDER if a.papers == 'all' else tuple(a.papers.split(','))
    run_id = a.run_id or datetime.datetime.now(datetime.timezone.utc).strftime('dry-%Y%m%d-%H%M%S')
    data, outputs = (ROOT / a.data_dir).resolve(), (ROOT / a.outputs_dir).resolve()
    env = {**os.environ, 'MEDGAN_PATHS_DATA_DIR': str(data), 'PYTHONPATH': str(ROOT)}
    bin_dir = Path(sys.executable).parent
    build = [str(bin_dir / 'medgan-build-data'), '--profile', 'smoke', '--data-dir', str(data)]
    build += ['--parts', 'brain', 'breast', '--verify', 'size']
    if a.record:
        record_head(a, run_id)
    rows = [dict(step='build data (smoke-size brain and breast phantoms)', **measured(build, env, a.timeout))]
    print(rows[-1], flush=True)
    if a.record:
        record_row(rows[-1])
    for key in papers:
        cmd = [sys.executable, '-m', 'medgan_nb.reproduce', '--profile', 'paper', '--papers', key]
        cmd += ['--outputs-dir', str(outputs), '--params-file', str(PARAMS), '--run-id', run_id]
        cmd += ['-p', f'max_steps_per_phase={a.cap}']
        r = measured(cmd, env, a.timeout)
        rows.append(dict(step=key, **r, stopped=last_cell(outputs, key, run_id) if r['rc'] != 0 else ''))
        print(rows[-1], flush=True)
        if a.record:
            record_row(rows[-1])
    return int(any(r['rc'] != 0 for r in rows))


RESULTS = ROOT / 'bench' / 'RESULTS.md'


def record_head(a, run_id: str):
    "Start a section of bench/RESULTS.md: machine, date, commit, command; `record_row` adds each step."
    sys.path.insert(0, str(ROOT))
    from medgan_nb.core import machine_info, machine_line, get_device

    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ['git', 'status', '--porcelain', '--untracked-files=no'], cwd=ROOT, capture_output=True
    )
    now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    cmd = ' '.join(['python bench/paper_dry.py', *map(shlex.quote, sys.argv[1:])])
    lines = [
        '',
        f'## bench/paper_dry.py — `make paper-dry`, {now}',
        '',
        (
            f"Machine: {machine_line(machine_info(get_device('cpu')))}; load average at the start "
            f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}."
        ),
        (
            f"Commit {commit.stdout.strip()}{' (with uncommitted changes)' if dirty.stdout.strip() else ''}, "
            f"run id {run_id}, max_steps_per_phase={a.cap}; command: `{cmd}`."
        ),
        'Each step in a process of its own; peak RSS: the largest process (the notebook kernel).',
        '',
        '| step | exit | wall | peak RSS (MiB) | load average after (1, 5, 15 min) | stopped at |',
        '|---|---|---|---|---|---|',
    ]
    with open(RESULTS, 'a') as f:
        f.write('\n'.join(lines) + '\n')


def record_row(r: dict):
    "One step's row (wall time, peak RSS, where it stopped) in the section `record_head` began."
    wall = f"{int(r['wall_s'] // 60)} min {r['wall_s'] % 60:.0f} s"
    load = ', '.join(f'{x:.1f}' for x in os.getloadavg())
    with open(RESULTS, 'a') as f:
        cells = [r['step'], r['rc'], wall, f"{r['peak_rss_mib']:.0f}", load, r.get('stopped', '')]
        f.write('| ' + ' | '.join(map(str, cells)) + ' |\n')


if __name__ == '__main__':
    sys.exit(main())
