from pathlib import Path
from conftest import torchrun

HERE = Path(__file__).parent

def test_vicreg_exact_under_torchrun():
    "VICReg's variance and covariance over the gathered global batch: values, DDP gradients, diagnostics and weights equal one process"
    p = torchrun(HERE/'dist_worker_vicreg.py')
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert p.stdout.count('vicreg exact') == 2, p.stdout
