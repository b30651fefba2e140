import os, re, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_readme_agrees_with_index_notebook():
    p = subprocess.run([sys.executable, str(ROOT/'tools'/'readme.py'), '--check'], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr

def test_ci_runs_the_readme_test_command():
    readme = (ROOT/'README.md').read_text()
    cmds = re.findall(r"```sh\n(.*?)\n```", readme, re.S)
    assert len(cmds) >= 2, cmds
    assert cmds[1] in (ROOT/'.ci'/'run').read_text(), f"README's test command {cmds[1]!r} is not what .ci/run runs"

def test_core_imports_without_nbdev():
    "The package must not need nbdev at run time: block it and import everything"
    code = ("import sys; sys.modules['nbdev'] = None; sys.modules['execnb'] = None\n"
            "import centerssl.core, centerssl.cli; print('ok')")
    p = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd='/')
    assert p.returncode == 0 and 'ok' in p.stdout, p.stderr

def test_demo_console_script_prints_center_norms():
    exe = Path(sys.executable).parent/'centerssl-demo'
    p = subprocess.run([str(exe), '--steps', '100'], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    norms = [float(x) for x in re.findall(r"\|s\| = ([0-9.]+)", p.stdout)]
    assert len(norms) == 2 and norms[1] < norms[0], p.stdout

def test_demo_rejects_bad_steps():
    exe = Path(sys.executable).parent/'centerssl-demo'
    p = subprocess.run([str(exe), '--steps', '0'], capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and '--steps must be >= 1, got 0' in p.stderr

def test_wheel_ships_the_experiment_notebooks(tmp_path):
    "A regular (non-editable) install must find the figure notebooks: the wheel carries them under centerssl/data/experiments"
    import zipfile
    p = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation', str(ROOT), '-w', str(tmp_path)],
                       capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    names = zipfile.ZipFile(next(tmp_path.glob('centerssl-*.whl'))).namelist()
    want = sorted(f'centerssl/data/experiments/{f.name}' for f in (ROOT/'nbs'/'experiments').glob('fig*.ipynb'))
    assert want and set(want) <= set(names), (want, [n for n in names if 'data' in n])


def test_progress_bar_is_tqdm_and_the_install_has_no_web_framework():
    "Issue 20: the trainer's bar is tqdm; importing the trainer and running a bar imports no fastprogress/fasthtml/starlette"
    code = """
import io, sys, types
from centerssl.train import Progress
out = io.StringIO()
p = Progress(show=True)
t = types.SimpleNamespace(loader=list(range(5)), batch_in_epoch=0, epoch=0, epochs=2, history=[{'loss': 1.5}])
import tqdm.auto
bar = p.wrap_iter(t, t.loader); bar.fp = out
assert isinstance(bar, tqdm.std.tqdm), type(bar)
for _ in bar: p.after_step(t)
p.after_epoch(t)
assert p.bar is None and 'loss 1.5000' in bar.postfix, bar.postfix
bad = sorted(m for m in sys.modules if m.split('.')[0] in ('fastprogress', 'fasthtml', 'starlette', 'uvicorn'))
assert not bad, bad
"""
    env = {k: v for k, v in os.environ.items() if k != 'IN_TEST'}
    p = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
