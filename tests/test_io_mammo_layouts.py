"""Public mammogram data sets laid out as their downloads are (CBIS-DDSM from TCIA, VinDr-Mammo from PhysioNet, INbreast),
written here at tiny sizes: view, laterality, patient and labels from the tables, from the DICOM tags where no table
is there, and every file or table row that cannot be used in the report with its reason."""
from pathlib import Path
import numpy as np, pydicom, pytest
from medgan_nb.data.io import DataError, write_dicom_mg, find_mammo_dataset, detect_mammo_layout, read_dicom

PX = np.random.default_rng(5).integers(0, 4096, size=(24, 16), dtype=np.uint16)

def mg(path: Path, view=None, side=None, photometric='MONOCHROME2', **tags):
    "A tiny MG file; View Position and Image/Laterality only where the data set's files carry them."
    ds = pydicom.dcmread(write_dicom_mg(path, PX, 'CC', 'L', photometric))
    del ds.ViewPosition, ds.ImageLaterality, ds.Laterality
    if view: ds.ViewPosition = view
    if side: ds.ImageLaterality = side
    for k, v in tags.items(): setattr(ds, k, v)
    ds.save_as(path)
    return path

# ---- CBIS-DDSM: NBIA folders <subject>/<study date>-DDSM-<n>/<n>.000000-<series description>-<n>/1-1.dcm ----
CBIS_HEAD = ('patient_id,breast_density,left or right breast,image view,abnormality id,abnormality type,mass shape,mass margins,'
             'assessment,pathology,subtlety,image file path,cropped image file path,ROI mask file path\n')
CALC_HEAD = ('patient_id,breast density,left or right breast,image view,abnormality id,abnormality type,calc type,calc distribution,'
             'assessment,pathology,subtlety,image file path,cropped image file path,ROI mask file path\n')

def cbis_image(root: Path, subject: str, series='1.000000-full mammogram images-24515', desc='full mammogram images', **tags):
    "CBIS-DDSM files hold view and side only in Patient ID (the subject) and the Laterality tag of full images."
    return mg(root/subject/'07-20-2016-DDSM-74994'/series/'1-1.dcm', PatientID=subject, SeriesDescription=desc, **tags)

def row(subject, side, view, pathology, n=1, density=3):
    pid = subject.split('_', 1)[1].rsplit('_', 2)[0]
    return (f"{pid},{density},{side},{view},{n},mass,IRREGULAR,SPICULATED,4,{pathology},4,"
            f"{subject}/1.3.6.1.4.1.9590.100.1.2.1/1.3.6.1.4.1.9590.100.1.2.2/000000.dcm,{subject}_{n}/x/y/000000.dcm,{subject}_{n}/x/y/000001.dcm\n")

@pytest.fixture
def cbis(tmp_path):
    root = tmp_path/'manifest-ZkhPvrLo5216730872708713142'/'CBIS-DDSM'
    cbis_image(root, 'Mass-Training_P_00001_LEFT_CC', Laterality='L')
    cbis_image(root, 'Mass-Training_P_00001_LEFT_MLO', Laterality='L')
    cbis_image(root, 'Calc-Test_P_00038_RIGHT_CC', Laterality='R')
    cbis_image(root, 'Mass-Training_P_00001_LEFT_CC_1', '1.000000-ROI mask images-59683', 'ROI mask images')
    cbis_image(root, 'Mass-Training_P_00001_LEFT_CC_1', '1.000000-cropped images-12345', 'cropped images')
    return root

