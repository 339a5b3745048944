"""Reference implementations the benchmarks compare against, shared by bench_metrics.py and gpu/run_all.py."""
import torch


def pytorch_fid_model(ours):
    "pytorch-fid's own InceptionV3 (pool3) with the FID weights of `ours` (no download: its URL loader is bypassed)."
    import pytorch_fid.inception as pfi
    sd = dict(ours.state_dict(), **{'fc.weight': torch.zeros(1008, 2048), 'fc.bias': torch.zeros(1008)})
    orig, pfi.load_state_dict_from_url = pfi.load_state_dict_from_url, (lambda *a, **k: sd)
    try:
        return pfi.InceptionV3([3]).eval()
    finally:
        pfi.load_state_dict_from_url = orig
