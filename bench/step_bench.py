"""Cost of one SSL training step (two views) against the bare backbone work the method cannot avoid, on the same model.

For every method, both sides are timed in this one process, alternating after a warm-up in ABBA order (method, bare,
bare, method, ...: neither side always runs right after the other), so machine noise hits both alike; the medians are
compared.

  - step: the real `centerssl.train.Trainer.train_step(x, y)` on a uint8 batch of `--batch-size` images made on the
    device, followed by the trainer's `after_step` callbacks, exactly as `Trainer.fit` calls them (metric-file writing
    and checkpoints are left out). It includes the two-view augmentation on the device, the heads, the loss, the NaN
    guard, backward, SGD, the LR schedule, `on_step_end` (EMA update) and the default monitors. The trainer is built by
    `Trainer(...).setup()` with its default callbacks (CenterMonitor every 10 steps, GradProbe every 50) and the
    `centerssl-train` defaults: SGD, the small heads of `SMALL_HPARAMS` on CPU, the papers' head sizes on GPU
    (`--paper-heads` / `--small-heads` choose). On GPU the trainer gets `device='cuda', amp=True` (bf16 autocast) and
    `channels_last=True`.
    The monitors fire only on some steps, so their cost is amortised at their default rates:
        step = median(plain step) + median(CenterMonitor step - plain step of its round) / monitor_every
                                  + (median(both-monitors step - plain step of its round) - that) / probe_every
    (each extra clipped at 0). The trainer's step counter is set before each step to choose which kind it is.
  - bare: what any SSL method on two views must do with this backbone: forward + backward of the 2 x batch (both
    views at once, already augmented) through a copy of the same backbone with a trivial loss, SGD step on the
    backbone's parameters (same momentum / weight decay, fused where the trainer's is, always on GPU); for EMA methods
    (those holding an `EMATeacher`: byol, dino) plus a no-grad forward of the 2 x batch through a copy of the teacher's
    backbone (train mode, like the teacher). Same precision and layout as the trainer: on GPU the forwards run under
    bf16 autocast, the copies and the input are channels_last. The bare side is always eager (never compiled).

Timing. On CPU (the default) every step is timed alone with `time.perf_counter` (`--block N` times blocks of N instead).
On GPU the queue is asynchronous, so a step is never timed alone: `torch.cuda.synchronize()` is called before and after a
loop of `--block` (default 10) steps of one kind, and the per-step time is block time / block. A round is one block of
method steps and one block of bare steps, in ABBA order from round to round; in the first rounds (`--monitor-steps`,
rounded up to whole blocks) the monitor-firing steps are timed in their own synchronised blocks too (each followed by a
bare block), and compared with the plain block of their round. The medians are over blocks.

The table also gives `paired`, the median over rounds of plain step / the bare step timed in the same round.
ratio = step / bare is the overhead of everything else. Goals: on CPU (ResNet-18, 32x32, batch 64) <= 1.15x for every
method; on GPU (ResNet-18, CIFAR stem, 32x32, batch 256, paper heads, bf16, channels_last) <= 1.25x for every method,
and with `--arch resnet50 --size 224 --batch-size 128` BYOL and SimCLR <= 1.15x. With `--compile` the trainer is also
built with `compile=True` (a second trainer, same weights): its first step is timed alone (synchronised) and printed as
the compile time, then its steps join the rounds; the table adds the compiled step and its ratio against the BARE EAGER
step, goal <= 1.00x.

On CPU the backbone is ResNet-18 with the ImageNet stem by default (`--cifar-stem`, or `--stem cifar`, for the 3x3 stem
`make_backbone` uses at 32 px: ~10x slower on CPU. The fixed costs (heads, augmentation, EMA) shrink in share there, yet
the ratios measured 2026-12-03 with `--cifar-stem --steps 6` did not: byol 1.15 (paired 1.12), simsiam 1.17 (1.01), dino
1.08 (1.11); per-view BatchNorm (~3%) explains only part, the rest is unexplained and may be noise or page faults). On
GPU the stem follows `make_backbone`: CIFAR stem at <= 64 px, ImageNet stem above. Usage:

    python bench/step_bench.py                          # every registered method on CPU, ~3 minutes on 2 cores
    python bench/step_bench.py --methods byol simclr --steps 3
    python bench/step_bench.py --threads 1 --cifar-stem
    python bench/step_bench.py --breakdown --methods byol simsiam   # where the overhead goes, part by part (CPU only)
    python bench/step_bench.py --default-malloc         # without the trainer's tune_malloc() (both sides slower)
    python bench/step_bench.py --device cuda            # ResNet-18, CIFAR stem, 32 px, batch 256, paper heads, bf16
    python bench/step_bench.py --device cuda --compile  # + the compiled step against the bare eager step
    python bench/step_bench.py --device cuda --arch resnet50 --size 224 --batch-size 128 --methods byol simclr

`--breakdown` times the parts of a plain step separately (interleaved, medians): the augmentation; the method's forward +
backward (heads, loss, per-view BatchNorm, the teacher) minus the bare forward + backward; the NaN guard on the gradients;
the trainer's optimiser + schedule step minus the bare SGD step; the method's hooks (DINO's clipping, the EMA update). Their
sum is compared with the measured overhead, plain step - bare step, which it should roughly match. CPU only.

Test hook: with the environment variable BENCH_FAKE_CUDA=1, `--device cuda` runs the GPU code path on the CPU (the GPU
defaults, bf16 autocast, channels_last, fused SGD, blocks; `torch.cuda.synchronize` is then a no-op). Its numbers mean
nothing; it only checks that the GPU path runs.
"""
from _load import load_note   # bench/_load.py (the script's folder is on sys.path)
import argparse, os, copy, gc, math, statistics, sys, tempfile, time
from pathlib import Path
import torch, torch.nn as nn

