"Crash-safe response logs: fsync per answer, a killed process loses nothing, resume, no second answers, bad files rejected."
import os, signal, subprocess, sys, textwrap
from pathlib import Path
import numpy as np
import pytest
from medgan_nb.reader.study import make_kit, read_responses, ResponseError, ResponseLog
from medgan_nb.reader.widget import StudySession


def _imgs(n, v): return [np.full((8, 8), v + i / 100) for i in range(n)]


@pytest.fixture
def kit(tmp_path): return make_kit(tmp_path/'kit', _imgs(5, 0.2), _imgs(5, 0.7), seed=0)


def test_fsync_after_every_answer(kit, tmp_path, monkeypatch):
    calls = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, 'fsync', lambda fd: (calls.append(fd), real_fsync(fd)))
    s = StudySession(kit, tmp_path/'r.jsonl', 'r1', 'radiologist', min_view_s=0)
    assert len(calls) == 2                      # the header, and the folder holding the new file
    for i in range(3):
        s.press('r')
        assert len(calls) == 3 + i              # one fsync per answer, before the next item is shown


def test_killed_process_loses_nothing_and_resumes(kit, tmp_path):
    log = tmp_path/'r.jsonl'
    script = textwrap.dedent(f"""
        import os, signal
        from medgan_nb.reader.study import Kit
        from medgan_nb.reader.widget import StudySession
        s = StudySession(Kit({str(kit.folder)!r}), {str(log)!r}, 'r1', 'radiologist', min_view_s=0)
        for k in 'rsr': s.press(k)
        os.kill(os.getpid(), signal.SIGKILL)    # a crashed kernel: no clean-up, no atexit
    """)
    proc = subprocess.run([sys.executable, '-c', script], env={**os.environ, 'PYTHONPATH': os.getcwd()}, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    head, recs = read_responses(log, kit)
    assert [r['answers']['origin'] for r in recs] == ['real', 'synthetic', 'real']
    s = StudySession(kit, log, 'r1', 'radiologist', min_view_s=0)
    assert s.progress == 'item 4 of 10'
    assert s.item_id == kit.order_for('r1')[3]
    with pytest.raises(ResponseError, match='answered twice'):
        s.log.append(recs[0]['item_id'], {'origin': 'real'}, 1.0)


def test_bad_files_rejected(kit, tmp_path):
    log = tmp_path/'r.jsonl'
    s = StudySession(kit, log, 'r1', 'radiologist', min_view_s=0); s.press('r')
    with open(log, 'a') as f: f.write('{"type": "response", "item_\n{"type": "resp')   # a broken line, then more
    with pytest.raises(ResponseError, match=r"r\.jsonl, line 3: not valid JSON"), \
         pytest.warns(UserWarning, match='torn last line moved to'):   # the torn last line is set aside first
        StudySession(kit, log, 'r1', 'radiologist', min_view_s=0)
    other = make_kit(tmp_path/'other', _imgs(3, 0.2), _imgs(3, 0.7))
    log2 = tmp_path/'o.jsonl'; ResponseLog(log2, other, 'r1', 'radiologist')
    with pytest.raises(ResponseError, match=r"o\.jsonl, line 1: foreign response file"):
        StudySession(kit, log2, 'r1', 'radiologist', min_view_s=0)
    (tmp_path/'x.jsonl').write_text('not json\n')
    with pytest.raises(ResponseError, match=r"x\.jsonl, line 1: not valid JSON"):
        read_responses(tmp_path/'x.jsonl', kit)


def test_torn_last_line_dropped_and_reported(kit, tmp_path):
    "A write torn by a crash costs only the answer being written; the session resumes after the last whole one."
    log = tmp_path/'r.jsonl'
    s = StudySession(kit, log, 'r1', 'radiologist', min_view_s=0); s.press('r'); s.press('s')
    with open(log, 'a') as f: f.write('{"type": "response", "item_id": "ab')
    with pytest.warns(UserWarning, match=r"r\.jsonl, line 4: torn last line dropped"):
        assert len(read_responses(log, kit)[1]) == 2
    with pytest.warns(UserWarning, match="torn last line moved to"):
        s2 = StudySession(kit, log, 'r1', 'radiologist', min_view_s=0)
    assert s2.progress == 'item 3 of 10'
    s2.press('r')
    assert [r['answers']['origin'] for r in read_responses(log, kit)[1]] == ['real', 'synthetic', 'real']
    assert (tmp_path/'r.jsonl.torn').read_text().startswith('{"type": "response", "item_id": "ab')


def test_two_processes_on_one_log(kit, tmp_path):
    "Two sessions appending to one log at once (two tabs, two kernels) take turns under the lock."
    log = tmp_path/'r.jsonl'
    ResponseLog(log, kit, 'r1', 'radiologist')
    ids = [r['item_id'] for r in kit.items]
    script = textwrap.dedent(f"""
        import sys
        from medgan_nb.reader.study import Kit, ResponseLog
        kit = Kit({str(kit.folder)!r})
        log = ResponseLog({str(log)!r}, kit, 'r1', 'radiologist')
        for iid in sys.argv[1:]:
            log.append(iid, {{'origin': 'real'}}, 1.0)
    """)
    env = {**os.environ, 'PYTHONPATH': os.getcwd()}
    procs = [subprocess.Popen([sys.executable, '-c', script, *part], env=env, stderr=subprocess.PIPE)
             for part in (ids[0::2], ids[1::2])]
    for p in procs: assert p.wait() == 0, p.stderr.read().decode()
    head, recs = read_responses(log, kit)
    assert sorted(r['item_id'] for r in recs) == sorted(ids)
    assert sorted(r['position'] for r in recs) == list(range(1, 11))
