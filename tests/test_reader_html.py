"Drive the reader study's HTML page in headless Chromium: answer, reload midway, export, load the export back."
import json, shutil
from pathlib import Path
import numpy as np
import pytest

sync_api = pytest.importorskip('playwright.sync_api', reason='Playwright for Python is not installed (pip install playwright)')
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason='no system Chromium (apt-get install chromium); Playwright must not download its own')

from medgan_nb.reader.study import make_kit, finding_question, load_key, default_key_path, load_responses, confirm_import, ResponseError
from medgan_nb.reader.html import kit_to_html
from medgan_nb.reader.stats import responses_frame, score, confusion_table, first_attempts


def _imgs(n, v): return [np.full((16, 16), v + i / 100) for i in range(n)]


@pytest.fixture
def page_and_kit(tmp_path):
    kit = make_kit(tmp_path/'kit', _imgs(4, 0.2), _imgs(4, 0.7), finding=finding_question(), warmup=1, seed=5,
                   real_findings=['tumour', 'non-tumour'] * 2, synthetic_findings=['tumour'] * 4)
    html = kit_to_html(kit, tmp_path/'study.html', min_view_s=0)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=['--no-sandbox'])
        ctx = browser.new_context(accept_downloads=True)
        page = ctx.new_page()
        urls = []
        page.on('request', lambda r: urls.append(r.url))
        page.goto(html.resolve().as_uri())
        yield page, kit, urls, tmp_path
        browser.close()


def test_answer_reload_export(page_and_kit):
    page, kit, urls, tmp = page_and_kit
    page.fill('#reader', 'reader-7'); page.fill('#group', 'screening radiologist'); page.click('#begin')
    assert page.inner_text('#progress') == 'warm-up 1 of 2'
    page.keyboard.press('r'); page.keyboard.press('t')
    assert 'Previous warm-up item was' in page.inner_text('#feedback')          # warm-up shows the truth
    page.keyboard.press('s'); page.keyboard.press('n')
    assert page.inner_text('#progress') == 'item 1 of 6'
    assert 'Previous warm-up item was' in page.inner_text('#feedback')          # truth of the last warm-up item
    w0 = float(page.eval_on_selector('#panels img', 'im => im.style.width')[:-2])
    assert w0 >= 200                                                                # 16 px images fill the screen
    page.click('#zoomin')
    assert float(page.eval_on_selector('#panels img', 'im => im.style.width')[:-2]) == pytest.approx(1.5 * w0, abs=1)
    page.click('text=real [r]'); page.click('text=tumour [t]')                    # buttons
    assert page.inner_text('#feedback') == ''                                       # no truth in the test phase
    page.keyboard.press('s'); page.keyboard.press('t')                             # shortcuts
    # the 4 answers are in the page's storage before the tab goes (a reload right after a key press, with the
    # machine busy, once found the page not yet restored); then the reload, and the page waited for
    n_stored = "Object.keys(localStorage).filter(k => k.endsWith(':reader-7'))" \
               ".map(k => JSON.parse(localStorage.getItem(k)).responses.length)[0]"
    page.wait_for_function(f'{n_stored} === 4', timeout=10_000)
    page.reload()                                                                  # a closed tab / reload midway
    sync_api.expect(page.locator('#progress')).to_have_text('item 3 of 6')
    for _ in range(4): page.keyboard.press('r'); page.keyboard.press('n')
    assert page.is_visible('#finished')
    with page.expect_download() as dl:
        page.click('#export')
    out = tmp/'export.json'; dl.value.save_as(out)
    assert 'reader-7' in dl.value.suggested_filename
    head, recs = load_responses(out, kit)                                          # same validator as the JSONL logs
    assert (head['reader_id'], head['group'], head['reader_type']) == ('reader-7', 'screening radiologist', 'human')
    assert [r['phase'] for r in recs] == ['warmup'] * 2 + ['test'] * 6
    assert [r['answers']['origin'] for r in recs] == ['real', 'synthetic', 'real', 'synthetic'] + ['real'] * 4
    assert [r['position'] for r in recs] == [1, 2, 1, 2, 3, 4, 5, 6]
    assert all(r['time_s'] >= 0 for r in recs)
    key = load_key(default_key_path(kit.folder), kit)
    test = [r for r in recs if r['phase'] == 'test']
    assert sorted(r['item_id'] for r in test) == sorted(r['item_id'] for r in kit.items)
    n_real = sum(key[r['item_id']]['origin'] == 'real' for r in test)
    assert n_real == 3                                                             # 3 real + 3 synthetic test items
    offsite = [u for u in urls if not u.startswith(('file:', 'data:', 'blob:'))]
    assert offsite == [], offsite                                                  # no network
    data = json.loads(page.text_content('#kit'))
    assert all(set(it) == {'item_id', 'images'} for it in data['items'])
    # the analysis runs on the export: accuracy equals the share of test answers that match the key
    scored = score(responses_frame([out], kit), key, kit)
    expected = 100 * sum(r['answers']['origin'] == key[r['item_id']]['origin'] for r in test) / 6
    table = confusion_table(scored, kit, by=('reader_id',))
    assert table.loc[0, 'accuracy'] == pytest.approx(expected)
    assert table.loc[0, 'real as real'] + table.loc[0, 'real as synthetic'] == 3


