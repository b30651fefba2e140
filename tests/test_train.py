"""The training command end to end: every method on the digits, exact resume after `kill -9`, the NaN guard,
bad input, atomic checkpoints, and the same metrics under `torchrun --nproc_per_node=2` (gloo, CPU)."""
import hashlib, json, os, random, re, signal, subprocess, sys, time
from pathlib import Path
import pytest, torch
from conftest import torchrun, ROOT

ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'CUDA_VISIBLE_DEVICES': '', 'PYTHONUNBUFFERED': '1'}
TRAIN = [sys.executable, '-m', 'centerssl.train']
QUICK = ['--dataset', 'digits', '--device', 'cpu', '--workers', '0', '--quiet']

def cli(*args, timeout=300, cwd=None):
    return subprocess.run([*TRAIN, *QUICK, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=ENV, cwd=cwd or ROOT)

def records(folder):
    return [json.loads(l) for l in (Path(folder)/'metrics.jsonl').read_text().splitlines()]

def sha(p): return hashlib.sha256(Path(p).read_bytes()).hexdigest()

def load(p): return torch.load(p, map_location='cpu', weights_only=True)

def assert_same_state(a, b, what):
    assert a.keys() == b.keys(), what
    for k in a:
        assert torch.equal(a[k], b[k]), f"{what}: {k} differs"


def test_cli_prints_paths_and_logs_center_metrics(tmp_path):
    out = tmp_path/'run'
    p = cli('--method', 'byol', '--epochs', '1', '--batch-size', '64', '--max-steps', '6', '--log-every', '2',
            '--monitor-every', '2', '--probe-every', '3', '--out', out)
    assert p.returncode == 0, p.stderr[-3000:]
    assert f"metrics: {out/'metrics.jsonl'}" in p.stdout and f"checkpoint: {out/'checkpoint.pt'}" in p.stdout, p.stdout
    recs = records(out)
    keys = set().union(*recs)
    for k in ('loss', 'lr', 'z_center_norm', 'z_effective_rank', 'grad_center_share', 'knn20', 'knn200', 'skipped_images'):
        assert k in keys, (k, keys)
    assert recs[-1]['step'] == 6 and load(out/'checkpoint.pt')['step'] == 6
    assert json.loads((out/'config.json').read_text())['method'] == 'byol'


def test_every_registered_method_trains_through_the_cli(tmp_path):
    "One process runs `train_cli` for each registered method (the same function the console script calls)"
    code = f"""
import sys
from centerssl.train import train_cli, import_methods
names = sorted(import_methods())
print('METHODS', ' '.join(names))
for m in names:
    train_cli(method=m, dataset='digits', device='cpu', workers=0, quiet=True, epochs=1, max_steps=3, batch_size=64,
              monitor_every=3, probe_every=3, out=r'{tmp_path}/' + m)
"""
    p = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=600, env=ENV, cwd=ROOT)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    names = re.search(r'METHODS (.*)', p.stdout).group(1).split()
    assert {'simclr', 'simsiam', 'byol'} <= set(names), names       # at least the first helper's methods
    for m in names:
        rs = records(tmp_path/m); keys = set().union(*rs)
        assert rs[-1]['step'] == 3 and all(r['loss'] == r['loss'] for r in rs), (m, rs)
        assert {'z_center_norm', 'grad_center_share', 'knn20', 'knn200'} <= keys, (m, keys)
        assert f"{m} on digits: 3 steps" in p.stdout


def test_dashed_and_underscored_flags_agree(tmp_path):
    a = cli('--method', 'simclr', '--max-steps', '2', '--batch-size', '32', '--out', tmp_path/'a')
    b = cli('--method', 'simclr', '--max_steps', '2', '--batch_size', '32', '--out', tmp_path/'b')
    assert a.returncode == 0 and b.returncode == 0, a.stderr[-2000:] + b.stderr[-2000:]
    assert [r['loss'] for r in records(tmp_path/'a')] == [r['loss'] for r in records(tmp_path/'b')]


