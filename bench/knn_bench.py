"""Speed of centerssl's weighted kNN against scikit-learn and against the bare similarity product, on the same features.

The features are random clustered data (class means + Gaussian noise, `--classes` classes, fixed seed, float32):
`--n-train` x `--dim` labelled reference rows and `--n-test` rows to classify. Timed in this one process, in rounds
that alternate the contenders so machine noise affects all alike (medians over `--repeats` rounds):

  - centerssl: `centerssl.eval.knn_predict(train, labels, test, ks=(k,), T)`: cosine similarity, top-k (through
    group maxima: only the k groups of 16 columns with the largest maxima are searched), votes weighted by exp(sim/T),
    in blocks of test rows sized for the device (on CPU 2**26 similarities per block, i.e. 1342 test rows against 50k
    train rows);
  - bare product: the work no cosine kNN can avoid: normalise both sets and compute every test x train similarity,
    `torch.mm(test_block, train.T, out=buf)` block by block, without top-k or voting. Two blockings are timed: the one
    `knn_predict` uses (same blocks, so the difference is exactly top-k + voting) and 1024-row blocks (the BLAS's better
    shape); the faster of the two is "the limit" the goal is measured against;
  - scikit-learn: `KNeighborsClassifier(n_neighbors=k, algorithm='brute', metric='cosine', weights=w).fit(train).predict(test)`
    with w(d) = exp((1 - d)/T), the same vote (cosine distance d = 1 - sim), on the same float32 arrays
    (timed `--sk-repeats` times: it is the slow one).

Goals: centerssl >= 2x faster than scikit-learn; centerssl within 1.2x of the bare product; the same predictions
(agreement >= 99.9%: the two differ only where float32 rounding breaks a tie, checked against float64). `--threads`
sets torch's threads and, through threadpoolctl, scikit-learn's BLAS/OpenMP threads.

With `--device cuda` the features are made on the CPU (same seed) and moved to the GPU, and centerssl and the bare
products run there (`knn_predict` then sizes its blocks for the GPU: 2**27 similarities, i.e. 2684 test rows against 50k
train rows). The GPU runs asynchronously, so every timed call is bracketed by `torch.cuda.synchronize()` (before and
after); the warm-up runs each contender once at full size (allocator, cuBLAS); times are in ms, medians over
`--repeats` rounds (default 20 on GPU). scikit-learn is a CPU library: on GPU it is not run, and the predictions are
checked instead against an exact float64 weighted kNN computed with torch on the device (same vote; agreement >= 99.9%,
differences explained by float64 near-ties). Goal on GPU: centerssl within 1.2x of the bare product (50k x 512 train,
10k test). Usage:

    python bench/knn_bench.py                                # 50k x 512 train, 10k test, k = 20 (~2-3 minutes on 2 cores)
    python bench/knn_bench.py --n-train 10000 --n-test 2000  # a quick run
    python bench/knn_bench.py --threads 1
    python bench/knn_bench.py --device cuda                  # the same sizes on the GPU, synchronised

Test hook: with the environment variable BENCH_FAKE_CUDA=1, `--device cuda` runs the GPU code path on the CPU
(synchronize a no-op, float64 reference instead of scikit-learn, ms); its numbers mean nothing.
"""
from _load import load_note   # bench/_load.py (the script's folder is on sys.path)
import argparse, os, contextlib, statistics, sys, time
import numpy as np
import torch, torch.nn.functional as F

GOAL_SK, GOAL_BARE, GOAL_AGREE = 2.0, 1.2, 0.999
FAKE_CUDA = os.environ.get('BENCH_FAKE_CUDA') == '1'   # test hook: the GPU code path on the CPU (see the docstring)

def make_features(n_train, n_test, dim, classes, noise, seed=0):
    "Class means on the unit sphere x sqrt(dim) plus isotropic noise; float32"
    g = torch.Generator().manual_seed(seed)
    means = F.normalize(torch.randn(classes, dim, generator=g), dim=1) * dim ** 0.5
    def draw(n):
        y = torch.randint(0, classes, (n,), generator=g)
        return (means[y] + noise * torch.randn(n, dim, generator=g)).float(), y
    (xtr, ytr), (xte, yte) = draw(n_train), draw(n_test)
    return xtr, ytr, xte, yte

