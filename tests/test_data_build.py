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