def test_kill9_and_resume_gives_the_same_weights(tmp_path):
    "SIGKILL a training process at a random step, resume it: identical weights, optimizer state and losses"
    args = ['--method', 'byol', '--batch-size', '64', '--epochs', '2', '--max-steps', '30', '--ckpt-every', '4',
            '--log-every', '1', '--monitor-every', '5', '--probe-every', '7', '--online-probe']
    full = cli(*args, '--out', tmp_path/'full')
    assert full.returncode == 0, full.stderr[-3000:]
    seed = random.randrange(10**6); rng = random.Random(seed)
    target = rng.randint(5, 26)
    cut = tmp_path/'cut'
    proc = subprocess.Popen([*TRAIN, *QUICK, *args, '--out', str(cut)], env=ENV, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t0 = time.time()
    while time.time() - t0 < 240:
        m = cut/'metrics.jsonl'
        if m.exists() and m.read_text().count('\n') >= target: break
        if proc.poll() is not None: break
        time.sleep(0.01)
    assert proc.poll() is None, f"the run ended before the kill (seed {seed}, target step {target})"
    proc.send_signal(signal.SIGKILL); proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed_at = len(records(cut))
    ck_step = load(cut/'checkpoint.pt')['step'] if (cut/'checkpoint.pt').exists() else 0
    assert ck_step <= killed_at < 30, (ck_step, killed_at)
    res = cli(*args, '--out', cut, '--resume')
    assert res.returncode == 0, res.stderr[-3000:]
    a, b = load(tmp_path/'full'/'checkpoint.pt'), load(cut/'checkpoint.pt')
    assert a['step'] == b['step'] == 30
    assert_same_state(a['model'], b['model'], f"weights after kill at step {killed_at} (seed {seed}), resume from {ck_step}")
    sa, sb = a['optimizer']['state'], b['optimizer']['state']
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k]['momentum_buffer'], sb[k]['momentum_buffer']) for k in sa)
    la, lb = [(r['step'], r['loss']) for r in records(tmp_path/'full')], [(r['step'], r['loss']) for r in records(cut)]
    assert la == lb, "the resumed run's log differs from the uninterrupted one"
    pa, pb = a['callbacks']['OnlineProbe'], b['callbacks']['OnlineProbe']           # the online probe resumes exactly too
    assert_same_state(pa['head'], pb['head'], f"online probe after kill at step {killed_at} (seed {seed})")
    probe = lambda f: [(r['step'], r['probe_acc'], r['probe_train_acc']) for r in records(f) if 'probe_acc' in r]
    assert probe(tmp_path/'full') == probe(cut) and [s for s, *_ in probe(cut)] == [22, 30], probe(cut)   # epoch 1's end, and the last step


def tensors(obj, prefix=''):
    "Every tensor in a nested checkpoint structure, with its path"
    if isinstance(obj, torch.Tensor): yield prefix, obj
    elif isinstance(obj, dict):
        for k, v in obj.items(): yield from tensors(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj): yield from tensors(v, f"{prefix}[{i}]")


def test_nan_loss_stops_with_step_and_keeps_last_checkpoint(tmp_path):
    """A learning rate that makes the run diverge, a checkpoint after every step: exit status 3, the step named, the last
    checkpoint kept, loadable and finite (BatchNorm running stats that overflow during a step must not be saved as "good")"""
    out = tmp_path/'nan'
    p = cli('--method', 'simclr', '--lr', '1e6', '--max-steps', '20', '--ckpt-every', '1', '--log-every', '1', '--out', out)
    assert p.returncode == 3, (p.returncode, p.stdout[-1000:], p.stderr[-2000:])
    m = re.search(r"at step (\d+) .*the last good checkpoint is (\S+) \(step (\d+)\); it was kept", p.stderr)
    assert m, p.stderr[-2000:]
    nan_step, path, ck_step = int(m.group(1)), m.group(2), int(m.group(3))
    assert path == str(out/'checkpoint.pt') and 0 < ck_step < nan_step
    ck = load(path)
    assert ck['step'] == ck_step
    bad = [k for k, v in tensors(ck) if v.is_floating_point() and not torch.isfinite(v).all()]
    assert not bad, f"the 'last good' checkpoint (step {ck_step}) holds non-finite tensors: {bad}"
    assert not (out/'checkpoint.pt.tmp').exists()
    assert max(r['step'] for r in records(out)) == nan_step - 1          # nothing logged for the bad step


