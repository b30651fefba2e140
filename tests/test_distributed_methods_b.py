from pathlib import Path
from conftest import torchrun

HERE = Path(__file__).parent

def test_dino_swav_barlow_exact_under_torchrun():
    "DINO center, SwAV Sinkhorn, Barlow Twins cross-correlation/BN: values, DDP gradients and state equal one process"
    p = torchrun(HERE/'dist_worker_methods_b.py')
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert p.stdout.count('dino, swav, barlow exact') == 2, p.stdout
