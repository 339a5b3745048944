"""Every benchmark names the machine first: CPU model, AVX-512 / bf16 / AMX flags, GPU (issue 22, item 4)."""
import os, subprocess, sys
from pathlib import Path
from medgan_nb.core import machine_line

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p for p in (ROOT / 'bench').rglob('*.py') if not p.name.startswith('_'))   # _*.py: shared helpers


def test_every_bench_script_uses_the_shared_machine_line():
    assert len(SCRIPTS) >= 6
    lacking = [p.name for p in SCRIPTS if 'machine_line' not in p.read_text()]
    assert not lacking, f"bench scripts that do not print core.machine_line: {lacking}"
    assert 'cpuinfo' not in (ROOT / 'bench' / 'bench_frechet.py').read_text()  # no copy of the parsing


def test_bench_frechet_prints_the_machine_line_first():
    env = {**os.environ, 'PYTHONPATH': str(ROOT)}
    cmd = [sys.executable, 'bench/bench_frechet.py', '--ns', '50', '--d', '4']
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True)
    first = out.stdout.splitlines()[0]
    assert first == machine_line(), first
    assert first.startswith('CPU: ') and 'avx512_bf16' in first and 'amx_bf16' in first
