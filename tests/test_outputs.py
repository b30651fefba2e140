"""The chapters keep their outputs (issue 19): a reader on GitHub, or on the static pages of `tools/build_docs.py`, sees every
figure and printed check without running anything. `python tools/execute_nbs.py` refreshes them.

Checked on the committed notebooks (nothing is executed here):
  - every cell that prints or makes a figure has outputs, and a cell that makes a plotly figure has a PNG image of it
    (GitHub does not run plotly's JavaScript);
  - no output is an error, none holds a timing (outputs must not change from machine to machine), no widget state;
  - the notebooks stay small;
and the static pages: one chapter rendered by `tools/build_docs.py` and opened in headless Chromium shows a figure and an equation.
"""
import base64, json, os, re, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT/'nbs').glob('[0-9][0-9]*_*.ipynb'))
MAKES_FIGURE = re.compile(r'make_subplots\(|go\.Figure\(|curves_figure\(|runs_figure\(|\.figure\(\)')
TIMING = re.compile(r"\bin \d+\.\d+\s?s\b|\b\d+(?:\.\d+)?\s?(?:ms|µs)\b|\(\d+\.\d+\s?s\)|'time': \d|<progress ")
MAX_BYTES = 1_500_000

def src(c): return ''.join(c['source'])
def hidden_or_exported(c): return bool(re.match(r'\s*#\|\s*(hide|export)\b', src(c)))
def texts(c):
    for o in c.get('outputs', []):
        if o['output_type'] == 'stream': yield ''.join(o['text'])
        elif 'data' in o: yield ''.join(o['data'].get('text/plain', ''))

@pytest.mark.parametrize('path', CHAPTERS, ids=lambda p: p.name)
def test_chapter_keeps_its_outputs(path):
    nb = json.loads(path.read_text(encoding='utf-8'))
    code = [c for c in nb['cells'] if c['cell_type'] == 'code' and not hidden_or_exported(c)]
    silent = [src(c)[:70] for c in code if re.search(r'\bprint\(', src(c)) and not c.get('outputs')]
    assert not silent, f"{path.name}: cells that print have no outputs (run `python tools/execute_nbs.py {path.relative_to(ROOT)}`): {silent}"
    no_png = [src(c)[:70] for c in code if MAKES_FIGURE.search(src(c))
              and not any('image/png' in o.get('data', {}) for o in c.get('outputs', []))]
    assert not no_png, f"{path.name}: figure cells without a PNG output: {no_png}"
    errors = [src(c)[:70] for c in code if any(o['output_type'] == 'error' for o in c.get('outputs', []))]
    assert not errors, f"{path.name}: cells whose stored output is an error: {errors}"
    timed = [m.group(0) for c in code for t in texts(c) for m in [TIMING.search(t)] if m]
    assert not timed, f"{path.name}: outputs hold timings, which change from machine to machine: {timed}"
    assert 'widgets' not in nb.get('metadata', {}), f"{path.name} stores widget state"
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size} bytes (limit {MAX_BYTES})"

def test_the_chapters_have_figures_and_checks_to_show():
    "Not vacuous: the series as a whole keeps PNG figures and printed checks"
    outs = [o for p in CHAPTERS for c in json.loads(p.read_text(encoding='utf-8'))['cells'] if c['cell_type'] == 'code' for o in c.get('outputs', [])]
    assert sum('image/png' in o.get('data', {}) for o in outs) >= 3
    assert sum(o['output_type'] == 'stream' for o in outs) >= 50

CHROMIUM = next((p for p in (shutil.which('chromium'), shutil.which('chromium-browser'), '/usr/bin/chromium') if p and os.path.exists(p)), None)
DRIVER = next((p for p in ('/usr/bin/chromedriver', shutil.which('chromedriver')) if p and os.path.exists(p)), None)

@pytest.mark.skipif(CHROMIUM is None or DRIVER is None, reason="no Chromium/chromedriver (Debian: apt-get install -y chromium chromium-driver)")
def test_static_pages_show_a_figure_and_an_equation(tmp_path):
    nb = ROOT/'nbs'/'01_toydata.ipynb'
    p = subprocess.run([sys.executable, str(ROOT/'tools'/'build_docs.py'), '--out', str(tmp_path), str(nb)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    page = tmp_path/'01_toydata.html'
    assert page.exists() and (tmp_path/'index.html').exists()
    assert '01_toydata.html' in (tmp_path/'index.html').read_text()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    opts = webdriver.ChromeOptions()
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'): opts.add_argument(a)
    opts.binary_location = CHROMIUM
    drv = webdriver.Chrome(service=Service(DRIVER), options=opts)
    try:
        drv.set_page_load_timeout(60)
        drv.get(page.as_uri())
        imgs = [i for i in drv.find_elements(By.TAG_NAME, 'img') if (i.get_attribute('src') or '').startswith('data:image/png')]
        assert imgs, 'no PNG figure on the page'
        assert drv.execute_script("return arguments[0].naturalWidth", imgs[0]) > 100      # a real, decoded image
        body = drv.find_element(By.TAG_NAME, 'body').text
        typeset = drv.find_elements(By.CSS_SELECTOR, 'mjx-container, .MathJax')           # online: MathJax typesets it
        assert typeset or re.search(r'\$[^$]*\\[A-Za-z]+[^$]*\$', body), 'no equation on the page (neither typeset nor as TeX)'
    finally: drv.quit()
