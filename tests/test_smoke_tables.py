"""Behaviour guard: every paper's smoke-profile tables equal, seed for seed, the stored copy in tests/data/smoke_tables.

The stored copy was first written by the code before the restructuring of issue 16 (0bdfcb8), and re-stored when the
smoke pass went to one thread a kernel, and again when networks came to be built from the run's seed and their
name (the commit and CPU are in its manifest.json), run the way `smoke_all` runs the papers. Timing columns (wall time, images per second) and `trained_now` are left out. Floating-point results of
training depend on the CPU's kernels (bf16 / AVX-512 or not), so the values are compared exactly only on a CPU of the
stored kind. Elsewhere every result may move (a best epoch, a machine reader's counts, a CI written as text), so the
tables' columns, shape, row labels (first column) and the papers' own values ("(paper)" columns) are compared, and
the test says so."""
import json, re
import pandas as pd
import pytest

from _papers import ROOT, RUN_ID, REQUESTED
REQUESTED.add('*')   # the stored copy holds every paper's tables: the session's runner pass must run them all

STORED = ROOT/'tests'/'data'/'smoke_tables'
# timing columns, and whether this session trained a model (the paper tests' resumed runs rewrite it as False)
TIMING = re.compile(r'wall_s|img_per_s|fid_s|^seconds$|s_per_kimg|^trained_now$')


def cpu_kind() -> dict:
    "What decides the CPU's floating-point kernels: model name, bf16 / AMX / AVX-512 flags, torch version."
    import torch
    from medgan_nb.core import _cpu_model, _cpu_flags
    return dict(model=_cpu_model(), torch=torch.__version__,
                flags=sorted(_cpu_flags() & {'avx512f', 'avx512_bf16', 'amx_bf16', 'avx2'}))


def without_timing(df:pd.DataFrame) -> pd.DataFrame:
    "The table less its timing columns."
    return df[[c for c in df.columns if not TIMING.search(str(c))]]


def compare(stored:pd.DataFrame, ours:pd.DataFrame, exact:bool, where:str):
    "Assert two tables agree: exactly, or (another CPU kind) in columns, shape, row labels and the papers' values."
    stored, ours = without_timing(stored), without_timing(ours)
    assert list(ours.columns) == list(stored.columns), f"{where}: columns {list(ours.columns)} != {list(stored.columns)}"
    assert ours.shape == stored.shape, f"{where}: shape {ours.shape} != {stored.shape}"
    fixed = [c for i, c in enumerate(stored.columns) if i == 0 or '(paper)' in str(c)]  # not results of training
    cols = list(stored.columns) if exact else fixed
    pd.testing.assert_frame_equal(ours[cols], stored[cols], check_exact=True, obj=where)


def test_stored_copy_is_complete():
    "The stored copy holds tables of all four papers and names the code and CPU that wrote it."
    man = json.loads((STORED/'manifest.json').read_text())
    assert set(man['papers']) == {'han2018', 'haarburger2019', 'korkinof2021', 'han2019'}
    for key, names in man['papers'].items():
        assert names and all((STORED/key/n).is_file() for n in names), key
    assert man['commit'] and man['cpu']['model']


def test_compare_catches_a_changed_value():
    "The comparison fails on one changed value and ignores timing columns."
    a = pd.DataFrame(dict(model=['G'], fid=[1.5], wall_s=[3.0]))
    compare(a, a.assign(wall_s=9.0), exact=True, where='toy')
    with pytest.raises(AssertionError): compare(a, a.assign(fid=1.6), exact=True, where='toy')
    with pytest.raises(AssertionError): compare(a, a.assign(model='D'), exact=False, where='toy')
    b = pd.DataFrame({'model': ['G'], 'best_epoch': [2], 'n (paper)': [50]})
    compare(b, b.assign(best_epoch=1), exact=False, where='toy')  # a result of training: another CPU may differ
    with pytest.raises(AssertionError): compare(b, b.assign(**{'n (paper)': 49}), exact=False, where='toy')


def test_smoke_tables_unchanged(smoke_all):
    shared, state = smoke_all
    man = json.loads((STORED/'manifest.json').read_text())
    exact = man['cpu'] == cpu_kind()
    for key, names in man['papers'].items():
        assert state['papers'][key]['status'] == 'ok', (key, state['papers'][key].get('error'))
        tables = shared/'out'/key/RUN_ID/'tables'
        for name in names:
            compare(pd.read_csv(STORED/key/name), pd.read_csv(tables/name), exact, f"{key}/{name}")
    if not exact:
        pytest.xfail(f"values compared only in structure: CPU {cpu_kind()} is not the stored kind {man['cpu']}")
