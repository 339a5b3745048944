"""The Han notebooks on a brain data set without tumour grades (BraTS 2021 layout: one flat folder, no name_mapping.csv).

The paper's grade (HGG) cannot apply there: the notebooks stop with a message asking for grades='all'; with it Han 2018
uses every case and every table caption says so."""
import json, shutil
from pathlib import Path
import pytest

pm = pytest.importorskip('papermill')
from _papers import run_paper

SIZE = (60, 60, 39)   # 4 mm grid: the slice ranges below are the papers' ranges scaled by 1/4


@pytest.fixture(scope='module')
def brats2021(tmp_path_factory):
    "Four phantom cases renamed and laid out as BraTS 2021 ships them: BraTS2021_<id>/BraTS2021_<id>_<seq>.nii.gz."
    from medgan_nb.data.phantoms.brain import make_brain_phantoms
    tmp = tmp_path_factory.mktemp('grades')
    folders = make_brain_phantoms(tmp/'src', n=4, seed=3, size=SIZE, progress=False)
    root = tmp/'RSNA_ASNR_MICCAI_BraTS2021_TrainingData_16July2021'
    for i, f in enumerate(sorted(folders)):
        case = root/f"BraTS2021_{i:05d}"; case.mkdir(parents=True)
        for p in f.iterdir(): shutil.copy(p, case/p.name.replace(f.name, case.name))
    return tmp, root


def test_han2018_without_grades_stops_then_uses_every_case(brats2021):
    tmp, root = brats2021
    small = dict(profile='smoke', data_dir=str(root), first_slice=20, last_slice=37)
    with pytest.raises(pm.PapermillExecutionError, match="none of its 4 cases has a tumour grade.*set grades='all'"):
        run_paper('han2018', tmp, 'stop.ipynb', run_id='hgg', **small)
    run_paper('han2018', tmp, 'all.ipynb', run_id='all', grades='all', threads=2, **small)
    run = tmp/'out'/'han2018'/'all'
    note = "every case whatever its grade (grades='all'; the paper: HGG only)"
    tables = sorted((run/'tables').glob('*.md'))
    assert tables and all(note in t.read_text() for t in tables), [t.name for t in tables if note not in t.read_text()]
    m = json.loads((run/'metrics.json').read_text())
    assert m['dataset'] == f"user data (folder '{root.name}'), {note}"
    assert json.loads((run/'inputs.json').read_text())['n_files'] == 10            # 1 training + 1 held-out case, 5 files each


def test_han2019_without_grades_stops(brats2021):
    tmp, root = brats2021
    with pytest.raises(pm.PapermillExecutionError, match=r"none of its 4 cases has a tumour grade.*grades=\('HGG', 'LGG'\).*set grades='all'"):
        run_paper('han2019', tmp, 'stop19.ipynb', run_id='hgg', profile='smoke', data_dir=str(root))
