"""Jupyter-first, reproducible notebook suite for GAN-based medical image synthesis and its evaluation

### The path of the data

data folder → prep → cache → train → samples → metrics / reader kits → paper tables → report

| step | modules | what happens |
|---|---|---|
| data folder | `data.io`, `data.build`, `data.phantoms.brain`, `data.phantoms.mammo`, `data.phantoms.breast` | your BraTS, DICOM or DCE-MRI folder, or seeded phantoms |
| prep | `data.prep.brain`, `data.prep.mammo`, `data.prep.breast` | each paper's slices, images or patches |
| cache | `data.cache` | on-disk stores read lazily, reused by the next run |
| train | `models.dcgan`, `models.pggan`, `losses`, `train` | GANs counted in images shown; checkpoints, logs, sample grids |
| samples | `papers.common` | seeded images from the trained generators |
| metrics | `metrics.fid`, `metrics.samples`, `metrics.moments`, `metrics.embedding` | FID, 1-NN, KID, precision/recall, moments, t-SNE |
| reader kits | `reader.study`, `reader.widget`, `reader.html`, `reader.review`, `reader.stats` | blinded kits; answers of people or machine readers |
| paper tables | `papers.han2018`, `papers.haarburger2019`, `papers.korkinof2021`, `papers.han2019`, `figures` | every table and figure beside the paper's values |
| report | `reproduce`, `report` | every paper run, then outputs/REPORT.md and report.html |

### Modules

| notebook | module | what it does |
|---|---|---|
| `00_core` | `medgan_nb.core` | Settings, seeding, devices, atomic writes and run folders: what every other module of medgan_nb stands on. |
| `00a_compat` | `medgan_nb.compat` | Make `import torchvision` work when the registry's CUDA build of torchvision meets the CPU build of torch. |
| `01_data.io` | `medgan_nb.data.io` | Read and write NIfTI, MetaImage and DICOM; find BraTS / MSD brain cases and mammograms. |
| `02_figures` | `medgan_nb.figures` | One way to save every figure, one way to show medical images, one way to put our numbers beside the paper's. |
| `10_data.phantoms.brain` | `medgan_nb.data.phantoms.brain` | BraTS-layout brain MRI phantoms with tumours, built from the MNI152 template nilearn ships. |
| `11_data.phantoms.mammo` | `medgan_nb.data.phantoms.mammo` | Procedural CC and MLO mammograms as DICOM MG, beside the real CBIS-DDSM ones shipped. |
| `12_data.phantoms.breast` | `medgan_nb.data.phantoms.breast` | Procedural breast DCE-MRI (T2, T1 pre + 4 post-contrast) with lesions, written as NIfTI. |
| `13_data.prep.brain` | `medgan_nb.data.prep.brain` | Han 2018's sagittal slices; Han 2019's labelled axial T1c slices, split by patient. |
| `14_data.prep.mammo` | `medgan_nb.data.prep.mammo` | Korkinof 2021: default windowing, aspect-preserving resize to 1280×1024, CC and MLO apart. |
| `15_data.prep.breast` | `medgan_nb.data.prep.breast` | Haarburger 2019: DCE-MRI rescaled and resampled, cut into lesion and healthy patches. |
| `16_data.cache` | `medgan_nb.data.cache` | The papers' preprocessed data sets on disk, reused by the next run, rebuilt when inputs change. |
| `17_data.store` | `medgan_nb.data.store` | Fixed-shape arrays in sharded `.npy` files with a JSON manifest and digests, written resumably, read lazily. |
| `18_data.gallery` | `medgan_nb.data.gallery` | One figure per modality: the phantoms beside the real images the suite ships. |
| `19_data.build` | `medgan_nb.data.build` | Write every phantom data set into `data/` from a seed (`medgan-build-data`), skipping intact parts. |
| `20_models.dcgan` | `medgan_nb.models.dcgan` | DCGAN generator and discriminator, 32–256 px, Radford / Han 2018 / Haarburger 2019, conditional. |
| `21_models.pggan` | `medgan_nb.models.pggan` | Progressive GAN (Karras 2018) from a base of any shape, e.g. 5×4 doubled eight times to 1280×1024. |
| `22_losses` | `medgan_nb.losses` | Non-saturating, WGAN (clipping, critic steps) and WGAN-GP with drift: one `GANLoss` for every model. |
| `23_train` | `medgan_nb.train` | One resumable, distributed training loop for DCGAN, WGAN, WGAN-GP and PGGAN, counted in images. |
| `24_launch` | `medgan_nb.launch` | A training job as a file (networks, data, loss, config; no pickle), run under `torchrun` on several GPUs or machines from a notebook or the runner. |
| `30_metrics.fid` | `medgan_nb.metrics.fid` | The FID Inception-v3 (TF 2015-12-05 weights, pytorch-fid's network) from a file on disk, medical-image preprocessing without 8-bit quantisation, and an exact, fast Fréchet distance. |
| `30a_metrics.inception` | `medgan_nb.metrics.inception` | torchvision's Inception-v3 trunk with the TensorFlow graph's pooling (pytorch-fid's network), in a module of its own: importing torchvision takes seconds, so `metrics.fid` imports this only when it builds the network. |
| `31_metrics.samples` | `medgan_nb.metrics.samples` | 1-NN accuracy, KID, precision/recall, density/coverage, memorisation and the C2ST machine reader. |
| `32_metrics.moments` | `medgan_nb.metrics.moments` | Per-image pixel moments, moment-pair plots, KDE coverage and mutual information (Korkinof 2021). |
| `33_metrics.embedding` | `medgan_nb.metrics.embedding` | 2-D t-SNE (or PCA) of images or features for labelled groups, plotted like Han 2019's Fig. 6. |
| `34_metrics.privacy` | `medgan_nb.metrics.privacy` | Nearest-real-neighbour distances, the share of synthetic images closer to a training image than held-out images are, a distance-based membership-inference AUC, and MS-SSIM diversity within a set. |
| `35_metrics.radiomics` | `medgan_nb.metrics.radiomics` | Hand-crafted, interpretable texture features of grey-level images (first-order statistics, GLCM, local binary patterns, gradients) as a feature space for FID-style distances, offline and without an ImageNet network. |
| `36_metrics.uncertainty` | `medgan_nb.metrics.uncertainty` | Bootstrap intervals over patients, the real-vs-real FID floor, FID∞ and the stability warnings of an evaluation card. |
| `40_reader.study` | `medgan_nb.reader.study` | Blinded Visual Turing Test kits, their separate answer key, and crash-safe response logs. |
| `41_reader.widget` | `medgan_nb.reader.widget` | A reader session as a plain class, and the ipywidgets app that shows it. |
| `42_reader.html` | `medgan_nb.reader.html` | A reader study as one offline HTML page: images embedded, answers kept and exported as JSON. |
| `43_reader.stats` | `medgan_nb.reader.stats` | Accuracy, confusion counts, binomial, χ², Kruskal–Wallis + Conover, success rates by group. |
| `44_reader.review` | `medgan_nb.reader.review` | Flag images in a grid (synthetic ones to discard, real ones to exclude) by hand or by a stated score. |
| `45_reader.machine` | `medgan_nb.reader.machine` | Kits answered by classifiers until people have: one entry point, whole logs, human-or-machine choice. |
| `46_reader.audit` | `medgan_nb.reader.audit` | A motivated reader's attacks on a kit, from what it ships alone: file sizes, bytes, chunks, shapes, times, names, order, repeats. |
| `50_papers.common` | `medgan_nb.papers.common` | What two or more paper notebooks share: profiles, default data, resumable training, captions. |
| `51_papers.han2018` | `medgan_nb.papers.han2018` | Han et al. 2018 (ISBI), GAN-based synthetic brain MR images: the paper's Table 1. |
| `52_papers.haarburger2019` | `medgan_nb.papers.haarburger2019` | Haarburger 2019's tables, FID per class over checkpoints, FIDmin, 1-NN, reader items, figures. |
| `53_papers.korkinof2021` | `medgan_nb.papers.korkinof2021` | Korkinof 2021's tables, foreign-body review, moment overlap, 2AFC machine readers, artefact proxy, collapse check. |
| `54_papers.han2019` | `medgan_nb.papers.han2019` | Han 2019's tables, critic score, classical DA, ResNet-50 classifier, bootstrap CIs, VTT table. |
| `60_evaluate` | `medgan_nb.evaluate` | `medgan-evaluate REAL SYNTH`: read two folders of medical images in any common format, judge the synthetic set against the real one in several feature spaces with intervals over patients, check memorisation and privacy, and write an evaluation card (`card.json`, `card.md`) beside a rendered notebook. |
| `90_reproduce` | `medgan_nb.reproduce` | Run the paper notebooks with papermill for one profile; continue interrupted runs; report failures. |
| `91_report` | `medgan_nb.report` | Gather every paper's latest finished run into `outputs/REPORT.md` and `outputs/report.html`. |
| `92_map` | `medgan_nb.map` | The modules, their notebooks and imports, the path of the data, and README.md from nbs/index.ipynb. |"""

__version__ = "0.1.0"
# The only hand-written module: make `import torchvision` work on the CPU torch when something first imports it
# (see nbs/00a_compat.ipynb).
from .compat import fix_torchvision_on_import as _fix_torchvision_on_import
_fix_torchvision_on_import()
