"""Shared by the Han 2019 classifier benchmarks: their common options, quick-sized images and epoch-limited runs."""
import argparse
import torch


def quick_options(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    "Threads, input side, batch, images an epoch, validation images and epochs a run, with the quick profile's values."
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--epochs', type=int, default=2, help='epochs per run (quick: up to 10)')
    p.add_argument('--size', type=int, default=32, help='input side (quick: 32; smoke: 28; paper: 224)')
    p.add_argument('--batch', type=int, default=64, help='batch (quick: 64; paper: 192)')
    p.add_argument('--images', type=int, default=384, help='images per epoch and for batch norm (quick: 384)')
    p.add_argument('--val', type=int, default=400, help='validation images')
    return p


def quick_sets(args, h19, **cfg) -> tuple:  # (train, val, ClassifierConfig)
    "Random uint8 64² images and labels split into training and validation sets, and the run's settings (`cfg` added)."
    g = torch.Generator().manual_seed(0)
    n = args.images + args.val
    x = torch.randint(0, 256, (n, 1, 64, 64), dtype=torch.uint8, generator=g)
    y = torch.randint(0, 2, (n,), generator=g)
    # max_epochs as quick's (10), so that the run is long enough to be timed; patience stops nothing before --epochs
    c = h19.ClassifierConfig(input_size=args.size, batch_size=args.batch, max_epochs=10, patience=10,
                             epoch_images=args.images, bn_images=args.images, seed=0, **cfg)
    return (x[: args.images], y[: args.images]), (x[args.images :], y[args.images :]), c


class _Stop(Exception):
    pass


def train_epochs(h19, model, train, val, cfg, epochs: int, precision: str, memory_format: str = 'contiguous') -> None:
    "`train_classifier` stopped after `epochs` epochs (from its `on_epoch` hook), in `precision` and `memory_format`."
    def stop_after(ep):
        if ep >= epochs:
            raise _Stop
    try:
        h19.train_classifier(model, train, val, cfg, progress=False, precision=precision, memory_format=memory_format,
                             on_epoch=stop_after)
    except _Stop:
        pass
