"""`save_figure` (PNG at 300 dpi + PDF) with the tight box measured once (`figures.tight_bbox`) against matplotlib's
own route (`savefig(bbox_inches='tight')` per format: a dry-run draw each), side by side in one process.

Two figures as the paper notebooks draw them: a 4×6 image grid of 128² images with titles and a caption
(`image_grid`), and three training-curve panels with a wrapped caption. The two routes alternate (which goes first
alternates between repeats) so both see the same machine load; the median of the repeats is printed, with the
ratio (matplotlib / ours) and whether the PNGs are pixel-equal.

A second table times showing the figure in the notebook: matplotlib-inline's route at `plt.show()` (the figure
drawn again, `print_figure(fig, 'png', bbox_inches='tight')`) against `save_figure(show=True)`'s (`show_png`: the
saved 300-dpi PNG decoded, reduced by whole pixels and encoded again).

    python bench/bench_figures.py --repeats 5
"""
import argparse, io, statistics, time
import numpy as np, matplotlib
matplotlib.use('agg')
import matplotlib.pyplot as plt
from PIL import Image
from medgan_nb.core import machine_line
from unittest import mock
from IPython.core.pylabtools import print_figure
from medgan_nb.figures import image_grid, tight_bbox, show_png

p = argparse.ArgumentParser()
p.add_argument('--repeats', type=int, default=5)
p.add_argument('--dpi', type=int, default=300)
args = p.parse_args()


def figures():
    rng = np.random.default_rng(0)
    grid = image_grid(rng.random((24, 128, 128)), ncols=6, window=(0, 1), titles=[f'#{i}' for i in range(24)],
                      caption='Fig. 3: samples of each model, profile quick, seed 0. ' * 3)
    curves, axes = plt.subplots(1, 3, figsize=(10, 2.6))
    for ax in axes:
        ax.plot(rng.random(2000).cumsum())
        ax.set_title('loss')
    curves.text(0.5, 0.0, 'Training curves of the twelve models, profile quick, seed 0. ' * 3, ha='center',
                va='top', wrap=True)
    return {'image grid 4×6': grid, 'curves 1×3': curves}


def save(fig, box):
    "PNG and PDF bytes as save_figure writes them, with `box` as the crop."
    out = []
    for ext in ('png', 'pdf'):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=args.dpi, bbox_inches=box)
        out.append(buf.getvalue())
    return out


routes = {'matplotlib (tight per format)': lambda f: save(f, 'tight'),
          'ours (tight_bbox once)': lambda f: save(f, tight_bbox(f, args.dpi))}
print(machine_line())
print(f"{args.repeats} repeats, {args.dpi} dpi PNG + PDF; seconds are medians")
print('| figure | matplotlib s | ours s | ratio | PNG pixel-equal |')
print('|---|---|---|---|---|')
for name, fig in figures().items():
    for route in routes.values():   # warm-up: fonts, caches
        route(fig)
    times, pngs = {k: [] for k in routes}, {}
    for r in range(args.repeats):
        for k in (list(routes) if r % 2 == 0 else list(routes)[::-1]):
            t = time.perf_counter()
            pngs[k] = routes[k](fig)[0]
            times[k].append(time.perf_counter() - t)
    a, b = (statistics.median(times[k]) for k in routes)
    same = np.array_equal(*(np.asarray(Image.open(io.BytesIO(v))) for v in pngs.values()))
    print(f"| {name} | {a:.3f} | {b:.3f} | {a / b:.2f}× | {'yes' if same else 'NO'} |")


def shown(png):
    "`show_png`'s work, its display a no-op (as in a kernel, without one)."
    with mock.patch('IPython.get_ipython', lambda: object()), mock.patch('IPython.display.display', lambda x: x):
        return show_png(png, args.dpi)


print(f"\nshowing it in the notebook; seconds are medians of {args.repeats}")
print('| figure | inline (drawn again) s | show_png (saved PNG reduced) s | ratio |')
print('|---|---|---|---|')
for name, fig in figures().items():
    png = save(fig, tight_bbox(fig, args.dpi))[0]
    show = {'inline': lambda: print_figure(fig, 'png', bbox_inches='tight'), 'show_png': lambda: shown(png)}
    for f in show.values():
        f()
    times = {k: [] for k in show}
    for r in range(args.repeats):
        for k in (list(show) if r % 2 == 0 else list(show)[::-1]):
            t = time.perf_counter()
            show[k]()
            times[k].append(time.perf_counter() - t)
    a, b = (statistics.median(times[k]) for k in show)
    print(f"| {name} | {a:.3f} | {b:.3f} | {a / b:.2f}× |")