def test_tablet_touch_zoom_and_pan(tmp_path):
    "On an emulated tablet (touch, mobile viewport): taps answer, zoom enlarges the images and the frame pans."
    kit = make_kit(tmp_path/'kit', _imgs(3, 0.2), _imgs(3, 0.7), design='2afc', seed=1)
    html = kit_to_html(kit, tmp_path/'study.html', min_view_s=0)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=['--no-sandbox'])
        ctx = browser.new_context(viewport={'width': 768, 'height': 1024}, has_touch=True, is_mobile=True, device_scale_factor=2)
        page = ctx.new_page(); page.goto(html.resolve().as_uri())
        assert 'user-scalable=yes' in page.get_attribute('meta[name=viewport]', 'content')   # browser pinch-zoom allowed
        page.fill('#reader', 'tab-1'); page.fill('#group', 'breast specialist'); page.tap('#begin')
        assert page.inner_text('#progress') == 'item 1 of 3'
        assert page.locator('figcaption').all_inner_texts() == ['left', 'right']
        for _ in range(4): page.tap('#zoomin')
        frame = page.eval_on_selector('#frame', 'f => [f.scrollWidth, f.clientWidth]')
        assert frame[0] > frame[1]                                                    # 2 × 1280 px of images: pans
        page.eval_on_selector('#frame', 'f => { f.scrollLeft = 500; }')
        assert page.eval_on_selector('#frame', 'f => f.scrollLeft') == 500
        assert page.eval_on_selector('#panels img', 'im => getComputedStyle(im).imageRendering') == 'pixelated'
        page.tap('text=left [1]'); page.tap('text=right [2]'); page.tap('text=left [1]')
        assert page.is_visible('#finished')
        with page.expect_download() as dl:
            page.tap('#export')
        out = tmp_path/'export.json'; dl.value.save_as(out)
        head, recs = load_responses(out, kit)
        assert [r['answers']['real_is'] for r in recs] == ['left', 'right', 'left'] and head['group'] == 'breast specialist'
        page.tap('#again')                                                          # a second attempt, after the export
        assert page.inner_text('#progress') == 'item 1 of 3'
        for _ in range(3): page.keyboard.press('2')
        with page.expect_download() as dl2:
            page.tap('#export')
        out2 = tmp_path/dl2.value.suggested_filename; dl2.value.save_as(out2)
        assert out2.name == 'responses-tab-1-attempt2.json'
        key = load_key(default_key_path(kit.folder), kit)
        scored = score(responses_frame([out, out2], kit), key, kit)
        assert sorted(scored.attempt.unique()) == [1, 2]
        assert len(first_attempts(scored)) == 3 and (first_attempts(scored).attempt == 1).all()
        browser.close()