def block_rows(n_train, device='cpu'):
    "The test rows per block `knn_predict` uses on `device`"
    try:
        from centerssl.eval import _chunk_rows
        return _chunk_rows(n_train, torch.device(device), None)
    except ImportError: return max(1, (2**27 if torch.device(device).type == 'cuda' else 2**22) // n_train)

def bare_product(xtr, xte, rows):
    "Normalise both, then every similarity, `rows` test rows at a time, into one reused buffer (on the features' device)"
    tr = F.normalize(xtr, dim=1)
    buf = torch.empty(min(rows, len(xte)), len(tr), device=tr.device)
    for s in range(0, len(xte), rows):
        q = F.normalize(xte[s:s + rows], dim=1)
        torch.mm(q, tr.T, out=buf[:len(q)])
    return buf

@torch.no_grad()
def reference_predict(xtr, ytr, xte, k, T, C, rows=1024):
    "The exact weighted kNN vote in float64 (cosine top-k, weights exp(sim/T)), on the features' device: what scikit-learn computes"
    tr = F.normalize(xtr.double(), dim=1); y = ytr.to(tr.device)
    out = []
    for s in range(0, len(xte), rows):
        q = F.normalize(xte[s:s + rows].double(), dim=1)
        top, ti = (q @ tr.T).topk(k, dim=1)
        votes = torch.zeros(len(q), C, dtype=torch.float64, device=tr.device).scatter_add_(1, y[ti], (top / T).exp())
        out.append(votes.argmax(1))
    return torch.cat(out)

def ties_explained(xtr, ytr, xte, idx, k, T, C, ours, theirs):
    "For the rows `idx` where the two disagree: is it a near-tie in float64 (votes or k-th neighbour)?"
    tr = F.normalize(xtr.double(), dim=1); q = F.normalize(xte[idx].double(), dim=1)
    sim = q @ tr.T
    top, ti = sim.topk(k + 1, dim=1)
    w = (top[:, :k] / T).exp()
    votes = torch.zeros(len(idx), C, dtype=torch.float64).scatter_add_(1, ytr[ti[:, :k]], w)
    a, b = votes.gather(1, ours[idx, None])[:, 0], votes.gather(1, theirs[idx, None])[:, 0]
    vote_tie = (a - b).abs() <= 1e-4 * votes.max(1).values
    kth_tie = (top[:, k - 1] - top[:, k]).abs() <= 1e-5     # the k-th and (k+1)-th neighbours are float32-equal
    return int((vote_tie | kth_tie).sum())

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n-train', type=int, default=50_000)
    ap.add_argument('--n-test', type=int, default=10_000)
    ap.add_argument('--dim', type=int, default=512)
    ap.add_argument('--k', type=int, default=20)
    ap.add_argument('--T', type=float, default=0.07, help='vote temperature: weights exp(sim/T)')
    ap.add_argument('--classes', type=int, default=100)
    ap.add_argument('--noise', type=float, default=4.0, help='noise std per dimension (class means have unit rms)')
    ap.add_argument('--repeats', type=int, default=None, help='rounds of centerssl + bare products (default 3 on CPU, 20 on GPU)')
    ap.add_argument('--sk-repeats', type=int, default=1, help='rounds that also time scikit-learn')
    ap.add_argument('--threads', type=int, default=None, help="torch threads and scikit-learn's (default: the libraries' choice)")
    ap.add_argument('--device', choices=('cpu', 'cuda'), default='cpu', help='where centerssl and the bare products run (cuda: synchronised, no scikit-learn)')
    a = ap.parse_args()
    gpu = a.device == 'cuda'
    if gpu and not FAKE_CUDA and not torch.cuda.is_available():
        sys.exit(f"--device cuda: CUDA is not available here (torch {torch.__version__}, built for CUDA {torch.version.cuda or 'none'}, "
                 f"{torch.cuda.device_count()} devices visible); use --device cpu")
    dev = 'cuda' if gpu and not FAKE_CUDA else 'cpu'
    sync = torch.cuda.synchronize if dev == 'cuda' else (lambda: None)
    if a.repeats is None: a.repeats = 20 if gpu else 3
    if a.repeats < 1: sys.exit(f"--repeats must be >= 1, got {a.repeats}")
    if a.threads: torch.set_num_threads(a.threads)
    if not gpu: from sklearn.neighbors import KNeighborsClassifier
    from centerssl.eval import knn_predict
    limit = contextlib.nullcontext()
    if a.threads and not gpu:
        from threadpoolctl import threadpool_limits
        limit = threadpool_limits(a.threads)
    xtr_c, ytr_c, xte_c, yte_c = make_features(a.n_train, a.n_test, a.dim, a.classes, a.noise)   # on the CPU: the same data on every device
    Xtr, Ytr, Xte = xtr_c.numpy(), ytr_c.numpy(), xte_c.numpy()
    xtr, ytr, xte = xtr_c.to(dev), ytr_c.to(dev), xte_c.to(dev)
    rows, big = block_rows(a.n_train, dev), 1024
    T, k = a.T, a.k
    unit, scale, fmt = ('ms', 1e3, '8.1f') if gpu else ('s', 1., '8.2f')
    where = (torch.cuda.get_device_name() if dev == 'cuda' else 'CPU (BENCH_FAKE_CUDA=1: the GPU code path on the CPU, numbers meaningless)') \
            if gpu else f"CPU, torch threads {torch.get_num_threads()}"
    print(f"{where}; torch {torch.__version__}")
    print(f"features: {a.n_train} x {a.dim} train, {a.n_test} test, {a.classes} classes, float32; k = {k}, T = {T}; "
          f"knn_predict blocks: {rows} test rows" + ("; every timed call synchronised before and after; scikit-learn not run "
          "(predictions checked against an exact float64 kNN on the device)" if gpu else ''))

    load_note('at the start')
    def run_ours(): return knn_predict(xtr, ytr, xte, ks=(k,), T=T, num_classes=a.classes)[k]
    def run_sk():
        with limit:
            clf = KNeighborsClassifier(n_neighbors=k, algorithm='brute', metric='cosine', weights=lambda d: np.exp((1 - d) / T))
            return clf.fit(Xtr, Ytr).predict(Xte)
    def timed(f):
        "Seconds of one call of `f` (synchronised before and after on a GPU) and its result"
        sync(); t0 = time.perf_counter(); r = f(); sync(); return time.perf_counter() - t0, r

    if gpu:   # warm-up at full size (allocator blocks, cuBLAS handles and kernels)
        run_ours(); bare_product(xtr, xte, rows); bare_product(xtr, xte, big); sync()
    else:     # warm-up on a slice (allocator, BLAS threads, sklearn imports)
        knn_predict(xtr, ytr, xte[:500], ks=(k,), T=T, num_classes=a.classes); bare_product(xtr, xte[:500], rows)
    t_ours, t_same, t_big, t_sk = [], [], [], []
    pred = sk_pred = None
    for r in range(a.repeats):
        dt, pred = timed(run_ours); t_ours.append(dt)
        t_same.append(timed(lambda: bare_product(xtr, xte, rows))[0])
        t_big.append(timed(lambda: bare_product(xtr, xte, big))[0])
        if r < a.sk_repeats and not gpu:
            dt, sk_pred = timed(run_sk); t_sk.append(dt)
        print(f"  round {r + 1}: centerssl {scale * t_ours[-1]:.2f} {unit}, bare ({rows} rows) {scale * t_same[-1]:.2f} {unit}, "
              f"bare ({big} rows) {scale * t_big[-1]:.2f} {unit}" + (f", scikit-learn {t_sk[-1]:.2f} s" if t_sk and r < a.sk_repeats else ''), flush=True)
    med = statistics.median
    o, s1, s2 = med(t_ours), med(t_same), med(t_big)
    bare = min(s1, s2)
    pred = pred.cpu()
    if gpu:
        ref_name = 'float64 reference'
        sk_pred = reference_predict(xtr, ytr, xte, k, T, a.classes).cpu()
    else:
        ref_name, sk = 'scikit-learn', med(t_sk)
        sk_pred = torch.as_tensor(sk_pred)
    agree = (pred == sk_pred).float().mean().item()
    bad = torch.nonzero(pred != sk_pred)[:, 0]
    ties = ties_explained(xtr_c, ytr_c, xte_c, bad, k, T, a.classes, pred, sk_pred) if len(bad) else 0
    acc_o, acc_s = (pred == yte_c).float().mean().item(), (sk_pred == yte_c).float().mean().item()
    print(f"\n{'':<34}{('ms' if gpu else 'seconds'):>8}  {'centerssl is':>14}")
    print(f"{'centerssl knn_predict':<34}{scale * o:{fmt}}")
    if not gpu: print(f"{'scikit-learn (brute, cosine)':<34}{sk:8.2f}  {sk / o:9.2f}x faster")
    print(f"{f'bare product, {rows}-row blocks':<34}{scale * s1:{fmt}}  {o / s1:9.2f}x of it")
    print(f"{f'bare product, {big}-row blocks':<34}{scale * s2:{fmt}}  {o / s2:9.2f}x of it")
    print(f"top-k + voting on top of the same blocks: {scale * (o - s1):+.2f} {unit} ({(o - s1) / o:.0%} of centerssl's time)")
    print(f"predictions: {agree:.4%} agree with {ref_name} ({len(bad)} differ, {ties} of them float64 near-ties); "
          f"accuracy centerssl {acc_o:.4f}, {ref_name} {acc_s:.4f}")
    res = ([] if gpu else [(sk / o >= GOAL_SK, f"centerssl >= {GOAL_SK:g}x faster than scikit-learn ({sk / o:.2f}x)")]) + [
           (o / bare <= GOAL_BARE, f"centerssl within {GOAL_BARE:g}x of the bare product ({o / bare:.2f}x of the faster blocking)"),
           (agree >= GOAL_AGREE, f"same predictions as {ref_name} (agreement {agree:.4%} >= {GOAL_AGREE:.1%})")]
    load_note('at the end')
    for ok, what in res: print(f"{'PASS' if ok else 'MISS'}: {what}")

if __name__ == '__main__': main()
