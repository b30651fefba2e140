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
