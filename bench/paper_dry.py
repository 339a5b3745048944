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
    cmd, timeout = json.loads(arg)
    try:
        rc = subprocess.run(cmd, timeout=timeout, stdout=sys.stderr).returncode
    except subprocess.TimeoutExpired:
        rc = 'timeout'
    print(
        json.dumps({'rc': rc, 'peak_rss_mib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024})
    )


def last_cell(outputs: Path, key: str, run_id: str) -> str:
    "Where a run stopped: the runner's record of the failed cell, or ''."
    state = outputs / 'reproduce_paper.json'
    rec = json.loads(state.read_text())['papers'].get(key, {}) if state.is_file() else {}
    if rec.get('status') in (None, 'ok'):
        return ''
    return f"cell {rec.get('cell_index')} ({rec.get('cell_source')!r}): {rec.get('error')}"


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
    rows = [dict(step='build data (smoke-size brain and breast phantoms)', **measured(build, env, a.timeout))]
    print(rows[-1], flush=True)
    for key in papers:
        cmd = [sys.executable, '-m', 'medgan_nb.reproduce', '--profile', 'paper', '--papers', key]
        cmd += ['--outputs-dir', str(outputs), '--params-file', str(PARAMS), '--run-id', run_id]
        cmd += ['-p', f'max_steps_per_phase={a.cap}']
        r = measured(cmd, env, a.timeout)
        rows.append(dict(step=key, **r, stopped=last_cell(outputs, key, run_id) if r['rc'] != 0 else ''))
        print(rows[-1], flush=True)
    if a.record:
        record(rows, a, run_id)
    return int(any(r['rc'] != 0 for r in rows))


def record(rows: list, a, run_id: str):
    "Append the figures to bench/RESULTS.md: machine, date, commit, command, one row per step."
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
            f"Machine: {machine_line(machine_info(get_device('cpu')))}; load average at the end "
            f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}."
        ),
        (
            f"Commit {commit.stdout.strip()}{' (with uncommitted changes)' if dirty.stdout.strip() else ''}, "
            f"run id {run_id}, max_steps_per_phase={a.cap}; command: `{cmd}`."
        ),
        'Each step in a process of its own; peak RSS: the largest process (the notebook kernel).',
        '',
        '| step | exit | wall | peak RSS (MiB) | stopped at |',
        '|---|---|---|---|---|',
    ]
    for r in rows:
        wall = f"{int(r['wall_s'] // 60)} min {r['wall_s'] % 60:.0f} s"
        lines.append(
            f"| {r['step']} | {r['rc']} | {wall} | {r['peak_rss_mib']:.0f} | {r.get('stopped', '')} |"
        )
    with open(ROOT / 'bench' / 'RESULTS.md', 'a') as f:
        f.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    sys.exit(main())
