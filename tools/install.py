"""`pip install ARGS` into this virtual environment, done by uv when it can be had, else by pip itself.

uv (the `uv` package on PyPI) installs the same requirements in seconds where pip takes about a minute (the suite's
`-e '.[dev]'` on the 2-core machine: 55 s with pip, 4 s with uv; README). pip's settings on this machine (`pip config
list`: index-url, extra-index-url, find-links, constraint, and the PIP_* variables) are passed on to uv, and uv picks
the best version across all indexes as pip does (`--index-strategy unsafe-best-match`). If uv cannot be installed or
fails, pip runs the same command, so nothing depends on uv.

uv is asked to compile byte code (`--compile-bytecode`), as pip does by default: without it every new Python process
compiles torch, scipy, pandas, ... from source again wherever byte code cannot be written (PYTHONDONTWRITEBYTECODE=1,
as on the 2-core machine, or a read-only environment): a paper notebook's imports took 15.4 s instead of 7.4 s there,
and `make test` starts dozens of such processes (kernels, workers, torchrun ranks).

    .venv/bin/python tools/install.py [--no-deps] [-e '.[dev]'] [requirement ...]
"""
import shlex, subprocess, sys
from pathlib import Path

PIP = [sys.executable, '-m', 'pip']
UV = Path(sys.executable).with_name('uv')
FLAGS = {'index-url': '--index-url', 'extra-index-url': '--extra-index-url', 'find-links': '--find-links',
         'constraint': '--constraint'}


def pip_settings() -> list:
    "uv options for pip's configured indexes, link folders and constraint files (`pip config list`)."
    out = subprocess.run(PIP + ['config', 'list'], capture_output=True, text=True).stdout
    args = []
    for line in out.splitlines():
        name, _, value = line.partition('=')
        key = name.rpartition('.')[2]
        if key in FLAGS and value:
            args += [a for v in shlex.split(value.strip("'\"")) for a in (FLAGS[key], v)]
    return args


def have_uv() -> bool:
    "uv in this environment, installed with pip on first use; False if that fails (no uv wheel reachable)."
    if not UV.exists():
        subprocess.run(PIP + ['install', '-q', 'uv'], capture_output=True)
    return UV.exists()


def main(argv: list) -> int:
    if have_uv():
        uv = [str(UV), 'pip', 'install', '-q', '--python', sys.executable, '--index-strategy', 'unsafe-best-match',
              '--compile-bytecode']
        if subprocess.run(uv + pip_settings() + argv).returncode == 0:
            return 0
        print('uv could not install this; pip will', file=sys.stderr)
    return subprocess.run(PIP + ['install', '-q'] + argv).returncode


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
