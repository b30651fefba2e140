"""Cost of one SSL training step (two views) against the bare backbone work the method cannot avoid, on the same model.

For every method, both sides are timed in this one process, step by step, alternating (method, bare, method, bare, ...)
after a warm-up, in ABBA order (method, bare, bare, method, ...: neither side always runs right after the other), so
machine noise hits both alike; the medians are compared.

  - step: the real `centerssl.train.Trainer.train_step(x, y)` on a uint8 batch of `--batch-size` 32x32 images, followed
    by the trainer's `after_step` callbacks, exactly as `Trainer.fit` calls them (metric-file writing and checkpoints are
    left out). It includes the two-view augmentation on the device, the heads, the loss, the NaN guard, backward, SGD,
    the LR schedule, `on_step_end` (EMA update) and the default monitors. The trainer is built by `Trainer(...).setup()`
    with its default callbacks (CenterMonitor every 10 steps, GradProbe every 50) and the `centerssl-train` defaults:
    SGD, the small heads of `SMALL_HPARAMS` (`--paper-heads` for the papers' sizes).
    The monitors fire only on some steps, so their cost is amortised at their default rates:
        step = median(plain step) + median(CenterMonitor step - plain step of its round) / monitor_every
                                  + (median(both-monitors step - plain step of its round) - that) / probe_every
    (each extra clipped at 0). The trainer's step counter is set before each step to choose which kind it is.
  - bare: what any SSL method on two views must do with this backbone: forward + backward of the 2 x batch (both
    views at once, already augmented) through a copy of the same backbone with a trivial loss, SGD step on the
    backbone's parameters (same momentum / weight decay, fused where the trainer's is); for EMA methods (those holding
    an `EMATeacher`: byol, dino) plus a no-grad forward of the 2 x batch through a copy of the teacher's backbone (train
    mode, like the teacher).

The table also gives `paired`, the median over plain steps of step / the bare step timed in the same round.
ratio = step / bare is the overhead of everything else. Goal: <= 1.10x on CPU (ResNet-18, 32x32, batch 64) for every
method. The backbone is ResNet-18 with the ImageNet stem (`--cifar-stem` for the 3x3 stem `make_backbone` uses at 32 px:
~10x slower on CPU. The fixed costs (heads, augmentation, EMA) shrink in share there, yet the ratios measured 2026-12-03
with `--cifar-stem --steps 6` did not: byol 1.15 (paired 1.12), simsiam 1.17 (1.01), dino 1.08 (1.11); per-view
BatchNorm (~3%) explains only part, the rest is unexplained and may be noise or page faults). Usage:

    python bench/step_bench.py                          # every registered method, ~3 minutes on 2 cores
    python bench/step_bench.py --methods byol simclr --steps 3
    python bench/step_bench.py --threads 1 --cifar-stem
    python bench/step_bench.py --breakdown --methods byol simsiam   # where the overhead goes, part by part
    python bench/step_bench.py --default-malloc         # without the trainer's tune_malloc() (both sides slower)

`--breakdown` times the parts of a plain step separately (interleaved, medians): the augmentation; the method's forward +
backward (heads, loss, per-view BatchNorm, the teacher) minus the bare forward + backward; the NaN guard on the gradients;
the trainer's optimiser + schedule step minus the bare SGD step; the method's hooks (DINO's clipping, the EMA update). Their
sum is compared with the measured overhead, plain step - bare step, which it should roughly match.
"""
from _load import load_note   # bench/_load.py (the script's folder is on sys.path)
import argparse, os, copy, statistics, sys, tempfile, time
import torch, torch.nn as nn

GOAL = 1.10

def median(xs): return statistics.median(xs)

