"Each paper's reader-study design end to end: make the kit, take it (session state / widget app), analyse it."
import numpy as np
import pandas as pd
import pytest
from medgan_nb.reader.study import make_kit, finding_question, load_key, default_key_path
from medgan_nb.reader.widget import StudySession, StudyApp
from medgan_nb.reader import stats as rs


def _imgs(n, v, shape=(8, 8)): return [np.full(shape, v + i / 1000) for i in range(n)]


def _take(kit, key, path, reader, group, answer, warmup=True):
    "Take the kit with `answer(truth) -> {question: choice}` through the session class; return the log path."
    s = StudySession(kit, path, reader, group, warmup=warmup, min_view_s=0)
    while not s.done:
        for q, c in answer(key[s.item_id]).items(): s.choose(q, c)
    return path


def test_haarburger_multipanel_warmup(tmp_path):
    series = lambda v: [np.full((3, 6, 8, 8), v)[0, i] for i in range(6)]          # T1 pre + 4 post, Sub, T2 -> 6 panels
    kit = make_kit(tmp_path/'a', [series(0.2)] * 6, {'DCGAN': [series(0.6)] * 4, 'WGAN': [series(0.7)] * 4}, warmup=2,
                   panel_names=['T1pre', 'T1post1', 'T1post2', 'T1post3', 'Sub', 'T2'], seed=1)
    key = load_key(default_key_path(kit.folder), kit)
    assert (len(kit.warmup), len(kit), len(kit.items[0]['images'])) == (4, 10, 6)
    # the layperson calls everything real; the radiologist is always right
    logs = [_take(kit, key, tmp_path/'l.jsonl', 'lay-1', 'layperson', lambda t: {'origin': 'real'}),
            _take(kit, key, tmp_path/'r.jsonl', 'rad-1', 'radiologist', lambda t: {'origin': t['origin']})]
    scored = rs.score(rs.responses_frame(logs, kit), key, kit)
    table = rs.accuracy_table(scored)                                               # Haarburger Table 3 layout
    assert table.loc['layperson'].to_dict() == {'DCGAN': 0.0, 'WGAN': 0.0, 'real': 100.0}
    assert table.loc['radiologist'].to_dict() == {'DCGAN': 100.0, 'WGAN': 100.0, 'real': 100.0}
    n_src = scored[scored.reader_id == 'lay-1'].source.value_counts().to_dict()
    assert n_src['real'] == 4 and n_src['DCGAN'] + n_src['WGAN'] == 6               # 2 real + 2 synthetic went to warm-up


def test_han2018_single_by_condition(tmp_path):
    logs, keys = [], {}
    for cond, n_wrong in (('DCGAN T1', 3), ('WGAN T1', 7)):
        kit = make_kit(tmp_path/cond.replace(' ', '_'), _imgs(10, 0.2), _imgs(10, 0.7), condition=cond, seed=2)
        key = load_key(default_key_path(kit.folder), kit)
        wrong = {r['item_id'] for r in kit.items[:n_wrong]}
        flip = {'real': 'synthetic', 'synthetic': 'real'}
        path = _take(kit, {i: dict(t, item_id=i) for i, t in key.items()}, tmp_path/f'{cond}.jsonl', 'expert', 'radiologist',
                     lambda t: {'origin': flip[t['origin']] if t['item_id'] in wrong else t['origin']})
        sc = rs.score(rs.responses_frame([path], kit), key, kit)
        logs.append(rs.confusion_table(sc, kit, by=('condition',)))
        real_wrong = sum(key[i]['origin'] == 'real' for i in wrong)
        row = logs[-1].iloc[0]
        assert row['accuracy'] == pytest.approx(100 * (20 - n_wrong) / 20)
        assert (row['real as synthetic'], row['synthetic as real']) == (real_wrong, n_wrong - real_wrong)
    assert pd.concat(logs).condition.tolist() == ['DCGAN T1', 'WGAN T1']