def test_cbis_ddsm_with_tables(cbis):
    tables = cbis.parent                                                         # the download folder: tables beside CBIS-DDSM/
    (tables/'mass_case_description_train_set.csv').write_text(
        CBIS_HEAD + row('Mass-Training_P_00001_LEFT_CC', 'LEFT', 'CC', 'BENIGN') + row('Mass-Training_P_00001_LEFT_CC', 'LEFT', 'CC', 'MALIGNANT', 2)
        + row('Mass-Training_P_00001_LEFT_MLO', 'LEFT', 'MLO', 'BENIGN_WITHOUT_CALLBACK')
        + row('Mass-Training_P_00009_RIGHT_CC', 'RIGHT', 'CC', 'BENIGN')            # not downloaded
        + row('Mass-Training_P_00010_RIGHT_CC', 'MIDDLE', 'CC', 'BENIGN'))          # a broken row
    (tables/'calc_case_description_test_set.csv').write_text(CALC_HEAD + row('Calc-Test_P_00038_RIGHT_CC', 'RIGHT', 'CC', 'MALIGNANT', density=2))
    root = tables
    assert detect_mammo_layout(root) == 'cbis-ddsm'
    refs, skipped = find_mammo_dataset(root)
    got = {r.study_id: (r.view, r.laterality, r.patient_id, r.labels['pathology'], r.labels['split'], r.labels['density'],
                        len(r.labels['abnormalities']), r.view_source) for r in refs}
    assert got == {'Mass-Training_P_00001_LEFT_CC': ('CC', 'L', 'P_00001', 'MALIGNANT', 'training', '3', 2, 'mass_case_description_train_set.csv'),
                   'Mass-Training_P_00001_LEFT_MLO': ('MLO', 'L', 'P_00001', 'BENIGN_WITHOUT_CALLBACK', 'training', '3', 1, 'mass_case_description_train_set.csv'),
                   'Calc-Test_P_00038_RIGHT_CC': ('CC', 'R', 'P_00038', 'MALIGNANT', 'test', '2', 1, 'calc_case_description_test_set.csv')}
    reasons = dict(skipped)
    assert len(skipped) == 4, skipped                                           # 2 derived series, 1 broken row, 1 missing file
    assert sum("derived series 'ROI mask images'" in r or "derived series 'cropped images'" in r for r in reasons.values()) == 2
    bad = next(v for k, v in reasons.items() if k.startswith('mass_case_description_train_set.csv:'))
    assert bad == f"{tables/'mass_case_description_train_set.csv'}: line 6: left or right breast 'MIDDLE', expected one of ('LEFT', 'RIGHT')"
    assert reasons['Mass-Training_P_00009_RIGHT_CC'].startswith('mass_case_description_train_set.csv: Mass-Training_P_00009_RIGHT_CC is listed')

def test_cbis_ddsm_without_tables(cbis):
    "Tags and names only: the Patient ID gives the view, the Laterality tag the side, the folder the patient."
    refs, skipped = find_mammo_dataset(cbis)
    assert len(skipped) == 2 and len(refs) == 3
    r = next(r for r in refs if r.study_id == 'Calc-Test_P_00038_RIGHT_CC')
    assert (r.view, r.view_source, r.laterality, r.laterality_source, r.patient_id, r.labels) == \
        ('CC', 'PatientID/SeriesDescription', 'R', 'Laterality', 'P_00038', {'split': 'test'})
    refs, _ = find_mammo_dataset(cbis, include_derived=True)
    assert len(refs) == 5

def test_cbis_table_contradicting_a_tag(cbis):
    (cbis/'mass_case_description_train_set.csv').write_text(CBIS_HEAD + row('Mass-Training_P_00001_LEFT_CC', 'RIGHT', 'CC', 'BENIGN'))
    refs, skipped = find_mammo_dataset(cbis)
    path = next(cbis.glob('Mass-Training_P_00001_LEFT_CC/*/*/1-1.dcm'))
    assert (str(path), f"{path}: laterality 'L' in its Laterality tag but 'R' in mass_case_description_train_set.csv") in skipped

# ---- VinDr-Mammo: physionet.org/files/vindr-mammo/1.0.0/images/<study_id>/<image_id>.dicom ----
VINDR_HEAD = 'study_id,series_id,image_id,laterality,view_position,height,width,breast_birads,breast_density,split\n'
FIND_HEAD = ('image_id,study_id,series_id,laterality,view_position,height,width,breast_birads,breast_density,finding_categories,'
             'finding_birads,xmin,ymin,xmax,ymax,split\n')
VIEWS = [('R', 'CC'), ('L', 'CC'), ('R', 'MLO'), ('L', 'MLO')]

@pytest.fixture
def vindr(tmp_path):
    root = tmp_path/'physionet.org'/'files'/'vindr-mammo'/'1.0.0'
    for s, study in enumerate(('1d6e9f0bc1a3f1bc1ba2e52d2b5d0f04', '8ca2f4a8b2d0a7b2b8e9f0a1c2d3e4f5')):
        for i, (side, view) in enumerate(VIEWS):
            mg(root/'images'/study/f"img{s}{i}.dicom", view, side, 'MONOCHROME1' if s else 'MONOCHROME2')
    return root