def make_trainer(name, args, out):
    from centerssl.train import Trainer, import_methods, small_hparams
    from centerssl.models import resnet
    from centerssl.imagedata import SSLData, TensorImages
    reg = import_methods()
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n = 4 * args.batch_size
    x = torch.randint(0, 256, (n, 3, args.size, args.size), dtype=torch.uint8, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    ds = TensorImages(x, y)
    data = SSLData('bench', ds, ds, ds, 10, args.size, 3, (0.49, 0.48, 0.45), (0.25, 0.24, 0.26), preset='byol')
    bb, feat = resnet('resnet18', cifar_stem=args.cifar_stem)
    m = reg[name](bb, feat, **({} if args.paper_heads else small_hparams(name)))
    t = Trainer(m, data, out, epochs=10_000, batch_size=args.batch_size, device='cpu', progress=False, verbose=False,
                reuse_memory=not args.default_malloc)
    t.setup()
    t._cb('before_fit')
    return t, x[:args.batch_size], y[:args.batch_size]

def teacher_backbone(method):
    "A copy of the backbone inside the method's EMA teacher, or None if it has none"
    from centerssl.models import EMATeacher
    for mod in method.modules():
        if isinstance(mod, EMATeacher):
            tm = mod.module
            bb = tm[0] if isinstance(tm, nn.Sequential) else tm
            return copy.deepcopy(bb)
    return None

def bare_side(t, x):
    """The bare work on `t`'s model, as `(fwd_bwd, opt_step, v, ema)`: forward + backward of the already-augmented 2 x batch `v`
    through a copy of the backbone (after a no-grad forward through a copy of the teacher's backbone when `ema`), and the
    step of that copy's own SGD with the trainer's settings"""
    bb = copy.deepcopy(t.method.backbone)
    g0 = t.opt.param_groups[0]
    opt = torch.optim.SGD(bb.parameters(), lr=g0['lr'], momentum=g0['momentum'], weight_decay=g0['weight_decay'],
                          fused=t.opt.defaults.get('fused'))   # fused like the trainer's, where it is
    teacher = teacher_backbone(t.method)
    with torch.no_grad(): v = torch.cat(t.aug(x))
    def fwd_bwd():
        if teacher is not None:
            with torch.no_grad(): teacher(v)
        loss = bb(v).square().mean()
        opt.zero_grad(set_to_none=True); loss.backward()
    return fwd_bwd, opt.step, v, teacher is not None

def bench_method(name, args):
    with tempfile.TemporaryDirectory() as out:
        t, x, y = make_trainer(name, args, out)
        me, pe = t.callbacks[[c.name for c in t.callbacks].index('CenterMonitor')].every, \
                 t.callbacks[[c.name for c in t.callbacks].index('GradProbe')].every
        bare_fb, bare_opt, _, ema = bare_side(t, x)   # same backbone weights, its own SGD with the trainer's settings

        def step(at):
            "One trainer step with the step counter at `at`; returns seconds"
            t.step = at
            t0 = time.perf_counter()
            t.train_step(x, y)
            t.step += 1
            t._cb('after_step')
            return time.perf_counter() - t0

        def bare():
            t0 = time.perf_counter()
            bare_fb(); bare_opt()
            return time.perf_counter() - t0

        # step counters: plain (no monitor fires), CenterMonitor fires after it, both fire
        k = 0
        def plain_at():
            nonlocal k
            while True:
                k += 1
                if (me <= 0 or (k + 1) % me) and (pe <= 0 or (k + 1) % pe): return k
        center_at = me - 1 if me > 0 else None
        while center_at is not None and pe > 0 and (center_at + 1) % pe == 0: center_at += me
        both_at = pe - 1 if pe > 0 else None

        for _ in range(args.warmup): step(plain_at()); bare()
        if center_at is not None: step(center_at)
        if both_at is not None: step(both_at)
        S, B, Bp, C, P = [], [], [], [], []   # plain step, bare, extra of a CenterMonitor step, extra of a both-monitors step
        for i in range(max(args.steps, args.monitor_steps)):
            if i % 2: B.append(bare()); Bp.append(B[-1]); S.append(step(plain_at()))   # ABBA order: neither side always
            else: S.append(step(plain_at())); B.append(bare()); Bp.append(B[-1])       # runs right after the other's work
            if i < args.monitor_steps:   # each monitor step is compared with the plain step of its own round
                if center_at is not None: C.append(step(center_at) - S[-1]); B.append(bare())
                if both_at is not None: P.append(step(both_at) - S[-1]); B.append(bare())
        s, b = median(S), median(B)
        c_extra = max(0., median(C)) if C else 0.
        p_extra = max(0., median(P) - c_extra) if P else 0.
        amort = s + (c_extra / me if me > 0 else 0.) + (p_extra / pe if pe > 0 else 0.)
        pair = median([a / c for a, c in zip(S, Bp)])   # plain step / the bare step of its round
        return dict(method=name, ema=ema, plain=s, center=c_extra, probe=p_extra, step=amort, bare=b,
                    ratio=amort / b, pair=pair, me=me, pe=pe)

def breakdown(name, args):
    "Milliseconds of each part of a plain step that the bare step does not do (medians over interleaved repeats)"
    with tempfile.TemporaryDirectory() as out:
        t, x, y = make_trainer(name, args, out)
        from centerssl.models import grad_norms
        m = t.method
        bare_fb, bare_opt, v, _ = bare_side(t, x)
        x1, x2 = v.chunk(2)
        def aug():
            with torch.no_grad(): t.aug(x)
        def model_fb(): t.opt.zero_grad(set_to_none=True); t.model(x1, x2, y)['loss'].backward()
        grads = lambda: [(n, p.grad) for n, p in m.named_parameters() if p.grad is not None]
        def guard():   # as train_step: a sum per gradient, or the norms a method's hook reuses (DINO's clipping)
            g = grads(); t._check_finite(g, 'bench', t.step + 1, values=grad_norms([v for _, v in g]) if m.uses_grad_norms else None)
        def opt_step(): t.opt.step(); t.sched.step()
        def hooks(): m.on_before_optimizer_step(); m.on_step_end(t.step, t.total_steps)
        def step(): t.step = 1; t.train_step(x, y)
        def bare(): bare_fb(); bare_opt()
        fns = dict(aug=aug, model_fb=model_fb, bare_fb=bare_fb, guard=guard, opt_step=opt_step, bare_opt=bare_opt,
                   hooks=hooks, step=step, bare=bare)
        T = {k: [] for k in fns}
        for _ in range(args.warmup):
            for f in fns.values(): f()
        for _ in range(args.steps):
            for k, f in fns.items():
                t0 = time.perf_counter(); f(); T[k].append(time.perf_counter() - t0)
        M = {k: 1e3 * median(v) for k, v in T.items()}
        parts = dict(aug=M['aug'], model=M['model_fb'] - M['bare_fb'], guard=M['guard'], opt=M['opt_step'] - M['bare_opt'], hooks=M['hooks'])
        return dict(method=name, bare=M['bare'], over=M['step'] - M['bare'], **parts, sum=sum(parts.values()))

def print_breakdown(names, a):
    hdr = (f"{'method':<8} {'bare ms':>8} {'aug':>6} {'model':>6} {'guard':>6} {'optim':>6} {'hooks':>6} {'sum':>6} "
           f"{'measured':>8}   (ms of a plain step; % of bare in the last two columns)")
    print(hdr); print('-' * len(hdr))
    for n in names:
        r = breakdown(n, a)
        print(f"{n:<8} {r['bare']:8.1f} " + ' '.join(f"{r[k]:6.1f}" for k in ('aug', 'model', 'guard', 'opt', 'hooks', 'sum'))
              + f" {r['over']:8.1f}   sum {100 * r['sum'] / r['bare']:.1f}%, measured {100 * r['over'] / r['bare']:.1f}%", flush=True)
    print("(aug: the two-view augmentation; model: the method's forward + backward (heads, loss, per-view BatchNorm, "
          "the teacher's heads)\n minus the bare forward + backward; guard: the NaN check of the gradients; optim: "
          "the trainer's optimiser + schedule step minus the bare SGD step;\n hooks: on_before_optimizer_step + "
          "on_step_end (DINO's clipping, the EMA update); measured: plain step - bare step, timed whole)")

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--methods', nargs='+', default=None, help='registered method names (default: all)')
    ap.add_argument('--batch-size', type=int, default=64, help='images per view (the step sees 2 x this)')
    ap.add_argument('--size', type=int, default=32, help='image side')
    ap.add_argument('--steps', type=int, default=30, help='timed plain steps per side per method (after the warm-up)')
    ap.add_argument('--monitor-steps', type=int, default=5, help='timed steps of each monitor-firing kind per method')
    ap.add_argument('--warmup', type=int, default=2, help='untimed steps per side per method')
    ap.add_argument('--threads', type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    ap.add_argument('--cifar-stem', action='store_true', help='3x3 stride-1 stem without max-pool (as make_backbone at 32 px)')
    ap.add_argument('--paper-heads', action='store_true', help="the methods' paper-size heads instead of SMALL_HPARAMS")
    ap.add_argument('--default-malloc', action='store_true', help="leave glibc's malloc as it is (the trainer's setup calls tune_malloc)")
    ap.add_argument('--breakdown', action='store_true', help='time the parts of the overhead separately instead')
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    from centerssl.train import import_methods
    reg = import_methods()
    names = a.methods or sorted(reg)
    bad = [n for n in names if n not in reg]
    if bad: sys.exit(f"unknown method(s) {bad}; registered: {sorted(reg)}")
    print(f"ResNet-18 ({'CIFAR' if a.cifar_stem else 'ImageNet'} stem), {a.size}x{a.size}, batch {a.batch_size} x 2 views, "
          f"{'paper' if a.paper_heads else 'small'} heads, CPU, torch threads {torch.get_num_threads()}; "
          + (f"each part timed {a.steps}x, interleaved, medians" if a.breakdown else
             f"{a.steps} plain + {a.monitor_steps}x2 monitor-firing steps per method, alternating with bare steps, medians"))
    load_note('at the start')
    if not a.default_malloc:
        from centerssl.train import tune_malloc
        print(f"malloc: {'tuned by tune_malloc() (freed memory reused), as Trainer.setup does' if tune_malloc() else 'left as it is (tune_malloc() did not apply here)'}")
    else: print("malloc: glibc's defaults (--default-malloc)")
    if a.breakdown:
        print_breakdown(names, a); load_note('at the end'); return
    hdr = f"{'method':<8} {'EMA':>3} {'plain ms':>9} {'+center':>8} {'+probe':>8} {'step ms':>8} {'bare ms':>8} {'ratio':>6} {'paired':>6}  goal<={GOAL:.2f}x"
    print(hdr); print('-' * len(hdr))
    rows = []
    for n in names:
        r = bench_method(n, a); rows.append(r)
        print(f"{n:<8} {'yes' if r['ema'] else 'no':>3} {1e3*r['plain']:9.1f} {1e3*r['center']:8.1f} {1e3*r['probe']:8.1f} "
              f"{1e3*r['step']:8.1f} {1e3*r['bare']:8.1f} {r['ratio']:6.3f} {r['pair']:6.3f}  {'met' if r['ratio'] <= GOAL else 'MISSED'}", flush=True)
    print(f"(+center / +probe: extra ms of a step where CenterMonitor / GradProbe fires, amortised in 'step ms' over "
          f"every {rows[0]['me']} / {rows[0]['pe']} steps; ratio = step ms / bare ms, the goal's number; paired = median over\n"
          f" the timed plain steps of step / the bare step of its round, a drift-robust check of the same ratio without monitors)")
    load_note('at the end')
    worst = max(rows, key=lambda r: r['ratio'])
    ok = all(r['ratio'] <= GOAL for r in rows)
    print(f"{'PASS' if ok else 'MISS'}: step <= {GOAL:.2f}x bare for every method (worst: {worst['method']} {worst['ratio']:.3f}x)")

if __name__ == '__main__': main()
