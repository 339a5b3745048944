"""Works installed: the wheel built from the repository carries the paper notebooks; installed into a fresh
prefix and run from a folder outside the checkout, `medgan-reproduce --profile smoke` runs a paper with its
data and outputs under that folder (the settings' defaults) and writes nothing next to the installed
notebooks; and 'nothing to run' is an error with a non-zero exit code."""
import json, os, shutil, subprocess, sys, sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAPER = 'korkinof2021'   # the quickest smoke paper (its data part, two mammography patients, builds in seconds)


def test_nothing_to_run_is_an_error(tmp_path, monkeypatch, capsys):
    import medgan_nb.reproduce as rp
    monkeypatch.setattr(rp, 'notebooks_dir', lambda: tmp_path)
    code = rp.main(['--profile', 'smoke', '--outputs-dir', str(tmp_path/'out')])
    assert code == 2 and f"no paper notebooks in {tmp_path}; nothing to run" in capsys.readouterr().err


def _sources(dst:Path) -> Path:
    "What the wheel is built from, copied out of the checkout (a build writes build/ and *.egg-info)."
    dst.mkdir(parents=True)
    for f in ('pyproject.toml', 'README.md'): shutil.copy2(ROOT/f, dst/f)
    skip = shutil.ignore_patterns('__pycache__', '.ipynb_checkpoints')
    shutil.copytree(ROOT/'medgan_nb', dst/'medgan_nb', symlinks=True, ignore=skip)   # notebooks: a link
    shutil.copytree(ROOT/'nbs'/'papers', dst/'nbs'/'papers', ignore=skip)
    shutil.copy2(ROOT/'nbs'/'evaluate.ipynb', dst/'nbs'/'evaluate.ipynb')   # medgan_nb/evaluate.ipynb: a link
    return dst


def _files(package:Path) -> list:
    "Every path under the installed package but its byte-code caches."
    return sorted(p.relative_to(package) for p in package.rglob('*') if '__pycache__' not in p.parts)


def test_wheel_installed_outside_the_checkout_runs_a_smoke_paper(tmp_path):
    pip = [sys.executable, '-m', 'pip', '--disable-pip-version-check', '-q']
    src = _sources(tmp_path/'src')
    build = [*pip, 'wheel', '--no-deps', '--no-build-isolation', '-w', str(tmp_path/'wheel'), str(src)]
    subprocess.run(build, check=True, capture_output=True, timeout=300)
    wheel = next((tmp_path/'wheel').glob('medgan_nb-*.whl'))
    prefix = tmp_path/'prefix'
    # --ignore-installed: without it pip uninstalls the checkout's own (editable) install from the running venv
    install = [*pip, 'install', '--no-deps', '--no-index', '--ignore-installed', '--prefix', str(prefix), str(wheel)]
    own = [sys.executable, '-c', "import importlib.metadata as m; print(m.distribution('medgan_nb').files[0])"]
    mine = subprocess.run(own, capture_output=True, text=True, cwd=tmp_path).stdout
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    assert subprocess.run(own, capture_output=True, text=True, cwd=tmp_path).stdout == mine   # venv's install kept
    site = Path(sysconfig.get_path('purelib', vars={'base': str(prefix), 'platbase': str(prefix)}))
    shipped = {p.name for p in (site/'medgan_nb'/'notebooks').glob('*.ipynb')}
    assert shipped >= {f'{PAPER}.ipynb', 'summary.ipynb'}
    work = tmp_path/'elsewhere'                         # a user's folder: no checkout, no settings.ini
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith('MEDGAN_')}
    env.update(PYTHONPATH=str(site), MEDGAN_PROGRESS='text', PATH=f"{prefix/'bin'}{os.pathsep}{env['PATH']}")
    probe = [sys.executable, '-c', 'import medgan_nb; print(medgan_nb.__file__)']
    where = subprocess.run(probe, cwd=work, env=env, capture_output=True, text=True, check=True).stdout
    where = where.strip()
    assert Path(where).is_relative_to(site), where      # the installed copy, not the checkout
    ev = [sys.executable, '-c', 'import medgan_nb.evaluate as e; print(e.evaluate_notebook())']
    ev = subprocess.run(ev, cwd=work, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(ev).is_relative_to(site) and Path(ev).is_file(), ev   # medgan-evaluate's notebook ships too
    before = _files(site/'medgan_nb')
    cmd = [str(prefix/'bin'/'medgan-reproduce'), '--profile', 'smoke', '--papers', PAPER, '-p', 'threads=1']
    r = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    runs = [d for d in (work/'outputs'/PAPER).iterdir() if (d/'FINISHED').is_file()]
    assert len(runs) == 1, r.stdout[-2000:]
    rec = json.loads((runs[0]/'runner.json').read_text())
    assert Path(rec['notebook']).is_relative_to(site)
    assert rec['resolved']['settings']['data_dir'] == str(work/'data')
    assert (work/'data'/'mammo_phantom'/'manifest.json').is_file() and (work/'outputs'/'REPORT.md').is_file()
    assert _files(site/'medgan_nb') == before           # nothing written into the installed package
    again = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and 'already finished' in again.stdout, again.stdout[-2000:]   # the same run
