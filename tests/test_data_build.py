"The build command line in a fresh process: builds, then skips what is intact."
import json, subprocess, sys, os
from pathlib import Path

CODE = ("from medgan_nb.data.build import build_default_data as b; import sys; "
        "r = b(sys.argv[1], seed=0, profile='smoke', parts=('breast',), overrides={'breast': dict(n_patients=1, shape=(48, 48, 8), spacing=(7.5, 7.5, 20.))}, progress=False); "
        "print(r.status.iloc[0])")


def run(d):
    env = {**os.environ, 'PYTHONPATH': str(Path(__file__).resolve().parents[1])}
    return subprocess.run([sys.executable, '-c', CODE, str(d)], capture_output=True, text=True, env=env, check=True).stdout.strip()


def test_build_then_skip(tmp_path):
    assert run(tmp_path) == 'built'
    man = json.loads((tmp_path / 'breast_dce_phantom' / 'manifest.json').read_text())
    assert man['params']['n_patients'] == 1 and man['fingerprint']['n_files'] == 9
    assert run(tmp_path) == 'skipped'
    (tmp_path / 'breast_dce_phantom' / 'lesions.csv').unlink()
    assert run(tmp_path) == 'built'


def test_console_entry_point_exit_status(tmp_path):
    "What `medgan-build-data` (medgan_nb.data.build:main) does: sys.exit(main()) must exit 0 and print the summary."
    env = {**os.environ, 'PYTHONPATH': str(Path(__file__).resolve().parents[1])}
    cmd = [sys.executable, '-c', 'import sys; from medgan_nb.data.build import main; sys.exit(main())',
           '--data-dir', str(tmp_path), '--profile', 'smoke', '--parts', 'mammo', '--seed', '1']
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'mammo' in r.stdout and 'built' in r.stdout      # the smallest part: what is tested is the entry point
    assert (tmp_path / 'mammo_phantom' / 'manifest.json').is_file()


def test_build_leaves_the_global_rng_alone(tmp_path, monkeypatch):
    "Building a part in a notebook (first use) must not change what the notebook draws next, as skipping it does not."
    import torch, medgan_nb.data.build as b
    real = b._generate
    def noisy(*a, **kw): torch.rand(5); return real(*a, **kw)   # a generator that draws from the global RNG
    monkeypatch.setattr(b, '_generate', noisy)
    part = lambda: b.build_part(tmp_path, 'breast', 0, verify='size', progress=False, n_patients=1, shape=(48, 48, 8), spacing=(7.5, 7.5, 20.))['status']
    torch.manual_seed(3); assert part() == 'built'; after_build = torch.rand(2)
    torch.manual_seed(3); assert part() == 'skipped'; assert torch.equal(torch.rand(2), after_build)
