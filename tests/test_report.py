"""The report on a fabricated outputs folder: counts print as integers and measures to the paper's precision,
figures are small files beside the page with their captions, each paper has one summary without repeats,
text is escaped, papers are named by key and author-year, and an outputs folder's old name reports once."""
import json, os, re
from pathlib import Path
import numpy as np, pandas as pd, pytest, yaml
from PIL import Image
from medgan_nb.report import write_report

EVIL = '<script>alert(1)</script>'


def _figure(path:Path, size:tuple, seed:int=0):
    "A grey PNG of `size` (w, h): a gradient with noise, about as hard to compress as a figure of images."
    w, h = size
    rng = np.random.default_rng(seed)
    grey = (np.linspace(0, 255, w)[None, :] * np.ones((h, 1)) + rng.normal(0, 8, (h, w))).clip(0, 255)
    Image.fromarray(np.repeat(grey.astype(np.uint8)[..., None], 3, axis=2)).save(path)


def _run(out:Path, folder:str, paper:str, run_id:str, finished_ns:int, tables:dict, figures:dict,
         labels:dict) -> Path:
    "A finished run folder as the paper notebooks write it."
    run = out/folder/run_id
    (run/'tables').mkdir(parents=True)
    (run/'figures').mkdir()
    (run/'config.yaml').write_text(yaml.safe_dump({'paper': paper, 'profile': 'quick', 'seed': 0}))
    env = {'device': 'cpu', 'cpu_model': 'Test CPU', 'packages': {'torch': '2.13.0'},
           'git': {'commit': 'abcdef0123'}}
    (run/'env.json').write_text(json.dumps(env))
    (run/'inputs.json').write_text(json.dumps({'n_files': 4, 'digest': 'ab' * 32}))
    metrics = {'paper': paper, 'wall_s': 123.4, 'dataset': labels['dataset'], 'reader': labels['reader'],
               'labels': labels, 'training': {'dcgan': {'img_per_s': 50.0}}}
    (run/'metrics.json').write_text(json.dumps(metrics))
    for name, (frame, meta) in tables.items():
        frame.to_csv(run/'tables'/f'{name}.csv', index=False)
        if meta is not None: (run/'tables'/f'{name}.json').write_text(json.dumps(meta))
        else: (run/'tables'/f'{name}.md').write_text('| a |\n|---|\n| 1 |\n\n*Caption only in Markdown.*\n')
    for name, (size, caption) in figures.items():
        _figure(run/'figures'/f'{name}.png', size)
        (run/'figures'/f'{name}.pdf').write_bytes(b'%PDF-1.4\n')
        if caption: (run/'figures'/f'{name}.json').write_text(json.dumps({'caption': caption}))
    (run/'FINISHED').write_text('finished\n')
    os.utime(run/'FINISHED', ns=(finished_ns, finished_ns))
    return run


@pytest.fixture(scope='module')
def report(tmp_path_factory):
    "Two papers (one also under an older folder name), an unfinished run, an earlier report's stale copy."
    out = tmp_path_factory.mktemp('outputs')
    readers = pd.DataFrame({'group': ['all participants', 'radiologists', 'trainees'],
                            'readers (paper)': [133, 64, np.nan], 'readers (ours)': [96.0, 40.0, 8.0],
                            'mean (paper)': [0.492, 0.488, np.nan], 'mean (ours)': [0.5123456, 0.47, 0.6],
                            'FID (paper)': [27.14, 20.2, np.nan], 'FID (ours)': [31.5, np.nan, 12.25],
                            'items (ours)': [1000.0, np.nan, 80.0]})   # a count without a paper column
    vtt = pd.DataFrame({'question': ['real/synthetic', EVIL], 'accuracy (paper)': [78.5, 90.5],
                        'accuracy (ours)': [62.456, 55.0], 'A as A (paper)': [58, 82],
                        'A as A (ours)': [7.0, 9.0]})
    cost = pd.DataFrame({'model': ['dcgan'], 'images': [70], 'wall_s': [12.3456], 'img_per_s': [51.234]})
    kor_tables = {'table4_success_rates': (readers, {'caption': 'Table 4: success rate.', 'digits': 3}),
                  'training': (cost, {'caption': 'Training cost.', 'digits': 1})}
    kor_figures = {'fig7_responses': ((3000, 1200), 'Fig. 7: correct answers per reader.'),
                   'zz_extra': ((900, 300), None)}
    kor = _run(out, 'korkinof2021', 'korkinof2021', '20260301-000000-kkkk', 3 * 10**18, kor_tables,
               kor_figures,
               {'dataset': 'mammogram phantoms (embedded default)', 'reader': 'machine reader (C2ST)',
                'artefacts': 'automatic proxy', 'table3': 'machine reader (C2ST)'})
    han_tables = {'table2_visual_turing_test': (vtt, {'caption': f'Table 2: VTT {EVIL}.', 'digits': 1}),
                  'old_table': (cost, None)}
    han_figures = {'fig10_late': ((2000, 1000), 'Fig. 10: late.'),
                   'fig2_real_examples': ((2400, 1600), f'Fig. 2: real {EVIL}.')}
    han = _run(out, 'han2019', 'han2019', '20260201-000000-hhhh', 2 * 10**18, han_tables, han_figures,
               {'dataset': 'brain phantoms (embedded default)', 'reader': 'machine reader (C2ST + ResNet)',
                'table2': 'machine reader (C2ST + ResNet)', 'discard': f'automatic {EVIL}'})
    old = _run(out, 'han2019_pggan_augmentation', 'han2019', '20250101-000000-oooo', 10**18, {}, {},
               {'dataset': 'brain phantoms (embedded default)', 'reader': 'machine reader'})
    (out/'han2018'/'20260401-000000-uuuu').mkdir(parents=True)   # unfinished: not reported
    (out/'report_files'/'gone').mkdir(parents=True)
    (out/'report_files'/'gone'/'stale.png').write_bytes(b'stale')
    md, page = write_report(out)
    return out, md.read_text(), page.read_text(), {'korkinof2021': kor, 'han2019': han, 'old': old}


