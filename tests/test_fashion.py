"Fashion-MNIST through `centerssl-train`: the real files where the Debian package is installed (skipped, saying why, where not), and damaged folders"
import gzip, json, struct, subprocess, sys
from pathlib import Path
import pytest
from conftest import ROOT
from test_train import ENV, TRAIN

def installed():
    from centerssl.imagedata import FASHION_MNIST_DEB, _idx_files
    return len(_idx_files(FASHION_MNIST_DEB)) == 4

def train(*args, timeout=300):
    return subprocess.run([*TRAIN, '--dataset', 'fashion-mnist', '--device', 'cpu', '--workers', '0', '--quiet', *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=ENV, cwd=ROOT)

@pytest.mark.skipif(not installed(), reason="needs the Fashion-MNIST files: apt-get install dataset-fashion-mnist (as root)")
def test_train_on_the_installed_fashion_mnist(tmp_path):
    out = tmp_path/'run'
    p = train('--method', 'simsiam', '--epochs', '1', '--batch-size', '64', '--max-steps', '3', '--knn-every', '0', '--out', out)
    assert p.returncode == 0, p.stderr[-3000:]
    cfg = json.loads((out/'config.json').read_text())
    assert (cfg['dataset'], cfg['size'], cfg['backbone'], cfg['batch_size'], cfg['aug']) == ('fashion-mnist', 28, 'convnet', 64, 'fashion')
    last = [json.loads(l) for l in (out/'metrics.jsonl').read_text().splitlines()][-1]
    assert last['step'] == 3 and 0 <= last['knn20'] <= 1

def _idx(path, shape, cut=0):
    n = 1
    for s in shape: n *= s
    raw = bytes([0, 0, 8, len(shape)]) + struct.pack(f'>{len(shape)}I', *shape) + bytes(n)
    path.write_bytes(gzip.compress(raw[:len(raw) - cut]))

def test_a_damaged_data_folder_is_named(tmp_path):
    d = tmp_path/'fm'; d.mkdir()
    _idx(d/'train-images-idx3-ubyte.gz', (8, 28, 28)); _idx(d/'train-labels-idx1-ubyte.gz', (8,))
    p = train('--data', d, '--out', tmp_path/'a')
    assert p.returncode == 2 and "holds 2 of the 4 IDX files; missing: t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz" in p.stderr, p.stderr
    _idx(d/'t10k-images-idx3-ubyte.gz', (4, 28, 28)); _idx(d/'t10k-labels-idx1-ubyte.gz', (4,), cut=3)
    p = train('--data', d, '--out', tmp_path/'b')
    assert p.returncode == 2 and f"{d/'t10k-labels-idx1-ubyte.gz'} is truncated" in p.stderr, p.stderr
    assert not (tmp_path/'a').exists() and not (tmp_path/'b').exists()
