from pathlib import Path
from conftest import torchrun

HERE = Path(__file__).parent

def test_core_collectives_exact_under_torchrun():
    "CenterTracker, center_vector, collapse_stats, all-gather/all-reduce: values and DDP gradients equal one process"
    p = torchrun(HERE/'dist_worker_core.py')
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert p.stdout.count('all collectives exact') == 2, p.stdout