def test_answer_only_after_looking(tmp_path):
    "An answer given before the image has been on screen for min_view_s (1 s by default) is refused and not recorded."
    kit = make_kit(tmp_path/'kit', _imgs(2, 0.2), _imgs(2, 0.7), seed=2)
    html = kit_to_html(kit, tmp_path/'study.html')
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=['--no-sandbox'])
        page = browser.new_context(accept_downloads=True).new_page()
        page.goto(html.resolve().as_uri())
        page.fill('#reader', 'r-1'); page.fill('#group', 'layperson'); page.click('#begin')
        page.keyboard.press('r')                                                     # at once: refused
        assert page.inner_text('#progress') == 'item 1 of 4'
        assert 'at least 1 s' in page.inner_text('#feedback')
        page.wait_for_timeout(1100)
        page.keyboard.press('s')
        assert page.inner_text('#progress') == 'item 2 of 4'
        for _ in range(3): page.wait_for_timeout(1050); page.keyboard.press('r')
        with page.expect_download() as dl:
            page.click('#export')
        out = tmp_path/'export.json'; dl.value.save_as(out)
        head, recs = load_responses(out, kit)
        assert [r['answers']['origin'] for r in recs] == ['synthetic', 'real', 'real', 'real']
        assert all(r['time_s'] >= 1.0 for r in recs), [r['time_s'] for r in recs]
        with page.expect_download() as dl2:
            page.click('#export')                                                     # exported again: a new name
        assert dl2.value.suggested_filename == 'responses-r-1-attempt1-export2.json'
        page.click('#newreader')                                                      # a shared tablet: the next person
        assert page.is_visible('#start') and not page.is_visible('#finished') and page.input_value('#reader') == ''
        page.fill('#reader', 'r-2'); page.fill('#group', 'radiologist'); page.click('#begin')
        assert page.inner_text('#progress') == 'item 1 of 4'
        page.reload()                                                                 # resumes the new reader
        page.wait_for_timeout(1100); page.keyboard.press('r')
        assert page.inner_text('#progress') == 'item 2 of 4'
        stored = page.evaluate("Object.keys(localStorage).filter(k => k.endsWith(':r-1') || k.endsWith(':r-2'))")
        assert len(stored) == 2                                                       # the first reader's answers kept
        browser.close()


def _panel_boxes(page) -> list:
    "The on-screen boxes (left, top, right, bottom) of the current item's panels."
    return page.evaluate("[...document.querySelectorAll('#panels img')].map(im => "
                         "{const r = im.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]})")


@pytest.mark.parametrize('viewport,touch', [((1024, 768), True), ((768, 1024), True), ((1440, 900), False)],
                         ids=['tablet-landscape', 'tablet-portrait', 'desktop'])
def test_every_panel_on_screen(tmp_path, viewport, touch):
    "Haarburger's 10-panel items and Korkinof's wide pairs: every panel of an item on screen at once, none tiny."
    series = lambda v: [np.full((32, 32), v + k / 40) for k in range(10)]
    multi = make_kit(tmp_path/'multi', [series(0.2)] * 2, [series(0.6)] * 2, panel_names=[f'p{k}' for k in range(10)])
    pairs = make_kit(tmp_path/'pairs', [np.full((80, 64), 0.2)] * 2, [np.full((80, 64), 0.7)] * 2,
                     design='2afc')
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=['--no-sandbox'])
        ctx = browser.new_context(viewport=dict(zip(('width', 'height'), viewport)), has_touch=touch, is_mobile=touch)
        for kit, n in ((multi, 10), (pairs, 2)):
            page = ctx.new_page(); page.goto(kit_to_html(kit, tmp_path/f'{kit.folder.name}.html').resolve().as_uri())
            page.fill('#reader', 'r'); page.fill('#group', 'radiologist'); page.click('#begin')
            page.wait_for_function("[...document.querySelectorAll('#panels img')].every(im => im.complete)")
            boxes = _panel_boxes(page)
            assert len(boxes) == n
            for left, top, right, bottom in boxes:
                assert left >= 0 and top >= 0 and right <= viewport[0] and bottom <= viewport[1], (boxes, viewport)
                assert right - left >= (60 if n == 10 else 150), boxes               # big enough to judge
            page.click('#zoomin')
            assert _panel_boxes(page)[0][2] - _panel_boxes(page)[0][0] > boxes[0][2] - boxes[0][0]
        browser.close()


