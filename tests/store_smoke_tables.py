"""Write tests/data/smoke_tables: every paper's smoke-profile tables, run as `smoke_all` in conftest.py runs them.

Run it only when a change is meant to change results, and say why in the commit:
    PYTHONPATH=. .venv/bin/python tests/store_smoke_tables.py
The first stored copy was written by commit 0bdfcb8 (before the restructuring of issue 16, its paper keys mapped to
today's); it was re-stored by 6b3cd18, when the kernels went from 2 torch threads to 1 torch + 1 BLAS thread (last
digits of training-dependent values moved), the restructured code giving the 0bdfcb8 values before that.
han2018/beyond_objective_metrics.csv alone was re-stored for issue 21 item 7 (the table now holds medgan_nb.evaluate's
records, one row per model and metric, with intervals and N), every other han2018 table matching the stored copy exactly.
Han 2019's three classifier tables (table1_per_seed, table1_tumour_detection, table2_visual_turing_test) were
re-stored by 3e79759, when the classifier's Adam became torch's fused one (the same update, other rounding); every
other table of that run matched the stored copy exactly (timing columns aside) and was left as it was.
All tables were re-stored after 30cccef, which builds every network from the run's seed and the model's name (a
resumed run gives the uninterrupted run's tables): every start weight changed. Written on the 2-core Intel Xeon kind
(AVX-512, bf16, AMX), the machine of that session, so that kind now compares values exactly and the AMD EPYC kind
compares structure; the same 29 tables came out of the session's pytest smoke pass (one paper at a time).
han2019/table1_tumour_detection.csv alone was re-stored after 4ed4953 (a metric computed on one test patient's
slices has no bootstrap interval: the smoke test set is one patient, so every interval reads "none (1 patient)"
instead of a zero-width one); every value and every other table came out as stored.
The machine readers' tables (haarburger2019/table3_reader_test, han2019/table2_visual_turing_test and Korkinof's
reader_tests, stratification, table3_conover_positions, table4_success_rates) were re-stored after 4bc8511, which
ranks each fold's out-of-fold scores within the fold before pooling them (every smoke reader now answers every item
right, so Korkinof's Kruskal-Wallis and Conover tests have nothing to rank and say so); the other tables as stored.
han2018/beyond_objective_metrics.csv alone was re-stored after the change that gives no interval where every bootstrap
resample gave one value (24 of its 48 rows: a 1-NN accuracy of 1 in each resample, a membership AUC over one patient a
side), instead of a zero-width one; every value and every other table came out as stored.
korkinof2021/table1_moment_overlap.csv alone was re-stored when the overlaps came to be summed as each density's share of
its mass on the grid (a plain Riemann sum of a KDE narrower than the grid gave 1.18 for a sample against itself): its
values moved in the 4th-6th digit; every other table came out as stored (timing columns aside).
han2018/beyond_objective_metrics.csv alone was re-stored when the memorisation checks (closer-to-train share,
membership AUC) gained a patient-split permutation p-value, written in their rows' interval column; every value and
every other table came out as stored (timing columns aside).
It was re-stored again, alone, when the 1-NN accuracy became leave-one-patient-out where patients are known: the smoke
run has one training patient, so its 1-NN rows keep their values and say in the interval column that they are plain
leave-one-out; every other table came out as stored (timing columns aside).
And again, alone, when the near-copy share's real–real distances came to leave the patient out where patients are
known: with one training patient the smoke run's share keeps its values and its interval column says the distances
are plain (the threshold reads small); every other table came out as stored (timing columns aside).
All tables were re-stored on the 2-core Intel Xeon kind without bf16 (AVX-512, no bf16 / AMX) when the Han 2019
classifier's small convolutions became matrix products (`GemmConv2d`): the same arithmetic, other rounding. Run on that
kind before and after the change, the store gave the same tables but Han 2019's three classifier tables
(table1_per_seed, table1_tumour_detection, table2_visual_turing_test). So this kind now compares values exactly and
the bf16 kind compares structure.
All tables were re-stored on the 2-core AMD EPYC kind (Zen 4: AVX-512 and bf16, no AMX) when the PGGAN discriminator
came to pool each block inside its last convolution (`fused_scale`, the official PGGAN code's default; Korkinof 2021
and Han 2019). Run on that kind before (e3531d1~1) and after (e3531d1), the store gave the same Haarburger 2019 and
Han 2018 tables and the same data, training and speed tables; Korkinof's moment overlaps, moment MI, coverage and
collapse check and Han 2019's classifier and Visual Turing Test tables changed with the trained PGGANs. So this kind
now compares values exactly and the Intel Xeon kinds compare structure.
haarburger2019/table2_fid_1nn.csv alone was re-stored (on that Zen 4 kind) when the smoke profile's fid_n went from 4
to 2 (issue 16, item 7: half the Inception images of every Haarburger smoke run, 32.9 -> 25.2 s alone; 2 is the
fewest a covariance takes, and smoke runs every FID step whatever its value): its FIDmin and best-checkpoint columns changed (one best
checkpoint is now the first of two, so the minimum is taken over both); every other table came out as stored, and the
old fid_n, given as a parameter, gave the old table value for value."""
import json, os, shutil, subprocess, sys, tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _papers import ROOT, RUN_ID
from test_smoke_tables import STORED, cpu_kind
from conftest import BLAS_THREADS


def main():
    tmp = Path(tempfile.mkdtemp(prefix='smoke_tables_'))
    shutil.copytree(ROOT/'nbs'/'papers', tmp/'papers')
    os.environ.update(PYTHONPATH=str(ROOT), MEDGAN_PATHS_DATA_DIR=str(tmp/'data'), MEDGAN_PROGRESS='text')
    os.environ.update({var: '1' for var in BLAS_THREADS})   # as `smoke_all` runs them: 1 BLAS and 1 torch thread
    from medgan_nb.reproduce import run_papers
    state = run_papers('smoke', 'all', tmp/'out', {'*': {'threads': 1}}, folder=tmp/'papers', progress=False,
                       run_id=RUN_ID)
    papers = {}
    for key, rec in state['papers'].items():
        if rec['status'] != 'ok':
            raise SystemExit(f"{key}: smoke run failed ({rec.get('error')}); nothing stored")
        names = sorted(p.name for p in (tmp/'out'/key/RUN_ID/'tables').glob('*.csv'))
        (STORED/key).mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copy(tmp/'out'/key/RUN_ID/'tables'/name, STORED/key/name)
        papers[key] = names
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True, cwd=ROOT)
    man = dict(commit=commit.stdout.strip(), cpu=cpu_kind(), papers=papers)
    (STORED/'manifest.json').write_text(json.dumps(man, indent=1) + '\n')
    print(f"stored {sum(map(len, papers.values()))} tables of {len(papers)} papers in {STORED}")


if __name__ == '__main__':
    main()
