"The `centerssl-figures` command: builds figures with papermill, reports failures, rejects bad arguments."
import json, os, re, shutil, subprocess, sys
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
    assert 'figure   status  profile  dataset        png       seconds' in p.stdout and re.search(r'\nfig3     ok      quick    blobs +(yes \(2\)|no)', p.stdout), p.stdout
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
    assert "parameter 'seedz' is not declared by fig3_simple.ipynb or fig4_simsiam.ipynb; declared: ['datasets', 'log_every', 'lr'" in str(e.value), e.value
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

IMAGE_FIGS = ('fig5', 'fig6', 'fig7')

def fashion_installed():
    from centerssl.imagedata import FASHION_MNIST_DEB, _idx_files
    return len(_idx_files(FASHION_MNIST_DEB)) == 4

def test_all_five_figures_smoke_profile(tmp_path):
    "The CI run of every figure at `--profile smoke`: files, JSON metadata, the summary table; the times are printed (CI's log) and never asserted"
    out = tmp_path/'smoke'
    p = figures('--profile', 'smoke', '--out', out, timeout=900)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    dataset = 'fashion-mnist' if fashion_installed() else 'digits'
    stems = {'fig5': ['fig5_barlow'], 'fig6': ['fig6_swav'], 'fig7': ['fig7_byol', 'fig7_byol_curves']}
    for fig, names in stems.items():
        numbers = json.loads((out/f'{names[0]}.json').read_text())
        assert (numbers['figure'], numbers['profile'], numbers['dataset'], numbers['seeds']) == (fig, 'smoke', dataset, 2), numbers['parameters']
        assert {'backbone', 'epochs', 'runs', 'curves', 'final', 'claims'} <= set(numbers), sorted(numbers)
        runs = {(r['variant'], r['seed']) for r in numbers['runs']}
        assert len(runs) == len(numbers['settings']) * 2, runs                     # every setting, both seeds
        assert all(len(v['knn20']['seeds']) == 2 for v in numbers['final'].values())
        for n in names:
            assert (out/f'{n}.html').exists() and (out/f'{n}.png').exists() == have_chromium(), sorted(os.listdir(out))
        assert re.search(rf'\n{fig}\s+ok\s+smoke\s+{dataset}\s+(yes \(\d\)|no)', p.stdout), p.stdout
    assert json.loads((out/'fig7_byol.json').read_text())['momenta'] == [0, 0.5, 0.9, 0.99, 0.996]
    for toy in ('fig3_simple', 'fig4_simsiam'): assert json.loads((out/f'{toy}.json').read_text())['profile'] == 'smoke'
    table = p.stdout[p.stdout.index('figure   status'):]
    secs = {l.split()[0]: float(l.split()[-1]) for l in table.splitlines()[1:6]}
    report = f"centerssl-figures --profile smoke: figures 5-7 together {sum(secs[f] for f in IMAGE_FIGS):.1f}s (budget 120s)\n{table}"
    print(report)
    if os.environ.get('CENTERSSL_CI_REPORT'): Path(os.environ['CENTERSSL_CI_REPORT']).write_text(report)

def test_toy_figures_at_their_quick_defaults(tmp_path):
    "Figures 3 and 4 at the quick profile, the notebooks' default (the experiments folder is skipped by nbdev_test)"
    out = tmp_path/'quick'
    p = figures('--only', 'fig3,fig4', '--out', out, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    for stem in ('fig3_simple', 'fig4_simsiam'):
        numbers = json.loads((out/f'{stem}.json').read_text())
        assert (numbers['profile'], numbers['seeds'], numbers['parameters']['steps']) == ('quick', 5, 500)

@pytest.mark.parametrize('args, msg', [
    (['--profile', 'fast'], "unknown profile 'fast'; choose one of ['smoke', 'quick', 'gpu', 'paper']"),
    (['--only', 'fig7', '-p', 'momenta=[0.5, 1.2]'], 'momenta=[0.5, 1.2]: the EMA momentum must lie in [0, 1]'),
    (['-p', 'seeds=0'], 'seeds=0: seeds must be an int >= 1'),
])
def test_bad_values_fail_before_any_notebook_runs(tmp_path, args, msg):
    out = tmp_path/'out'
    p = figures(*args, '--out', out, timeout=120)
    assert p.returncode != 0
    assert msg in p.stderr, p.stderr
    assert not out.exists() or not list(out.iterdir()), "a notebook ran"

def test_truncated_idx_file_is_named_before_any_notebook_runs(tmp_path):
    import gzip, struct
    data, out = tmp_path/'fm', tmp_path/'out'
    data.mkdir()
    for stem, shape in [('train-images-idx3-ubyte', (20, 28, 28)), ('train-labels-idx1-ubyte', (20,)), ('t10k-images-idx3-ubyte', (10, 28, 28)), ('t10k-labels-idx1-ubyte', (10,))]:
        n = 1
        for s in shape: n *= s
        raw = bytes([0, 0, 8, len(shape)]) + struct.pack(f'>{len(shape)}I', *shape) + bytes(n)
        if stem.startswith('t10k-images'): raw = raw[:-100]
        (data/f'{stem}.gz').write_bytes(gzip.compress(raw))
    p = figures('--only', 'fig5', '-p', f'data={data}', '--out', out, timeout=120)
    assert p.returncode != 0
    assert f"{data/'t10k-images-idx3-ubyte.gz'} is truncated" in p.stderr, p.stderr
    assert not out.exists() or not list(out.iterdir()), "a notebook ran"
