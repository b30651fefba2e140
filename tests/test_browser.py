"""The toy explorer (nbs/14_widgets.ipynb) in a real browser: JupyterLab on loopback, headless Chromium via Selenium.

Runs the notebook with JupyterLab's "run all cells" command, checks that the explorer rendered (sliders, a plotly
plot), plays a run and checks that the readout advances, that the kernel answers while training runs, and that
pause stops it; saves a screenshot. Also opens the widgets page converted to HTML. Skipped only where no Chromium
(and its driver) can be found. Set CENTERSSL_UPDATE_SCREENSHOT=1 to refresh docs/images/explorer.png.
"""
import io, os, re, shutil, socket, secrets, signal, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT/'nbs'/'14_widgets.ipynb'
CHROMIUM = next((p for p in (shutil.which('chromium'), shutil.which('chromium-browser'), '/usr/bin/chromium') if p and os.path.exists(p)), None)
DRIVER = next((p for p in ('/usr/bin/chromedriver', shutil.which('chromedriver')) if p and os.path.exists(p)), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None or DRIVER is None,
    reason="no Chromium/chromedriver found (Debian: apt-get install -y chromium chromium-driver); the browser test needs them")

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _kill_tree(pid:int, grace:float=5.):
    "Terminate process `pid` and every descendant (by pid), then kill what is left after `grace` seconds"
    import psutil
    try: root = psutil.Process(pid)
    except psutil.NoSuchProcess: return
    procs = [root] + root.children(recursive=True)
    for p in procs:
        try: p.terminate()
        except psutil.NoSuchProcess: pass
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for p in alive:
        try: p.kill()
        except psutil.NoSuchProcess: pass
    psutil.wait_procs(alive, timeout=grace)

def _wait(pred, timeout:float, what:str, every:float=0.25):
    "Poll `pred()` until it returns a truthy value; fail naming `what` after `timeout` seconds"
    end, last = time.monotonic() + timeout, None
    while time.monotonic() < end:
        try:
            last = pred()
            if last: return last
        except Exception as e: last = e
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")

@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    "JupyterLab on 127.0.0.1 with a token, serving a temp folder that holds a copy of the widgets notebook"
    tmp = tmp_path_factory.mktemp('lab')
    root = tmp/'root'; root.mkdir(); shutil.copy(NB, root/NB.name)
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ('IN_TEST', 'CENTERSSL_STATIC')}   # a real front-end: live widgets
    env.update(JUPYTER_RUNTIME_DIR=str(tmp/'runtime'), JUPYTER_CONFIG_DIR=str(tmp/'config'), JUPYTER_DATA_DIR=str(tmp/'data'),
               IPYTHONDIR=str(tmp/'ipython'), OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1',
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''))
    cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', '--ServerApp.open_browser=False', '--ServerApp.ip=127.0.0.1',
           f'--ServerApp.port={port}', '--ServerApp.port_retries=0', f'--IdentityProvider.token={token}',
           f'--ServerApp.root_dir={root}', '--LabApp.expose_app_in_browser=True', '--LabApp.news_url=',
           '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate']
    if hasattr(os, 'geteuid') and os.geteuid() == 0: cmd.append('--ServerApp.allow_root=True')
    log = open(tmp/'jupyterlab.log', 'wb')
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root, start_new_session=True)
    try:
        def up():
            if proc.poll() is not None: pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{(tmp/'jupyterlab.log').read_text()[-3000:]}")
            req = urllib.request.Request(f'http://127.0.0.1:{port}/api/status', headers={'Authorization': f'token {token}'})
            with urllib.request.urlopen(req, timeout=2) as r: return r.status == 200
        _wait(up, 40, 'JupyterLab to answer on /api/status')
        yield dict(url=f'http://127.0.0.1:{port}', token=token, log=tmp/'jupyterlab.log', tmp=tmp)
    finally:
        _kill_tree(proc.pid)      # the server and its kernels
        log.close()

@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    "Headless Chromium driven by Selenium through the system chromedriver (nothing is downloaded)"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    tmp = tmp_path_factory.mktemp('chromium')
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
              '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--hide-scrollbars', '--window-size=1500,1150',
              f'--user-data-dir={tmp/"profile"}'):
        opts.add_argument(a)
    service = Service(executable_path=DRIVER, log_output=str(tmp/'chromedriver.log'))
    driver = webdriver.Chrome(service=service, options=opts)
    try:
        driver.set_page_load_timeout(30); driver.set_script_timeout(90)
        yield driver
    finally:
        try: driver.quit()
        except Exception: pass
        if service.process is not None: _kill_tree(service.process.pid)   # chromedriver and any browser left behind