@pytest.mark.parametrize('viewport,touch', [((1024, 768), True), ((1440, 900), False)], ids=['tablet', 'desktop'])
def test_zoom_per_panel(tmp_path, viewport, touch):
    "A tap or click opens one panel over the page (fit to the screen, never below its native size); tap or Esc closes it."
    series = lambda v: [np.full((32, 32), v + k / 40) for k in range(10)]
    multi = make_kit(tmp_path/'multi', [series(0.2)] * 2, [series(0.6)] * 2, panel_names=[f'p{k}' for k in range(10)])
    big = make_kit(tmp_path/'big', [np.full((900, 1500), 0.2)] * 2, [np.full((900, 1500), 0.7)] * 2)
    vw, vh = viewport
    zoom_box = "document.querySelector('#zoomimg').getBoundingClientRect().toJSON()"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=['--no-sandbox'])
        ctx = browser.new_context(viewport={'width': vw, 'height': vh}, has_touch=touch, is_mobile=touch,
                                  accept_downloads=True)
        page = ctx.new_page(); page.goto(kit_to_html(multi, tmp_path/'multi.html', min_view_s=0).resolve().as_uri())
        hit = page.tap if touch else page.click
        page.fill('#reader', 'z'); page.fill('#group', 'radiologist'); hit('#begin')
        page.wait_for_function("[...document.querySelectorAll('#panels img')].every(im => im.complete)")
        assert not page.is_visible('#zoomview')
        hit('#panels figure:nth-child(4) img')                                     # panel p3
        assert page.is_visible('#zoomview')
        box = page.evaluate(zoom_box)
        assert page.get_attribute('#zoomimg', 'src') == page.get_attribute('#panels figure:nth-child(4) img', 'src')
        assert box['width'] == pytest.approx(min(vw, vh), abs=1) and box['height'] == pytest.approx(min(vw, vh), abs=1)
        assert box['left'] >= 0 and box['top'] >= 0 and box['right'] <= vw and box['bottom'] <= vh   # fits the screen
        assert page.eval_on_selector('#zoomimg', 'im => getComputedStyle(im).imageRendering') == 'pixelated'
        page.keyboard.press('r')                                                   # no answer while zoomed
        assert page.inner_text('#progress') == 'item 1 of 4' and page.is_visible('#zoomview')
        page.wait_for_timeout(700)
        page.keyboard.press('Escape')
        assert not page.is_visible('#zoomview')
        hit('#panels figure:nth-child(1) img'); assert page.is_visible('#zoomview')
        hit('#zoomview', position={'x': 5, 'y': 5})                                # a tap closes it too
        assert not page.is_visible('#zoomview')
        page.keyboard.press('r')                                                   # answers work again
        assert page.inner_text('#progress') == 'item 2 of 4'
        for key in 'sss': page.keyboard.press(key)
        with page.expect_download() as dl:
            hit('#export')
        out = tmp_path/'zoom.json'; dl.value.save_as(out)
        head, recs = load_responses(out, multi)
        assert [r['answers']['origin'] for r in recs] == ['real', 'synthetic', 'synthetic', 'synthetic']
        assert recs[0]['time_s'] >= 0.7, recs[0]                                    # zoom time counts as viewing
        page = ctx.new_page(); page.goto(kit_to_html(big, tmp_path/'big.html', min_view_s=0).resolve().as_uri())
        hit = page.tap if touch else page.click
        page.fill('#reader', 'z'); page.fill('#group', 'radiologist'); hit('#begin')
        page.wait_for_function("document.querySelector('#panels img').complete")
        hit('#panels img')
        box = page.evaluate(zoom_box)
        assert (box['width'], box['height']) == (1500, 900)                        # larger than the screen: native size
        pan = page.eval_on_selector('#zoomview', 'v => [v.scrollWidth, v.clientWidth]')
        assert pan[0] > pan[1]                                                     # and it pans
        page.keyboard.press('Escape'); page.keyboard.press('s')
        assert not page.is_visible('#zoomview') and page.inner_text('#progress') == 'item 2 of 4'
        browser.close()


def _stored(page) -> dict:
    "{storage key: number of answers} of the page's kept reader states."
    return page.evaluate("Object.fromEntries(Object.keys(localStorage).filter(k => !k.endsWith(':last'))"
                         ".map(k => [k.split(':').slice(2).join(':'), JSON.parse(localStorage.getItem(k)).responses.length]))")


