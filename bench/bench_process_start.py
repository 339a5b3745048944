"""Benchmark: the CPU a process of the suite spends on starting and ending, before it does any work: importing a
module of medgan_nb (what a torchrun rank, a notebook kernel or a command imports first) and exiting.

    python bench/bench_process_start.py [--rounds 5] [--modules medgan_nb.launch,medgan_nb.papers.han2019]
        [--baseline DIR]   # DIR: a checkout of an earlier commit, e.g. `git worktree add /tmp/base 2a48cc4`

For each module, rounds of one fresh interpreter each way, taking turns:
- `as is`: `import <module>` and exit, as every process of the suite does now;
- `no exit hook`: the same with `medgan_nb.core.collect_once_at_exit` unregistered before exit (the interpreter's own
  teardown, as before the hook);
- `baseline` (with `--baseline DIR`): `import <module>` and exit from that checkout's medgan_nb (PYTHONPATH=DIR);
- `import torch` alone, the floor no process of the suite goes under.
Prints the CPU line (`medgan_nb.core.machine_line`), then per module the median user + system CPU of its rounds (the
child's own, from `os.wait4`), and which heavy packages the import brought in."""
import argparse, json, os, statistics, subprocess, sys

HEAVY = ('torch', 'torchvision', 'pandas', 'matplotlib', 'scipy', 'sklearn', 'nibabel', 'SimpleITK', 'pydicom')
UNHOOK = 'import atexit, medgan_nb.core as c; atexit.unregister(c.collect_once_at_exit)'


def from_tree(tree: str | None) -> dict:
    "Popen keywords that make a child import medgan_nb from the checkout `tree` (None: this one, as installed)."
    return dict(env={**os.environ, 'PYTHONPATH': tree}, cwd=tree) if tree else {}


def child_cpu(code: str, tree: str | None = None) -> float:
    "User + system CPU seconds of one `python -c code` (medgan_nb from `tree` if given), its own (os.wait4)."
    p = subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.DEVNULL, **from_tree(tree))
    _, status, ru = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"`python -c {code!r}` failed")
    return ru.ru_utime + ru.ru_stime


def child_out(code: str, tree: str | None = None) -> str:
    "What one `python -c code` prints (medgan_nb from `tree` if given)."
    run = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True, **from_tree(tree))
    return run.stdout.strip()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--rounds', type=int, default=5, help='fresh interpreters per module and way')
    ap.add_argument('--modules', default='medgan_nb.launch,medgan_nb.papers.han2019,medgan_nb.evaluate',
                    help='comma-separated modules to import')
    ap.add_argument('--baseline', help="a checkout of an earlier commit: its medgan_nb is timed beside this one's")
    a = ap.parse_args(argv)
    from medgan_nb.core import machine_line
    print(machine_line(), flush=True)
    ways = {'import torch': ('import torch', None)}
    for mod in a.modules.split(','):
        ways[f'{mod} as is'] = (f'import {mod}', None)
        ways[f'{mod} no exit hook'] = (f'import {mod}; {UNHOOK}', None)
        if a.baseline:
            ways[f'{mod} baseline'] = (f'import {mod}', a.baseline)
    if a.baseline:
        where = "import medgan_nb; print(medgan_nb.__file__)"
        print(json.dumps({'baseline': child_out(where, a.baseline)}))
    cpu = {k: [] for k in ways}
    for _ in range(a.rounds):  # the ways take turns, so that a change of the machine's speed touches all alike
        for k, (code, tree) in ways.items():
            cpu[k].append(child_cpu(code, tree))
    for mod in a.modules.split(','):
        probe = f"import sys, {mod}; print(','.join(h for h in {HEAVY!r} if h in sys.modules))"
        print(json.dumps(dict(module=mod, imports=child_out(probe).split(','),
                              cpu_s={k.split(' ', 1)[1]: round(statistics.median(cpu[k]), 3)
                                     for k in ways if k.startswith(mod + ' ')})))
    print(json.dumps({'import torch alone': round(statistics.median(cpu['import torch']), 3), 'rounds': a.rounds}))


if __name__ == '__main__':
    main()
