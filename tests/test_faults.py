"""Faults a new user hits (issue 17): resumed settings applied for real, unwritable output folders, out-of-range flags,
records of failed and finished runs kept intact, numeric edge cases; each test fails on the code before the fix."""
import json, os, subprocess, sys
from pathlib import Path
import pytest
from conftest import ROOT
from test_train import ENV, TRAIN, QUICK, cli, records, sha

def test_resume_applies_a_changed_lr_and_says_from_when(tmp_path):
    out = tmp_path/'R'
    assert cli('--epochs', '2', '--max-steps', '4', '--log-every', '1', '--knn-every', '0', '--out', out).returncode == 0
    p = cli('--epochs', '2', '--max-steps', '8', '--lr', '5.0', '--log-every', '1', '--knn-every', '0', '--out', out, '--resume')
    assert p.returncode == 0, p.stderr[-2000:]
    assert "lr: 0.05 → 5.0" in p.stderr and "the new values apply from step 5 on" in p.stderr, p.stderr[-2000:]
    from centerssl.train import lr_factor
    lr5 = {r['step']: r['lr'] for r in records(out)}[5]
    assert abs(lr5 - 5.0 * 128 / 256 * lr_factor(5, 8)) < 1e-9, lr5           # the new base lr on the new schedule
    steps = [r['step'] for r in records(out)]
    assert steps == [1, 2, 3, 4, 5, 6, 7, 8], steps                            # one line per step: the final kNN joins step 4's and 8's line

def test_unwritable_out_is_one_line_before_training(tmp_path):
    (tmp_path/'a_file').write_text('not a folder')
    p = cli('--max-steps', '2', '--out', tmp_path/'a_file'/'run')
    assert p.returncode == 2 and 'Traceback' not in p.stderr, p.stderr[-2000:]
    assert p.stderr.strip() == f"centerssl-train: error: --out '{tmp_path/'a_file'/'run'}': cannot write the run there (Not a directory); choose a folder you can write to"

@pytest.mark.parametrize('args, msg', [
    (['--momentum', '2'], 'momentum must be in [0, 1) (SGD/LARS momentum, e.g. 0.9), got 2'),
    (['--warmup-epochs', '-3'], 'warmup_epochs must be a number >= 0, got -3'),
    (['--ckpt-every', '-5'], 'ckpt_every must be an int >= 0 (0: only the final checkpoint), got -5'),
    (['--lr', '-0.1'], 'lr must be a number > 0 (the base learning rate for a global batch of 256), got -0.1'),
    (['--data', '/tmp'], "--data '/tmp': the digits are embedded in scikit-learn and read from no folder"),
    (['--workers', '-2'], 'workers must be an int >= 0, got -2'),
])
def test_out_of_range_flags_are_refused_naming_the_value(tmp_path, args, msg):
    p = cli('--max-steps', '2', '--out', tmp_path/'run', *args)
    assert p.returncode == 2 and msg in p.stderr, p.stderr[-2000:]
    assert not (tmp_path/'run').exists()

def test_resume_of_a_checkpointless_run_keeps_its_record(tmp_path):
    out = tmp_path/'run'; out.mkdir()
    old_metrics = '{"step": 1, "loss": 1.0}\n{"step": 2, "loss": 0.9}\n{"step": 3, "loss": NaN}\n'
    (out/'metrics.jsonl').write_text(old_metrics); (out/'config.json').write_text('{"method": "byol", "lr": 9.0}')
    p = cli('--max-steps', '2', '--knn-every', '0', '--out', out)
    assert p.returncode == 2 and 'kept, renamed to metrics.failed-1.jsonl and config.failed-1.json' in p.stderr, p.stderr[-2000:]
    p = cli('--max-steps', '2', '--knn-every', '0', '--out', out, '--resume')
    assert p.returncode == 0, p.stderr[-2000:]
    assert (out/'metrics.failed-1.jsonl').read_text() == old_metrics and json.loads((out/'config.failed-1.json').read_text())['lr'] == 9.0
    assert [r['step'] for r in records(out)] == [2]

