"Blinding: no generated artefact (file names, kit.json, PNG files, HTML page, widget state, logs) hints at an item's origin."
import json, re
from pathlib import Path
import numpy as np
import pytest
from medgan_nb.reader.study import make_kit, finding_question, load_key, default_key_path, ResponseLog
from medgan_nb.reader.html import kit_to_html
from medgan_nb.reader.widget import StudySession, StudyApp, widget_states

HINTS = ('real', 'synth', 'fake', 'gan', 'generated', 'progan', 'origin', 'source', 'cond-t1c')


def _imgs(n, v, shape=(12, 12)): return [np.full(shape, v + i / 100) for i in range(n)]


@pytest.fixture
def study(tmp_path):
    kit = make_kit(tmp_path/'kit', _imgs(8, 0.2), {'ProGAN': _imgs(4, 0.6), 'DCGAN': _imgs(4, 0.7)},
                   finding=finding_question(), real_findings=['tumour'] * 8,
                   synthetic_findings={'ProGAN': ['non-tumour'] * 4, 'DCGAN': ['tumour'] * 4}, condition='cond-T1c', seed=3)
    return kit, load_key(default_key_path(kit.folder), kit), tmp_path


def _hits(text):
    "Origin hints in `text` (the package name medgan_nb, in format strings, does not count)."
    text = text.lower().replace('medgan_nb', '')
    return [h for h in HINTS if h in text]


def test_search_finds_hints_in_the_key(study):
    "The search itself works: the answer key (kept outside the kit) is full of hints."
    kit, key, tmp = study
    assert {'real', 'synth', 'gan', 'cond-t1c'} <= set(_hits(default_key_path(kit.folder).read_text()))
    assert not default_key_path(kit.folder).is_relative_to(kit.folder.resolve())


def test_kit_folder(study):
    kit, key, tmp = study
    files = sorted(p for p in kit.folder.rglob('*') if p.is_file())
    assert [p.name for p in files if p.suffix != '.png'] == ['kit.json']
    for p in files:
        assert re.fullmatch(r'[0-9a-f]{16}\.png|kit\.json', p.name), p.name
        assert _hits(str(p.relative_to(kit.folder))) == []
    meta = json.loads((kit.folder/'kit.json').read_text())
    meta.pop('questions')                       # the choices 'real' / 'synthetic' are the question itself
    assert _hits(json.dumps(meta)) == [], _hits(json.dumps(meta))
    for p in files:
        if p.suffix == '.png':
            assert not re.search(rb'tEXt|iTXt|zTXt|eXIf', p.read_bytes()), p   # no PNG text or EXIF chunks
    # one modification time for every file, one size for every image
    assert len({p.stat().st_mtime_ns for p in files}) == 1
    assert len({p.stat().st_size for p in files if p.suffix == '.png'}) == 1


def test_html_page(study):
    kit, key, tmp = study
    page = kit_to_html(kit, tmp/'study.html').read_text()
    data = json.loads(re.search(r"id='kit'>(.*?)</script>", page, re.S).group(1))
    data.pop('questions')
    assert _hits(json.dumps(data)) == []
    rest = page.replace(re.search(r"id='kit'>(.*?)</script>", page, re.S).group(1), '')
    assert _hits(rest) == [], _hits(rest)      # the page template itself
    assert 'cond-t1c' not in page.lower() and 'progan' not in page.lower() and 'dcgan' not in page.lower()
    # the attribute values of the page's elements carry no item ids or origin words
    for attr in re.findall(r'\s(?:id|class|src|href|alt|data-[\w-]+)=["\']([^"\']*)["\']', rest):
        assert _hits(attr) == [] and not any(r['item_id'] in attr for r in kit.items), attr


def test_widget_state_and_log(study):
    kit, key, tmp = study
    app = StudyApp(StudySession(kit, tmp/'r.jsonl', 'r1', 'radiologist', min_view_s=0))
    for _ in range(len(kit.items)):
        iid = app.session.item_id
        for st in widget_states(app.box):
            text = json.dumps({k: v for k, v in st.items() if k != 'value' or isinstance(v, str)}, default=str)
            assert iid not in text
            assert set(_hits(text)) <= {'real', 'synth'}, (_hits(text), text[:200])   # the answer buttons only
        app.keys.value = 'rt'
    log_text = (tmp/'r.jsonl').read_text()
    assert 'truth' not in log_text
    assert _hits(log_text.replace('"origin": "real"', '').replace('"origin": "synthetic"', '')) == []
