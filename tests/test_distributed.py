"""Every collective and method under real DDP (`torchrun --nproc_per_node=2`, gloo, CPU): each worker script compares
2 ranks with one process on the whole batch, and prints its line on both ranks when everything is exact."""
from pathlib import Path
import pytest
from conftest import torchrun

HERE = Path(__file__).parent

WORKERS = [  # (worker script, the line each rank prints when exact, what it checks)
    ('dist_worker_core.py', 'all collectives exact',
     "CenterTracker, center_vector, collapse_stats, all-gather/all-reduce: values and DDP gradients equal one process"),
    ('dist_worker_methods_a.py', 'methods exact under DDP',
     "InfoNCE, SimCLR, SimSiam (and its ablation), BYOL: loss, DDP gradients, diagnostics and EMA equal one process; per-rank BN does not"),
    ('dist_worker_methods_b.py', 'dino, swav, barlow exact',
     "DINO center, SwAV Sinkhorn, Barlow Twins cross-correlation/BN: values, DDP gradients and state equal one process"),
    ('dist_worker_mocov3.py', 'mocov3 exact under DDP',
     "MoCo v3: keys gathered without gradient, labels offset by the rank; loss, DDP gradients, diagnostics and EMA equal one process"),
    ('dist_worker_multicrop.py', 'multi-crop dino, swav exact under DDP',
     "Multi-crop DINO and SwAV (2 global + 3 local crops, crop-major per rank): loss, DDP gradients, diagnostics and state equal one process"),
    ('dist_worker_vicreg.py', 'vicreg exact',
     "VICReg's variance and covariance over the gathered global batch: values, DDP gradients, diagnostics and weights equal one process"),
]

@pytest.mark.parametrize('worker,done,what', WORKERS, ids=[w[0][len('dist_worker_'):-3] for w in WORKERS])
def test_exact_under_torchrun(worker, done, what):
    p = torchrun(HERE/worker)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert p.stdout.count(done) == 2, p.stdout
