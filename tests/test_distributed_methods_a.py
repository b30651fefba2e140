from pathlib import Path
from conftest import torchrun

HERE = Path(__file__).parent

def test_methods_a_exact_under_torchrun():
    "InfoNCE, SimCLR, SimSiam (and its ablation), BYOL: loss, DDP gradients, diagnostics and EMA equal one process; per-rank BN does not"
    p = torchrun(HERE/'dist_worker_methods_a.py')
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert p.stdout.count('methods exact under DDP') == 2, p.stdout
