"""`centerssl-plot`, the console script, end to end on run folders that `centerssl-train` wrote: the HTML (and the PNG
where Chromium is installed), a torn last line, and the one-line errors for folders that are not runs."""
import json, os, shutil, subprocess, sys
from pathlib import Path
import pytest

BIN = Path(sys.executable).parent
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'CUDA_VISIBLE_DEVICES': '', 'PYTHONUNBUFFERED': '1'}
ENV.pop('IN_TEST', None)
QUICK = ['--dataset', 'digits', '--device', 'cpu', '--workers', '0', '--quiet', '--epochs', '1', '--max-steps', '6',
         '--batch-size', '64', '--log-every', '2', '--monitor-every', '2', '--probe-every', '2']

def plot(*args, cwd, timeout=300):
    return subprocess.run([str(BIN/'centerssl-plot'), *map(str, args)], capture_output=True, text=True, timeout=timeout, env=ENV, cwd=cwd)

def have_chromium():
    from centerssl.cli import find_chromium
    return find_chromium() is not None

@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    "Two real run folders: SimSiam with the online probe, BYOL without"
    root = tmp_path_factory.mktemp('runs')
    for name, extra in [('simsiam', ['--online-probe']), ('byol', [])]:
        p = subprocess.run([str(BIN/'centerssl-train'), '--method', name, *QUICK, *extra, '--out', str(root/name)],
                           capture_output=True, text=True, timeout=600, env=ENV)
        assert p.returncode == 0, p.stderr[-3000:]
    return root

def test_runs_have_the_keys_the_dashboard_draws(runs):
    keys = {n: set().union(*map(json.loads, (runs/n/'metrics.jsonl').read_text().splitlines())) for n in ('simsiam', 'byol')}
    for k in ('loss', 'z_center_norm', 'z_residual_norm', 'grad_center_share', 'knn20', 'knn200'): assert k in keys['simsiam'] & keys['byol'], k
    assert 'probe_acc' in keys['simsiam'] and 'probe_acc' not in keys['byol']

def test_plot_writes_html_and_png(runs, tmp_path):
    out = tmp_path/'report'/'dash.html'
    p = plot(runs/'simsiam', runs/'byol', '--out', out, '--title', 'two runs', cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"wrote {out}\n" in p.stdout, p.stdout
    html = out.read_text()
    assert '"two runs"' in html and '"simsiam"' in html and '"byol"' in html and 'online probe' in html
    assert (out.parent/'plotly.min.js').exists()                      # the HTML loads it from its folder, as centerssl-figures' do
    png = out.with_suffix('.png')
    assert png.exists() == have_chromium(), sorted(os.listdir(out.parent))
    if png.exists():
        assert f"wrote {png}\n" in p.stdout, p.stdout
        from PIL import Image
        im = Image.open(png).convert('RGB')
        assert im.size == (2080, 1620), im.size                           # 1040 x 810 at scale 2
        colors = {c for _, c in im.getcolors(im.size[0] * im.size[1])}
        assert (31, 119, 180) in colors and (255, 127, 14) in colors     # a line of each run drawn (D3 blue, orange)
    else: assert 'PNG export skipped: kaleido needs Chromium' in p.stdout, p.stdout
    assert not [f for f in os.listdir(out.parent) if f.startswith('.')], "temporary files left behind"

def test_replaces_its_own_output_and_plots_a_torn_run(runs, tmp_path):
    "Like centerssl-figures, an existing file of the same name is replaced; a torn last line is skipped with a note"
    shutil.copytree(runs/'byol', tmp_path/'killed')
    with open(tmp_path/'killed'/'metrics.jsonl', 'a') as f: f.write('{"step": 7, "loss": 0.')
    (tmp_path/'runs.html').write_text('an old dashboard')
    p = plot('killed', '--no-png', cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "centerssl-plot: note: 'killed': the last line of metrics.jsonl is cut short" in p.stderr, p.stderr
    assert p.stdout == f"wrote {tmp_path/'runs.html'}\n", p.stdout
    assert '"killed (byol)"' in (tmp_path/'runs.html').read_text() and not (tmp_path/'runs.png').exists()

@pytest.mark.parametrize('typed, make, msg', [
    ('foreign', lambda d: (d.mkdir(), (d/'notes.txt').write_text('hi')),
     "centerssl-plot: error: 'foreign' is not a run folder: it has no metrics.jsonl (it holds notes.txt); a run folder is what "
     "`centerssl-train --out DIR` writes: metrics.jsonl (a JSON line of metrics per logged step), config.json and checkpoint.pt"),
    ('empty/', lambda d: d.mkdir(), "centerssl-plot: error: 'empty/' is an empty folder, not a run folder; a run folder is what"),
    ('nowhere', lambda d: None, "centerssl-plot: error: 'nowhere': no such folder; a run folder is what"),
    ('logless', lambda d: (d.mkdir(), (d/'metrics.jsonl').write_text('')),
     "centerssl-plot: error: 'logless': metrics.jsonl is empty; the run has logged nothing yet"),
])
def test_a_folder_that_is_not_a_run_is_a_one_line_error(runs, tmp_path, typed, make, msg):
    make(tmp_path/typed.rstrip('/'))
    p = plot(runs/'simsiam', typed, cwd=tmp_path, timeout=120)
    assert p.returncode == 2, p.stdout + p.stderr
    assert p.stderr.startswith(msg) and p.stderr.count('\n') == 1 and 'Traceback' not in p.stderr, p.stderr
    assert not (tmp_path/'runs.html').exists() and not (tmp_path/'plotly.min.js').exists()    # nothing written

def test_a_folder_of_runs_names_the_runs_inside(runs, tmp_path):
    p = plot(runs, cwd=tmp_path, timeout=120)
    assert p.returncode == 2 and f"The run folders in it: {runs/'byol'}, {runs/'simsiam'}; give those" in p.stderr, p.stderr