GOAL_CPU, GOAL_GPU, GOAL_GPU_R50, GOAL_COMPILED = 1.15, 1.25, 1.15, 1.00
R50_GOAL_METHODS = ('byol', 'simclr')     # the methods the ResNet-50 224 px GPU goal names
FAKE_CUDA = os.environ.get('BENCH_FAKE_CUDA') == '1'   # test hook: the GPU code path on the CPU (see the docstring)

def median(xs): return statistics.median(xs)

def run_device(args) -> str:
    "The torch device the benchmark runs on: 'cuda' for `--device cuda` (the CPU under BENCH_FAKE_CUDA=1), else 'cpu'"
    return 'cuda' if getattr(args, 'device', 'cpu') == 'cuda' and not FAKE_CUDA else 'cpu'

def gpu_path(args) -> bool:
    "Whether the GPU settings and timing apply (`--device cuda`, real or fake)"
    return getattr(args, 'device', 'cpu') == 'cuda'

FAKE_SYNCS = [0]   # under BENCH_FAKE_CUDA=1: how often the GPU path called synchronize (printed at the end)

def synchronize(dev:str):
    "The device's synchronize, or a no-op on the CPU (one that counts its calls under BENCH_FAKE_CUDA=1)"
    if dev == 'cuda': return torch.cuda.synchronize
    if FAKE_CUDA: return lambda: FAKE_SYNCS.__setitem__(0, FAKE_SYNCS[0] + 1)
    return lambda: None