def test_korkinof_2afc(tmp_path):
    kit = make_kit(tmp_path/'c', _imgs(60, 0.2), _imgs(60, 0.7), design='2afc', items_per_reader=10, seed=3)
    key = load_key(default_key_path(kit.folder), kit)
    rng = np.random.default_rng(0)
    groups = ['radiologist'] * 15 + ['screening'] * 15
    logs = [_take(kit, key, tmp_path/f'r{i}.jsonl', f'r{i}', g, lambda t: {'real_is': str(rng.choice(['left', 'right']))})
            for i, g in enumerate(groups)]
    scored = rs.score(rs.responses_frame(logs, kit), key, kit)
    assert scored.groupby('reader_id').size().eq(10).all() and sorted(scored.position.unique()) == list(range(1, 11))
    k = rs.success_rates(scored, 'real_is').correct.to_numpy()
    gof = rs.chi2_binomial_gof(k)                                                    # 30 readers: sparse bins pooled
    assert gof['bins'] == [(0, 3), (4, 4), (5, 5), (6, 6), (7, 10)] and gof['dof'] == 4
    assert gof['observed'].sum() == 30 and gof['expected'].sum() == pytest.approx(30)
    assert gof['note'] == 'pooled bins 0–3, 7–10 (expected < 5.0)'
    with pytest.raises(ValueError, match='too few readers|only one bin'): rs.chi2_binomial_gof(k[:12])
    kw = rs.kruskal_by(scored, 'position', 'real_is')
    assert len(kw['groups']) == 10 and 0 <= kw['p_value'] <= 1
    table3 = rs.conover(kw['groups'])
    assert table3.shape == (10, 10) and np.allclose(table3.values, table3.values.T)
    strat = rs.kruskal_by(scored, 'group', 'real_is', per_reader=True)
    assert sorted(strat['groups']) == ['radiologist', 'screening']
    t4 = rs.success_summary(scored, 'real_is')
    assert t4.readers.tolist() == [15, 15, 30]
    assert t4.loc[2, 'mean'] == pytest.approx(k.mean() / 10)
    fig = rs.success_figure(scored, 'real_is')
    assert sum(p.get_height() for p in fig.axes[0].patches) == 30


def test_han2019_two_questions_with_widget(tmp_path):
    kit = make_kit(tmp_path/'d', _imgs(4, 0.2) + _imgs(4, 0.3), _imgs(4, 0.7) + _imgs(4, 0.8), finding=finding_question(),
                   real_findings=['tumour'] * 4 + ['non-tumour'] * 4, synthetic_findings=['tumour'] * 4 + ['non-tumour'] * 4, seed=4)
    key = load_key(default_key_path(kit.folder), kit)
    app = StudyApp(StudySession(kit, tmp_path/'w.jsonl', 'expert', 'radiologist', min_view_s=0))
    while not app.session.done:                       # right about the finding, always says 'synthetic'
        app.keys.value = 's' + ('t' if key[app.session.item_id]['finding'] == 'tumour' else 'n')
    scored = rs.score(rs.responses_frame([tmp_path/'w.jsonl'], kit), key, kit)
    origin = rs.confusion_table(scored, kit, 'origin', by=('reader_id',)).iloc[0]
    finding = rs.confusion_table(scored, kit, 'finding', by=('reader_id',)).iloc[0]
    assert origin['cell'] == '50 (0 8 0 8)'
    assert finding['cell'] == '100 (8 0 0 8)'


def test_designed_repeats_intra_reader_agreement(tmp_path):
    "Designed repeats in the JupyterLab app: shown apart, agreement per reader, each image once in the accuracy."
    kit = make_kit(tmp_path/'rep', _imgs(10, 0.2), _imgs(10, 0.7), repeats=6, seed=4, condition='DCGAN T1')
    key = load_key(default_key_path(kit.folder), kit)
    seconds = {i: t['repeat_of'] for i, t in key.items() if 'repeat_of' in t}
    assert len(kit) == 26 and sorted(key[i]['origin'] for i in seconds) == ['real'] * 3 + ['synthetic'] * 3
    s = StudySession(kit, tmp_path/'order.jsonl', 'x', 'radiologist', min_view_s=0)
    order = [i for i, _ in s.sequence]
    assert all(order.index(i) - order.index(f) >= 20 // 3 for i, f in seconds.items())   # the second showing comes later, apart
    flip = {'real': 'synthetic', 'synthetic': 'real'}
    wrong_once = sorted(seconds)[:3]                                                 # changes 3 of 6 answers when shown again
    logs = [_take(kit, {i: dict(t, item_id=i) for i, t in key.items()}, tmp_path/'a.jsonl', 'steady', 'radiologist',
                  lambda t: {'origin': t['origin']}, warmup=False),
            _take(kit, {i: dict(t, item_id=i) for i, t in key.items()}, tmp_path/'b.jsonl', 'fickle', 'layperson',
                  lambda t: {'origin': flip[t['origin']] if t['item_id'] in wrong_once else t['origin']}, warmup=False)]
    frame = rs.responses_frame(logs, kit)
    agree = rs.intra_reader_agreement(frame, key).set_index('reader_id')
    assert agree.loc['steady', ['pairs', 'agreement', 'kappa']].tolist() == [6, 1.0, 1.0]
    first = ['real' if key[seconds[i]]['origin'] == 'real' else 'synthetic' for i in sorted(seconds)]
    second = [flip[f] if i in wrong_once else f for f, i in zip(first, sorted(seconds))]
    assert agree.loc['fickle', 'agreement'] == pytest.approx(0.5)
    assert agree.loc['fickle', 'kappa'] == pytest.approx(rs.cohen_kappa(first, second))
    table = rs.confusion_table(rs.score(frame, key, kit), kit, by=('reader_id',)).set_index('reader_id')
    assert table.n.tolist() == [20, 20] and table.loc['fickle', 'accuracy'] == 100.0   # the 20 images, each once