def test_vindr_with_tables(vindr):
    studies = sorted(p.name for p in (vindr/'images').iterdir())
    lines = [f"{st},ser{s},img{s}{i},{side},{view},24,16,BI-RADS {1 + i},DENSITY C,{'training' if s == 0 else 'test'}\n"
             for s, st in enumerate(studies) for i, (side, view) in enumerate(VIEWS)]
    lines.append(f"{studies[0]},ser0,img99,R,CC,24,16,BI-RADS 1,DENSITY C,training\n")     # listed, not downloaded
    (vindr/'breast-level_annotations.csv').write_text(VINDR_HEAD + ''.join(lines))
    (vindr/'finding_annotations.csv').write_text(FIND_HEAD +
        f"img01,{studies[0]},ser0,L,CC,24,16,BI-RADS 4,DENSITY C,['Mass'],BI-RADS 4,2.5,3.0,10.0,12.5,training\n"
        f"img00,{studies[0]},ser0,R,CC,24,16,BI-RADS 1,DENSITY C,['No Finding'],,,,,,training\n")
    mg(vindr/'images'/studies[1]/'img13.dicom', 'MLO', 'R')                       # tag says R, table says L
    assert detect_mammo_layout(vindr) == 'vindr'
    refs, skipped = find_mammo_dataset(vindr)
    assert len(refs) == 7 and all(r.dataset == 'vindr' and r.view_source == 'breast-level_annotations.csv' for r in refs)
    r = next(r for r in refs if r.path.stem == 'img01')
    assert (r.view, r.laterality, r.patient_id, r.labels['birads'], r.labels['split']) == ('CC', 'L', studies[0], 'BI-RADS 2', 'training')
    assert r.labels['findings'] == [dict(categories="['Mass']", birads='BI-RADS 4', box=(2.5, 3.0, 10.0, 12.5))]
    assert next(r for r in refs if r.path.stem == 'img00').labels['findings'] == []
    bad = vindr/'images'/studies[1]/'img13.dicom'
    assert skipped == [(str(bad), f"{bad}: laterality 'R' in its ImageLaterality tag but 'L' in breast-level_annotations.csv"),
                       ('img99', f"breast-level_annotations.csv: img99 is listed but no DICOM file of it was found under {vindr}")]
    arr, meta = read_dicom(next(r.path for r in refs if r.path.stem == 'img10'))   # MONOCHROME1 reads with 1 = white
    assert meta['photometric'] == 'MONOCHROME1' and arr.dtype == np.float32

def test_vindr_without_tables(vindr):
    refs, skipped = find_mammo_dataset(vindr/'images')                           # only the images folder: tags
    assert skipped == [] and len(refs) == 8
    assert {(r.path.stem, r.view, r.laterality, r.view_source) for r in refs if r.path.stem.startswith('img0')} == \
        {(f"img0{i}", v, s, 'ViewPosition') for i, (s, v) in enumerate(VIEWS)}
    assert {r.patient_id for r in refs} == {p.name for p in (vindr/'images').iterdir()}

# ---- INbreast: INbreast Release 1.0/AllDICOMs/<image id>_<patient>_MG_<L|R>_<CC|ML>_ANON.dcm, INbreast.csv|.xls ----
INB = [('22678622', '61b13c59bcba149e', 'R', 'CC', 'CC'), ('22678646', '61b13c59bcba149e', 'R', 'ML', 'MLO'),
       ('20586908', '6c613a14b80a8591', 'L', 'CC', 'CC'), ('20586934', '6c613a14b80a8591', 'L', 'ML', 'MLO')]

@pytest.fixture
def inbreast(tmp_path):
    root = tmp_path/'INbreast Release 1.0'
    for image, patient, side, name_view, view in INB:
        mg(root/'AllDICOMs'/f"{image}_{patient}_MG_{side}_{name_view}_ANON.dcm", side=side)   # side tag, no view tag
    (root/'AllXML').mkdir(); (root/'INbreast.xls').write_bytes(b'\xd0\xcf\x11\xe0 excel')
    return root

INB_HEAD = 'Patient ID;Patient age;Laterality;View;Acquisition date;File Name;ACR;Bi-Rads\n'

def inbreast_csv(root):
    "INbreast.csv as the release writes it: semicolons, 'removed' patient fields, ACR padded with blanks when absent."
    lines = [f"removed;removed;{side};{view};201001;{image};{'4' if i else '     '};{'4c' if i == 1 else '2'}\n"
             for i, (image, _, side, _, view) in enumerate(INB)]
    (root/'INbreast.csv').write_text(INB_HEAD + ''.join(lines))