def test_resume_of_a_finished_run_changes_nothing(tmp_path):
    out = tmp_path/'run'
    assert cli('--max-steps', '3', '--log-every', '1', '--out', out).returncode == 0
    before = {f.name: sha(f) for f in out.iterdir()}
    p = cli('--max-steps', '3', '--log-every', '1', '--out', out, '--resume')
    assert p.returncode == 0 and 'the run is complete (step 3 of 3); nothing was changed' in p.stdout, p.stdout + p.stderr[-2000:]
    assert {f.name: sha(f) for f in out.iterdir()} == before

def test_swav_with_a_small_sinkhorn_epsilon_trains(tmp_path):
    p = cli('--method', 'swav', '--hp', 'epsilon=1e-4', '--max-steps', '3', '--batch-size', '64', '--knn-every', '0', '--out', tmp_path/'run')
    assert p.returncode == 0, p.stderr[-2000:]                              # before: "the loss is nan ... Lower the learning rate"
    assert all(r['loss'] == r['loss'] for r in records(tmp_path/'run'))

def _children(pid):
    "Pids whose parent is `pid` (from /proc)"
    out = []
    for d in Path('/proc').iterdir():
        if d.name.isdigit():
            try: ppid = int((d/'stat').read_text().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError): continue
            if ppid == pid: out.append(int(d.name))
    return out

def _rank_of(pid):
    try: env = (Path('/proc')/str(pid)/'environ').read_bytes().split(b'\0')
    except OSError: return None
    return next((int(e[5:]) for e in env if e.startswith(b'RANK=')), None)

def test_a_stopped_rank_times_out_naming_rank_and_step(tmp_path):
    "kill -STOP one of two workers: the other stops after --dist-timeout with the rank and step, and the last checkpoint is kept"
    import shutil, signal, time
    from conftest import torchrun
    from centerssl.checkpoint import read_checkpoint
    out = tmp_path/'run'
    exe = shutil.which('torchrun', path=os.path.dirname(sys.executable)) or shutil.which('torchrun')
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'CUDA_VISIBLE_DEVICES': ''}
    p = subprocess.Popen([exe, '--standalone', '--nproc_per_node=2', '-m', 'centerssl.train', *QUICK, '--method', 'simsiam', '--epochs', '1000',
                          '--max-steps', '100000', '--batch-size', '32', '--log-every', '1', '--ckpt-every', '3', '--knn-every', '-1',
                          '--dist-timeout', '5', '--out', str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    workers, stopped = {}, None
    try:
        t0 = time.time()
        while time.time() - t0 < 120 and p.poll() is None and not (out/'checkpoint.pt').exists(): time.sleep(0.2)   # training is under way
        assert (out/'checkpoint.pt').exists(), "no checkpoint within 120 s"
        workers = {_rank_of(c): c for c in _children(p.pid)}
        assert set(workers) == {0, 1}, workers
        stopped = workers[1]; os.kill(stopped, signal.SIGSTOP); t_stop = time.time()
        while time.time() - t_stop < 90 and Path(f'/proc/{workers[0]}').exists() and (Path(f'/proc/{workers[0]}')/'stat').read_text().split()[2] != 'Z':
            time.sleep(0.2)
        waited = time.time() - t_stop
    finally:
        if stopped: os.kill(stopped, signal.SIGKILL)
        try: stdout, stderr = p.communicate(timeout=120)
        except subprocess.TimeoutExpired: p.kill(); stdout, stderr = p.communicate()
    assert waited < 60, f"rank 0 still waiting {waited:.0f}s after rank 1 stopped"
    assert "centerssl-train: rank 0: the other process(es) did not answer within --dist-timeout 5s at step" in stderr, stderr[-3000:]
    assert "training stopped; the last good checkpoint is" in stderr and "it was kept" in stderr, stderr[-3000:]
    ck = read_checkpoint(out/'checkpoint.pt')                              # intact, with the step the message names
    assert f"(step {ck['step']}); it was kept" in stderr, (ck['step'], stderr[-2000:])
