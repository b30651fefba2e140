"""Forward + backward of ResNet-18 on two views in one pass: ordinary BatchNorm (statistics over both views) against the
per-view BatchNorm of `centerssl.models.per_view_bn`, views interleaved (`interleave(x1, x2)`, one native call per layer)
and concatenated (`torch.cat([x1, x2])`, one call per view and a copy each way). The three are timed in turn, round after
round, in this one process; medians and the paired ratios to the ordinary pass are printed. Usage:

    python bench/per_view_bench.py                 # 40 rounds, ~40 s on 2 cores
    python bench/per_view_bench.py --rounds 10 --batch-size 32
"""
from _load import load_note   # bench/_load.py (the script's folder is on sys.path)
import argparse, statistics, time
import torch

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--rounds', type=int, default=40, help='timed rounds (each times the three passes once)')
    ap.add_argument('--batch-size', type=int, default=64, help='images per view')
    ap.add_argument('--size', type=int, default=32, help='image side')
    a = ap.parse_args()
    from centerssl.models import resnet, per_view_bn, interleave
    torch.manual_seed(0)
    bb, _ = resnet('resnet18')
    x1, x2 = torch.randn(2, a.batch_size, 3, a.size, a.size)
    v, vi = torch.cat([x1, x2]), interleave(x1, x2)
    def run(x, **kw):
        bb.zero_grad(set_to_none=True)
        if kw:
            with per_view_bn(bb, **kw): y = bb(x)
        else: y = bb(x)
        y.square().mean().backward()
    passes = dict(ordinary=lambda: run(v), interleaved=lambda: run(vi, interleaved=True), cat=lambda: run(v, interleaved=False))
    print(f"ResNet-18, {a.size}x{a.size}, batch {a.batch_size} x 2 views, CPU, torch threads {torch.get_num_threads()}, {a.rounds} rounds")
    load_note('at the start')
    for f in passes.values(): f(); f()
    T = {k: [] for k in passes}
    for _ in range(a.rounds):
        for k, f in passes.items():
            t0 = time.perf_counter(); f(); T[k].append(time.perf_counter() - t0)
    for k, ts in T.items():
        r = statistics.median([t / o for t, o in zip(ts, T['ordinary'])])
        print(f"{k:<12} {1e3 * statistics.median(ts):8.1f} ms   paired ratio to ordinary {r:.3f}")
    load_note('at the end')

if __name__ == '__main__': main()