def make_trainer(name, args, out, compile=None):
    "A set-up `Trainer` for method `name` and a uint8 batch `(x, y)` on its device; `compile` (default `args.compile`) compiles the backbone"
    from centerssl.train import Trainer, import_methods, small_hparams
    from centerssl.models import resnet
    from centerssl.imagedata import SSLData, TensorImages
    reg = import_methods()
    dev, gpu = run_device(args), gpu_path(args)
    compile = getattr(args, 'compile', False) if compile is None else compile
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n = 4 * args.batch_size
    x = torch.randint(0, 256, (n, 3, args.size, args.size), dtype=torch.uint8, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    ds = TensorImages(x, y)
    data = SSLData('bench', ds, ds, ds, 10, args.size, 3, (0.49, 0.48, 0.45), (0.25, 0.24, 0.26), preset='byol')
    bb, feat = resnet(getattr(args, 'arch', 'resnet18'), cifar_stem=bool(args.cifar_stem))
    m = reg[name](bb, feat, **({} if args.paper_heads else small_hparams(name)))
    Path(out).mkdir(parents=True, exist_ok=True)
    t = Trainer(m, data, out, epochs=10_000, batch_size=args.batch_size, device=dev, progress=False, verbose=False,
                amp=getattr(args, 'amp', gpu), channels_last=getattr(args, 'channels_last', gpu), compile=compile,
                reuse_memory=not getattr(args, 'default_malloc', False))
    t.setup()
    t._cb('before_fit')
    return t, x[:args.batch_size].to(dev), y[:args.batch_size].to(dev)   # the augmentation runs on the trainer's device

def teacher_backbone(method):
    "A copy of the backbone inside the method's EMA teacher, or None if it has none"
    from centerssl.models import EMATeacher
    for mod in method.modules():
        if isinstance(mod, EMATeacher):
            tm = mod.module
            bb = tm[0] if isinstance(tm, nn.Sequential) else tm
            return eager_copy(bb)
    return None

def eager_copy(mod):
    "A deep copy of `mod` that runs its class's own forward (`Trainer.setup` with compile=True sets a compiled `forward` on the instance)"
    c = copy.deepcopy(mod)
    c.__dict__.pop('forward', None)
    return c

def bare_side(t, x):
    """The bare work on `t`'s model, as `(fwd_bwd, opt_step, v, ema)`: forward + backward of the already-augmented 2 x batch `v`
    through a copy of the backbone (after a no-grad forward through a copy of the teacher's backbone when `ema`), and the
    step of that copy's own SGD with the trainer's settings; with the trainer's precision (bf16 autocast when `t.amp`) and
    layout (channels_last when `t.channels_last`). Always eager."""
    bb = eager_copy(t.method.backbone)
    amp, cl = getattr(t, 'amp', False), getattr(t, 'channels_last', False)
    g0 = t.opt.param_groups[0]
    fused = t.opt.defaults.get('fused') or t.device.type == 'cuda'   # fused like the trainer's, where it is; always on GPU
    opt = torch.optim.SGD(bb.parameters(), lr=g0['lr'], momentum=g0['momentum'], weight_decay=g0['weight_decay'], fused=fused or None)
    teacher = teacher_backbone(t.method)
    with torch.no_grad(): v = torch.cat(t.aug(x))
    if cl:
        v = v.contiguous(memory_format=torch.channels_last)
        for mod in (bb, teacher):
            if mod is not None: mod.to(memory_format=torch.channels_last)
    dt = t.device.type
    def fwd_bwd():
        with torch.autocast(dt, dtype=torch.bfloat16, enabled=amp):
            if teacher is not None:
                with torch.no_grad(): teacher(v)
            loss = bb(v).float().square().mean()
        opt.zero_grad(set_to_none=True); loss.backward()
    return fwd_bwd, opt.step, v, teacher is not None

def block_timer(dev:str, n:int):
    "`timed(f)`: seconds per call of `f` over a loop of `n` calls, synchronised before and after the loop on a GPU"
    sync = synchronize(dev)
    def timed(f):
        sync(); t0 = time.perf_counter()
        for _ in range(n): f()
        sync()
        return (time.perf_counter() - t0) / n
    return timed

def step_kinds(me, pe):
    "The step counters: `plain_at()` (a new one where no monitor fires), `center_at` (CenterMonitor fires), `both_at` (both fire)"
    k = 0
    def plain_at():
        nonlocal k
        while True:
            k += 1
            if (me <= 0 or (k + 1) % me) and (pe <= 0 or (k + 1) % pe): return k
    center_at = me - 1 if me > 0 else None
    while center_at is not None and pe > 0 and (center_at + 1) % pe == 0: center_at += me
    both_at = pe - 1 if pe > 0 else None
    return plain_at, center_at, both_at

def compile_failed(e, dev):
    first = (str(e).strip().splitlines() or [''])[0][:300]
    sys.exit(f"--compile: torch.compile failed on {dev} (torch {torch.__version__}): {type(e).__name__}: {first}")

def bench_method(name, args):
    dev, gpu = run_device(args), gpu_path(args)
    unit = args.block
    timed = block_timer(dev, unit)
    sync = synchronize(dev)
    with tempfile.TemporaryDirectory() as out:
        t, x, y = make_trainer(name, args, Path(out)/'eager', compile=False)
        names = [c.name for c in t.callbacks]
        me, pe = t.callbacks[names.index('CenterMonitor')].every, t.callbacks[names.index('GradProbe')].every
        bare_fb, bare_opt, _, ema = bare_side(t, x)   # same backbone weights, its own SGD with the trainer's settings
        center_at, both_at = step_kinds(me, pe)[1:]

        def stepper(tr, xb, yb):
            "`call(at)`: one trainer step with the step counter at `at` (+ after_step); `plain_at()`: its own plain counters"
            def call(at):
                tr.step = at
                tr.train_step(xb, yb)
                tr.step += 1
                tr._cb('after_step')
            return call, step_kinds(me, pe)[0]
        sides = {'eager': stepper(t, x, y)}
        compile_s = None
        if args.compile:
            tc, xc, yc = make_trainer(name, args, Path(out)/'compiled', compile=True)
            sides['compiled'] = stepper(tc, xc, yc)
            call, plain_at = sides['compiled']
            try:
                sync(); t0 = time.perf_counter(); call(plain_at()); sync()   # the first step compiles the backbone
            except Exception as e: compile_failed(e, dev)
            compile_s = time.perf_counter() - t0
        def bare(): bare_fb(); bare_opt()

        for _ in range(args.warmup):
            for call, plain_at in sides.values(): call(plain_at())
            bare()
        for call, _ in sides.values():
            if center_at is not None: call(center_at)
            if both_at is not None: call(both_at)
        sync()

        S = {k: [] for k in sides}; C = {k: [] for k in sides}; P = {k: [] for k in sides}
        B, Bp = [], []   # bare (all blocks), bare of each round (for `paired`)
        rounds = max(math.ceil(args.steps / unit), math.ceil(args.monitor_steps / unit))
        mrounds = math.ceil(args.monitor_steps / unit)
        order = list(sides)
        for i in range(rounds):
            seq = order + ['bare'] if i % 2 == 0 else ['bare'] + order[::-1]   # ABBA: neither side always runs right after the other's work
            for k in seq:
                if k == 'bare': B.append(timed(bare)); Bp.append(B[-1])
                else:
                    call, plain_at = sides[k]
                    S[k].append(timed(lambda: call(plain_at())))
            if i < mrounds:   # each monitor-firing block is compared with the plain block of its own round
                for k, (call, _) in sides.items():
                    if center_at is not None: C[k].append(timed(lambda: call(center_at)) - S[k][-1]); B.append(timed(bare))
                    if both_at is not None: P[k].append(timed(lambda: call(both_at)) - S[k][-1]); B.append(timed(bare))
        b = median(B)
        r = dict(method=name, ema=ema, bare=b, me=me, pe=pe, compile_s=compile_s, blocks=rounds, mblocks=mrounds)
        for k in sides:
            s = median(S[k])
            c_extra = max(0., median(C[k])) if C[k] else 0.
            p_extra = max(0., median(P[k]) - c_extra) if P[k] else 0.
            amort = s + (c_extra / me if me > 0 else 0.) + (p_extra / pe if pe > 0 else 0.)
            pre = '' if k == 'eager' else 'c_'
            r.update({pre + 'plain': s, pre + 'center': c_extra, pre + 'probe': p_extra, pre + 'step': amort,
                      pre + 'ratio': amort / b, pre + 'pair': median([a / c for a, c in zip(S[k], Bp)])})
        return r

def breakdown(name, args):
    "Milliseconds of each part of a plain step that the bare step does not do (medians over interleaved repeats)"
    with tempfile.TemporaryDirectory() as out:
        t, x, y = make_trainer(name, args, out)
        from centerssl.models import grad_norms
        m = t.method
        bare_fb, bare_opt, v, _ = bare_side(t, x)
        x1, x2 = v.chunk(2)
        last = {}
        try: from centerssl.core import no_host_checks    # train_step runs the forward without the host-side NaN checks
        except ImportError: import contextlib; no_host_checks = contextlib.nullcontext
        def aug():
            with torch.no_grad(): t.aug(x)
        def model_fb():
            t.opt.zero_grad(set_to_none=True)
            with no_host_checks(), torch.autocast(t.device.type, dtype=torch.bfloat16, enabled=getattr(t, 'amp', False)):
                last['loss'] = t.model(x1, x2, y)['loss']
            last['loss'].backward()
        grads = lambda: [(n, p.grad) for n, p in m.named_parameters() if p.grad is not None]
        # the guard train_step uses: the device flag of the loss and gradients (Trainer._nonfinite_flag), or, in a trainer
        # without it, the check of the gradients (Trainer._check_finite); neither: not timed (0)
        if hasattr(t, '_nonfinite_flag'):
            guard_kind = 'flag'
            def guard(): last['bad'] = t._nonfinite_flag(last['loss'])   # the gradients are in p.grad; no host sync
        elif hasattr(t, '_check_finite'):
            guard_kind = 'check'
            def guard():   # as train_step: a sum per gradient, or the norms a method's hook reuses (DINO's clipping)
                g = grads(); t._check_finite(g, 'bench', t.step + 1, values=grad_norms([v for _, v in g]) if m.uses_grad_norms else None)
        else:
            guard_kind = 'none'
            def guard(): pass
        if hasattr(t, '_opt_step'):   # the step train_step takes: skipped on the device after a non-finite flag
            def opt_step(): t._opt_step(last.get('bad', torch.zeros((), device=t.device))); t.sched.step()
        else:
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
        return dict(method=name, bare=M['bare'], over=M['step'] - M['bare'], **parts, sum=sum(parts.values()), guard_kind=guard_kind)

def print_breakdown(names, a):
    hdr = (f"{'method':<8} {'bare ms':>8} {'aug':>6} {'model':>6} {'guard':>6} {'optim':>6} {'hooks':>6} {'sum':>6} "
           f"{'measured':>8}   (ms of a plain step; % of bare in the last two columns)")
    print(hdr); print('-' * len(hdr))
    kinds = set()
    for n in names:
        r = breakdown(n, a); kinds.add(r['guard_kind'])
        print(f"{n:<8} {r['bare']:8.1f} " + ' '.join(f"{r[k]:6.1f}" for k in ('aug', 'model', 'guard', 'opt', 'hooks', 'sum'))
              + f" {r['over']:8.1f}   sum {100 * r['sum'] / r['bare']:.1f}%, measured {100 * r['over'] / r['bare']:.1f}%", flush=True)
    guard = {'check': "the NaN check of the gradients (Trainer._check_finite)",
             'flag': "the non-finite flag of the loss and gradients (Trainer._nonfinite_flag)",
             'none': "0: this Trainer has neither _check_finite nor _nonfinite_flag, not timed"}
    print("(aug: the two-view augmentation; model: the method's forward + backward (heads, loss, per-view BatchNorm, "
          "the teacher's heads)\n minus the bare forward + backward; guard: " + '; '.join(guard[k] for k in sorted(kinds)) +
          ";\n optim: the trainer's optimiser + schedule step minus the bare SGD step; hooks: on_before_optimizer_step + "
          "on_step_end (DINO's clipping,\n the EMA update); measured: plain step - bare step, timed whole)")

def goal_for(name, a):
    if not gpu_path(a): return GOAL_CPU
    return GOAL_GPU_R50 if a.arch == 'resnet50' and name in R50_GOAL_METHODS else GOAL_GPU

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--methods', nargs='+', default=None, help='registered method names (default: all)')
    ap.add_argument('--device', choices=('cpu', 'cuda'), default='cpu', help='where the steps run (cuda: bf16 autocast, channels_last, synchronised blocks)')
    ap.add_argument('--arch', choices=('resnet18', 'resnet50'), default='resnet18', help='the backbone')
    ap.add_argument('--batch-size', type=int, default=None, help='images per view (the step sees 2 x this; default 64 on CPU, 256 on GPU)')
    ap.add_argument('--size', type=int, default=32, help='image side')
    ap.add_argument('--steps', type=int, default=None, help='timed plain steps per side per method after the warm-up, rounded up to whole blocks (default 30 on CPU, 100 on GPU)')
    ap.add_argument('--monitor-steps', type=int, default=None, help='timed steps of each monitor-firing kind per method, rounded up to whole blocks (default 5 on CPU, 30 on GPU)')
    ap.add_argument('--warmup', type=int, default=None, help='untimed steps per side per method (default 2 on CPU, 5 on GPU)')
    ap.add_argument('--block', type=int, default=None, help='steps per timed block (default 1 on CPU: each step alone; 10 on GPU, synchronised around the loop)')
    ap.add_argument('--compile', action='store_true', help='also time a trainer built with compile=True (first step = compile time) against the bare eager step')
    ap.add_argument('--threads', type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    ap.add_argument('--cifar-stem', action='store_const', const=True, default=None, help='3x3 stride-1 stem without max-pool (as make_backbone at 32 px); same as --stem cifar')
    ap.add_argument('--stem', choices=('cifar', 'imagenet'), default=None, help='the first conv (default: ImageNet on CPU; on GPU as make_backbone: CIFAR at <= 64 px)')
    ap.add_argument('--paper-heads', dest='paper_heads', action='store_const', const=True, default=None, help="the methods' paper-size heads (the default on GPU)")
    ap.add_argument('--small-heads', dest='paper_heads', action='store_const', const=False, help="the small heads of SMALL_HPARAMS (the default on CPU)")
    ap.add_argument('--default-malloc', action='store_true', help="leave glibc's malloc as it is (the trainer's setup calls tune_malloc)")
    ap.add_argument('--breakdown', action='store_true', help='time the parts of the overhead separately instead (CPU only)')
    a = ap.parse_args()
    gpu = a.device == 'cuda'
    if gpu and a.breakdown: sys.exit("--breakdown times parts with per-call wall clocks and is CPU only; drop --device cuda (or --breakdown)")
    if gpu and not FAKE_CUDA and not torch.cuda.is_available():
        sys.exit(f"--device cuda: CUDA is not available here (torch {torch.__version__}, built for CUDA {torch.version.cuda or 'none'}, "
                 f"{torch.cuda.device_count()} devices visible); use --device cpu")
    if a.stem is not None and a.cifar_stem and a.stem != 'cifar': sys.exit("--cifar-stem and --stem imagenet contradict each other")
    a.cifar_stem = (a.stem == 'cifar') if a.stem is not None else (True if a.cifar_stem else (gpu and a.size <= 64))
    if a.paper_heads is None: a.paper_heads = gpu
    if a.batch_size is None: a.batch_size = 256 if gpu else 64
    if a.steps is None: a.steps = 100 if gpu else 30
    if a.monitor_steps is None: a.monitor_steps = 30 if gpu else 5
    if a.warmup is None: a.warmup = 5 if gpu else 2
    if a.block is None: a.block = 10 if gpu else 1
    for k in ('batch_size', 'size', 'steps', 'block'):
        if getattr(a, k) < 1: sys.exit(f"--{k.replace('_', '-')} must be >= 1, got {getattr(a, k)}")
    for k in ('monitor_steps', 'warmup'):
        if getattr(a, k) < 0: sys.exit(f"--{k.replace('_', '-')} must be >= 0, got {getattr(a, k)}")
    a.amp = a.channels_last = gpu
    if a.threads: torch.set_num_threads(a.threads)
    from centerssl.train import import_methods
    reg = import_methods()
    names = a.methods or sorted(reg)
    bad = [n for n in names if n not in reg]
    if bad: sys.exit(f"unknown method(s) {bad}; registered: {sorted(reg)}")
    dev = run_device(a)
    where = (torch.cuda.get_device_name() if dev == 'cuda' else 'CPU (BENCH_FAKE_CUDA=1: the GPU code path on the CPU, numbers meaningless)') if gpu \
            else f"CPU, torch threads {torch.get_num_threads()}"
    unit = f"each step timed alone (perf_counter)" if a.block == 1 and not gpu else \
           f"blocks of {a.block} steps, {'torch.cuda.synchronize() before and after each block, ' if gpu else ''}per-step = block time / {a.block}"
    print(f"{where}; torch {torch.__version__}; {a.arch} ({'CIFAR' if a.cifar_stem else 'ImageNet'} stem), {a.size}x{a.size}, "
          f"batch {a.batch_size} x 2 views, {'paper' if a.paper_heads else 'small'} heads, "
          f"amp {'bf16' if a.amp else 'off'}, channels_last {'on' if a.channels_last else 'off'}{', compile on' if a.compile else ''}")
    print(f"timing: " + (f"each part timed {a.steps}x, interleaved, medians" if a.breakdown else
                         f"{unit}; {a.steps} plain + {a.monitor_steps}x2 monitor-firing steps per method (rounded up to whole blocks), "
                         f"alternating with bare steps in ABBA order, medians"))
    load_note('at the start')
    if not a.default_malloc:
        from centerssl.train import tune_malloc
        print(f"malloc: {'tuned by tune_malloc() (freed memory reused), as Trainer.setup does' if tune_malloc() else 'left as it is (tune_malloc() did not apply here)'}")
    else: print("malloc: glibc's defaults (--default-malloc)")
    if a.breakdown:
        print_breakdown(names, a); load_note('at the end'); return
    goals = sorted({goal_for(n, a) for n in names})
    gl = [f"eager step <= {GOAL_CPU:.2f}x bare (CPU)"] if not gpu else [f"eager step <= {GOAL_GPU:.2f}x bare (GPU)"]
    if gpu and a.arch == 'resnet50':
        gl.append(f"{a.arch} {'/'.join(R50_GOAL_METHODS)} <= {GOAL_GPU_R50:.2f}x bare (the issue's setting: 224 px, batch 128)")
    if a.compile: gl.append(f"compiled step <= {GOAL_COMPILED:.2f}x bare eager")
    print("goals: " + '; '.join(gl))
    hdr = f"{'method':<8} {'EMA':>3} {'plain ms':>9} {'+center':>8} {'+probe':>8} {'step ms':>8} {'bare ms':>8} {'ratio':>6} {'paired':>6} {'goal':>5}"
    if a.compile: hdr += f" {'cmp ms':>8} {'c.ratio':>7} {'c.pair':>6} {'compile s':>9}"
    print(hdr); print('-' * (len(hdr) + 7))
    rows = []
    for n in names:
        r = bench_method(n, a); rows.append(r)
        if dev == 'cuda': gc.collect(); torch.cuda.empty_cache()   # the last method's trainers (reference cycles) before the next
        g = goal_for(n, a)
        line = (f"{n:<8} {'yes' if r['ema'] else 'no':>3} {1e3*r['plain']:9.2f} {1e3*r['center']:8.2f} {1e3*r['probe']:8.2f} "
                f"{1e3*r['step']:8.2f} {1e3*r['bare']:8.2f} {r['ratio']:6.3f} {r['pair']:6.3f} {g:5.2f}")
        if a.compile:
            line += f" {1e3*r['c_step']:8.2f} {r['c_ratio']:7.3f} {r['c_pair']:6.3f} {r['compile_s']:9.1f}"
        line += f"  {'met' if r['ratio'] <= g else 'MISSED'}"
        if a.compile: line += f" / {'met' if r['c_ratio'] <= GOAL_COMPILED else 'MISSED'}"
        print(line, flush=True)
    print(f"(+center / +probe: extra ms of a step where CenterMonitor / GradProbe fires, amortised in 'step ms' over "
          f"every {rows[0]['me']} / {rows[0]['pe']} steps; ratio = step ms / bare ms, the goal's number; paired = median over\n"
          f" the rounds of plain step / the bare step of its round, a drift-robust check of the same ratio without monitors; "
          f"medians over {rows[0]['blocks']} plain blocks and {rows[0]['mblocks']} blocks of each monitor kind of {a.block} step(s)"
          + (";\n cmp ms: the compiled trainer's step, amortised the same way; c.ratio = cmp ms / bare ms (bare: eager); c.pair: its paired; "
             "compile s: its first step, synchronised, compilation included)" if a.compile else ")"))
    load_note('at the end')
    worst = max(rows, key=lambda r: r['ratio'] / goal_for(r['method'], a))
    ok = all(r['ratio'] <= goal_for(r['method'], a) for r in rows)
    gtxt = f"{goals[0]:.2f}x" if len(goals) == 1 else '/'.join(f"{g:.2f}" for g in goals) + "x (see goal column)"
    print(f"{'PASS' if ok else 'MISS'}: step <= {gtxt} bare for every method (worst: {worst['method']} {worst['ratio']:.3f}x)")
    if FAKE_CUDA and gpu: print(f"(BENCH_FAKE_CUDA=1: synchronize called {FAKE_SYNCS[0]} times)")
    if a.compile:
        cw = max(rows, key=lambda r: r['c_ratio'])
        print(f"{'PASS' if all(r['c_ratio'] <= GOAL_COMPILED for r in rows) else 'MISS'}: compiled step <= {GOAL_COMPILED:.2f}x bare eager "
              f"for every method (worst: {cw['method']} {cw['c_ratio']:.3f}x)")

if __name__ == '__main__': main()
