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
sets torch's threads and, through threadpoolctl, scikit-learn's BLAS/OpenMP threads. Usage:

    python bench/knn_bench.py                                # 50k x 512 train, 10k test, k = 20 (~2-3 minutes on 2 cores)
    python bench/knn_bench.py --n-train 10000 --n-test 2000  # a quick run
    python bench/knn_bench.py --threads 1
"""
from _load import load_note   # bench/_load.py (the script's folder is on sys.path)
import argparse, os, contextlib, statistics, time
import numpy as np
import torch, torch.nn.functional as F

GOAL_SK, GOAL_BARE, GOAL_AGREE = 2.0, 1.2, 0.999

def make_features(n_train, n_test, dim, classes, noise, seed=0):
    "Class means on the unit sphere x sqrt(dim) plus isotropic noise; float32"
    g = torch.Generator().manual_seed(seed)
    means = F.normalize(torch.randn(classes, dim, generator=g), dim=1) * dim ** 0.5
    def draw(n):
        y = torch.randint(0, classes, (n,), generator=g)
        return (means[y] + noise * torch.randn(n, dim, generator=g)).float(), y
    (xtr, ytr), (xte, yte) = draw(n_train), draw(n_test)
    return xtr, ytr, xte, yte

def block_rows(n_train):
    "The test rows per block `knn_predict` uses on the CPU"
    try:
        from centerssl.eval import _chunk_rows
        return _chunk_rows(n_train, torch.device('cpu'), None)
    except ImportError: return max(1, 2**22 // n_train)

def bare_product(xtr, xte, rows):
    "Normalise both, then every similarity, `rows` test rows at a time, into one reused buffer"
    tr = F.normalize(xtr, dim=1)
    buf = torch.empty(min(rows, len(xte)), len(tr))
    for s in range(0, len(xte), rows):
        q = F.normalize(xte[s:s + rows], dim=1)
        torch.mm(q, tr.T, out=buf[:len(q)])
    return buf

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
    ap.add_argument('--repeats', type=int, default=3, help='rounds of centerssl + bare products')
    ap.add_argument('--sk-repeats', type=int, default=1, help='rounds that also time scikit-learn')
    ap.add_argument('--threads', type=int, default=None, help="torch threads and scikit-learn's (default: the libraries' choice)")
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    from sklearn.neighbors import KNeighborsClassifier
    from centerssl.eval import knn_predict
    limit = contextlib.nullcontext()
    if a.threads:
        from threadpoolctl import threadpool_limits
        limit = threadpool_limits(a.threads)
    xtr, ytr, xte, yte = make_features(a.n_train, a.n_test, a.dim, a.classes, a.noise)
    Xtr, Ytr, Xte = xtr.numpy(), ytr.numpy(), xte.numpy()
    rows, big = block_rows(a.n_train), 1024
    T, k = a.T, a.k
    print(f"features: {a.n_train} x {a.dim} train, {a.n_test} test, {a.classes} classes, float32; k = {k}, T = {T}; "
          f"torch threads {torch.get_num_threads()}; knn_predict blocks: {rows} test rows")

    load_note('at the start')
    def run_ours(): return knn_predict(xtr, ytr, xte, ks=(k,), T=T, num_classes=a.classes)[k]
    def run_sk():
        with limit:
            clf = KNeighborsClassifier(n_neighbors=k, algorithm='brute', metric='cosine', weights=lambda d: np.exp((1 - d) / T))
            return clf.fit(Xtr, Ytr).predict(Xte)
    def timed(f):
        t0 = time.perf_counter(); r = f(); return time.perf_counter() - t0, r

    # warm-up on a slice (allocator, BLAS threads, sklearn imports)
    knn_predict(xtr, ytr, xte[:500], ks=(k,), T=T, num_classes=a.classes); bare_product(xtr, xte[:500], rows)
    t_ours, t_same, t_big, t_sk = [], [], [], []
    pred = sk_pred = None
    for r in range(a.repeats):
        dt, pred = timed(run_ours); t_ours.append(dt)
        t_same.append(timed(lambda: bare_product(xtr, xte, rows))[0])
        t_big.append(timed(lambda: bare_product(xtr, xte, big))[0])
        if r < a.sk_repeats:
            dt, sk_pred = timed(run_sk); t_sk.append(dt)
        print(f"  round {r + 1}: centerssl {t_ours[-1]:.2f} s, bare ({rows} rows) {t_same[-1]:.2f} s, bare ({big} rows) {t_big[-1]:.2f} s"
              + (f", scikit-learn {t_sk[-1]:.2f} s" if r < a.sk_repeats else ''), flush=True)
    med = statistics.median
    o, s1, s2, sk = med(t_ours), med(t_same), med(t_big), med(t_sk)
    bare = min(s1, s2)
    sk_pred = torch.as_tensor(sk_pred)
    agree = (pred == sk_pred).float().mean().item()
    bad = torch.nonzero(pred != sk_pred)[:, 0]
    ties = ties_explained(xtr, ytr, xte, bad, k, T, a.classes, pred, sk_pred) if len(bad) else 0
    acc_o, acc_s = (pred == yte).float().mean().item(), (sk_pred == yte).float().mean().item()
    print(f"\n{'':<34}{'seconds':>8}  {'centerssl is':>14}")
    print(f"{'centerssl knn_predict':<34}{o:8.2f}")
    print(f"{'scikit-learn (brute, cosine)':<34}{sk:8.2f}  {sk / o:9.2f}x faster")
    print(f"{f'bare product, {rows}-row blocks':<34}{s1:8.2f}  {o / s1:9.2f}x of it")
    print(f"{f'bare product, {big}-row blocks':<34}{s2:8.2f}  {o / s2:9.2f}x of it")
    print(f"top-k + voting on top of the same blocks: {o - s1:+.2f} s ({(o - s1) / o:.0%} of centerssl's time)")
    print(f"predictions: {agree:.4%} agree ({len(bad)} differ, {ties} of them float64 near-ties); "
          f"accuracy centerssl {acc_o:.4f}, scikit-learn {acc_s:.4f}")
    res = [(sk / o >= GOAL_SK, f"centerssl >= {GOAL_SK:g}x faster than scikit-learn ({sk / o:.2f}x)"),
           (o / bare <= GOAL_BARE, f"centerssl within {GOAL_BARE:g}x of the bare product ({o / bare:.2f}x of the faster blocking)"),
           (agree >= GOAL_AGREE, f"same predictions as scikit-learn (agreement {agree:.4%} >= {GOAL_AGREE:.1%})")]
    load_note('at the end')
    for ok, what in res: print(f"{'PASS' if ok else 'MISS'}: {what}")

if __name__ == '__main__': main()
