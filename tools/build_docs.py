"""Render the notebooks to static HTML in _docs/ without Quarto (where Quarto is installed, `nbdev_docs` builds the full site).

One page per notebook of nbs/ and nbs/dev/ (the executed chapters, with their outputs: figures are the PNG images the notebooks keep;
equations are typeset by MathJax when the page is opened online, and readable as TeX otherwise), plus `index.html`
listing each chapter's title and summary. Cells marked `#| hide` are left out, as in nbdev's site. The experiment
notebooks are not rendered: `centerssl-figures` writes their executed HTML.

    python tools/build_docs.py                 # every notebook of nbs/ into _docs/
    python tools/build_docs.py --out /tmp/site nbs/00_core.ipynb
"""
import argparse, html, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def title_summary(nb:dict, fallback:str) -> tuple[str, str]:
    "The notebook's `# Title` and its `> summary` line"
    for c in nb['cells']:
        if c['cell_type'] != 'markdown': continue
        src = ''.join(c['source'])
        t = re.search(r'^# (.+)$', src, re.M)
        if t:
            s = re.search(r'^> (.+)$', src, re.M)
            return t.group(1).strip(), (s.group(1).strip() if s else '')
    return fallback, ''

def render(path:Path, out:Path) -> tuple[str, str, str]:
    "Write `out/<stem>.html` for notebook `path`; returns (file name, title, summary)"
    import nbformat
    from nbconvert import HTMLExporter
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if not (c.cell_type == 'code' and re.match(r'\s*#\|\s*hide\b', c.source))]
    title, summary = title_summary(nb, path.stem)
    exp = HTMLExporter(template_name='lab')
    body, _ = exp.from_notebook_node(nb, resources={'metadata': {'name': title}})
    body = re.sub(r'href="([^":#]+)\.ipynb(#[^"]*)?"', r'href="\1.html\2"', body)   # links between notebooks: to their pages
    name = f"{path.relative_to(ROOT/'nbs').with_suffix('.html')}" if path.resolve().is_relative_to(ROOT/'nbs') else f"{path.stem}.html"
    (out/name).parent.mkdir(parents=True, exist_ok=True)
    (out/name).write_text(body, encoding='utf-8')
    return name, title, summary

def index(pages:list, out:Path):
    rows = '\n'.join(f'<li><a href="{n}">{html.escape(t)}</a>' + (f' — {html.escape(s)}' if s else '') + '</li>' for n, t, s in pages)
    (out/'index.html').write_text(f"""<!doctype html><html><head><meta charset="utf-8"><title>centerssl</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.5}}li{{margin:.4em 0}}</style></head>
<body><h1>centerssl</h1><p>The chapters, executed, with their figures and checks.</p><ol>
{rows}
</ol></body></html>
""", encoding='utf-8')

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('notebooks', nargs='*', help='notebooks (default: every notebook of nbs/, not the experiments)')
    ap.add_argument('--out', default=str(ROOT/'_docs'), help='output folder (default: _docs)')
    a = ap.parse_args()
    paths = [Path(p).resolve() for p in a.notebooks] or sorted((ROOT/'nbs').glob('*.ipynb')) + sorted((ROOT/'nbs'/'dev').glob('*.ipynb'))
    missing = [str(p) for p in paths if not p.exists()]
    if missing: sys.exit(f"no such notebook: {', '.join(missing)}")
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    pages = [render(p, out) for p in paths]
    index(pages, out)
    print(f"wrote {len(pages)} page(s) and index.html to {out}")

if __name__ == '__main__': main()
