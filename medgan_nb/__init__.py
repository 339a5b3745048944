"""Jupyter-first, reproducible notebook suite for GAN-based medical image synthesis and its evaluation"""

__version__ = "0.1.0"
# The only hand-written module: make `import torchvision` work on the CPU torch (see nbs/00a_compat.ipynb).
from .compat import ensure_torchvision as _ensure_torchvision
_ensure_torchvision()