@pytest.mark.parametrize('args,msg', [
    (['--method', 'mocov9'], "unknown method 'mocov9'; registered methods:"),
    (['--dataset', 'imagenet9'], "unknown dataset 'imagenet9'"),
    (['--dataset', 'cifar10', '--data', '/nonexistent/cifar'], "'/nonexistent/cifar' does not exist"),
    (['--dataset', 'imagenet100', '--data', '/nonexistent/in100'], "'/nonexistent/in100' does not exist"),
    (['--batch-size', '5000'], 'batch_size=5000 per process is larger than the 1437 samples'),
    (['--batch-size', '0'], 'batch_size must be an int >= 1, got 0'),
    (['--hp', 'nonsense=1'], "byol has no hyperparameter 'nonsense'"),
    (['--hp', 'base_momentum=abc'], "--hp base_momentum=abc"),
    (['--device', 'gpu0'], '--device must be'),
    (['--method', 'simclr', '--local-crops', '2'], '--local_crops 2: simclr has no multi-crop; the methods that take local crops: dino, swav'),
    (['--method', 'dino', '--local-crops', '-1'], 'local_crops must be an int >= 0, got -1'),
])
def test_bad_input_is_a_clear_error(tmp_path, args, msg):
    p = cli('--method', 'byol', '--max-steps', '1', '--out', tmp_path/'x', *args)
    assert p.returncode == 2 and msg in p.stderr, (p.returncode, p.stderr[-2000:])
    assert 'Traceback' not in p.stderr
    assert not (tmp_path/'x'/'checkpoint.pt').exists()


