"""Time one update of the toy explorer (a chunk of training steps + measuring + redrawing the FigureWidget).

`ToyExplorer.update()` is the method the play loop calls on every tick; here it runs headless, without a
front-end, so the time is the kernel's share of a tick (what keeps the kernel busy). The goal: median < 100 ms
on CPU at the default sizes, so the panel feels live.

    OMP_NUM_THREADS=1 python bench/widget_bench.py [--updates 30] [--methods simsiam byol ...]
"""
import argparse, os, platform, time
import numpy as np
import torch

def main():
    from centerssl.widgets import ToyExplorer, available_methods, EXPLORER_METHODS
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--updates', type=int, default=30, help='timed updates per method (after 2 warm-up updates)')
    p.add_argument('--methods', nargs='*', default=None, help=f'explorer methods (default: all available: {available_methods()})')
    a = p.parse_args()
    if a.updates < 1: raise SystemExit(f"--updates must be >= 1, got {a.updates}")
    methods = a.methods or available_methods()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {platform.processor() or platform.machine()}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, load average {os.getloadavg()[0]:.1f}")
    print(f"{'method':20s} {'steps/update':>12s} {'median ms':>10s} {'p90 ms':>8s} {'ms/step':>8s}   (update = train chunk + measure + redraw)")
    for m in methods:
        ex = ToyExplorer(method=m, steps=5000, static=True)
        for _ in range(2): ex.update()
        ts = []
        for _ in range(a.updates):
            t0 = time.perf_counter(); row = ex.update(); ts.append(1000*(time.perf_counter() - t0))
            if row is None: raise SystemExit(f"{m}: update failed: {ex.message}")
        med, p90 = np.median(ts), np.percentile(ts, 90)
        print(f"{m:20s} {ex.chunk:12d} {med:10.1f} {p90:8.1f} {med/ex.chunk:8.2f}")

if __name__ == '__main__': main()