JS_KERNEL_STATUS = """
const app = window.jupyterapp; if (!app) return 'no app';
const w = app.shell.currentWidget; if (!w || !w.sessionContext) return 'no notebook';
const s = w.sessionContext.session; if (!s || !s.kernel) return 'no kernel';
return s.kernel.status;"""

JS_RUN_ALL = """
const done = arguments[arguments.length - 1];
window.jupyterapp.commands.execute('notebook:run-all-cells').then(r => done('ran:' + r), e => done('failed:' + e));"""

JS_CELL_ERRORS = """
const cells = window.jupyterapp.shell.currentWidget.content.model.cells, out = [];
for (let i = 0; i < cells.length; i++) {
  const c = cells.get(i); if (c.type !== 'code') continue;
  if (c.executionCount === null) out.push(i + ': not run');
  for (let j = 0; j < c.outputs.length; j++) { const o = c.outputs.get(j).toJSON();
    if (o.output_type === 'error') out.push(i + ': ' + o.ename + ': ' + o.evalue); }
}
return out;"""

JS_KERNEL_EVAL = """
const code = arguments[0], done = arguments[arguments.length - 1];
const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel, t0 = performance.now();
let out = '';
const f = k.requestExecute({code: code, silent: false, store_history: false});
f.onIOPub = m => { if (m.header.msg_type === 'stream') out += m.content.text; };
f.done.then(() => done([performance.now() - t0, out]), e => done([-1, String(e)]));"""

def _kernel_state(driver):
    "(milliseconds the kernel took to answer, steps done, total steps, playing) of the notebook's `explorer`, asked through JupyterLab's kernel connection"
    ms, out = driver.execute_async_script(JS_KERNEL_EVAL, "print(explorer.run.steps_done, explorer.total, int(explorer.playing))")
    try: k, n, p = map(int, out.split())
    except ValueError: pytest.fail(f"could not read the explorer's state from the kernel: {out!r}")
    return ms, k, n, bool(p)

def _readout(driver):
    "step, total and ‖s‖ shown in the explorer's readout"
    from selenium.webdriver.common.by import By
    t = driver.find_element(By.CSS_SELECTOR, '.centerssl-readout').text
    m = re.search(r'step (\d+) / (\d+).*?‖s‖ = ([0-9.]+)', t, re.S)
    return (int(m[1]), int(m[2]), float(m[3])) if m else None

def _type_readout(driver, el, text):
    "Type `text` into a slider's editable readout and press Enter (what a user does to type a value)"
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.common.action_chains import ActionChains
    el.click()
    ActionChains(driver).key_down(Keys.CONTROL).send_keys('a').key_up(Keys.CONTROL).send_keys(text, Keys.ENTER).perform()