def _section(text:str, key:str) -> str:
    "The HTML of one paper's section."
    start = text.index(f'<h2 id="{key}">')
    nxt = text.find('<h2 id=', start + 1)
    return text[start:nxt if nxt > 0 else len(text)]


def test_counts_print_as_integers_and_measures_to_the_papers_precision(report):
    out, md, page, runs = report
    assert '| all participants | 133 | 96 | 0.492 | 0.512 | 27.14 | 31.50 | 1000 |' in md
    assert '| trainees | — | 8 | — | 0.600 | — | 12.25 | 80 |' in md
    assert '| real/synthetic | 78.5 | 62.5 | 58 | 7 |' in md        # accuracy as the paper's 78.5
    assert '| dcgan | 70 | 12.3 | 51.2 |' in md                      # no paper column: the table's digits
    for wrong in ('133.0', '96.0', '7.0 ', '64.000', '1000.0'):
        assert wrong not in md and wrong not in page, wrong
    assert '<td >133</td>' in page and '<td >31.50</td>' in page


def test_figures_are_small_files_beside_the_page_with_captions(report):
    out, md, page, runs = report
    assert 'base64' not in page and len(page.encode()) < 40_000
    assert not (out/'report_files'/'gone').exists()                 # an earlier report's copies are gone
    names = {'korkinof2021': ['fig7_responses', 'zz_extra'], 'han2019': ['fig2_real_examples', 'fig10_late']}
    for key, stems in names.items():
        for name in stems:
            orig, copy = runs[key]/'figures'/f'{name}.png', out/'report_files'/key/f'{name}.png'
            with Image.open(orig) as a, Image.open(copy) as b:
                assert b.width == min(a.width, 1400), name
                assert abs(b.height - a.height * b.width / a.width) < 1, name
            assert copy.stat().st_size <= orig.stat().st_size, name
            assert f'src="report_files/{key}/{name}.png"' in page
            assert f'href="{key}/{runs[key].name}/figures/{name}.png"' in page
    assert '<figcaption>Fig. 7: correct answers per reader.</figcaption>' in page
    assert '<figcaption>zz_extra</figcaption>' in page                # no caption stored: its name
    sec = _section(page, 'han2019')
    assert sec.index('fig2_real_examples') < sec.index('fig10_late')  # the paper's figures in natural order
    assert '*Fig. 7: correct answers per reader.*' in md
    assert '(korkinof2021/20260301-000000-kkkk/figures/fig7_responses.png)' in md


def test_one_summary_per_paper_without_repeats(report):
    out, md, page, runs = report
    for key in ('korkinof2021', 'han2019'):
        facts = re.findall(r'<li><b>(.*?)</b>: (.*?)</li>', _section(page, key))
        labels, values = [k for k, v in facts], [v for k, v in facts]
        assert len(set(values)) == len(values) and len(set(labels)) == len(labels), facts
        assert labels[:5] == ['run', 'machine', 'inputs', 'data', 'readers'], labels
        assert not {'dataset', 'reader'} & set(labels), labels
    assert page.count('<h2 id="han2019">') == 1 and md.count('(`han2019`)') == 1
    assert runs['old'].name not in md and runs['old'].name not in page   # the older folder name of han2019
    assert 'uuuu' not in md and 'han2018' not in md                      # unfinished runs are not reported


def test_papers_named_by_key_and_author_year_in_the_suites_order(report):
    out, md, page, runs = report
    kor = page.index('<h2 id="korkinof2021">Korkinof et al. 2021')
    assert kor < page.index('<h2 id="han2019">Han et al. 2019')
    assert '## Korkinof et al. 2021 — perceived realism of high-resolution synthetic mammograms' in md
    assert '(`korkinof2021`)' in md
    assert not re.search(r'\b[Pp]aper [A-D]\b', md + page)


def test_text_is_escaped(report):
    out, md, page, runs = report
    assert '<script>' not in page
    sec = _section(page, 'han2019')
    assert sec.count('&lt;script&gt;alert(1)&lt;/script&gt;') == 4   # cell, table and figure captions, label
    assert '<caption>Caption only in Markdown.</caption>' in page      # a run from before save_table's JSON
