"The `centerssl-figures` command: builds figures with papermill, reports failures, rejects bad arguments."
import json, os, shutil, subprocess, sys
from pathlib import Path
import nbformat
import pytest

EXE = Path(sys.executable).parent/'centerssl-figures'
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'CUDA_VISIBLE_DEVICES': ''}
ENV.pop('IN_TEST', None)

def figures(*args, env=None, timeout=300):
    return subprocess.run([str(EXE), *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env or ENV)

def have_chromium():
    from centerssl.cli import find_chromium
    return find_chromium() is not None

def test_fig3_small_run_writes_figures_and_summary(tmp_path):
    out = tmp_path/'figs'
    p = figures('--only', 'fig3', '-p', 'seeds=1', '-p', 'steps=20', '-p', 'log_every=10', '-p', "datasets=['blobs']",
                '-p', "variants=['simsiam', 'simple']", '--out', out)
    assert p.returncode == 0, p.stdout + p.stderr
    for f in ['fig3_simple.html', 'fig3_simple_separation.html', 'fig3_simple.json', 'fig3_simple.ipynb', 'plotly.min.js']:
        assert (out/f).exists(), (f, sorted(os.listdir(out)))
    assert (out/'fig3_simple.png').exists() == have_chromium(), sorted(os.listdir(out))
    numbers = json.loads((out/'fig3_simple.json').read_text())
    assert numbers['parameters']['seeds'] == 1 and numbers['parameters']['steps'] == 20
    assert numbers['curves']['center_norm']['blobs']['simple']['step'] == [0, 10, 20]
    assert 'figure   status   seconds' in p.stdout and '\nfig3     ok' in p.stdout, p.stdout
    assert not list(out.glob('.*')), "temporary files left behind"

def test_unknown_figure_is_an_error_naming_the_choices(tmp_path):
    p = figures('--only', 'fig99', '--out', tmp_path, timeout=120)
    assert p.returncode != 0
    assert "unknown figure 'fig99'; choose from ['fig3', 'fig4'" in p.stderr, p.stderr
    assert not list(tmp_path.iterdir())

def test_undeclared_parameter_is_an_error_naming_the_declared_ones(tmp_path):
    "In-process (the console-script path is covered above): the check reads the notebooks' parameters cells, runs nothing"
    from centerssl.cli import figures as figures_fn
    with pytest.raises(SystemExit) as e: figures_fn(only=['fig3,fig4'], out=str(tmp_path), p=['seedz=2'])
    assert "parameter 'seedz' is not declared by fig3_simple.ipynb; declared: ['datasets', 'log_every', 'lr'" in str(e.value), e.value
    assert not list(tmp_path.iterdir())

def _nb(path, *cells):
    nb = nbformat.v4.new_notebook(metadata={'kernelspec': {'name': 'python3', 'display_name': 'python3', 'language': 'python'}})
    nb.cells = [nbformat.v4.new_code_cell(cells[0], metadata={'tags': ['parameters']})] + [nbformat.v4.new_code_cell(c) for c in cells[1:]]
    nbformat.write(nb, path)

def test_a_failing_notebook_makes_the_exit_status_nonzero_but_the_others_run(tmp_path):
    src, out = tmp_path/'experiments', tmp_path/'out'
    src.mkdir(); out.mkdir()
    _nb(src/'fig1_bad.ipynb', "out = 'figures'\nn = 1", "raise RuntimeError('this figure is broken')")
    _nb(src/'fig2_ok.ipynb', "out = 'figures'\nn = 1", "from pathlib import Path\nPath(out, 'fig2.txt').write_text(str(n))")
    (out/'fig1_bad.ipynb').write_text('an executed notebook from an earlier, good run')
    p = figures('--out', out, '-p', 'n=5', env={**ENV, 'CENTERSSL_EXPERIMENTS': str(src)}, timeout=180)
    assert p.returncode != 0, p.stdout + p.stderr
    assert "1 of 2 figure(s) failed: fig1 (RuntimeError: this figure is broken)" in p.stderr, p.stderr
    assert '\nfig1     FAILED' in p.stdout and '\nfig2     ok' in p.stdout, p.stdout
    assert (out/'fig2.txt').read_text() == '5'                       # the later notebook ran, with the override
    assert (out/'fig1_bad.failed.ipynb').exists()                    # the failed run is kept for inspection
    assert (out/'fig1_bad.ipynb').read_text().startswith('an executed notebook from an earlier')  # not overwritten
