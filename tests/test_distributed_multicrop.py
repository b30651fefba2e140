from pathlib import Path
from conftest import torchrun

HERE = Path(__file__).parent

def test_multicrop_dino_swav_exact_under_torchrun():
    "Multi-crop DINO and SwAV (2 global + 3 local crops, crop-major per rank): loss, DDP gradients, diagnostics and state equal one process"
    p = torchrun(HERE/'dist_worker_multicrop.py')
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert p.stdout.count('multi-crop dino, swav exact under DDP') == 2, p.stdout
