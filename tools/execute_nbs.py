"""Execute the chapter notebooks (nbs/NN_*.ipynb, nbs/index.ipynb) in place, so that they keep their outputs: printed
checks, tables and figures. Plotly figures are stored as PNG images (`PLOTLY_RENDERER=png`, through kaleido and Chromium),
which GitHub shows; no widget state is stored, no progress bar (`IN_TEST=1`, as under nbdev_test), and consecutive
stream outputs are merged, so that the outputs do not change from run to run. Each notebook is then cleaned with `nbdev_clean` (outputs kept:
`clear_all = False` in settings.ini). The experiment notebooks (nbs/experiments) stay output-free: `centerssl-figures`
writes their executed copies.

    python tools/execute_nbs.py                     # every chapter, two at a time
    python tools/execute_nbs.py nbs/01_toydata.ipynb nbs/12_eval.ipynb
    python tools/execute_nbs.py --jobs 1

A notebook that fails to execute is left as it was, and the command exits with status 1 naming it.
"""
import argparse, os, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def chapters() -> list[Path]:
    return sorted((ROOT/'nbs').glob('[0-9][0-9]*_*.ipynb')) + [ROOT/'nbs'/'index.ipynb']

def execute(path:Path, timeout:int=1800) -> tuple[Path, str|None, float]:
    "Run `path` top to bottom in a fresh kernel (cwd: its folder) and write it back with its outputs; the error text if it failed"
    import nbformat
    from nbclient import NotebookClient
    t0 = time.perf_counter()
    nb = nbformat.read(path, as_version=4)
    try:
        NotebookClient(nb, timeout=timeout, kernel_name='python3', store_widget_state=False,
                       resources={'metadata': {'path': str(path.parent)}}).execute()
    except Exception as e:                                   # CellExecutionError and kernel deaths: keep the file as it was
        return path, f"{type(e).__name__}: {str(e)[-1500:]}", time.perf_counter() - t0
    nb.metadata.pop('widgets', None)
    for c in nb.cells:                                       # one stream output per name: how stdout arrived in chunks varies by run
        outs = []
        for o in c.get('outputs', []):
            if o.output_type == 'stream' and outs and outs[-1].output_type == 'stream' and outs[-1].name == o.name: outs[-1].text += o.text
            else: outs.append(o)
        if c.cell_type == 'code': c.outputs = outs
    nbformat.write(nb, path)
    subprocess.run(['nbdev_clean', '--fname', str(path)], check=True, cwd=ROOT)
    return path, None, time.perf_counter() - t0

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('notebooks', nargs='*', help='notebooks to execute (default: every chapter and index)')
    ap.add_argument('--jobs', type=int, default=2, help='notebooks executed at the same time')
    a = ap.parse_args()
    paths = [Path(p).resolve() for p in a.notebooks] or chapters()
    missing = [str(p) for p in paths if not p.exists()]
    if missing: sys.exit(f"no such notebook: {', '.join(missing)}")
    if any('experiments' in p.parts for p in paths): sys.exit("the experiment notebooks stay output-free: `centerssl-figures` executes them")
    # inherited by the kernels: figures as PNG; IN_TEST (as nbdev_test sets it): no progress bars, the explorer drawn as a static figure
    os.environ.update(PLOTLY_RENDERER='png', IN_TEST='1', PYDEVD_DISABLE_FILE_VALIDATION='1')
    failed = []
    with ThreadPoolExecutor(max(1, a.jobs)) as ex:
        for path, err, dt in ex.map(execute, paths):
            rel = path.relative_to(ROOT)
            print(f"{'FAILED' if err else 'ok':6s} {rel} ({dt:.0f} s)", flush=True)
            if err: failed.append(rel); print(err, file=sys.stderr)
    if failed: sys.exit(f"{len(failed)} notebook(s) failed and were left unchanged: {', '.join(map(str, failed))}")

if __name__ == '__main__': main()
