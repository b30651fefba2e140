"""Deterministic CPU proxies for the GPU cost of a training step: aten ops and host syncs per step, against the bare step.

On a GPU the step is launch-bound (issue 18: ~1,600 kernel launches and 22 host syncs per BYOL step on an H200 before
the step was made sync-free), so two counts rank the methods' overheads the way GPU timings do, and they are the same on
every machine:

  - aten ops: every op that reaches the dispatcher (`TorchDispatchMode`) during one plain `Trainer.train_step` plus the
    trainer's `after_step` callbacks at a step where no monitor fires and no metrics line is written, against the bare
    step of `step_bench.py` (forward + backward of the already-augmented 2 x batch through a copy of the backbone, its SGD
    step, and for EMA methods the teacher backbone's no-grad forward). Three columns: the whole step; the step without
    the two-view augmentation (which the bare step does not do: its views are made beforehand, as a peer's data loader
    does); and kernel ops only (without the ops that launch nothing: views, detach, empty, ...), for the whole step.
    Goal (issue 18): <= 1.5x.
  - host syncs: the ops among them that need a value on the host (`_local_scalar_dense` from `.item()`, `float(t)`,
    `bool(t)`; `is_nonzero`; `nonzero`; `equal`; ...), `Tensor.tolist()`/`.numpy()` calls, and uploads of host data
    (`lift_fresh`, from `torch.tensor(...)`). On a GPU each one waits for the queue to drain. Goal: 0 for such a step,
    <= 1 for a step that writes a metrics line (tests/test_syncs.py asserts both for every method). The sites (file:line
    in centerssl) are listed with --sites. Not visible on a CPU: the error-code check of `torch.linalg.svdvals` (the
    effective rank of CenterMonitor), one wait on a GPU on the monitor's steps.

By default the trainer runs as it does on CUDA (bf16 autocast, channels_last: the code path a GPU takes, e.g. per-view
BatchNorm on concatenated views); `--cpu-layout` counts the CPU defaults instead. Usage:

    python bench/step_ops.py                      # every registered method: ResNet-18, 32 px, batch 64, small heads
    python bench/step_ops.py --methods byol --sites
    python bench/step_ops.py --paper-heads --cpu-layout

The counts do not depend on timing, load or the number of threads; they are printed, not asserted here.
"""
import argparse, sys, tempfile
from pathlib import Path
import torch
from centerssl.train import HostReads      # ops, kernels, host reads (and where in centerssl, with sites=True)
from step_bench import make_trainer, bare_side     # bench/step_bench.py (the script's folder is on sys.path)

OPS_GOAL, SYNC_GOAL = 1.5, 0

def counts(name, args):
    with tempfile.TemporaryDirectory() as out:
        t, x, y = make_trainer(name, args, out)
        me = next(c.every for c in t.callbacks if c.name == 'CenterMonitor')
        pe = next(c.every for c in t.callbacks if c.name == 'GradProbe')
        plain = next(k for k in range(1, 10_000) if (me <= 0 or (k + 1) % me) and (pe <= 0 or (k + 1) % pe) and (k + 1) % t.log_every)
        def step():
            t.step = plain
            t.train_step(x, y); t.step += 1; t._cb('after_step')
        bare_fb, bare_opt, _, ema = bare_side(t, x)
        step(); bare_fb(); bare_opt()                      # warm: lazily created state (optimiser buffers, caches)
        with HostReads(args.sites) as c: step()
        with HostReads() as g:
            with torch.no_grad(): t.aug(x)
        with HostReads() as b: bare_fb(); bare_opt()
        t.step = plain; t.train_step(x, y); t.step += 1
        with HostReads(args.sites) as w: t._cb('after_step'); t._write_metrics(force=True)   # what writing a metrics line adds
        return dict(method=name, ema=ema, ops=c.ops, bare=b.ops, ratio=c.ops / b.ops, syncs=len(c.reads), where=c.where,
                    noaug=(c.ops - g.ops) / b.ops, kern=c.kernels / b.kernels, aug=g.ops,
                    line_syncs=len(w.reads), line_where=w.where)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--methods', nargs='+', default=None, help='registered method names (default: all)')
    ap.add_argument('--batch-size', type=int, default=64, help='images per view')
    ap.add_argument('--size', type=int, default=32, help='image side')
    ap.add_argument('--cifar-stem', action='store_true', help='the 3x3 stem make_backbone uses at 32 px')
    ap.add_argument('--paper-heads', action='store_true', help="the methods' paper-size heads instead of SMALL_HPARAMS")
    ap.add_argument('--sites', action='store_true', help='list where in centerssl each host sync is called')
    ap.add_argument('--cpu-layout', action='store_true', help='the CPU defaults (fp32, contiguous) instead of the CUDA path (bf16 autocast, channels_last)')
    a = ap.parse_args()
    a.default_malloc, a.device = False, 'cpu'              # make_trainer's options shared with step_bench.py
    a.amp = a.channels_last = not a.cpu_layout
    from centerssl.train import import_methods
    reg = import_methods()
    names = a.methods or sorted(reg)
    bad = [n for n in names if n not in reg]
    if bad: sys.exit(f"unknown method(s) {bad}; registered: {sorted(reg)}")
    print(f"ResNet-18 ({'CIFAR' if a.cifar_stem else 'ImageNet'} stem), {a.size}x{a.size}, batch {a.batch_size} x 2 views, "
          f"{'paper' if a.paper_heads else 'small'} heads, CPU, {'fp32 contiguous (--cpu-layout)' if a.cpu_layout else 'bf16 autocast + channels_last (the CUDA path)'}; "
          f"one plain step (no monitor fires, no metrics line) against the bare step")
    hdr = (f"{'method':<8} {'EMA':>3} {'aten ops':>9} {'bare ops':>9} {'ratio':>6} {'no aug':>7} {'kernels':>8} {'syncs':>6} {'+line':>6}"
           f"   goals: ratio <= {OPS_GOAL}, syncs {SYNC_GOAL}, a metrics line <= 1")
    print(hdr); print('-' * len(hdr))
    rows = []
    for n in names:
        r = counts(n, a); rows.append(r)
        print(f"{n:<8} {'yes' if r['ema'] else 'no':>3} {r['ops']:9d} {r['bare']:9d} {r['ratio']:6.2f} {r['noaug']:7.2f} {r['kern']:8.2f} "
              f"{r['syncs']:6d} {r['line_syncs']:6d}", flush=True)
        if a.sites:
            for where, k in r['where'].most_common(): print(f"           step: {k} x {where}")
            for where, k in r['line_where'].most_common(): print(f"           metrics line: {k} x {where}")
    print(f"(ratio: all aten ops of the step / the bare step's; no aug: the same without the two-view augmentation ({rows[0]['aug']} ops); "
          f"kernels: ops that launch a kernel only;\n +line: host syncs of the after_step callbacks and the metrics line of a step that writes one, on top of the step's own)")
    ok_ops = all(r['ratio'] <= OPS_GOAL for r in rows); ok_sync = all(r['syncs'] <= SYNC_GOAL for r in rows)
    print(f"{'PASS' if ok_ops else 'MISS'}: aten ops <= {OPS_GOAL}x bare for every method (worst: {max(rows, key=lambda r: r['ratio'])['method']} "
          f"{max(r['ratio'] for r in rows):.2f}x); {'PASS' if ok_sync else 'MISS'}: {SYNC_GOAL} host syncs per plain step "
          f"(worst: {max(rows, key=lambda r: r['syncs'])['method']} {max(r['syncs'] for r in rows)})")

if __name__ == '__main__': main()
