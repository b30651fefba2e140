from pathlib import Path
from conftest import torchrun

HERE = Path(__file__).parent

def test_mocov3_exact_under_torchrun():
    "MoCo v3: keys gathered without gradient, labels offset by the rank; loss, DDP gradients, diagnostics and EMA equal one process"
    p = torchrun(HERE/'dist_worker_mocov3.py')
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert p.stdout.count('mocov3 exact under DDP') == 2, p.stdout
