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
    s = StudySession(kit, tmp_path/'r.jsonl', 'r1', 'radiologist')
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
        s = StudySession(Kit({str(kit.folder)!r}), {str(log)!r}, 'r1', 'radiologist')
        for k in 'rsr': s.press(k)
        os.kill(os.getpid(), signal.SIGKILL)    # a crashed kernel: no clean-up, no atexit
    """)
    proc = subprocess.run([sys.executable, '-c', script], env={**os.environ, 'PYTHONPATH': os.getcwd()}, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    head, recs = read_responses(log, kit)
    assert [r['answers']['origin'] for r in recs] == ['real', 'synthetic', 'real']
    s = StudySession(kit, log, 'r1', 'radiologist')
    assert s.progress == 'item 4 of 10'
    assert s.item_id == kit.order_for('r1')[3]
    with pytest.raises(ResponseError, match='answered twice'):
        s.log.append(recs[0]['item_id'], {'origin': 'real'}, 1.0)


def test_bad_files_rejected(kit, tmp_path):
    log = tmp_path/'r.jsonl'
    s = StudySession(kit, log, 'r1', 'radiologist'); s.press('r')
    with open(log, 'a') as f: f.write('{"type": "response", "item_')          # torn write
    with pytest.raises(ResponseError, match=r"r\.jsonl, line 3: not valid JSON.*incomplete last line"):
        StudySession(kit, log, 'r1', 'radiologist')
    other = make_kit(tmp_path/'other', _imgs(3, 0.2), _imgs(3, 0.7))
    log2 = tmp_path/'o.jsonl'; ResponseLog(log2, other, 'r1', 'radiologist')
    with pytest.raises(ResponseError, match=r"o\.jsonl, line 1: foreign response file"):
        StudySession(kit, log2, 'r1', 'radiologist')
    (tmp_path/'x.jsonl').write_text('not json\n')
    with pytest.raises(ResponseError, match=r"x\.jsonl, line 1: not valid JSON"):
        read_responses(tmp_path/'x.jsonl', kit)
