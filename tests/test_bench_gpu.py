"""bench/gpu/run_all.sh, the GPU check of issue 19 item 6, in its CPU smoke mode (every row runs, its table is
written where asked), and the architectures it compares: each baseline has our network's layers."""
import importlib.util, os, re, subprocess, sys, tempfile
from pathlib import Path
import pytest, torch

ROOT = Path(__file__).resolve().parents[1]


def test_smoke_mode_writes_every_row(tmp_path):
    out = tmp_path/'check.md'
    env = {**os.environ, 'PYTHON': sys.executable, 'OMP_NUM_THREADS': '1'}
    r = subprocess.run(['bash', str(ROOT/'bench'/'gpu'/'run_all.sh'), '--smoke', '--device', 'cpu', '--out', str(out)],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    text = out.read_text()
    assert text.startswith('\n# bench/gpu/run_all.sh --smoke (') and '`CPU: ' in text
    rows = [l for l in text.splitlines() if l.startswith('| ') and not l.startswith('| step')]
    assert [l.split(' | ')[0][2:].split(' ')[0] for l in rows] == ['DCGAN', 'PGGAN', 'ResNet-50', 'FID'], rows
    ratios = [float(re.search(r'\*\*([0-9.]+)x\*\*', l)[1]) for l in rows]
    assert all(r > 0 for r in ratios) and '(agree)' in rows[-1], rows


@pytest.mark.skipif(torch.cuda.is_available(), reason='this machine has a GPU: the default device works')
def test_without_a_gpu_it_says_what_to_do(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT/'bench'/'gpu'/'run_all.py'), '--out', str(tmp_path/'x.md')],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and '--device cpu' in r.stderr and not (tmp_path/'x.md').exists(), r.stderr


def _bench_gan():
    spec = importlib.util.spec_from_file_location('bench_gan', ROOT/'bench'/'bench_gan.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize('kind, size, base', [('dcgan', 64, None), ('dcgan', 128, None), ('pggan', 10, (5, 4)),
                                              ('pggan', 16, (4, 4))])
def test_baselines_have_our_networks_layers(kind, size, base):
    "Parameter counts of baseline and ours within 1 % (biases differ); a layer more or less would be ≥ 10 %."
    bg, n = _bench_gan(), lambda m: sum(p.numel() for p in m.parameters())
    cpu, tmp = torch.device('cpu'), tempfile.mkdtemp()
    if kind == 'dcgan':
        b, o = bg.baseline_dcgan(cpu, batch=2, size=size, ngf=8, ndf=8), bg.ours('dcgan', cpu, size, batch=2, tmp=tmp, width=8)
    else:
        b = bg.baseline_pggan(cpu, size, 8, 2, nz=16, base=base)
        o = bg.ours('pggan', cpu, size, fmap_max=8, batch=2, tmp=tmp, base=base, nz=16)
    for nb, no in zip(b.nets, o.nets):
        assert abs(n(nb) - n(no)) <= 0.01 * n(no), (kind, size, n(nb), n(no))
