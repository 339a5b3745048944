"""Jupyter-first, reproducible notebook suite for GAN-based medical image synthesis and its evaluation

Modules:

- `medgan_nb.papers.han2019`: The paper's tables; the brain slices at the profile's size; the PGGAN critic's realism score; the classical augmentation; the ResNet-50 tumour classifier with early stopping; the evaluation with bootstrap intervals; the four training sets; and the two-question Visual Turing Test table of Han et al. 2019 (PGGAN-based data augmentation for brain tumour detection)."""

__version__ = "0.1.0"
# The only hand-written module: make `import torchvision` work on the CPU torch (see nbs/00a_compat.ipynb).
from .compat import ensure_torchvision as _ensure_torchvision
_ensure_torchvision()
