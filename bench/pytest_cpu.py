"""CPU seconds of every test of `make test`, the processes it starts included: where the suite's time goes (issue 16, item 7).

`make test` is CPU-bound on the 2-core machine (its wall time is about its CPU seconds over 2), so what a test costs is
its CPU time, not its wall time: a test that waits for a child process shows its wall time in `--durations` but its
CPU time only here. As a pytest plugin it writes, per worker, one JSON line a test: the worker's own CPU seconds and
those of the child processes it waited for (kernels, torchrun jobs, the runner), and the wall time.

    rm -rf /tmp/test_cpu && MEDGAN_TEST_CPU_DIR=/tmp/test_cpu PYTHONPATH=bench .venv/bin/python -m pytest tests/ -q \\
        -p no:cacheprovider -p pytest_cpu -n 3 --dist loadscope --no-loadscope-reorder
    .venv/bin/python bench/pytest_cpu.py /tmp/test_cpu        # totals, by module, by notebook, the 25 costliest tests

A module fixture's set-up counts in the test that first needs it (the shared smoke pass: `test_papers_han2019.py::
test_run_folder`). The workers' start and collection are not in any test (the total of `time make test` less the sum
here). The summary names the machine first (`core.machine_line`, as every bench script does)."""

import json, os, resource, sys, time
from collections import Counter
from pathlib import Path


def _cpu() -> tuple:
    "(this process's CPU seconds, its waited-for children's)."
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime, c.ru_utime + c.ru_stime


try:
    import pytest

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(item, nextitem):
        folder = os.environ.get('MEDGAN_TEST_CPU_DIR')
        a, t = _cpu(), time.time()
        yield
        if not folder:
            return
        b = _cpu()
        Path(folder).mkdir(parents=True, exist_ok=True)
        if not (Path(folder) / 'machine.txt').is_file():  # the machine every figure here was measured on
            from medgan_nb.core import machine_line

            (Path(folder) / 'machine.txt').write_text(machine_line() + '\n')
        row = dict(id=item.nodeid, self=b[0] - a[0], child=b[1] - a[1], wall=time.time() - t)
        with open(Path(folder) / f"cpu_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.jsonl", 'a') as f:
            f.write(json.dumps(row) + '\n')
except ImportError:  # the summary below needs no pytest
    pass


def summary(folder: Path, top: int = 25):
    "Print the totals, the CPU seconds by test module and by library notebook, and the costliest tests."
    rows = [
        json.loads(l) for f in sorted(folder.glob('cpu_*.jsonl')) for l in f.read_text().splitlines() if l
    ]
    cpu = lambda r: r['self'] + r['child']
    machine = folder / 'machine.txt'
    print(machine.read_text().strip() if machine.is_file() else 'machine not recorded')
    print(
        f"{len(rows)} tests, {sum(map(cpu, rows)):.0f} CPU s (own {sum(r['self'] for r in rows):.0f}, "
        f"child processes {sum(r['child'] for r in rows):.0f})\n"
    )
    mods, nbs = Counter(), Counter()
    for r in rows:
        mods[r['id'].split('::')[0]] += cpu(r)
        if '::test_notebook[' in r['id']:
            nbs[r['id'].split('[', 1)[1].rstrip(']')] += cpu(r)
    for title, counts in (('test module', mods), ('library notebook', nbs)):
        print(f"| {title} | CPU s |\n|---|---|")
        for k, v in counts.most_common(top):
            print(f"| {k} | {v:.1f} |")
        print()
    print('| test | CPU s | own | wall s |\n|---|---|---|---|')
    for r in sorted(rows, key=cpu, reverse=True)[:top]:
        print(f"| {r['id']} | {cpu(r):.1f} | {r['self']:.1f} | {r['wall']:.1f} |")


if __name__ == '__main__':
    summary(Path(sys.argv[1]))