def test_bad_checkpoints_are_errors_and_left_untouched(tmp_path):
    out = tmp_path/'run'
    assert cli('--method', 'byol', '--max-steps', '2', '--batch-size', '32', '--out', out).returncode == 0
    ck = out/'checkpoint.pt'; h = sha(ck)
    # a new run into the same folder, without --resume
    p = cli('--method', 'byol', '--max-steps', '2', '--batch-size', '32', '--out', out)
    assert p.returncode == 2 and 'already exists; pass --resume' in p.stderr and sha(ck) == h
    # another method's checkpoint
    p = cli('--method', 'simclr', '--max-steps', '4', '--batch-size', '32', '--out', out, '--resume')
    assert p.returncode == 2 and "method: checkpoint 'byol', this run 'simclr'" in p.stderr and sha(ck) == h, p.stderr
    # other settings
    p = cli('--method', 'byol', '--max-steps', '4', '--batch-size', '16', '--out', out, '--resume')
    assert p.returncode == 2 and 'batch_size: checkpoint 32, this run 16' in p.stderr and sha(ck) == h, p.stderr
    # a corrupted file
    data = ck.read_bytes(); bad = out.parent/'bad'; bad.mkdir()
    (bad/'checkpoint.pt').write_bytes(data[:len(data)//2] + b'\0' * 100)
    hb = sha(bad/'checkpoint.pt')
    p = cli('--method', 'byol', '--max-steps', '4', '--batch-size', '32', '--out', bad, '--resume')
    assert p.returncode == 2 and 'corrupt or not a centerssl checkpoint' in p.stderr and sha(bad/'checkpoint.pt') == hb, p.stderr
    # damage inside the weights, which torch.load itself accepts: caught by the checkpoint's SHA-256
    mid = out.parent/'mid'; mid.mkdir(); dmg = bytearray(data); dmg[len(data)//2:len(data)//2 + 4096] = bytes(4096)
    (mid/'checkpoint.pt').write_bytes(bytes(dmg)); hm = sha(mid/'checkpoint.pt')
    torch.load(mid/'checkpoint.pt', weights_only=True)
    p = cli('--method', 'byol', '--max-steps', '4', '--batch-size', '32', '--out', mid, '--resume')
    assert p.returncode == 2 and 'is corrupt: its contents do not match the SHA-256' in p.stderr and sha(mid/'checkpoint.pt') == hm, p.stderr
    # the good one still resumes
    p = cli('--method', 'byol', '--max-steps', '4', '--batch-size', '32', '--out', out, '--resume')
    assert p.returncode == 0 and load(ck)['step'] == 4, p.stderr[-2000:]


def test_atomic_save_keeps_the_old_file_when_writing_fails(tmp_path):
    from centerssl.checkpoint import atomic_save
    p = tmp_path/'checkpoint.pt'
    atomic_save({'step': 1, 'w': torch.ones(1000)}, p)
    h = sha(p)
    class Boom:
        def __reduce__(self): raise RuntimeError('disk full (simulated) in the middle of the pickle')
    with pytest.raises(RuntimeError, match='simulated'):
        atomic_save({'step': 2, 'w': torch.zeros(10**6), 'z': Boom()}, p)
    assert sha(p) == h and load(p)['step'] == 1
    atomic_save({'step': 3}, p)                                  # a stale .tmp is simply overwritten
    assert load(p)['step'] == 3 and not (tmp_path/'checkpoint.pt.tmp').exists()


def test_fresh_run_never_overwrites_an_old_runs_files(tmp_path):
    "A folder with metrics.jsonl / config.json but no checkpoint (a run killed before its first one): refused unless --resume"
    out = tmp_path/'run'; out.mkdir()
    (out/'metrics.jsonl').write_text('{"step": 1, "loss": 1.0}\n{"step": 2, "loss": 0.9}\n')
    (out/'config.json').write_text('{"method": "byol"}')
    (out/'notes.txt').write_text('mine')
    before = {f.name: sha(f) for f in out.iterdir()}
    p = cli('--method', 'byol', '--max-steps', '1', '--batch-size', '32', '--knn-every', '0', '--out', out)
    assert p.returncode == 2, (p.returncode, p.stderr[-2000:])
    assert str(out) in p.stderr and 'metrics.jsonl' in p.stderr and '--resume' in p.stderr and 'another --out' in p.stderr, p.stderr
    assert {f.name: sha(f) for f in out.iterdir()} == before          # nothing touched, nothing added
    # a folder holding only unrelated files is fine for a new run
    other = tmp_path/'other'; other.mkdir(); (other/'notes.txt').write_text('mine')
    assert cli('--method', 'byol', '--max-steps', '1', '--batch-size', '32', '--knn-every', '0', '--out', other).returncode == 0
    assert (other/'notes.txt').read_text() == 'mine'
    # --resume restarts the checkpoint-less run from scratch
    p = cli('--method', 'byol', '--max-steps', '1', '--batch-size', '32', '--knn-every', '0', '--out', out, '--resume')
    assert p.returncode == 0, p.stderr[-2000:]
    assert [r['step'] for r in records(out)] == [1] and (out/'notes.txt').read_text() == 'mine'


def test_resume_with_changed_schedule_settings_warns(tmp_path):
    "Settings that change the trajectory (epochs, max_steps, lr, ...) may differ on --resume, but each is reported old → new"
    out = tmp_path/'run'
    base = ['--method', 'simsiam', '--batch-size', '32', '--knn-every', '0', '--out', out]
    assert cli(*base, '--max-steps', '2').returncode == 0
    p = cli(*base, '--max-steps', '3', '--lr', '0.1', '--momentum', '0.8', '--warmup-epochs', '0.5', '--resume')
    assert p.returncode == 0, p.stderr[-2000:]
    for s in ('max_steps: 2 → 3', 'lr: 0.05 → 0.1', 'momentum: 0.9 → 0.8', 'warmup_epochs: 0.0 → 0.5'): assert s in p.stderr, (s, p.stderr[-2000:])
    assert 'weight_decay:' not in p.stderr and 'epochs: 5' not in p.stderr and 'amp:' not in p.stderr
    assert load(out/'checkpoint.pt')['step'] == 3
    p = cli(*base, '--max-steps', '3', '--lr', '0.1', '--momentum', '0.8', '--warmup-epochs', '0.5', '--resume')
    assert p.returncode == 0 and '→' not in p.stderr, p.stderr[-2000:]   # the checkpoint now holds the new settings


FOLDER_RESUME = r"""
import sys, torch
from pathlib import Path
from centerssl.train import Trainer, Callback, make_backbone, import_methods, small_hparams
from centerssl.imagedata import load_dataset
torch.set_num_threads(1)
root, tmp = Path(sys.argv[1]), Path(sys.argv[2])
reg = import_methods()
data = load_dataset('imagenet100', root, size=16)
class Stop(Callback):
    def after_step(self, t):
        if t.step == 7: raise KeyboardInterrupt('stop')
def run(out, resume=False, cbs=()):
    torch.manual_seed(0)
    m = reg['simclr'](*make_backbone('convnet', 3, 16), **small_hparams('simclr'))
    torch.manual_seed(1)
    t = Trainer(m, data, out, epochs=2, batch_size=8, lr=0.1, max_steps=16, ckpt_every=3, log_every=1, monitor_every=0,
                probe_every=0, knn_every=-1, workers=0, callbacks=cbs, verbose=False, progress=False)
    t.fit(resume=resume); return t
full = run(tmp/'full')
try: run(tmp/'cut', cbs=[Stop()])
except KeyboardInterrupt: pass
ck = torch.load(tmp/'cut'/'checkpoint.pt', weights_only=True)
print('CUT', ck['step'], ck['epoch'], ck['batch_in_epoch'], len(full.loader))
res = run(tmp/'cut', resume=True)
a, b = full.method.state_dict(), res.method.state_dict()
print('DIFF', [k for k in a if not torch.equal(a[k], b[k])])
"""


def test_folder_dataset_resume_mid_epoch_gives_the_same_weights(tmp_path):
    "A file dataset (DataLoader path) stopped inside an epoch and resumed: the same weights as the uninterrupted run"
    from centerssl.imagedata import _fake_imagenet
    root = _fake_imagenet(tmp_path/'in100')
    p = subprocess.run([sys.executable, '-c', FOLDER_RESUME, str(root), str(tmp_path)], capture_output=True, text=True,
                       timeout=300, env=ENV, cwd=ROOT)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    step, epoch, pos, n = map(int, re.search(r'CUT (\d+) (\d+) (\d+) (\d+)', p.stdout).groups())
    assert (step, epoch) == (6, 0) and 0 < pos < n, (step, epoch, pos, n)          # the checkpoint lies inside epoch 0
    assert 'DIFF []' in p.stdout, p.stdout[-2000:]
    ra, rb = records(tmp_path/'full'), records(tmp_path/'cut')
    assert [(r['step'], r['loss']) for r in ra] == [(r['step'], r['loss']) for r in rb]


def test_compile_uses_torch_compile_and_keeps_state_dict_keys(tmp_path, monkeypatch):
    "`compile=True` must work on torch 2.1 (no `nn.Module.compile`) and leave checkpoint keys unchanged"
    import torch.nn as nn
    from centerssl.train import Trainer, make_backbone, import_methods, small_hparams
    from centerssl.imagedata import load_dataset
    monkeypatch.delattr(nn.Module, 'compile', raising=False)           # as on torch 2.1
    calls = []
    monkeypatch.setattr(torch, 'compile', lambda fn, *a, **k: calls.append(fn) or fn)
    m = import_methods()['simsiam'](*make_backbone('convnet', 1, 16), **small_hparams('simsiam'))
    keys = list(m.state_dict())
    t = Trainer(m, load_dataset('digits'), tmp_path/'r', epochs=1, batch_size=64, compile=True, verbose=False).setup()
    assert len(calls) == 1 and list(t.method.state_dict()) == keys


def test_file_dataset_with_corrupt_images_trains_and_counts_skips(tmp_path):
    "ImageNet-100 layout from a folder, loader workers, a garbage and a truncated JPEG: reported by path, counted, skipped"
    from centerssl.imagedata import _fake_imagenet
    root = _fake_imagenet(tmp_path/'in100')
    out = tmp_path/'run'
    p = subprocess.run([*TRAIN, '--method', 'simclr', '--dataset', 'imagenet100', '--data', str(root), '--size', '32',
                        '--backbone', 'convnet', '--batch-size', '17', '--epochs', '1', '--workers', '2', '--device', 'cpu',
                        '--log-every', '1', '--quiet', '--out', str(out)], capture_output=True, text=True, timeout=300, env=ENV, cwd=ROOT)
    assert p.returncode == 0, p.stderr[-3000:]
    assert 'garbage.JPEG' in p.stderr and 'truncated.JPEG' in p.stderr, p.stderr[-2000:]
    recs = records(out)
    assert recs[-1]['skipped_images'] == 2 and recs[-1]['step'] == 6, recs[-1]
    assert 'knn20' in recs[-1]


def test_same_metrics_under_torchrun_two_processes(tmp_path):
    """2 processes × 32 images (gloo, SyncBN) vs 1 process × 64: the same samples per step (DistributedSampler
    interleaves the same permutation), no random augmentation, a global-batch loss: the same losses, center norms,
    kNN accuracies and final weights"""
    common = ['--method', 'simclr', '--aug', 'none', '--max-steps', '5', '--log-every', '1', '--monitor-every', '1',
              '--probe-every', '2', '--knn-every', '0', '--online-probe', '--hp', 'temperature=0.2', *QUICK]
    one = subprocess.run([*TRAIN, *common, '--batch-size', '64', '--out', str(tmp_path/'one')], capture_output=True, text=True,
                         timeout=300, env=ENV, cwd=ROOT)
    assert one.returncode == 0, one.stderr[-3000:]
    two = torchrun('-m', nproc=2, timeout=300, args=['centerssl.train', *common, '--batch-size', '32', '--sync-bn', '--out', str(tmp_path/'two')])
    assert two.returncode == 0, two.stdout[-3000:] + two.stderr[-3000:]
    assert two.stdout.count('metrics: ') == 1                      # only rank 0 reports
    r1, r2 = records(tmp_path/'one'), records(tmp_path/'two')
    assert [set(r) - {'time'} for r in r1] == [set(r) - {'time'} for r in r2]   # the same metrics, step by step
    for a, b in zip(r1, r2):
        for k in ('loss', 'z_center_norm', 'z_residual_norm', 'z_std', 'lr'):
            if k in a: assert abs(a[k] - b[k]) <= 1e-4 * max(1, abs(a[k])), (a['step'], k, a[k], b[k])
    for k in ('knn20', 'knn200', 'probe_acc', 'probe_train_acc'):      # the online probe: global-batch loss, summed gradients
        assert abs(r1[-1][k] - r2[-1][k]) <= 1/360, (k, r1[-1][k], r2[-1][k])
    h1, h2 = (load(tmp_path/f/'checkpoint.pt')['callbacks']['OnlineProbe']['head'] for f in ('one', 'two'))
    for k in h1:
        if h1[k].is_floating_point(): assert torch.allclose(h1[k], h2[k], atol=1e-4, rtol=1e-3), k
    w1, w2 = load(tmp_path/'one'/'checkpoint.pt')['model'], load(tmp_path/'two'/'checkpoint.pt')['model']
    for k in w1:
        if w1[k].is_floating_point(): assert torch.allclose(w1[k], w2[k], atol=1e-4, rtol=1e-3), k
    assert load(tmp_path/'two'/'checkpoint.pt')['world_size'] == 2


def test_torchrun_ranks_agree_on_refusing_a_used_folder(tmp_path):
    """Rank 0 alone decides whether `--out` may be used and tells the others: a fresh folder starts on every rank
    (a rank looking after rank 0 wrote config.json once refused it, a race seen in CI), a used one is refused by every
    rank with the same message, and its files are left as they were"""
    common = ['--method', 'simclr', '--aug', 'none', '--max-steps', '1', '--knn-every', '0', *QUICK, '--batch-size', '16']
    fresh = torchrun('-m', nproc=2, timeout=300, args=['centerssl.train', *common, '--out', str(tmp_path/'fresh')])
    assert fresh.returncode == 0, fresh.stdout[-2000:] + fresh.stderr[-3000:]
    used = tmp_path/'used'; used.mkdir(); (used/'config.json').write_text('{"mine": 1}')
    p = torchrun('-m', nproc=2, timeout=300, args=['centerssl.train', *common, '--out', str(used)])
    assert p.returncode != 0
    assert (p.stdout + p.stderr).count('already holds the files of a run (config.json)') >= 2, p.stderr[-3000:]
    assert (used/'config.json').read_text() == '{"mine": 1}' and sorted(os.listdir(used)) == ['config.json']


def test_console_script_if_wired(tmp_path):
    "`centerssl-train` (the console script, `centerssl.cli:train`) runs the same command"
    exe = Path(sys.executable).parent/'centerssl-train'
    p = subprocess.run([str(exe), *QUICK, '--method', 'simsiam', '--max-steps', '2', '--batch-size', '32', '--out', str(tmp_path/'r')],
                       capture_output=True, text=True, timeout=300, env=ENV)
    assert p.returncode == 0, p.stderr[-2000:]
    assert f"checkpoint: {tmp_path/'r'/'checkpoint.pt'}" in p.stdout


@pytest.mark.parametrize('method', ['dino', 'swav'])
def test_multicrop_trains_through_the_cli_and_resumes_only_with_the_same_crops(tmp_path, method):
    "Issue 20: --local_crops 2 with DINO and SwAV on the digits (2 global 16-px views, 2 local 7-px crops); a run is resumed only with the same crops"
    out = tmp_path/method
    p = cli('--method', method, '--local-crops', '2', '--epochs', '1', '--max-steps', '3', '--batch-size', '64', '--monitor-every', '3',
            '--probe-every', '3', '--out', out)
    assert p.returncode == 0, p.stderr[-3000:]
    rs = records(out)
    assert rs[-1]['step'] == 3 and all(r['loss'] == r['loss'] for r in rs) and 'z_center_norm' in set().union(*rs), rs
    assert json.loads((out/'config.json').read_text())['local_crops'] == 2
    again = cli('--method', method, '--epochs', '1', '--max-steps', '4', '--batch-size', '64', '--out', out, '--resume')
    assert again.returncode == 2 and 'local_crops: checkpoint 2, this run 0' in again.stderr, again.stderr[-2000:]