def test_explorer_in_jupyterlab(lab, browser, tmp_path):
    from selenium.webdriver.common.by import By
    t0, phases = time.monotonic(), []
    lap = lambda name: phases.append(f"{name} {time.monotonic() - t0:.0f}s")
    d = browser
    d.get(f"{lab['url']}/lab/tree/{NB.name}?token={lab['token']}")
    _wait(lambda: d.execute_script(JS_KERNEL_STATUS) == 'idle', 60, 'the notebook and an idle kernel'); lap('kernel idle')
    d.execute_script("const a = window.jupyterapp; if (!a.shell.leftCollapsed) a.commands.execute('application:toggle-left-area');")
    res = d.execute_async_script(JS_RUN_ALL)                     # bounded by the script timeout (90 s)
    errors = d.execute_script(JS_CELL_ERRORS); lap('run all')
    assert res == 'ran:true' and not errors, f"run all: {res}; cell errors: {errors}\n{lab['log'].read_text()[-2000:]}"

    # the widget rendered: sliders, buttons, a plotly plot with its traces, inside the explorer's box
    ex = _wait(lambda: d.find_element(By.CSS_SELECTOR, '.centerssl-explorer'), 20, 'the explorer widget')
    sliders = ex.find_elements(By.CSS_SELECTOR, '.widget-slider')
    assert len(sliders) >= 5, f"expected the λ, lr, momentum, ε and steps sliders, found {len(sliders)}"
    plot = _wait(lambda: ex.find_element(By.CSS_SELECTOR, '.js-plotly-plot .main-svg'), 20, 'the plotly figure')
    assert plot.size['width'] > 500 and plot.size['height'] > 400, plot.size
    _wait(lambda: len(ex.find_elements(By.CSS_SELECTOR, '.scatterlayer .trace')) >= 8, 20, 'the figure traces')
    step0 = _wait(lambda: _readout(d), 20, 'the readout')
    assert step0[:2] == (0, 600), step0
    d.execute_script("arguments[0].scrollIntoView({block: 'center'});", ex)

    # a slider cannot leave its bounds: typing 99999 steps gives the maximum, 5000, in the page and in the kernel
    steps_readout = ex.find_element(By.CSS_SELECTOR, '.centerssl-steps .widget-readout')
    _type_readout(d, steps_readout, '99999')
    _wait(lambda: _readout(d)[1] == 5000, 10, 'the steps slider to clamp 99999 to 5000')
    assert _kernel_state(d)[2] == 5000; lap('widgets checked')

    # play: training runs in the kernel while it keeps answering other requests; pause stops it
    play = ex.find_element(By.CSS_SELECTOR, 'button.centerssl-play')
    play.click()
    _wait(lambda: _kernel_state(d)[1] >= 50, 30, 'the kernel to train 50 steps after play')
    ms, k, n, playing = _kernel_state(d)
    assert playing and 0 < k < n and 0 <= ms < 3000, f"the kernel should answer between ticks while training: {ms:.0f} ms, step {k}/{n}, playing {playing}"
    _wait(lambda: _readout(d)[0] > 0, 20, 'the readout to advance')
    play.click()                                                   # pause
    _wait(lambda: not _kernel_state(d)[3], 10, 'the kernel to stop playing')
    k1 = _kernel_state(d)[1]; time.sleep(1.0); k2 = _kernel_state(d)[1]
    assert k1 == k2 < 5000, f"pause should stop training: step {k1}, then {k2}"
    shown = _wait(lambda: (r := _readout(d)) and r[0] == k1 and r, 20, f'the readout to show step {k1}')
    assert abs(shown[2] - step0[2]) > 1e-3, f"‖s‖ did not change with training: {step0} → {shown}"
    assert 'play' in play.text; lap(f'played to step {k1}, ping {ms:.0f} ms')

    # reset, 600 steps, play to the end; then a screenshot of the panel (sliders + plot)
    ex.find_element(By.CSS_SELECTOR, 'button.centerssl-reset').click()
    _type_readout(d, steps_readout, '600')
    _wait(lambda: _readout(d)[:2] == (0, 600), 10, 'a reset run of 600 steps')
    play.click()
    _wait(lambda: _kernel_state(d)[1:] == (600, 600, False), 60, 'the run to finish at step 600')
    _wait(lambda: _readout(d)[0] == 600 and 'play' in play.text, 30, 'the readout to show step 600')
    assert not ex.find_element(By.CSS_SELECTOR, '.centerssl-message').text.strip(), 'unexpected message in the panel'
    lap('played to 600')
    d.execute_script("arguments[0].scrollIntoView({block: 'center'});", ex); time.sleep(0.5)
    png = ex.screenshot_as_png
    (tmp_path/'explorer.png').write_bytes(png)
    assert len(png) > 20_000, f"screenshot too small ({len(png)} bytes)"
    if os.environ.get('CENTERSSL_UPDATE_SCREENSHOT'): _save_readme_png(png, ROOT/'docs'/'images'/'explorer.png')
    lap('screenshot')
    print(f"\nexplorer in JupyterLab: {'; '.join(phases)}; screenshot {len(png)//1024} KB at {tmp_path/'explorer.png'}")

def _save_readme_png(png:bytes, dest:Path, limit:int=300_000):
    "Write the screenshot for the README, palette-quantised if it would exceed `limit` bytes"
    from PIL import Image
    dest.parent.mkdir(parents=True, exist_ok=True)
    if len(png) > limit:
        buf = io.BytesIO(); Image.open(io.BytesIO(png)).convert('RGB').quantize(colors=128).save(buf, 'PNG', optimize=True); png = buf.getvalue()
    assert len(png) <= limit, f"screenshot is {len(png)} bytes even quantised"
    dest.write_bytes(png)

def test_widgets_page_html_opens(browser, tmp_path):
    "The widgets notebook converted to HTML (as the docs would show it, without execution) opens with its title"
    from nbconvert import HTMLExporter
    from selenium.webdriver.common.by import By
    html, _ = HTMLExporter().from_filename(str(NB))
    page = tmp_path/'14_widgets.html'; page.write_text(html, encoding='utf-8')
    browser.get(page.as_uri())
    _wait(lambda: browser.execute_script('return document.readyState') == 'complete', 20, 'the page to load')
    h1 = [e.text for e in browser.find_elements(By.TAG_NAME, 'h1')]
    assert any('Toy explorer' in t for t in h1), h1
    body = browser.find_element(By.TAG_NAME, 'body').text
    assert 'class ToyExplorer' in body and 'Why an asyncio task' in body, body[:500]