def test_inbreast_with_table(inbreast):
    inbreast_csv(inbreast)
    assert detect_mammo_layout(inbreast) == 'inbreast'
    refs, skipped = find_mammo_dataset(inbreast)
    assert skipped == []
    got = {r.study_id: (r.view, r.laterality, r.patient_id, r.labels, r.view_source) for r in refs}
    assert got['22678646'] == ('MLO', 'R', '61b13c59bcba149e', {'density': '4', 'birads': '4c'}, 'INbreast.csv')
    assert got['22678622'] == ('CC', 'R', '61b13c59bcba149e', {'density': '', 'birads': '2'}, 'INbreast.csv')

def write_inbreast_xls(csv_path, xls_path):
    "The release's Excel 97 twin of INbreast.csv: same header and rows, dates, file names, ACR and BI-RADS as numbers."
    xlwt = pytest.importorskip('xlwt')
    book = xlwt.Workbook(); sheet = book.add_sheet('Sheet1')
    for i, line in enumerate(csv_path.read_text().splitlines()):
        for j, v in enumerate(line.split(';')):
            sheet.write(i, j, int(v) if i and v.strip().isdigit() else v)
    book.save(str(xls_path))

def test_inbreast_xls_gives_the_csv_records(inbreast, tmp_path):
    "Only INbreast.xls (Excel 97, read with xlrd): the same records as from INbreast.csv, their source naming the .xls."
    inbreast_csv(inbreast)
    csv_refs, _ = find_mammo_dataset(inbreast)
    write_inbreast_xls(inbreast/'INbreast.csv', inbreast/'INbreast.xls')
    (inbreast/'INbreast.csv').unlink()
    assert detect_mammo_layout(inbreast) == 'inbreast'
    xls_refs, skipped = find_mammo_dataset(inbreast)
    assert skipped == []
    facts = lambda r: (r.path, r.view, r.laterality, r.patient_id, r.study_id, r.labels, r.dataset)
    assert sorted(map(facts, xls_refs)) == sorted(map(facts, csv_refs)) and len(xls_refs) == len(INB)
    assert {(r.view_source, r.laterality_source) for r in xls_refs} == {('INbreast.xls', 'INbreast.xls')}
    assert {r.study_id: r.labels for r in xls_refs}['22678622'] == {'density': '', 'birads': '2'}   # blank ACR stays ''

def test_inbreast_xls_bad_row_named(inbreast):
    "A wrong value in the .xls is reported with the file, its row, the field and the value; the other rows stay."
    inbreast_csv(inbreast)
    (inbreast/'INbreast.csv').write_text((inbreast/'INbreast.csv').read_text().replace(';R;MLO', ';R;XX', 1))
    write_inbreast_xls(inbreast/'INbreast.csv', inbreast/'INbreast.xls')
    (inbreast/'INbreast.csv').unlink()
    refs, skipped = find_mammo_dataset(inbreast)
    assert skipped == [('INbreast.xls:3', f"{inbreast/'INbreast.xls'}: line 3: View 'XX', expected one of ('CC', 'MLO')")]
    assert len(refs) == len(INB)                                                  # the image keeps its file name's view
    assert {r.study_id: r.view_source for r in refs}['22678646'] == 'file name'

def test_inbreast_without_csv(inbreast):
    "Only an unreadable .xls beside the files: it is named in the report; views from the file names, sides from the tags."
    refs, skipped = find_mammo_dataset(inbreast)
    assert len(skipped) == 1 and skipped[0][0] == 'INbreast.xls'
    assert skipped[0][1].startswith(f"{inbreast/'INbreast.xls'}: unreadable Excel 97 (.xls) table (XLRDError: ")
    assert skipped[0][1].endswith('; view and laterality come from the DICOM tags and file names')
    assert sorted((r.study_id, r.view, r.view_source, r.laterality, r.laterality_source) for r in refs) == \
        sorted((i, v, 'file name', s, 'ImageLaterality') for i, _, s, _, v in INB)

def test_korkinof_prep_takes_the_refs(inbreast):
    "The refs feed Korkinof's preprocessing as they are: CC and MLO apart, patients from the data set."
    from medgan_nb.data.prep.mammo import korkinof2021_prep
    refs, _ = find_mammo_dataset(inbreast)
    ms = korkinof2021_prep(refs, size=(32, 24))
    assert ms.counts.set_index('view').to_dict('index') == {'CC': {'images': 2, 'patients': 2, 'excluded': 0}, 'MLO': {'images': 2, 'patients': 2, 'excluded': 0}}

def test_two_layouts_refused(tmp_path, inbreast):
    (inbreast/'breast-level_annotations.csv').write_text(VINDR_HEAD)
    with pytest.raises(DataError, match=r"several mammogram layouts found \(vindr, inbreast\)"): find_mammo_dataset(inbreast)