def test_answers_kept_until_import_confirmed(tmp_path):
    "Export → confirm_import → the code typed into the page clears that attempt; wrong or partial codes clear nothing."
    kit = make_kit(tmp_path/'kit', _imgs(2, 0.2), _imgs(2, 0.7), seed=3)
    html = kit_to_html(kit, tmp_path/'study.html', min_view_s=0)
    reader = 'Dr. Ünal "ß"'                                                          # non-ASCII and quotes: same digest in JS and Python
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=['--no-sandbox'])
        page = browser.new_context(accept_downloads=True).new_page()
        page.goto(html.resolve().as_uri())

        def export(name):
            with page.expect_download() as dl:
                page.click('#export')
            out = tmp_path/name; dl.value.save_as(out)
            return out, dl.value.suggested_filename

        def confirm(code):
            page.fill('#code', code); page.click('#confirm')
            return page.inner_text('#confirmmsg')

        page.fill('#reader', reader); page.fill('#group', 'radiologist'); page.click('#begin')
        page.keyboard.press('r'); page.keyboard.press('s')
        first, name1 = export('first.json')                                        # midway: 2 of 4 answers
        for key in 'rs': page.keyboard.press(key)
        second, name2 = export('second.json')
        assert (name1, name2) == ('responses-Dr___nal____-attempt1.json', 'responses-Dr___nal____-attempt1-export2.json')
        exp1, exp2 = json.loads(first.read_text()), json.loads(second.read_text())
        assert (exp1['export'], exp2['export'], len(exp1['responses']), len(exp2['responses'])) == (1, 2, 2, 4)
        code1, code2 = confirm_import(first, kit), confirm_import(second, kit)      # the page's digest checks out
        assert code1 != code2 and len(code2) == 9
        assert 'not confirmed' in page.inner_text('#unconfirmed') and '(4 answers, exported 2×)' in page.inner_text('#unconfirmed')
        page.reload()                                                                 # a reload before confirming keeps all
        assert page.is_visible('#finished') and _stored(page) == {reader: 4}
        assert '(4 answers, exported 2×)' in page.inner_text('#unconfirmed')
        # the organiser's side refuses an altered or torn file, naming it
        altered = dict(exp2, responses=[dict(r, answers={'origin': 'real'}) for r in exp2['responses']])
        (tmp_path/'altered.json').write_text(json.dumps(altered))
        with pytest.raises(ResponseError, match='altered.json: digest mismatch'): confirm_import(tmp_path/'altered.json', kit)
        (tmp_path/'torn.json').write_text(second.read_text()[:-50])
        with pytest.raises(ResponseError, match='torn.json: not valid JSON'): confirm_import(tmp_path/'torn.json', kit)
        wrong = 'FFFF-0000' if code2 != 'FFFF-0000' else '0000-FFFF'
        assert 'matches no export' in confirm(wrong) and _stored(page) == {reader: 4}
        assert 'holds 2 of its 4 answers' in confirm(code1) and _stored(page) == {reader: 4}   # an earlier, shorter export
        assert 'Import confirmed' in confirm(code2.lower())
        assert _stored(page) == {reader: 0} and page.inner_text('#unconfirmed') == ''
        page.reload()
        assert page.inner_text('#unconfirmed') == '' and page.is_visible('#again')
        page.click('#again')                                                          # attempt numbers go on
        assert page.inner_text('#progress') == 'item 1 of 4'
        for key in 'rrss': page.keyboard.press(key)
        third, name3 = export('third.json')
        assert name3 == 'responses-Dr___nal____-attempt2.json' and load_responses(third, kit)[0]['attempt'] == 2
        page.click('#again')                                                          # attempt 2 not confirmed: set aside
        assert _stored(page) == {reader: 0, reader + ':attempt2': 4}
        assert 'attempt 2 (4 answers, exported 1×)' in page.inner_text('#unconfirmed')
        assert 'Import confirmed' in confirm(confirm_import(third, kit))
        assert _stored(page) == {reader: 0} and page.inner_text('#unconfirmed') == ''
        browser.close()


def test_designed_repeats_keep_their_order(tmp_path):
    "A kit with designed repeats is shown in its own order, so every repeat stays apart from its first showing."
    kit = make_kit(tmp_path/'kit', _imgs(6, 0.2), _imgs(6, 0.7), repeats=2, seed=1)
    key = load_key(default_key_path(kit.folder), kit)
    html = kit_to_html(kit, tmp_path/'study.html', min_view_s=0)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=['--no-sandbox'])
        page = browser.new_context(accept_downloads=True).new_page()
        page.goto(html.resolve().as_uri())
        page.fill('#reader', 'rep'); page.fill('#group', 'radiologist'); page.click('#begin')
        for _ in range(14): page.keyboard.press('r')
        with page.expect_download() as dl:
            page.click('#export')
        out = tmp_path/'rep.json'; dl.value.save_as(out)
        head, recs = load_responses(out, kit)
        assert [r['item_id'] for r in recs] == [r['item_id'] for r in kit.items]
        assert sum('repeat_of' in key[r['item_id']] for r in recs) == 2
        browser.close()
